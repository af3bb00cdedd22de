"""mod_dialplan_xml: a channel's actions from the bound XML (mod_xml_curl), else the static files.

Also channel-variable expansion (``${var}``, ``${db(...)}``), which
conditions and applications share. Running the actions is the executor's.

mod_dialplan_xml semantics kept: the document's context must match the
channel's (or be ``global``); conditions are tried in order with regex
captures substituted into their actions as ``$1``; an extension whose
conditions fail stops unless ``continue="true"``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable

from switchyard.fssim import db, hashdb
from switchyard.fssim.channel import Channel
from switchyard.fssim.core import Core
from switchyard.fssim.event import Event

Action = tuple[str, str]

# What a stock install routes without mod_xml_curl (conf/dialplan/default.xml subset):
# 9999 answers and parks, 9196 answers and echoes. Anything else: NO_ROUTE_DESTINATION.
STATIC_DIALPLAN = """<document type="freeswitch/xml"><section name="dialplan">
<context name="default">
  <extension name="park"><condition field="destination_number" expression="^9999$">
    <action application="answer"/><action application="park"/></condition></extension>
  <extension name="echo"><condition field="destination_number" expression="^(9196|echo)$">
    <action application="answer"/><action application="echo"/></condition></extension>
</context></section></document>"""


def expand(ch: Channel, data: str, node: Core | None = None) -> str:
    """Channel-variable expansion, done when the app runs as FreeSWITCH does
    (switch_channel_expand_variables): ``${var}``, nested ``${a_${b}}`` (the
    inner one first), and ``${api(args)}``, which runs the API command with
    its expanded arguments and puts its output there (fssim knows ``db``).
    An unknown variable or command expands to nothing."""
    if "$" not in data:
        return data
    out: list[str] = []
    i = 0
    while i < len(data):
        if data.startswith("${", i):
            depth, j = 0, i + 1
            while j < len(data):
                if data[j] == "{":
                    depth += 1
                elif data[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= len(data):  # no closing brace: left as it is
                out.append(data[i:])
                break
            out.append(_lookup(ch, expand(ch, data[i + 2 : j], node), node))
            i = j + 1
            continue
        out.append(data[i])
        i += 1
    return "".join(out)


def _lookup(ch: Channel, name: str, node: Core | None) -> str:
    if "(" in name and name.endswith(")"):
        command, _, args = name[:-1].partition("(")
        function = FUNCTIONS.get(command.strip())
        return function(node, args) if function is not None and node is not None else ""
    # switch_channel_get_variable: the channel's variables, then its caller
    # profile's fields (${caller_id_number}, ${destination_number}, …).
    value = ch.variables.get(name)
    if value is None:
        value = _profile_field(ch, name)
    return value or ""


# The ${api(args)} functions fssim knows.
FUNCTIONS: dict[str, Callable[[Core, str], str]] = {"db": db.db_api, "hash": hashdb.hash_api}


def field_value(ch: Channel, name: str, node: Core | None = None) -> str:
    """A condition's field as mod_dialplan_xml reads it: a field with ``$`` in
    it is expanded (``${db(exists/dnd/1000)}`` runs the API at hunt time),
    anything else names a caller-profile field."""
    if "$" in name:
        return expand(ch, name, node)
    value = _profile_field(ch, name)
    return value if value is not None else ch.variables.get(name, "")


def _profile_field(ch: Channel, name: str) -> str | None:
    p = ch.profile
    fields = {
        "destination_number": p.destination_number,
        "caller_id_number": p.caller_id_number,
        "caller_id_name": p.caller_id_name,
        "context": p.context,
        "ani": p.ani,
        "network_addr": p.network_addr,
        "username": p.username,
        "dialplan": p.dialplan,
        "source": p.source,
        "uuid": ch.uuid,
        "rdnis": p.rdnis,
        "chan_name": ch.name,
    }
    return fields.get(name)


def _substitute(data: str, match: re.Match[str] | None) -> str:
    if match is None:
        return data
    groups = [match.group(0), *match.groups()]
    return re.sub(
        r"\$(\d)",
        lambda m: groups[int(m.group(1))] or "" if int(m.group(1)) < len(groups) else "",
        data,
    )


def match_document(ch: Channel, text: str, node: Core | None = None) -> list[Action] | None:
    """Actions for ``ch`` from a dialplan document; None when the call cannot be routed."""
    root = ET.fromstring(text)  # noqa: S314 - see the import
    contexts = [c for c in root.iter("context") if c.get("name") in (ch.profile.context, "global")]
    if not contexts:
        return None
    actions: list[Action] = []
    for context in contexts:
        for ext in context.iter("extension"):
            matched, found = _extension(ch, ext, node)
            actions += found
            if matched and ext.get("continue") != "true":
                return actions
    return actions or None


def _extension(ch: Channel, ext: ET.Element, node: Core | None = None) -> tuple[bool, list[Action]]:
    """parse_exten: conditions in order, each field read (and expanded) now,
    at hunt time; actions of a true one, anti-actions of a false one, then
    ``break`` (default on-false). The extension matched when the last
    condition evaluated did (or a false one had anti-actions)."""
    actions: list[Action] = []
    proceed = False
    for cond in ext.findall("condition"):
        field = cond.get("field")
        expression = cond.get("expression", "")
        brk = cond.get("break", "on-false")
        m: re.Match[str] | None = None
        proceed = True  # no field: a (time) condition without limits holds
        if field:
            try:
                m = re.search(expression, field_value(ch, field, node))
            except re.error:
                m = None
            proceed = m is not None
            if not proceed:
                for a in cond.findall("anti-action"):
                    actions.append((a.get("application", ""), a.get("data", "")))
                    proceed = True
                if brk in ("on-false", "always"):
                    break
                continue
        for a in cond.findall("action"):
            actions.append((a.get("application", ""), _substitute(a.get("data", ""), m)))
        if brk in ("on-true", "always"):
            break
    return proceed, actions


def inline_actions(text: str) -> list[Action]:
    """The ``inline`` dialplan: ``app:args,app2`` (``^^<sep>`` picks another separator)."""
    sep = ","
    if text.startswith("^^") and len(text) > 2:
        sep, text = text[2], text[3:]
    actions: list[Action] = []
    for step in text.split(sep):
        if step.strip():
            app, _, data = step.partition(":")
            actions.append((app.strip(), data))
    return actions


def dialplan_params(node: Core, ch: Channel) -> Event:
    """The REQUEST_PARAMS event mod_dialplan_xml builds: channel data, variables, Hunt-* profile."""
    e = node.event("REQUEST_PARAMS", "mod_dialplan_xml.c", "dialplan_xml_locate", 610)
    ch.add_basic_data(e, with_vars=True)
    ch.add_profile(e, "Hunt", ch.profile, ch.name, ch.direction, times=True)
    return e


async def lookup(node: Core, ch: Channel) -> list[Action] | None:
    """The channel's actions: inline, else the bound XML (mod_xml_curl), else the static files."""
    if ch.profile.dialplan.lower() == "inline":
        return inline_actions(ch.profile.destination_number) or None
    binding = node.bound_xml()
    if binding is not None:
        document = await binding.fetch("dialplan", dialplan_params(node, ch))
        if document is not None:
            try:
                return match_document(ch, document, node)
            except ET.ParseError:
                pass  # a broken document means "next binding", i.e. the static files
    return match_document(ch, node.static_dialplan or STATIC_DIALPLAN, node)


def static_document(includes: Iterable[str]) -> str:
    """conf/dialplan/*.xml (each an ``<include>`` of contexts) as the one dialplan
    section FreeSWITCH's preprocessor makes of them."""
    contexts = "".join(
        ET.tostring(c, encoding="unicode")
        for text in includes
        for c in ET.fromstring(text).iter("context")  # noqa: S314 - our own files
    )
    return (
        f'<document type="freeswitch/xml"><section name="dialplan">{contexts}</section></document>'
    )
