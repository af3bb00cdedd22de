"""The mod_xml_curl documents FreeSWITCH reads (freeswitch-wire.md section 3).

Every attribute value goes through ``_attr``: XML-escaped, quotes included,
and characters XML 1.0 cannot carry dropped, so nothing a route name, a
number or a param value holds can change the document's structure.
"""

from __future__ import annotations

import re

from switchyard.config_api.routing.destinations import Action, Condition
from switchyard.config_api.routing.engine import Decision, number_expression

NOT_FOUND = (
    '<document type="freeswitch/xml"><section name="result">'
    '<result status="not found"/></section></document>'
)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&apos;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


# Anything _attr would change; most values (numbers, app names) hold none of it.
_SPECIAL = re.compile("[&<>\"'\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _attr(value: str) -> str:
    # The search is the hot path's whole cost for a plain value: sub and
    # translate each build a copy.
    if _SPECIAL.search(value) is None:
        return value
    return _ILLEGAL.sub("", value).translate(_ESCAPES)


def dialplan_document(decision: Decision) -> str:
    """The caller's context with one extension for this call, or FreeSWITCH's
    not-found document when no route matched (FreeSWITCH then tries its next
    binding and its static files)."""
    if not decision.found:
        return NOT_FOUND
    # The context must be the caller's: FreeSWITCH does not fall back from a
    # document naming another context, the call is simply not routed.
    name = (
        f"sy-route-{decision.route_id}"
        if decision.route_id is not None
        else f"sy-{decision.outcome}"
    )
    conditions = decision.conditions or (
        Condition("destination_number", number_expression(decision.dest_number), decision.actions),
    )
    return (
        '<document type="freeswitch/xml">'
        '<section name="dialplan" description="Switchyard routing">'
        f'<context name="{_attr(decision.context)}">'
        f'<extension name="{_attr(name)}">'
        f"{''.join(_condition(c) for c in conditions)}"
        "</extension></context></section></document>"
    )


def _condition(c: Condition) -> str:
    brk = f' break="{_attr(c.brk)}"' if c.brk else ""
    return (
        f'<condition field="{_attr(c.field)}" expression="{_attr(c.expression)}"{brk}>'
        f"{''.join(_action(a) for a in c.actions)}</condition>"
    )


def _action(a: Action) -> str:
    return f'<action application="{_attr(a.application)}" data="{_attr(a.data)}"/>'
