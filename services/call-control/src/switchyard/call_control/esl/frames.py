"""ESL frames and events as they come off the wire.

Plain events are split into lines *before* any URL-decoding, and each value
is decoded on its own: a caller name carrying ``%0AUnique-ID%3A%20x``
stays inside its own header. JSON events are decoded with msgspec.
"""

from __future__ import annotations

from urllib.parse import unquote

import msgspec

_JSON_STR = msgspec.json.Decoder(dict[str, str])
_JSON_ANY = msgspec.json.Decoder(dict[str, str | list[str]])


class EslEvent(msgspec.Struct, frozen=True):
    """One FreeSWITCH event: headers (values decoded) and the body, if any."""

    headers: dict[str, str]
    body: str = ""

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    @property
    def name(self) -> str:
        return self.headers.get("Event-Name", "")

    @property
    def subclass(self) -> str:
        return self.headers.get("Event-Subclass", "")

    @property
    def unique_id(self) -> str:
        return self.headers.get("Unique-ID", "")

    @property
    def core_uuid(self) -> str:
        return self.headers.get("Core-UUID", "")

    @property
    def sequence(self) -> int:
        return int(self.headers.get("Event-Sequence", "0"))


class Reply(msgspec.Struct, frozen=True):
    """A ``command/reply`` or ``api/response``: its outer headers and body."""

    headers: dict[str, str]
    body: str = ""

    @property
    def text(self) -> str:
        """Reply-Text for a command, the body for an api."""
        return self.headers.get("Reply-Text", self.body)

    @property
    def ok(self) -> bool:
        return self.text.startswith("+OK")


def parse_headers(block: bytes) -> dict[str, str]:
    """An outer header block (``Name: value`` lines); values are not encoded at this level."""
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\n"):
        if line:
            name, _, value = line.partition(":")
            headers[name] = value.lstrip(" ")
    return headers


def parse_plain(payload: bytes) -> EslEvent:
    text = payload.decode("utf-8", "replace")
    head, _, rest = text.partition("\n\n")
    headers: dict[str, str] = {}
    for line in head.split("\n"):
        name, _, value = line.partition(": ")
        # Decode each value only after the split: a decoded %0A can never start a header.
        headers[name] = unquote(value) if "%" in value else value
    body = ""
    if headers.pop("Content-Length", None) is not None:
        body = rest
    return EslEvent(headers, body)


def parse_json(payload: bytes) -> EslEvent:
    try:
        raw: dict[str, str] = _JSON_STR.decode(payload)
    except msgspec.ValidationError:
        # Array headers arrive as JSON arrays; keep them in FreeSWITCH's ARRAY:: form.
        mixed = _JSON_ANY.decode(payload)
        raw = {k: v if isinstance(v, str) else "ARRAY::" + "|:".join(v) for k, v in mixed.items()}
    body = raw.pop("_body", "")
    raw.pop("Content-Length", None)
    return EslEvent(raw, body)


def parse_event(content_type: str, payload: bytes) -> EslEvent | None:
    if content_type == "text/event-json":
        return parse_json(payload)
    if content_type == "text/event-plain":
        return parse_plain(payload)
    return None
