"""The one place that writes what every operation of the OpenAPI document says
beyond its signature: the statuses it can answer with their bodies, and what
a handler declares in ``opt`` (``doc(...)``): the body it reads by hand, the
reply it writes, its query parameters, its links and extra statuses.

``document_routes`` runs over the built app in the runner, so every service's
handlers (and the ones other helpers add later) get it without asking.

The statuses come from the shared layers every request passes, not from a
guess per handler:

- 400: a parameter, query or body that does not fit (``bad_request``,
  Litestar's own validation), always with ``data.field``/``data.reason``;
- 401: no valid token, or a handler's own authentication (coocenter's WEBKEY);
- 403: a cookie-authenticated write without a same-origin ``Origin`` (CSRF,
  security.py), on the writes the token middleware guards;
- 404: a path naming no object, or a bus peer answering ``not_found``;
- 409: a write refused by a uniqueness rule or a reference (and bus ``conflict``);
- 413: a body past Litestar's size limit, on writes;
- 503 with ``Retry-After``: the database or the bus unavailable, or the
  service not running yet; ``Retry-After`` is sent when retrying shortly helps.

A handler adds what only it answers with ``doc(statuses={"429": "..."})``
and replaces the error body with ``doc(error=schema)`` (the spec's own shapes).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Operation, Tag
from litestar.routes import HTTPRoute

from switchyard.shared.http.auth import EXCLUDE_OPT
from switchyard.shared.http.coocenter import Refused
from switchyard.shared.http.ids import MAX_ID

Schema = dict[str, Any]

OPT_BODY = "openapi_body"
OPT_REPLY = "openapi_reply"
OPT_QUERY = "openapi_query"
OPT_STATUSES = "openapi_statuses"
OPT_ERROR = "openapi_error"
OPT_LINKS = "openapi_links"
OPT_BODY_TYPE = "openapi_body_type"
OPT_BODY_REQUIRED = "openapi_body_required"
OPT_PATH = "openapi_path"

# Written inline in every response, without a title: a generated client
# names a titled schema once per operation and would meet the same name for
# each status (openapi-python-client refuses the duplicates).
ERROR: Schema = {
    "type": "object",
    "required": ["code", "message", "data"],
    "properties": {
        "code": {"type": "integer", "description": "the HTTP status again"},
        "message": {"type": "string", "description": "starts with the field for a 400/409"},
        "data": {
            "description": "400/409: {field, reason} (and row for an import); "
            "503: {reason}; else {}",
        },
    },
}

# coocenter's own refusal (shared/http/coocenter.py); Litestar's parameter
# validation still answers the XSwitch body, so both can come.
COOCENTER_ERROR: Schema = {
    "anyOf": [
        {
            "type": "object",
            "required": ["status", "message"],
            "properties": {
                "status": {"type": "string", "enum": ["error"]},
                "message": {"type": "string"},
            },
        },
        ERROR,
    ]
}

RETRY_AFTER: Schema = {
    "Retry-After": {
        "description": "seconds to wait before trying again (sent when the database is "
        "unavailable or a limit is reached)",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

ALLOW: Schema = {
    "Allow": {
        "description": "the methods this path declares",
        "required": True,
        "schema": {"type": "string"},
    }
}

_DESCRIPTIONS = {
    "400": "Bad input: data.field names the field, data.reason says why; nothing is written",
    "401": "No or wrong credentials (API token X-XTRA-AUTH-ID, Bearer, session cookie, "
    "or the endpoint's own key)",
    "403": "Refused: a cookie-authenticated write from another origin (CSRF), "
    "or a client this endpoint does not serve",
    "404": "No such object (the path's id, or an object the request names)",
    "409": "Refused: a uniqueness rule, or the object is still referred to (named in reason)",
    "413": "The request body is too large",
    "503": "A dependency is unavailable (database, bus, the service still starting); "
    "try again shortly",
}

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def doc(
    *,
    body: Schema | None = None,
    reply: Schema | None = None,
    query: list[Schema] | None = None,
    statuses: Mapping[str, str] | None = None,
    error: Schema | None = None,
    links: Mapping[str, Schema] | None = None,
    body_type: str = "application/json",
    body_required: bool | None = None,
    path: Mapping[str, Schema] | None = None,
) -> dict[str, Any]:
    """``opt`` for a route decorator: what the document says about this handler.

    ``path``: a path parameter's schema where the handler checks more than
    its type (Litestar's own check would answer its own way).

    ``body_required``: whether a request without a body is refused; by default
    when the body schema requires a key or names alternatives (an update must
    name a field), since no body reads as ``{}``.
    """
    out: dict[str, Any] = {}
    if body is not None:
        out[OPT_BODY] = body
        out[OPT_BODY_TYPE] = body_type
        out[OPT_BODY_REQUIRED] = (
            bool(body.get("required") or body.get("anyOf") or body.get("minItems"))
            if body_required is None
            else body_required
        )
    if reply is not None:
        out[OPT_REPLY] = reply
    if query:
        out[OPT_QUERY] = query
    if statuses:
        out[OPT_STATUSES] = dict(statuses)
    if error is not None:
        out[OPT_ERROR] = error
    if links:
        out[OPT_LINKS] = dict(links)
    if path:
        out[OPT_PATH] = dict(path)
    return out


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


def statuses_of(handler: HTTPRouteHandler) -> dict[str, str]:
    """The error statuses ``handler`` can answer, with what each means."""
    opt = handler.opt or {}
    methods = set(handler.http_methods)
    token_auth = not opt.get(EXCLUDE_OPT)
    codes = ["400", "401", "404", "503"]
    if methods & UNSAFE:
        codes += ["409", "413"]
    # The CSRF check guards token-authenticated writes; a handler that
    # authenticates otherwise (a key, a signature, an allowed address) may
    # refuse a client with 403 on any method.
    if (methods & UNSAFE and token_auth) or not token_auth:
        codes.append("403")
    out = {code: _DESCRIPTIONS[code] for code in codes}
    out.update(opt.get(OPT_STATUSES, {}))
    return dict(sorted(out.items()))


def _exact_bounds(schema: Any) -> None:
    """Litestar writes a bigint bound as a float (9.223372036854776e+18, which is
    past the bound): put the exact integers back so generated ids stay valid."""
    if not isinstance(schema, dict):
        return
    for key, exact in (("maximum", MAX_ID), ("minimum", -MAX_ID - 1)):
        value = schema.get(key)
        if isinstance(value, float):
            schema[key] = exact if abs(value) >= 2**62 else int(value)


# Tags group the operations in the docs UI, named in English and Chinese as
# the specs' readers read both: (path prefix, tag, description). The first
# prefix a path starts with wins.
TAGS: tuple[tuple[str, str, str], ...] = (
    ("/coocenter-api/", "coocenter", "Call-center operations (coocenter) / 呼叫中心接口"),
    ("/api/channels", "channels", "Calls: originate, hang up, record / 通话控制"),
    ("/api/cdrs", "cdrs", "Call detail records / 话单"),
    ("/api/gateways", "gateways", "SIP gateways, their params and state / 网关"),
    ("/api/trunk_groups", "trunks", "Trunks, trunk groups and route codes / 中继、中继组与路由码"),
    ("/api/trunks", "trunks", ""),
    ("/api/route_codes", "trunks", ""),
    ("/api/routes", "routes", "Routes, their params and explanations / 路由"),
    ("/api/time_recurrence", "time_rules", "Time rules and templates / 时间规则"),
    ("/api/contexts", "contexts", "Dialplan contexts / 呼叫上下文"),
    ("/api/extensions", "extensions", "Extensions / 分机"),
    ("/api/ivrs", "ivrs", "IVR menus and actions / 语音导航"),
    ("/api/blacklists", "blacklists", "Number blacklists / 黑名单"),
    ("/api/iptables", "iptables", "Blocked IP addresses / IP 封禁"),
    ("/api/callcenter_queues", "queues", "Call-center queues and members / 呼叫队列"),
    ("/api/hotlines", "hotlines", "Hotlines / 热线"),
    ("/api/func_code", "func_codes", "Feature codes / 功能码"),
    ("/api/blocks", "blocks", "Script blocks / 脚本块"),
    ("/api/dods", "dods", "Outbound caller numbers (DOD) / 外显号码"),
    ("/api/number_translation", "number_translation", "Number translation / 号码变换"),
    ("/api/device_provisions", "devices", "Phone provisioning / 话机配置"),
    ("/api/extn_alarms", "alarms", "Extension alarms (sensors) / 分机告警"),
    ("/api/dicts", "dicts", "Dictionaries / 字典"),
    ("/api/logs", "logs", "Operation log / 操作日志"),
    ("/api/check", "checks", "Worker checks / 检查"),
    ("/api/webhooks", "webhooks", "Webhook subscriptions and deliveries / 事件推送"),
    ("/api/media_files", "media", "Media files and recordings / 媒体文件"),
    ("/api/upload", "media", ""),
    ("/fs/media", "media", ""),
    ("/api/ali/", "tts", "Text to speech / 语音合成"),
    ("/api/baidu/", "tts", ""),
    ("/api/huawei/", "tts", ""),
    ("/api/tts", "tts", ""),
    ("/tts", "tts", ""),
    ("/api/sessions", "sessions", "Logging in and out / 登录"),
    ("/cli", "cli", "FreeSWITCH commands (mod_cti /cli) / 命令接口"),
    ("/fs/xml", "freeswitch", "FreeSWITCH's configuration fetches (mod_xml_curl) / 配置获取"),
)
OTHER = ("other", "Everything else / 其他")


def tag_of(path: str) -> str:
    return next((tag for prefix, tag, _ in TAGS if path.startswith(prefix)), OTHER[0])


def tags() -> list[Tag]:
    """The document's tags with their descriptions, in the order above."""
    described = [(tag, text) for _, tag, text in TAGS if text]
    return [Tag(name=name, description=text) for name, text in [*described, OTHER]]


def _operation_class(handler: HTTPRouteHandler) -> type[Operation]:
    opt = dict(handler.opt or {})
    errors = statuses_of(handler)
    tag = tag_of(sorted(handler.paths)[0])
    error_body = opt.get(OPT_ERROR) or (
        COOCENTER_ERROR if Refused in handler.resolve_exception_handlers() else ERROR
    )

    class Documented(Operation):
        def to_schema(self) -> dict[str, Any]:
            out = super().to_schema()
            out.setdefault("tags", [tag])
            path = opt.get(OPT_PATH, {})
            for param in out.get("parameters", []):
                if param.get("in") == "path" and param.get("name") in path:
                    param["schema"] = path[param["name"]]
                _exact_bounds(param.get("schema"))
            if query := opt.get(OPT_QUERY):
                out["parameters"] = [*out.get("parameters", []), *query]
            if (body := opt.get(OPT_BODY)) is not None:
                out["requestBody"] = {
                    "required": bool(opt.get(OPT_BODY_REQUIRED)),
                    "content": {opt.get(OPT_BODY_TYPE, "application/json"): {"schema": body}},
                }
            responses = out.setdefault("responses", {})
            if (reply := opt.get(OPT_REPLY)) is not None:
                ok = responses.setdefault("200", {"description": "Success"})
                ok["content"] = {"application/json": {"schema": reply}}
            if links := opt.get(OPT_LINKS):
                success = next((s for s in sorted(responses) if s.startswith("2")), "200")
                responses.setdefault(success, {"description": "Success"})["links"] = links
            for status, description in errors.items():
                # Litestar's own 400 (``{status_code, detail}``) is not what is sent.
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": error_body}},
                }
                if status in ("429", "503"):
                    responses[status]["headers"] = RETRY_AFTER
            return out

    return Documented


