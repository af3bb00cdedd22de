"""FreeSWITCH events: ordered headers, a body, and their two wire encodings.

Encodings follow switch_event_serialize (plain) and
switch_event_serialize_json (cJSON, unformatted); the frames around them
follow mod_event_socket. Serialized bytes are cached per event because one
event is usually written to many listeners.
"""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape as xml_escape

# switch_url_encode: every byte outside 0x20-0x7E plus these characters.
_UNSAFE = frozenset(b'\r\n #%&+:;<=>?@[\\]^`{|}"')
_TABLE = [f"%{b:02X}" if b < 0x20 or b > 0x7E or b in _UNSAFE else chr(b) for b in range(256)]
_SAFE = "".join(chr(b) for b in range(0x20, 0x7F) if b not in _UNSAFE)
_NEEDS = re.compile("[^" + re.escape(_SAFE) + "]")
_HEX_UPPER = frozenset(b"0123456789ABCDEF")


def url_encode(value: str) -> str:
    """FreeSWITCH's URL encoding, including its quirk of leaving ``%XX`` (uppercase) alone."""
    if not _NEEDS.search(value):
        return value
    data = value.encode()
    out = []
    n = len(data)
    for i, b in enumerate(data):
        if b == 0x25 and i + 2 < n and data[i + 1] in _HEX_UPPER and data[i + 2] in _HEX_UPPER:
            out.append("%")
        else:
            out.append(_TABLE[b])
    return "".join(out)


def _json_str(value: str) -> str:
    # cJSON escapes quote, backslash and control characters and writes other
    # bytes raw, as json.dumps(ensure_ascii=False) does.
    return json.dumps(value, ensure_ascii=False)


class Event:
    """One event. ``headers`` keeps order and duplicates, as FreeSWITCH's list does."""

    __slots__ = ("_json", "_plain", "arrays", "body", "headers")

    def __init__(self, headers: list[tuple[str, str]] | None = None, body: str = "") -> None:
        self.headers: list[tuple[str, str]] = headers if headers is not None else []
        self.body = body
        # Array headers (``Name[i]``, ``ARRAY::a|:b``) by name: their plain value is the
        # joined form in ``headers``; JSON writes the list and XML one element per item.
        self.arrays: dict[str, list[str]] = {}
        self._plain: bytes | None = None
        self._json: bytes | None = None

    def add(self, name: str, value: str | int | None) -> None:
        # switch_event_add_header never stores an empty value.
        if value is None or value == "":
            return
        self.headers.append((name, str(value)))
        self._plain = self._json = None

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def get_ci(self, name: str) -> str | None:
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None

    def set(self, name: str, value: str) -> None:
        for i, (key, _) in enumerate(self.headers):
            if key == name:
                self.headers[i] = (name, value)
                self._plain = self._json = None
                return
        self.add(name, value)

    @property
    def name(self) -> str:
        return self.get("Event-Name")

    @property
    def subclass(self) -> str:
        return self.get("Event-Subclass")

    def plain_payload(self) -> bytes:
        parts = [f"{k}: {url_encode(v) if v else '_undef_'}\n" for k, v in self.headers]
        if self.body:
            body = self.body.encode()
            parts.append(f"Content-Length: {len(body)}\n\n")
            return "".join(parts).encode() + body
        parts.append("\n")
        return "".join(parts).encode()

    def _json_value(self, name: str, value: str) -> str:
        items = self.arrays.get(name)
        if items is None:
            return _json_str(value)
        return "[" + ",".join(_json_str(i) for i in items) + "]"

    def json_payload(self) -> bytes:
        items = [f"{_json_str(k)}:{self._json_value(k, v)}" for k, v in self.headers]
        if self.body:
            items.append(f'"Content-Length":"{len(self.body.encode())}"')
            items.append(f'"_body":{_json_str(self.body)}')
        return ("{" + ",".join(items) + "}").encode()

    def xml_payload(self) -> bytes:
        parts = ["<event>\n  <headers>\n"]
        for k, v in self.headers:
            parts += [f"    <{k}>{url_encode(i)}</{k}>\n" for i in self.arrays.get(k, [v])]
        parts.append("  </headers>\n")
        if self.body:
            parts.append(f"  <Content-Length>{len(self.body.encode())}</Content-Length>\n")
            parts.append(f"  <body>{xml_escape(self.body)}</body>\n")
        parts.append("</event>\n")
        return "".join(parts).encode()

    def frame(self, fmt: str) -> bytes:
        """The whole mod_event_socket frame: Content-Length first, then Content-Type."""
        if fmt == "json":
            if self._json is None:
                payload = self.json_payload()
                self._json = (
                    b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(payload)
                    + payload
                )
            return self._json
        if fmt == "xml":
            payload = self.xml_payload()
            return b"Content-Length: %d\nContent-Type: text/event-xml\n\n" % len(payload) + payload
        if self._plain is None:
            payload = self.plain_payload()
            self._plain = (
                b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(payload) + payload
            )
        return self._plain
