"""What a mod_xml_curl dialplan fetch asks, read from its form body.

FreeSWITCH posts ``section=dialplan`` with the channel's headers
(freeswitch-wire.md section 3). The ``Hunt-*`` headers describe the
caller profile being routed now (after a transfer they differ from
``Caller-*``), so they win; ``Caller-*`` is the fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_plus

import msgspec


class DialplanRequest(msgspec.Struct, frozen=True):
    section: str
    context: str
    dest_number: str
    caller_number: str
    uuid: str = ""


def parse_form(body: bytes | str) -> dict[str, str]:
    """The form as a dict, read as ``dict(parse_qsl(text, keep_blank_values=True))``
    reads it (the five leading fields are sent unencoded, which reads the same
    for the values FreeSWITCH puts there).

    By hand because it is on every fetch: a dialplan form has about 200
    fields, most keys and many values need no decoding, and parse_qsl
    unquotes each of them anyway (half of the fetch's own cost). Only a part
    holding ``%`` or ``+`` goes through ``unquote_plus``, parse_qsl's own
    decoding (``+`` is a space, UTF-8, undecodable bytes replaced).
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    out: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        out[key] = value
    return out


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
