"""What a configuration resource is, declared once.

A ``Resource`` names its table, its columns with their wire types and
defaults, what is required and unique, how lists filter and sort, what
references must exist and who refers to it. ``framework.crud`` turns that
into list/get/create/update/delete handlers; anything that does not fit
(batch updates, imports, odd paths) lives in the resource's own module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import asyncpg

from switchyard.shared.fsvalues import Applications, Rule, UnsafeValue

# Re-exported: the resources name them with the rest of the declarations.
from switchyard.shared.http.ids import MAX_ID as MAX_ID
from switchyard.shared.http.ids import PathId as PathId
from switchyard.shared.http.ids import is_id as is_id

# How a column is read from a request and stored.
#   text  any scalar, stored as text
#   int   a whole number ("11" accepted)
#   flag  0/1 (also true/false, "t"/"f", "yes"/"no")
#   bool  stored as boolean, same inputs as flag
#   money a decimal with two places ("0.00")
#   csv   a list or a comma-separated string, stored comma-separated
#   json  an object or a JSON string, stored as the JSON text
Kind = Literal["text", "int", "flag", "bool", "money", "csv", "json"]

# How a value is written in a response, pinned per resource: XSwitch
# clients compare `disabled === 0` on routes but `=== "0"` on gateways.
#   num   JSON number      str   JSON string      bool  JSON true/false
#   media a JSON object when the text holds one, else the text itself
Wire = Literal["num", "str", "bool", "media"]

Values = dict[str, Any]
Conn: TypeAlias = asyncpg.Connection


@dataclass(frozen=True)
class Col:
    name: str
    kind: Kind = "text"
    default: Any = ""
    required: bool = False
    wire: Wire | None = None  # None: the resource's pin for numbers, "str" for text
    choices: tuple[Any, ...] | None = None
    max_len: int | None = None
    secret: bool = False  # never returned in clear
    writable: bool = True  # False: computed or generated, ignored on input
    searchable: bool = True
    # Other spellings clients send for a value, e.g. ("inbound", 1).
    aliases: tuple[tuple[str, Any], ...] = ()
    # What a non-empty value may hold where it reaches FreeSWITCH
    # (switchyard.shared.fsvalues); checked on every write and by
    # `switchyard check` on stored rows (framework/rules.py).
    rule: Rule | None = None


@dataclass(frozen=True)
class Filter:
    """A list filter from a plain query parameter (``?line_number=…``)."""

    param: str
    column: str
    mode: Literal["eq", "like"] = "eq"


@dataclass(frozen=True)
class Referrer:
    """Rows elsewhere that point at this resource; deleting it is refused while they exist.

    ``sql`` selects a label per referring row (its first column; any further
    columns, e.g. the row's id, are for a relevance answer); ``$1`` is the
    id, or the row's ``key`` when ``by_key`` (contexts are referred to by key).
    """

    label: str
    sql: str
    by_key: bool = False
    # The key of these rows in a relevance answer (``GET …/relevance_info/$id``),
    # which shows every column ``sql`` selects; "" leaves them out of it.
    key: str = ""


# Cross-field and cross-table checks on the row as it would be (current
# row merged with the change; current is None on create). Raise ApiError to
# refuse; return values to store as well (e.g. a route's resolved `body`).
Check = Callable[[Conn, Values, "Values | None"], Awaitable["Values | None"]]
# The values whose rule depends on other fields (a route's body by its
# dest_type, an IVR action's args by its action) or on the allowed
# applications: every value of the row as it would be stored that breaks
# its rule, named as the client sends it. Pure (no I/O), so `switchyard
# check` runs the same over stored rows.
Vet = Callable[[Values, Applications], Iterable[UnsafeValue]]
# Adds what a single GET shows beyond the row (gateway params, …).
Detail = Callable[[Conn, Values], Awaitable[None]]

# What a create/update answers in `data` ("bare_id": `{"id":"22"}` unwrapped,
# as trunk groups do).
Reply = Literal["id", "id_str", "object", "bare_id"]


@dataclass(frozen=True)
class Resource:
    name: str  # path segment under /api and the config-changed subject token
    table: str
    cols: tuple[Col, ...]
    id_wire: Wire = "num"
    pin: Wire = "num"  # how numeric columns are written unless a Col says otherwise
    path: str = ""  # defaults to /api/<name>
    filters: tuple[Filter, ...] = ()
    referrers: tuple[Referrer, ...] = ()
    check: Check | None = None
    vet: Vet | None = None
    detail: Detail | None = None
    # Generated `key` like "context-3" from the row id (contexts, IVRs).
    key_prefix: str = ""
    toggle: str = ""  # column flipped by PUT {"action":"toggle"}
    create_reply: Reply = "id"
    update_reply: Reply = "id_str"
    # Extra columns a list/get select computes (name -> wire).
    computed: dict[str, Wire] = field(default_factory=dict)
    select: str = ""  # defaults to SELECT * FROM <table>
    ops: frozenset[str] = frozenset({"list", "get", "create", "update", "delete"})
    default_sort: str = "id"
    # POST <base> with a JSON array creates every row or none, as an import
    # whose rows are named "<bulk>[i]" in a 400 (XUI's bulk insert of routes).
    bulk: str = ""
    # Groups of optional columns a create must give one of (non-empty), which
    # its check refuses without (a DOD's extension by extn or extn_id); the
    # OpenAPI document states them, the check still enforces them.
    needs_one_of: tuple[tuple[str, ...], ...] = ()

    @property
    def base(self) -> str:
        return self.path or f"/api/{self.name}"

    @property
    def list_select(self) -> str:
        return self.select or f"SELECT * FROM {self.table}"  # noqa: S608 - declared, not from a request

    def col(self, name: str) -> Col | None:
        return next((c for c in self.cols if c.name == name), None)

    @property
    def sortable(self) -> list[str]:
        names = [c.name for c in self.cols if not c.secret]
        return ["id", *names, *self.computed, "created_at", "updated_at"]

    @property
    def searchable(self) -> list[str]:
        return [
            "id",
            *(c.name for c in self.cols if c.searchable and not c.secret),
        ]
