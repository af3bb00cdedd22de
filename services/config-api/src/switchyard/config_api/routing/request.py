"""What a mod_xml_curl dialplan fetch asks, read from its form body.

FreeSWITCH posts ``section=dialplan`` with the channel's headers
(freeswitch-wire.md section 3). The ``Hunt-*`` headers describe the
caller profile being routed now (after a transfer they differ from
``Caller-*``), so they win; ``Caller-*`` is the fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

import msgspec


class DialplanRequest(msgspec.Struct, frozen=True):
    section: str
    context: str
    dest_number: str
    caller_number: str
    uuid: str = ""


def parse_form(body: bytes | str) -> dict[str, str]:
    """The form as a dict; the five leading fields are sent unencoded, which
    parse_qsl reads the same way for the values FreeSWITCH puts there."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return dict(parse_qsl(text, keep_blank_values=True))


def dialplan_request(form: Mapping[str, str]) -> DialplanRequest:
    def first(*names: str) -> str:
        for name in names:
            value = form.get(name)
            if value:
                return value
        return ""

    return DialplanRequest(
        section=form.get("section", ""),
        context=first("Hunt-Context", "Caller-Context") or "default",
        dest_number=first("Hunt-Destination-Number", "Caller-Destination-Number"),
        caller_number=first("Hunt-Caller-ID-Number", "Caller-Caller-ID-Number"),
        uuid=first("Unique-ID", "Caller-Unique-ID"),
    )
