"""Lenient request-body decoding: what XSwitch clients send, into exact Structs.

The spec's own curl examples post JSON with curl's default form content
type, send numbers as strings (``"max_length":"11"``) and ids as numbers
where a string is stored. All of that is accepted; anything that still does
not fit is a 400 naming the field. JSON nested deeper than
``MAX_JSON_DEPTH`` is a 400 naming the body, on every path that reads one.
"""

from __future__ import annotations

import functools
import re
import typing
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from litestar import Request

from switchyard.shared.http.errors import bad_request

T = TypeVar("T")


# Deeper JSON is refused before it is decoded: the decoders and the
# conversions after them recurse, and 500 levels used to end in a 500.
MAX_JSON_DEPTH = 64

# A JSON string, escapes included; an innermost (empty) array or object.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def looks_like_json(raw: bytes, content_type: str) -> bool:
    return raw.lstrip()[:1] in (b"{", b"[") or content_type.endswith(("/json", "+json"))


def check_json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """400 naming the body when its arrays and objects nest deeper than ``limit``.

    Without recursion and at C speed: drop the strings, keep the brackets,
    then strip one level of innermost pairs per round; whatever is left after
    ``limit`` rounds was deeper. Brackets that stop pairing up are malformed
    JSON, refused here too: a decoder would recurse into them first.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return
    skeleton = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not skeleton:
            return
        shorter = _INNERMOST.sub(b"", skeleton)
        if len(shorter) == len(skeleton):
            raise bad_request("body", "malformed JSON: brackets do not match")
        skeleton = shorter
    if skeleton:
        raise bad_request("body", f"JSON nested deeper than {limit} levels")


class BodyCheckingRequest(Request[Any, Any, Any]):
    """The app's request class: a JSON-looking body passes the depth check on
    every path that reads it (``read_body``, Litestar's ``data`` and
    ``request.json()``), before anything decodes it."""

    async def body(self) -> bytes:
        raw = await super().body()
        if raw and looks_like_json(raw, self.content_type[0]):
            check_json_depth(raw)
        return raw


async def read_body(request: Request[Any, Any, Any], type_: type[T]) -> T:
    return decode_body(await request.body(), request.content_type[0], type_)


def decode_body(raw: bytes, content_type: str, type_: type[T]) -> T:
    stripped = raw.lstrip()
    if not stripped:
        data: Any = {}
    elif stripped[:1] in (b"{", b"[") or content_type == "application/json":
        check_json_depth(raw)
        try:
            data = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise bad_request("body", f"malformed JSON: {exc}") from None
    else:
        data = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return convert(data, type_)


def convert(data: Any, type_: type[T]) -> T:
    try:
        return msgspec.convert(_numbers_to_strings(data, type_), type_, strict=False)
    except msgspec.ValidationError as exc:
        field, reason = split_validation_message(str(exc))
        raise bad_request(field, reason) from None


def split_validation_message(message: str) -> tuple[str, str]:
    """msgspec says ``Expected `int`, got `str` - at `$.max_length```: split it."""
    reason, sep, where = message.rpartition(" - at `")
    if not sep:
        return "body", message
    path = where.rstrip("`").removeprefix("$").lstrip(".")
    return path or "body", reason


def _numbers_to_strings(data: Any, type_: Any) -> Any:
    # msgspec's lax mode turns "11" into 11 but not 11 into "11"; clients do both.
    if isinstance(data, list):
        args = typing.get_args(type_)
        return [_numbers_to_strings(d, args[0] if args else Any) for d in data]
    if not isinstance(data, dict) or not (
        isinstance(type_, type) and issubclass(type_, msgspec.Struct)
    ):
        return data
    out = dict(data)
    for name, hint, wants_str in _fields_of(type_):
        value = out.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and wants_str:
            out[name] = str(value)
        elif isinstance(value, dict | list):
            out[name] = _numbers_to_strings(value, hint)
    return out


@functools.cache
def _fields_of(type_: type[msgspec.Struct]) -> tuple[tuple[str, Any, bool], ...]:
    """A Struct's fields as a body names them, their types, and whether each
    takes text: resolved once per type (resolving the annotations on every
    request cost a POST about half a millisecond, issue 12)."""
    hints = typing.get_type_hints(type_)
    return tuple(
        (f.encode_name, hints.get(f.name), _wants_str(hints.get(f.name)))
        for f in msgspec.structs.fields(type_)
    )


def _wants_str(hint: Any) -> bool:
    if hint is str:
        return True
    args = typing.get_args(hint)
    return str in args and not ({int, float} & set(args))