def _handlers(app: Litestar) -> Iterable[HTTPRouteHandler]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.include_in_schema:
                    yield handler


def document_routes(app: Litestar) -> None:
    """Give every documented handler of ``app`` its statuses, bodies and links."""
    for handler in _handlers(app):
        handler.operation_class = _operation_class(handler)


# --- bodies read by hand into a Struct (body.read_body) ----------------------------

LENIENT_BODY = (
    "Lenient like XSwitch: numbers may come as strings, flags as true/false/1/0, "
    "a number where text is stored is taken as its text; unknown keys are ignored."
)
# What msgspec's lax mode takes for a bool (any case).
BOOL_WORDS: Schema = {
    "type": "string",
    "pattern": "^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[01])$",
}


def _digits_between(low: str, high: str) -> list[str]:
    """Regexes for the numbers from ``low`` to ``high``, both of one length."""
    if low == high:
        return [low]
    if len(low) == 1:
        return [f"[{low}-{high}]"]
    if low[0] == high[0]:
        return [low[0] + p for p in _digits_between(low[1:], high[1:])]
    rest = len(low) - 1
    out = []
    first = int(low[0])
    if low[1:] != "0" * rest:
        out += [low[0] + p for p in _digits_between(low[1:], "9" * rest)]
        first += 1
    last = int(high[0]) if high[1:] == "9" * rest else int(high[0]) - 1
    if first <= last:
        out.append(f"[{first}-{last}]" + "[0-9]" * rest)
    if high[1:] != "9" * rest:
        out += [high[0] + p for p in _digits_between("0" * rest, high[1:])]
    return out


