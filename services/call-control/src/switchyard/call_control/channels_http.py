"""``/api/channels``: originate, list, hang up, and the per-channel actions.

Every handler forwards over NATS (docs/architecture.md, The bus): originate on the
node-agnostic subject served by any replica owning a node, per-channel
commands to the owner of the node the channel lives on (found in the
channel-location KV). So any replica's HTTP serves any request.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import msgspec
import nats.js.errors
from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath

from switchyard.call_control.node_commands import (
    ApiResult,
    App,
    ChannelApi,
    ChannelList,
    Hangup,
    ListChannels,
    Originate,
    OriginateResult,
)
from switchyard.call_control.nodes import configured_nodes
from switchyard.call_control.replica import RunningReplica
from switchyard.call_control.route_cache import RouteCache
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.fsvalues import (
    APP_DATA_PATTERNS,
    CAUSE,
    DEFAULT_APPLICATIONS,
    NAME,
    NUMBER,
    REFUSED_APPLICATIONS,
    TEXT,
    UUID,
    Applications,
    UnsafeValue,
    app_data_pattern,
    check_app_data,
    check_dial_string,
    fs_applications,
)
from switchyard.shared.http.body import read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError, bad_request
from switchyard.shared.http.openapi import ERROR, Schema, doc, of_type, struct_body, whole
from switchyard.shared.media_location import recording_target
from switchyard.shared.messages import RouteRequest
from switchyard.shared.runtime import Runtime

# Slack over FreeSWITCH's own originate timeout before the bus gives up.
_ORIGINATE_SLACK = 5


class AppBody(msgspec.Struct):
    app: str
    args: str = ""


class OriginateBody(msgspec.Struct):
    destNumber: str = ""
    app: str = ""
    args: str = ""
    apps: list[AppBody] = msgspec.field(default_factory=list)
    autoAnswer: bool = False
    earlyMedia: bool = True
    cidName: str = ""
    cidNumber: str = ""
    # A gateway named by a whole number is its text; a fraction names none.
    userGateway: str | int = ""
    async_: bool = msgspec.field(default=False, name="async")
    timeout: int = 60


class OriginateReply(msgspec.Struct):
    result: str
    uuid: str
    node: str | None = None
    reason: str | None = None


# --- the originate body in the OpenAPI document ---------------------------------------


def _rule(rule_pattern: str, *, empty: bool = False) -> Schema:
    """A fsvalues rule as a JSON-schema pattern (``empty``: "" means not given)."""
    return {"type": "string", "pattern": f"^(?:{rule_pattern}){'?' if empty else ''}$"}


# Every whole number's text is a name (up to 64 digits, a sign).
_WHOLE_TEXT: Schema = {
    "type": "integer",
    "minimum": -(10**63 - 1),
    "maximum": 10**64 - 1,
    "description": "taken as its text",
}
# Every number's text is a dialled number (digits, . e + -), up to 64 characters.
_NUMBER_TEXT: Schema = {"type": "number", "description": "taken as its text"}


def _app_rules() -> Schema:
    """An application's data by the shape check_app_data wants for it (the
    default allowlist; SWITCHYARD_FS_APPLICATIONS adds names like the first
    group), as a chain of if/then: the object keeps plain properties, which
    generated clients read, and a validator still holds args to the rule."""
    allowed = sorted(DEFAULT_APPLICATIONS - REFUSED_APPLICATIONS)
    groups: dict[str, list[str]] = {}
    for app in allowed:
        groups.setdefault(app_data_pattern(app), []).append(app)
    # A number's text: plain data, a transfer's extension or an endpoint; never a setter's.
    numbers_ok = {APP_DATA_PATTERNS[k] for k in ("", "transfer", "dialler", "conference")}
    rule: Schema = {}
    for data, apps in reversed(groups.items()):
        args: Schema = {"type": "string", "pattern": data}
        # Absent args are "": where that is refused, args are required.
        takes_empty = re.search(data.removesuffix("$") + r"\Z", "") is not None
        then: Schema = {
            "properties": {"args": {"anyOf": [args, _NUMBER_TEXT]} if data in numbers_ok else args}
        }
        if not takes_empty:
            then["required"] = ["args"]
        rule = {
            "if": {"required": ["app"], "properties": {"app": {"enum": apps}}},
            "then": then,
            **({"else": rule} if rule else {}),
        }
    return rule


_APP_NAMES: Schema = {
    "type": "string",
    "enum": sorted(DEFAULT_APPLICATIONS - REFUSED_APPLICATIONS),
    "description": "an allowed application (SWITCHYARD_FS_APPLICATIONS adds more)",
}
_ARGS: Schema = {
    "anyOf": [{"type": "string"}, {"type": "number"}],
    "description": "the application's data; its rule depends on the application",
}
APP_ITEM: Schema = {
    **struct_body(AppBody, fields={"app": _APP_NAMES, "args": _ARGS}),
    **_app_rules(),
}
ORIGINATE_BODY: Schema = struct_body(
    OriginateBody,
    title="OriginateBody",
    required=["destNumber"],
    fields={
        "destNumber": {
            "anyOf": [_rule(NUMBER.pattern.pattern), _NUMBER_TEXT],
            "description": "the number to call, routed from the originating context",
        },
        "app": {**_APP_NAMES, "enum": ["", *_APP_NAMES["enum"]]},
        "args": _ARGS,
        "apps": {"type": "array", "items": APP_ITEM, "description": "run after app, in order"},
        "cidName": {"anyOf": [_rule(TEXT.pattern.pattern), _NUMBER_TEXT]},
        "cidNumber": {"anyOf": [_rule(NUMBER.pattern.pattern, empty=True), _NUMBER_TEXT]},
        "userGateway": {
            "anyOf": [_rule(NAME.pattern.pattern, empty=True), _WHOLE_TEXT],
            "description": "dial out through this gateway instead of routing",
        },
        "timeout": {**whole(1, 600), "description": "seconds to wait for an answer"},
    },
    extra=_app_rules(),
)


def originate_command(body: OriginateBody, applications: Applications) -> Originate:
    """Validate the spec's originate body into a bus command (400s name the field)."""
    dest = body.destNumber.strip()
    if not dest:
        raise bad_request("destNumber", "is required")
    if not 1 <= body.timeout <= 600:
        raise bad_request("timeout", "must be between 1 and 600 seconds")
    gateway = str(body.userGateway)
    apps = [AppBody(body.app, body.args)] if body.app else []
    apps += body.apps
    variables: list[tuple[str, str]] = []
    if body.cidName:
        variables.append(("origination_caller_id_name", body.cidName))
    if body.cidNumber:
        variables.append(("origination_caller_id_number", body.cidNumber))
    if body.autoAnswer:
        variables.append(("sip_auto_answer", "true"))
    try:
        NUMBER.check("destNumber", dest)
        if gateway:
            NAME.check("userGateway", gateway)
        TEXT.check("cidName", body.cidName)
        if body.cidNumber:
            NUMBER.check("cidNumber", body.cidNumber)
        for i, a in enumerate(apps):
            where = "" if body.app and i == 0 else f"apps[{i - bool(body.app)}]."
            applications.check(f"{where}app", a.app)
            check_app_data(f"{where}args", a.app, a.args)
    except UnsafeValue as exc:
        raise bad_request(exc.field, exc.reason) from None
    dial = f"sofia/gateway/{gateway}/{dest}" if gateway else ""
    return Originate(
        uuid=str(uuid.uuid4()),
        dial=dial,
        apps=tuple(App(a.app, a.args) for a in apps),
        variables=tuple(variables),
        ignore_early_media=not body.earlyMedia,
        background=body.async_,
        timeout=body.timeout,
    )


