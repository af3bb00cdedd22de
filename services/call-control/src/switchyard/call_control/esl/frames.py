"""ESL frames and events as they come off the wire.

Plain events are never URL-decoded before their lines are split: encoded
line breaks are set aside first, so a caller name carrying
``%0AUnique-ID%3A%20x`` stays inside its own header. JSON events are decoded with msgspec.
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
    # The JSON FreeSWITCH sent, when it is already the event's own ``event
    # json`` form (every value text, no Content-Length): the owner publishes
    # it as is instead of encoding the headers again (agent.event_payload).
    raw: bytes = b""

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


# Stand-ins for encoded CR/LF while the header block is decoded in one pass:
# lone surrogates, which no UTF-8 decoding can ever produce.
_LF, _CR = "\ud800", "\ud801"


def parse_plain(payload: bytes) -> EslEvent:
    text = payload.decode("utf-8", "replace")
    head, _, rest = text.partition("\n\n")
    headers: dict[str, str] = {}
    if "%" in head:
        # Encoded line breaks are parked first, so the single decode below can
        # never create a line: a caller name with %0AUnique-ID%3A%20x stays inside
        # its own value. Names are split off raw and never decoded.
        if "%0" in head:
            head = (
                head.replace("%0A", _LF).replace("%0a", _LF).replace("%0D", _CR).replace("%0d", _CR)
            )
        names: list[str] = []
        values: list[str] = []
        for line in head.split("\n"):
            name, _, value = line.partition(": ")
            names.append(name)
            values.append(value)
        for name, value in zip(names, unquote("\n".join(values)).split("\n"), strict=True):
            if _LF in value or _CR in value:
                value = value.replace(_LF, "\n").replace(_CR, "\r")
            headers[name] = value
    else:
        for line in head.split("\n"):
            name, _, value = line.partition(": ")
            headers[name] = value
    body = ""
    if headers.pop("Content-Length", None) is not None:
        body = rest
    return EslEvent(headers, body)


def parse_json(payload: bytes) -> EslEvent:
    try:
        raw: dict[str, str] = _JSON_STR.decode(payload)
        same = "Content-Length" not in raw
    except msgspec.ValidationError:
        # Array headers arrive as JSON arrays; keep them in FreeSWITCH's ARRAY:: form.
        mixed = _JSON_ANY.decode(payload)
        raw = {k: v if isinstance(v, str) else "ARRAY::" + "|:".join(v) for k, v in mixed.items()}
        same = False
    body = raw.pop("_body", "")
    raw.pop("Content-Length", None)
    return EslEvent(raw, body, bytes(payload) if same else b"")


def parse_event(content_type: str, payload: bytes) -> EslEvent | None:
    if content_type == "text/event-json":
        return parse_json(payload)
    if content_type == "text/event-plain":
        return parse_plain(payload)
    return None