def digits(low: int, high: int) -> Schema:
    """The decimal text of a whole number from ``low`` to ``high`` (both >= 0), as
    msgspec's lax mode reads a string where a number is declared."""
    alternatives = []
    for width in range(len(str(low)), len(str(high)) + 1):
        start = max(low, 10 ** (width - 1) if width > 1 else 0)
        end = min(high, 10**width - 1)
        alternatives += _digits_between(str(start), str(end))
    return {
        "type": "string",
        "pattern": f"^(?:{'|'.join(alternatives)})$",
        "description": f"digits, read as the number ({low}-{high})",
    }


def whole(low: int, high: int) -> Schema:
    """A whole number from ``low`` to ``high``, or its digits."""
    return {"anyOf": [{"type": "integer", "minimum": low, "maximum": high}, digits(low, high)]}


def given(field: str) -> Schema:
    """``field`` is in the body and not null: where a Struct's field defaults to
    None, a null reads as not given (for if/then and "names one of" rules)."""
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


def _field_kind(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a not in (type(None), msgspec.UnsetType)]
    return args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and args else hint


def _lenient(schema: Schema, hint: Any) -> Schema:
    """``schema`` plus the spellings ``body.convert`` also takes for a field of ``hint``."""
    if "anyOf" in schema:
        return schema  # the caller wrote every spelling
    kind = _field_kind(hint)
    if kind is bool:
        return {"anyOf": [schema, {"type": "integer", "enum": [0, 1]}, BOOL_WORDS]}
    if kind is str and not {"pattern", "enum", "const", "maxLength"} & set(schema):
        # body._numbers_to_strings: a number where text is stored is its text.
        return {"anyOf": [schema, {"type": "number"}]}
    return schema


