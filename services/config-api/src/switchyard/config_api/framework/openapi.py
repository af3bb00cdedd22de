"""What the OpenAPI document says about bodies and replies.

Bodies are decoded by hand (``crud.body_of``) so the spellings XSwitch
clients send still pass, which leaves Litestar nothing to describe. The
schemas are therefore written here, from the same column declarations the
decoder and ``wire.render`` use, so the document cannot drift from the
behaviour: a handler carries them in ``opt`` (``doc(body=…, reply=…)``) and
``document`` gives every handler an Operation that writes them out, plus
the error replies every XSwitch endpoint can give.

The body schemas describe the canonical form (numbers as numbers, flags as
0/1); the lenient spellings (``"11"``, ``true``, ``"t"``, a list for a CSV
column) are accepted as well and said so in each description.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework.inputs import FLAG_WORDS, MAX_INT
from switchyard.config_api.framework.spec import Col, Resource, Wire
from switchyard.config_api.framework.wire import col_wire

# Re-exported: the resources declare their documents with these.
from switchyard.shared.http.openapi import ERROR as ERROR
from switchyard.shared.http.openapi import OPT_LINKS
from switchyard.shared.http.openapi import Schema as Schema
from switchyard.shared.http.openapi import doc as doc
from switchyard.shared.http.openapi import of_type as of_type

LENIENT = (
    "Lenient like XSwitch: numbers may come as strings, flags as true/false/'t'/'f', "
    "CSV columns as arrays, JSON columns as objects; unknown keys are ignored."
)


_OUTPUT: dict[Wire, Schema] = {
    "num": {"type": "number"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "media": {"description": "a JSON object when the stored text is one, else the text"},
}

_EMPTY: Schema = {"type": "string", "enum": [""], "description": "no value"}
TIMESTAMP: Schema = {"type": "string", "description": "YYYY-MM-DD HH:MM:SS (UTC) or empty"}
ID_ANY: Schema = {"type": ["integer", "string"], "description": "an id"}


# --- schemas from declarations ------------------------------------------------------


# What ``inputs.normalise`` and ``body.convert`` take, by kind: the canonical
# form first, then the spellings XSwitch clients send. Strings that are
# numbers stay short of the column's range so every one the schema allows
# is taken.
_DIGITS = "^(0|[1-9][0-9]{0,8})$"
_DECIMAL = "^-?[0-9]{1,10}(\\.[0-9]{1,2})?$"
_MONEY_MAX = 9_999_999_999.99  # numeric(12, 2)
# No U+0000 (Postgres text cannot hold it); a required value not blank.
_NO_NUL = "^[^\\x00]*$"
_NOT_BLANK = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"
_NULL: Schema = {"type": "null"}


def _text(col: Col, required: bool) -> list[Schema]:
    if col.choices is not None:
        return [{"type": "string", "enum": [str(c) for c in col.choices]}]
    text: Schema = {"type": "string", "pattern": _NOT_BLANK if required else _NO_NUL}
    if col.rule is not None:
        # Empty skips the rule (``required`` decides); else the whole value matches.
        whole = col.rule.pattern.pattern
        text["pattern"] = f"^(?:{whole})$" if required else f"^(?:{whole})?$"
    if col.max_len is not None:
        text["maxLength"] = col.max_len
    # A number is stored as its text ("max_length":"11" and "name":11 both
    # pass); where a rule applies only a whole number (inputs.normalise), and
    # only the ones whose text the rule takes.
    rule = col.rule
    if rule is None:
        return [text, {"type": "number"}]
    # The most digits the rule (and the column's length) takes.
    limit = min(col.max_len or 300, 300)
    digits = max((n for n in range(1, limit + 1) if rule.ok("9" * n)), default=0)
    if not digits or not rule.ok("0"):
        return [text]
    bounded = col.max_len is not None or digits < limit  # else nothing bounds the length
    negative = digits > 1 and rule.ok("-" + "9" * (digits - 1))
    number: Schema = {"type": "integer"}
    if not negative:
        number["minimum"] = 0
    elif bounded:
        number["minimum"] = -(10 ** (digits - 1) - 1)
    if bounded:
        number["maximum"] = 10**digits - 1
    return [text, number]


def _int(col: Col) -> list[Schema]:
    if col.choices is not None:
        return [
            {"type": "integer", "enum": list(col.choices)},
            {"type": "string", "enum": [str(c) for c in col.choices]},
        ]
    return [
        {"type": "integer", "minimum": 0, "maximum": MAX_INT},
        {"type": "string", "pattern": _DIGITS, "description": "digits, read as the number"},
    ]


def _by_kind(col: Col, required: bool) -> list[Schema]:
    if col.kind == "text":
        return _text(col, required)
    if col.kind == "int":
        return _int(col)
    if col.kind in ("flag", "bool"):
        canonical: Schema = (
            {"type": "integer", "enum": [0, 1]} if col.kind == "flag" else {"type": "boolean"}
        )
        other: Schema = (
            {"type": "boolean"} if col.kind == "flag" else {"type": "integer", "enum": [0, 1]}
        )
        words = {"type": "string", "enum": FLAG_WORDS, "description": "any case"}
        return [canonical, other, words]
    if col.kind == "money":
        return [
            {"type": "number", "minimum": -_MONEY_MAX, "maximum": _MONEY_MAX},
            {"type": "string", "pattern": _DECIMAL},
        ]
    if col.kind == "csv":
        return [
            {"type": "string", "pattern": _NO_NUL},
            {"type": "number"},
            {"type": "array", "items": {}, "description": "its items joined with commas"},
        ]
    # json: the JSON text, or the value itself (stored as its text)
    return [
        {"type": "string", "pattern": _NO_NUL},
        {"type": "object"},
        {"type": "array", "items": {}},
        {"type": "number"},
    ]


def col_input(col: Col, *, create: bool = False) -> Schema:
    """What a body may hold for ``col``, as the decoder reads it (``inputs.py``).

    ``null`` (and ``""`` for numbers) means "not given": refused only where a
    create needs the value. A required text is not blank on update either.
    """
    needed = col.required and create
    kinds = _by_kind(col, col.required)
    if col.aliases:
        kinds.append({"type": "string", "enum": [name for name, _ in col.aliases]})
    if col.kind in ("int", "money") and not needed:
        kinds.append({"type": "string", "enum": [""], "description": "not given"})
    # null is "" for text (so a choice must allow ""), "not given" for the rest.
    if col.kind in ("text", "csv", "json"):
        if not col.required and (col.choices is None or "" in col.choices):
            kinds.append(_NULL)
    elif not needed:
        kinds.append(_NULL)
    out: Schema = {"anyOf": kinds} if len(kinds) > 1 else kinds[0]
    if col.secret:
        out["writeOnly"] = True
        out["description"] = "write-only; '******' keeps the stored value"
    return out


def input_schema(resource: Resource, *, create: bool, only: Iterable[str] = ()) -> Schema:
    """The body of a create (required columns required) or an update (all optional)."""
    names = set(only)
    cols = [c for c in resource.cols if c.writable and (not names or c.name in names)]
    schema: Schema = {
        "type": "object",
        "title": f"{_title(resource)}{'Create' if create else 'Update'}",
        "description": LENIENT,
        "properties": {c.name: col_input(c, create=create) for c in cols},
    }
    required = [c.name for c in cols if c.required] if create else []
    if required:
        schema["required"] = required
    if create and resource.needs_one_of:
        # Under allOf, as in names_one, so a generated client still types the body.
        schema["allOf"] = [
            {"anyOf": [_given(resource, name) for name in group]} for group in resource.needs_one_of
        ]
    return schema


def _given(resource: Resource, name: str) -> Schema:
    """``name`` present with a value that is not "not given" (inputs.py: null,
    "", and for a number its default 0)."""
    col = resource.col(name)
    empty: list[Any] = ["", None]
    if col is not None and col.kind == "int":
        empty += [0, "0"]
    return {"required": [name], "properties": {name: {"not": {"enum": empty}}}}


def names_one(schema: Schema, *, toggle: str = "") -> Schema:
    """An update body must name at least one of its columns (``inputs.decode``),
    or be ``{"action":"toggle"}`` where the resource has a toggle column."""
    props = schema.get("properties", {})
    if not props:
        return schema
    # Under allOf, not beside the properties: a generated client reads an
    # object with its own anyOf as a union of the alternatives, which name no
    # properties, and types the body as Any (openapi-python-client).
    update = {**schema, "allOf": [{"anyOf": [{"required": [name]} for name in props]}]}
    if not toggle:
        return update
    # A toggle is its own body: the handler flips the column and reads nothing
    # else, so the other fields are not held to their schemas there.
    flip: Schema = {
        "type": "object",
        "title": f"{schema.get('title', '').removesuffix('Update')}Toggle",
        "description": f"flips {toggle}; any other field is ignored",
        "required": ["action"],
        "properties": {"action": {"const": "toggle"}},
    }
    return {
        "anyOf": [update, flip],
        "description": 'the fields to set, or {"action":"toggle"} '
        "(an action of any other value is ignored)",
    }


def output_schema(resource: Resource, extra: Mapping[str, Schema] | None = None) -> Schema:
    """One row as ``wire.render`` writes it (``extra``: what a detail hook or child adds)."""
    props: dict[str, Schema] = {"id": _OUTPUT[resource.id_wire]}
    for col in resource.cols:
        if col.secret:
            props[col.name] = {"type": "string", "description": "'******' when set, else ''"}
        elif col.default is None and col_wire(resource, col) != "str":
            # No value is written as "" whatever the column's type.
            props[col.name] = {"anyOf": [_OUTPUT[col_wire(resource, col)], _EMPTY]}
        else:
            props[col.name] = _OUTPUT[col_wire(resource, col)]
    for name, wire in resource.computed.items():
        props[name] = _OUTPUT[wire]
    props.update(created_at=TIMESTAMP, updated_at=TIMESTAMP, deleted_at=TIMESTAMP)
    required = list(props)
    props.update(extra or {})
    return {
        "type": "object",
        "title": _title(resource),
        "required": required,
        "properties": props,
    }


def list_page(item: Schema) -> Schema:
    return {
        "type": "object",
        "title": "ListPage",
        "required": ["page", "pageCount", "rowCount", "data"],
        "properties": {
            "page": {"type": "integer"},
            "pageCount": {"type": "integer"},
            "rowCount": {"type": "integer"},
            "data": {"type": "array", "items": item},
        },
    }


def envelope(data: Schema, title: str = "Ok") -> Schema:
    """``{"code":200,"message":…,"data":…}``."""
    return {
        "type": "object",
        "title": title,
        "required": ["code", "message", "data"],
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "data": data,
        },
    }


def array_of(item: Schema) -> Schema:
    return {"type": "array", "items": item}


def rows_body(key: str, item: Schema) -> Schema:
    """An import: ``{"<key>":[…]}`` or the bare array."""
    rows = {"type": "array", "minItems": 1, "items": item}
    return {
        "anyOf": [
            {"type": "object", "required": [key], "properties": {key: rows}},
            rows,
        ]
    }


def _title(resource: Resource) -> str:
    return "".join(p.title() for p in re.split(r"[_/]", resource.table))


# --- attaching them -----------------------------------------------------------------


# Text Postgres can hold (no U+0000).
TEXT_PARAM: Schema = {"type": "string", "pattern": _NO_NUL}


def query_param(name: str, schema: Schema, description: str = "") -> Schema:
    out: Schema = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        out["description"] = description
    return out


def paging_params(
    sortable: Iterable[str] = (),
    searchable: Iterable[str] = (),
    search_key: Schema = TEXT_PARAM,
) -> list[Schema]:
    """What ``shared.http.paging.parse_paging`` reads (its aliases are accepted too)."""
    # An empty value is "not given" (parse_paging), so "" is in every enum.
    positive = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": [""]}]}
    sort: Schema = {"type": "string"}
    if sortable:
        sort["enum"] = ["", *sortable]
    search: Schema = {"type": "string"}
    if searchable:
        search["enum"] = ["", *searchable]
    return [
        query_param("page", positive, "1-based (alias curPage)"),
        query_param("perPage", positive, "rows per page, at most 10000 (page_size, pageSize)"),
        query_param("sortField", sort, "alias sort_field"),
        query_param(
            "sortOrder",
            {"type": "string", "enum": ["", "asc", "desc", "ascend", "descend"]},
            "alias sort_order",
        ),
        query_param("searchField", search, "alias search_field"),
        query_param("searchKey", search_key, "substring, case-insensitive"),
    ]


def list_params(resource: Resource) -> list[Schema]:
    filters = [
        query_param(f.param, TEXT_PARAM, f"{f.column} {'contains' if f.mode == 'like' else 'is'}")
        for f in resource.filters
    ]
    return [*paging_params(resource.sortable, resource.searchable), *filters]


# --- links: create -> read/update/delete, parent -> children -------------------------

OPT_CREATES = "openapi_creates"  # the resource a create handler makes, and where its id is
OPT_CHILD_OF = "openapi_child_of"  # a child handler: the parent resource, its id parameter


def links_from_create(resource: Resource, id_pointer: str) -> dict[str, Schema]:
    """What a client does next with the id a create answered (OpenAPI links)."""
    op = resource.name.replace("/", "_")
    return {
        f"{verb}_{op}": {
            "operationId": f"{verb}_{op}",
            "parameters": {"item_id": f"$response.body#{id_pointer}"},
        }
        for verb in ("get", "update", "delete")
        if verb in resource.ops
    }


def _link_children(handlers: list[Any]) -> None:
    """Each parent's create links to every operation on its children."""
    creates = {
        h.opt[OPT_CREATES][0]: h
        for h in handlers
        if isinstance(h, HTTPRouteHandler) and OPT_CREATES in (h.opt or {})
    }
    for handler in handlers:
        if not isinstance(handler, HTTPRouteHandler) or OPT_CHILD_OF not in (handler.opt or {}):
            continue
        parent, param = handler.opt[OPT_CHILD_OF]
        create = creates.get(parent)
        if create is None or not handler.operation_id:
            continue
        pointer = create.opt[OPT_CREATES][1]
        links = create.opt.setdefault(OPT_LINKS, {})
        op_id = str(handler.operation_id)
        links[op_id] = {"operationId": op_id, "parameters": {param: f"$response.body#{pointer}"}}


