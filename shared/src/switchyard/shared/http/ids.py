"""Row ids in paths: Postgres ids are bigint, so a larger number is a 400
naming the parameter, never a driver overflow answered 500."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar.params import PathParameter

MAX_ID = 2**63 - 1
PathId: TypeAlias = Annotated[int, PathParameter(ge=-MAX_ID - 1, le=MAX_ID)]


def is_id(value: object) -> bool:
    """ASCII digits that fit a bigint id (``str.isdigit`` also takes "²", which int() refuses)."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID
