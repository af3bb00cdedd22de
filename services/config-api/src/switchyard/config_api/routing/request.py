"""What a mod_xml_curl dialplan fetch asks, read from its form body.

FreeSWITCH posts ``section=dialplan`` with the channel's headers
(freeswitch-wire.md section 3). The ``Hunt-*`` headers describe the
caller profile being routed now (after a transfer they differ from
``Caller-*``), so they win; ``Caller-*`` is the fallback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
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


class FormFields(Mapping[str, str]):
    """The fields of a fetch's form, each read when asked for.

    An answer reads a handful of a form's ~200 fields (a dialplan fetch:
    the section, context, numbers and uuid), so reading them where they
    stand in the text costs a fraction of parsing all of them (issue 12:
    parsing was half of a dialplan fetch's own work). Answers what
    ``parse_form`` would for every name that needs no decoding itself
    (FreeSWITCH's field names never do: it encodes values, and header
    names are letters, digits, ``-`` and ``_``): the last occurrence wins,
    a value is decoded as parse_qsl decodes it. Iterating parses the whole
    form once.
    """

    __slots__ = ("_all", "_text")

    def __init__(self, body: bytes | str) -> None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        self._text = "&" + text
        self._all: dict[str, str] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        needle = "&" + key + "="
        i = self._text.rfind(needle)
        if i < 0 or "%" in key or "+" in key or "&" in key:
            return self._parsed().get(key, default)
        start = i + len(needle)
        end = self._text.find("&", start)
        value = self._text[start:] if end < 0 else self._text[start:end]
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        return value

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def _parsed(self) -> dict[str, str]:
        if self._all is None:
            self._all = parse_form(self._text[1:])
        return self._all


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
