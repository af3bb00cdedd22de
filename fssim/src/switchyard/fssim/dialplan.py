"""Routing a channel: mod_xml_curl first, then the static dialplan, then its actions.

mod_dialplan_xml semantics kept: the document's context must match the
channel's (or be ``global``); conditions are tried in order with regex
captures substituted into their actions as ``$1``; an extension whose
conditions fail stops unless ``continue="true"``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from switchyard.fssim import xml_curl

if TYPE_CHECKING:
    from switchyard.fssim.channel import Channel
    from switchyard.fssim.node import Node

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

_VAR = re.compile(r"\$\{([^}]+)\}")


def expand(ch: Channel, data: str) -> str:
    """``${var}`` channel-variable expansion, done when the app runs as FreeSWITCH does."""
    return _VAR.sub(lambda m: ch.variables.get(m.group(1), ""), data)


def field_value(ch: Channel, name: str) -> str:
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
    if name in fields:
        return fields[name]
    if name.startswith("${") and name.endswith("}"):
        return ch.variables.get(name[2:-1], "")
    return ch.variables.get(name, "")


def _substitute(data: str, match: re.Match[str] | None) -> str:
    if match is None:
        return data
    groups = [match.group(0), *match.groups()]
    return re.sub(
        r"\$(\d)",
        lambda m: groups[int(m.group(1))] or "" if int(m.group(1)) < len(groups) else "",
        data,
    )


def match_document(ch: Channel, text: str) -> list[Action] | None:
    """Actions for ``ch`` from a dialplan document; None when the call cannot be routed."""
    root = ET.fromstring(text)  # noqa: S314 - see the import
    contexts = [c for c in root.iter("context") if c.get("name") in (ch.profile.context, "global")]
    if not contexts:
        return None
    actions: list[Action] = []
    for context in contexts:
        for ext in context.iter("extension"):
            matched, found = _extension(ch, ext)
            actions += found
            if matched and ext.get("continue") != "true":
                return actions
    return actions or None


def _extension(ch: Channel, ext: ET.Element) -> tuple[bool, list[Action]]:
    actions: list[Action] = []
    ok = True
    for cond in ext.findall("condition"):
        field = cond.get("field")
        expression = cond.get("expression", "")
        m: re.Match[str] | None = None
        passed = True
        if field:
            try:
                m = re.search(expression, field_value(ch, field))
            except re.error:
                m = None
            passed = m is not None
        kind = "action" if passed else "anti-action"
        for a in cond.findall(kind):
            actions.append((a.get("application", ""), _substitute(a.get("data", ""), m)))
        if not passed:
            ok = False
            if cond.get("break", "on-false") in ("on-false", "always"):
                break
        elif cond.get("break") in ("on-true", "always"):
            break
    return ok, actions if ok or actions else []


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


async def lookup(node: Node, ch: Channel) -> list[Action] | None:
    if ch.profile.dialplan.lower() == "inline":
        return inline_actions(ch.profile.destination_number) or None
    if node.xml_curl_url:
        document = await xml_curl.fetch_dialplan(node, ch)
        if document is not None:
            try:
                return match_document(ch, document)
            except ET.ParseError:
                pass  # a broken document means "next binding", i.e. the static files
    return match_document(ch, STATIC_DIALPLAN)


async def route(node: Node, ch: Channel) -> None:
    """CS_ROUTING and CS_EXECUTE for ``ch``, again after each transfer; then hang up."""
    from switchyard.fssim import apps

    while ch.is_up:
        ch.hit_dialplan = True
        node.set_running_state(ch, "CS_ROUTING")
        if ch.direction == "inbound":
            node.set_callstate(ch, "RINGING")
            node.ai_state(ch, "RINGING")
        actions = await lookup(node, ch)
        if not ch.is_up:
            return
        if actions is None:
            node.hangup(ch, "NO_ROUTE_DESTINATION")
            return
        node.set_running_state(ch, "CS_EXECUTE")
        await apps.run_actions(node, ch, actions)
        if ch.transfer_to is not None and ch.is_up:
            apps.apply_transfer(node, ch)
            continue
        if ch.intercepted:
            return  # bridged by intercept: its dialplan is over, the call is not
        if ch.is_up:
            node.hangup(ch, "NORMAL_CLEARING")