def document(handlers: Iterable[Any]) -> list[Any]:
    """Parents' creates link to their children. (What the document says about
    each handler is written by ``switchyard.shared.http.openapi`` for every
    service.)"""
    out = list(handlers)
    _link_children(out)
    return out


def one_or_many(item: Schema) -> Schema:
    """An array body; a single object is taken as an array of one (the spec's curls send both)."""
    return {
        "anyOf": [{"type": "array", "items": untitled(item)}, item],
        "description": "[] does nothing",
    }


def untitled(schema: Schema) -> Schema:
    """``schema`` without its title, for its second use in one union: a
    generated client names a model by its title and refuses the same name twice."""
    return {k: v for k, v in schema.items() if k != "title"}


def with_id(schema: Schema, *, required: bool = True) -> Schema:
    """``schema`` plus the ``id`` of the row it edits (each alternative's, for a union)."""
    if "anyOf" in schema and "properties" not in schema:
        return {**schema, "anyOf": [with_id(s, required=required) for s in schema["anyOf"]]}
    out = {**schema, "properties": {"id": ID_ANY, **schema.get("properties", {})}}
    if required:
        out["required"] = ["id", *schema.get("required", [])]
    return out


def obj(title: str = "", required: Iterable[str] = (), **props: Schema) -> Schema:
    out: Schema = {"type": "object", "properties": props}
    if title:
        out["title"] = title
    if req := list(required):
        out["required"] = req
    return out


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