async def resolve_dial(routes: RouteCache, context: str, number: str, caller: str) -> str:
    """Where a call dialled from ``context`` to ``number`` would go, as a dial string.

    Asks config-api's routing engine (``sy.config.route``). A route that
    bridges to a plain dial string is dialled directly. One that does not
    bridge (IVR, conference …), or whose dial string needs FreeSWITCH to
    expand it (``$${domain}``, ``${sofia_contact(…)}``: expanded only when
    FreeSWITCH reads a dialplan document), is reached through a loopback leg
    that runs the very same dialplan. No route at all dials the user
    directory, as XSwitch does for its extensions. A number the engine
    refuses (blacklist, invalid) is refused here too. An answer ``routes``
    holds is reused (route_cache.py).
    """
    try:
        route = await routes.lookup(RouteRequest(context, number, caller))
    except BusError as exc:
        if exc.code == "not_found":
            return f"user/{number}"
        raise
    if route.outcome in ("rejected", "invalid"):
        cause = next((a.data for a in route.actions if a.application == "hangup"), "")
        raise ApiError(
            403 if route.outcome == "rejected" else 400,
            f"destNumber: {route.reason or route.outcome}",
            {"field": "destNumber", "reason": cause or route.outcome},
        )
    if route.dial_string and "$" not in route.dial_string:
        return route.dial_string
    return f"loopback/{number}/{context}"