def struct_body(
    type_: Any,
    *,
    fields: Mapping[str, Schema] | None = None,
    required: Iterable[str] = (),
    title: str = "",
    description: str = LENIENT_BODY,
    extra: Mapping[str, Any] | None = None,
) -> Schema:
    """The body ``body.read_body(request, type_)`` takes, from the Struct itself:
    its fields (their encode names), each with the spellings the decoder takes
    besides the canonical one. ``fields`` states a field's real rule where the
    handler checks more than its type (a pattern, an enum, a range); one that
    is an ``anyOf`` is taken as written. ``required``: fields the handler
    refuses to go without although the Struct has a default for them."""
    fields = dict(fields or {})
    plain = of_type(type_)
    props = plain.get("properties", {})
    hints = typing.get_type_hints(type_)
    out_props: dict[str, Schema] = {}
    for field in msgspec.structs.fields(type_):
        name = field.encode_name
        given = fields.pop(name, None)
        base = given if given is not None else props.get(name, {})
        out_props[name] = _lenient(dict(base), hints[field.name])
    if fields:
        raise ValueError(f"{type_.__name__} has no fields {sorted(fields)}")
    out: Schema = {"type": "object"}
    if title:
        out["title"] = title
    out["description"] = description
    out["properties"] = out_props
    if need := [
        *plain.get("required", []),
        *(r for r in required if r not in plain.get("required", [])),
    ]:
        unknown = [r for r in need if r not in out_props]
        if unknown:
            raise ValueError(f"{type_.__name__} has no fields {unknown}")
        out["required"] = need
    if getattr(type_, "__struct_config__", None) and type_.__struct_config__.forbid_unknown_fields:
        out["additionalProperties"] = False
        out["description"] = description.replace("; unknown keys are ignored", "; no other keys")
    out.update(extra or {})
    return out
