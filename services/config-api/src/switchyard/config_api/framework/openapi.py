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

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Operation

from switchyard.config_api.framework.inputs import MAX_INT
from switchyard.config_api.framework.spec import Col, Resource, Wire
from switchyard.config_api.framework.wire import col_wire
from switchyard.shared.http.errors import bad_request

Schema = dict[str, Any]

OPT_BODY = "openapi_body"
OPT_REPLY = "openapi_reply"
OPT_QUERY = "openapi_query"

LENIENT = (
    "Lenient like XSwitch: numbers may come as strings, flags as true/false/'t'/'f', "
    "CSV columns as arrays, JSON columns as objects; unknown keys are ignored."
)

ERROR: Schema = {
    "type": "object",
    "title": "ErrorBody",
    "required": ["code", "message", "data"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "data": {
            "description": "For 400/409: {field, reason} (and row for an import); else {}",
        },
    },
}

_ERRORS = {
    "400": "Bad input: data.field names the field, data.reason says why; nothing is written",
    "401": "No or wrong API token (X-XTRA-AUTH-ID) or session",
    "404": "No such object",
    "409": "Refused: a uniqueness rule, or the object is still referred to (named in reason)",
}

_INPUT: dict[str, Schema] = {
    "text": {"type": "string"},
    "int": {"type": "integer"},
    "flag": {"type": "integer", "enum": [0, 1]},
    "bool": {"type": "boolean"},
    "money": {"type": "number"},
    "csv": {"type": "string", "description": "comma-separated (an array is accepted too)"},
    "json": {"type": "string", "description": "JSON text (an object is accepted too)"},
}

_OUTPUT: dict[Wire, Schema] = {
    "num": {"type": "number"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "media": {"description": "a JSON object when the stored text is one, else the text"},
}

TIMESTAMP: Schema = {"type": "string", "description": "YYYY-MM-DD HH:MM:SS (UTC) or empty"}
ID_ANY: Schema = {"type": ["integer", "string"], "description": "an id"}


# --- schemas from declarations ------------------------------------------------------


def col_input(col: Col) -> Schema:
    out = dict(_INPUT[col.kind])
    if col.kind == "int" and col.choices is None:
        out["minimum"] = 0
        out["maximum"] = MAX_INT
    if col.choices is not None:
        out["enum"] = list(col.choices)
    if col.max_len is not None:
        out["maxLength"] = col.max_len
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
        "properties": {c.name: col_input(c) for c in cols},
    }
    required = [c.name for c in cols if c.required] if create else []
    if required:
        schema["required"] = required
    return schema


def output_schema(resource: Resource, extra: Mapping[str, Schema] | None = None) -> Schema:
    """One row as ``wire.render`` writes it (``extra``: what a detail hook or child adds)."""
    props: dict[str, Schema] = {"id": _OUTPUT[resource.id_wire]}
    for col in resource.cols:
        if col.secret:
            props[col.name] = {"type": "string", "description": "'******' when set, else ''"}
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


def of_type(type_: Any) -> Schema:
    """A msgspec type's JSON schema with every reference inlined."""
    top = msgspec.json.schema(type_)
    defs = top.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: Schema = resolve(top)
    return resolved


def _title(resource: Resource) -> str:
    return "".join(p.title() for p in re.split(r"[_/]", resource.table))


# --- attaching them -----------------------------------------------------------------


def query_param(name: str, schema: Schema, description: str = "") -> Schema:
    out: Schema = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        out["description"] = description
    return out


def paging_params(sortable: Iterable[str] = (), searchable: Iterable[str] = ()) -> list[Schema]:
    """What ``shared.http.paging.parse_paging`` reads (its aliases are accepted too)."""
    positive = {"type": "integer", "minimum": 1}
    sort: Schema = {"type": "string"}
    if sortable:
        sort["enum"] = list(sortable)
    search: Schema = {"type": "string"}
    if searchable:
        search["enum"] = list(searchable)
    return [
        query_param("page", positive, "1-based (alias curPage)"),
        query_param("perPage", positive, "rows per page, at most 10000 (page_size, pageSize)"),
        query_param("sortField", sort, "alias sort_field"),
        query_param(
            "sortOrder",
            {"type": "string", "enum": ["asc", "desc", "ascend", "descend"]},
            "alias sort_order",
        ),
        query_param("searchField", search, "alias search_field"),
        query_param("searchKey", {"type": "string"}, "substring, case-insensitive"),
    ]


def list_params(resource: Resource) -> list[Schema]:
    filters = [
        query_param(
            f.param, {"type": "string"}, f"{f.column} {'contains' if f.mode == 'like' else 'is'}"
        )
        for f in resource.filters
    ]
    return [*paging_params(resource.sortable, resource.searchable), *filters]


def doc(
    *,
    body: Schema | None = None,
    reply: Schema | None = None,
    query: list[Schema] | None = None,
) -> dict[str, Any]:
    """``opt`` for a route decorator: the body it reads, the 200 it answers, its query."""
    out: dict[str, Any] = {}
    if body is not None:
        out[OPT_BODY] = body
    if reply is not None:
        out[OPT_REPLY] = reply
    if query:
        out[OPT_QUERY] = query
    return out


def _operation_class(
    body: Schema | None, reply: Schema | None, query: list[Schema] | None, errors: list[str]
) -> type[Operation]:
    class Documented(Operation):
        def to_schema(self) -> dict[str, Any]:
            out = super().to_schema()
            if query:
                out["parameters"] = [*out.get("parameters", []), *query]
            if body is not None:
                out["requestBody"] = {
                    "required": False,
                    "content": {"application/json": {"schema": body}},
                }
            responses = out.setdefault("responses", {})
            if reply is not None:
                ok = responses.setdefault("200", {"description": "Success"})
                ok["content"] = {"application/json": {"schema": reply}}
            for status in errors:
                responses[status] = {
                    "description": _ERRORS[status],
                    "content": {"application/json": {"schema": ERROR}},
                }
            return out

    return Documented


def _unstorable_text(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error = bad_request("request", "text must not contain a NUL character (U+0000)")
    return Response({"code": 400, "message": error.message, "data": error.data}, status_code=400)


def document(handlers: Iterable[Any]) -> list[Any]:
    """Every handler's Operation writes its body, reply and query schemas and its errors."""
    out = list(handlers)
    for handler in out:
        if not isinstance(handler, HTTPRouteHandler):
            continue
        methods = set(handler.http_methods)
        has_params = any("{" in p for p in handler.paths)
        errors = ["400", "401"]
        if has_params:
            errors.append("404")
        if methods - {"GET"}:
            errors.append("409")
        opt = handler.opt or {}
        # Text Postgres cannot store (U+0000) in a query or a hand-read body is
        # the client's error wherever it surfaces; the declared columns name
        # the field before this is reached.
        handler.exception_handlers = {
            **(handler.exception_handlers or {}),
            asyncpg.CharacterNotInRepertoireError: _unstorable_text,
            asyncpg.UntranslatableCharacterError: _unstorable_text,
        }
        handler.operation_class = _operation_class(
            opt.get(OPT_BODY), opt.get(OPT_REPLY), opt.get(OPT_QUERY), errors
        )
    return out


def one_or_many(item: Schema) -> Schema:
    """An array body; a single object is taken as an array of one (the spec's curls send both)."""
    return {"anyOf": [{"type": "array", "minItems": 1, "items": item}, item]}


def with_id(schema: Schema, *, required: bool = True) -> Schema:
    """``schema`` plus the ``id`` of the row it edits."""
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