async def ring(
    runtime: Runtime,
    routes: RouteCache,
    field: str,
    number: str,
    app: App,
    variables: tuple[tuple[str, str], ...] = (),
) -> OriginateResult:
    """Ring ``number`` as a call dialled from the originating context reaches
    it and run ``app`` once it answers (placed in the background: the result
    says whether it was placed). UnsafeValue (naming ``field``) when the
    number's route dials something the rules refuse."""
    bus = runtime.bus
    context = runtime.settings.originate_context
    dial = await resolve_dial(routes, context, number, "")
    check_dial_string(field, dial)
    cmd = Originate(
        uuid=str(uuid.uuid4()),
        dial=dial,
        apps=(app,),
        variables=variables,
        background=True,
        context=context,
    )
    return await bus.request(bus.subjects.any_node_command, cmd, OriginateResult, timeout=10)


@post(
    "/api/channels",
    status_code=200,
    oplog_resource="channels",
    opt=doc(
        body=ORIGINATE_BODY,
        statuses={
            "403": "destNumber: the routing rules refuse the number (blacklist); "
            "or a cookie-authenticated write from another origin"
        },
    ),
)
async def originate(
    request: Request[Any, Any, Any], runtime: AppRuntime, replica: RunningReplica
) -> OriginateReply:
    body = await read_body(request, OriginateBody)
    context = runtime.settings.originate_context
    # The new leg belongs to the originating context: a transfer it runs
    # (the spec's "call the extension, then transfer out") routes there.
    applications = fs_applications(runtime.settings.fs_applications)
    cmd = msgspec.structs.replace(originate_command(body, applications), context=context)
    bus = runtime.bus
    if not cmd.dial:
        dial = await resolve_dial(replica.routes, context, body.destNumber.strip(), body.cidNumber)
        try:
            check_dial_string("destNumber", dial)
        except UnsafeValue as exc:
            # A stored route the rules refuse (written before they existed).
            raise ApiError(
                409, f"destNumber: its route's dial string is refused: {exc.reason}"
            ) from None
        cmd = msgspec.structs.replace(cmd, dial=dial)
    result = await bus.request(
        bus.subjects.any_node_command,
        cmd,
        OriginateResult,
        timeout=cmd.timeout + _ORIGINATE_SLACK,
    )
    if not result.ok:
        # The call was placed and failed: a fact about the call, not the request.
        return OriginateReply("error", result.uuid, result.node, result.cause)
    return OriginateReply("ok", result.uuid, result.node)


async def node_of(bus: Bus, channel: str) -> str:
    if not UUID.ok(channel):
        raise bad_request("uuid", UUID.reason)
    kv = await bus.js.key_value(bus.subjects.channel_location_bucket)
    try:
        entry = await kv.get(channel)
    except nats.js.errors.KeyNotFoundError:
        raise ApiError(404, "no such channel") from None
    assert entry.value is not None
    return entry.value.decode()


class HangupBody(msgspec.Struct):
    hangupCause: str = "NORMAL_CLEARING"


HANGUP_BODY: Schema = struct_body(
    HangupBody,
    title="HangupBody",
    fields={
        "hangupCause": {
            **_rule(CAUSE.pattern.pattern),
            "description": "the cause FreeSWITCH hangs up with (default NORMAL_CLEARING)",
        }
    },
)
# The path's channel: a uuid as node_of checks it (DELETE answers 400 naming
# uuid otherwise, PUT the spec's 404 "Could not locate session.").
CHANNEL_PATH: Schema = {**_rule(UUID.pattern.pattern), "description": "the channel's uuid"}


class ResultReply(msgspec.Struct):
    result: str
    uuid: str


