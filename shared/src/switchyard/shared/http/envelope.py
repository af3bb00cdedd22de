"""The XSwitch response shapes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class Created(msgspec.Struct):
    """``{"code":200,"message":"success","data":<id>}`` after a create."""

    data: Any
    code: int = 200
    message: str = "success"


class Ok(msgspec.Struct):
    """After an update or delete."""

    code: int = 200
    message: str = "success"
    data: Any = msgspec.field(default_factory=dict)


class ListPage(msgspec.Struct, Generic[T]):
    """A paged list: ``{"page","pageCount","rowCount","data":[…]}``."""

    page: int
    pageCount: int
    rowCount: int
    data: list[T]