@delete(
    "/api/channels/{channel:str}",
    status_code=200,
    oplog_resource="channels",
    opt=doc(body=HANGUP_BODY, path={"channel": CHANNEL_PATH}),
)
async def hangup(
    channel: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> ResultReply:
    body = await read_body(request, HangupBody)
    if not CAUSE.ok(body.hangupCause):
        raise bad_request("hangupCause", CAUSE.reason)
    bus = runtime.bus
    node = await node_of(bus, channel)
    await bus.request(bus.subjects.node_command(node), Hangup(channel, body.hangupCause), ApiResult)
    return ResultReply("ok", channel)


@get("/api/channels")
async def list_channels(runtime: AppRuntime) -> list[dict[str, str]]:
    """Live channels of every node, in ``show channels as json`` rows plus ``node``."""
    bus = runtime.bus
    nodes = configured_nodes(runtime.settings)

    async def one(node: str) -> list[dict[str, str]]:
        try:
            answer = await bus.request(bus.subjects.node_command(node), ListChannels(), ChannelList)
        except BusError:
            return []  # a node without a live owner has no channels we can see
        return [{**row, "node": answer.node} for row in answer.rows]

    per_node = await asyncio.gather(*(one(n) for n in nodes))
    return [row for rows in per_node for row in rows]


class ChannelActionBody(msgspec.Struct):
    action: str = ""
    deaf: str = ""
    record: str = ""
    file_name: str = ""
    png_name: str = ""


class SpecReply(msgspec.Struct, omit_defaults=True):
    code: int
    msg: str | None = None
    reason: str | None = None
    file: str | None = None


# A file name channel_action takes (_SAFE_FILE); a number is its text: a whole
# one's digits, a positive fraction's repr below 1e16 (no exponent sign +).
_SAFE_NAME: Schema = {
    "anyOf": [
        {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"},
        {"type": "integer", "minimum": 0, "maximum": 10**128 - 1},
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1e16},
    ]
}
_ON_OFF: Schema = {"type": "string", "enum": ["on", "off"]}


def _when(action: str, rules: Schema) -> Schema:
    return {
        "if": {"required": ["action"], "properties": {"action": {"const": action}}},
        "then": {"required": list(rules), "properties": rules},
    }


_DEAF, _RECORD, _SNAPSHOT = (
    _when("deaf", {"deaf": _ON_OFF}),
    _when(
        "record",
        {
            "record": _ON_OFF,
            "file_name": {
                "type": "string",
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,123}[.]mp4$",
                "description": "a plain file name ending in .mp4",
            },
        },
    ),
    _when("snapshot", {"png_name": _SAFE_NAME}),
)
# Each action's fields by if/then: a field another action reads is ignored.
CHANNEL_ACTION_BODY: Schema = struct_body(
    ChannelActionBody,
    title="ChannelActionBody",
    required=["action"],
    fields={"action": {"type": "string", "enum": ["deaf", "record", "snapshot"]}},
    extra={**_DEAF, "else": {**_RECORD, "else": _SNAPSHOT}},
)

# Untitled: a generated client names a titled schema once per operation and
# would meet the same name for each error status.
_SPEC_ERROR = {k: v for k, v in of_type(SpecReply).items() if k != "title"}
_SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SNAPSHOTS = "/usr/local/freeswitch/storage/snapshot"


def _spec_error(reason: str) -> Response[SpecReply]:
    # The spec's failure body for this endpoint: {"code":400,"reason":...}.
    return Response(SpecReply(code=400, reason=reason), status_code=400)


@put(
    "/api/channels/{channel:str}",
    status_code=200,
    oplog_resource="channels",
    # The spec's own failure body for this endpoint, besides the shared one.
    opt=doc(
        body=CHANNEL_ACTION_BODY,
        path={"channel": CHANNEL_PATH},
        error={"anyOf": [_SPEC_ERROR, ERROR]},
    ),
)
async def channel_action(
    channel: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> Response[SpecReply]:
    body = await read_body(request, ChannelActionBody)
    if body.action == "deaf":
        if body.deaf not in ("on", "off"):
            return _spec_error("missing mute param in json body")
        # Stock FreeSWITCH has no uuid_deaf: mute what the channel hears (the
        # audio written to it). mod_commands' uuid_audio takes the mute level as
        # its last word and a non-zero level mutes (switch_ivr_session_audio);
        # level 0 unmutes the write direction only, leaving any read mute alone.
        level = "1" if body.deaf == "on" else "0"
        cmd = ChannelApi(channel, "uuid_audio", f"{channel} start write mute {level}")
        reply = SpecReply(code=200, msg="ok")
    elif body.action == "record":
        if body.record not in ("on", "off"):
            return _spec_error("record param should be on or off")
        if not _SAFE_FILE.fullmatch(body.file_name) or not body.file_name.endswith(".mp4"):
            return _spec_error("file_name should be a plain file name ending in .mp4")
        # Where the media service finds it: the same settings decide
        # (SWITCHYARD_MEDIA_DIR / SWITCHYARD_MEDIA_STORE, docs/media.md).
        path = recording_target(runtime.settings, body.file_name)
        verb = "start" if body.record == "on" else "stop"
        cmd = ChannelApi(channel, "uuid_record", f"{channel} {verb} {path}")
        reply = SpecReply(code=200, msg="ok", file=path)
    elif body.action == "snapshot":
        if not _SAFE_FILE.fullmatch(body.png_name):
            return _spec_error("png_name should be a plain file name")
        cmd = ChannelApi(channel, "uuid_write_png", f"{channel} {SNAPSHOTS}/{body.png_name}")
        reply = SpecReply(code=200, msg="ok")
    else:
        return _spec_error("action should be deaf, record or snapshot")
    bus = runtime.bus
    try:
        node = await node_of(bus, channel)
    except ApiError:
        return Response(SpecReply(code=404, msg="Could not locate session."), status_code=404)
    answer = await bus.request(bus.subjects.node_command(node), cmd, ApiResult)
    if answer.body.startswith("-ERR"):
        return _spec_error(answer.body.removeprefix("-ERR").strip())
    return Response(reply)


route_handlers = [originate, hangup, list_channels, channel_action]
