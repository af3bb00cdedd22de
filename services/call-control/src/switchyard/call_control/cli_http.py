"""``GET /cli?key=&cmd=&arg=``: mod_cti's HTTP CLI (../shared/spec/mod-cti-http-cli.zh.md).

The reply is FreeSWITCH's own plain text, as mod_cti returns it: an API
command's output, ``+OK Job-UUID: <uuid>`` for ``bgapi``, or ``-ERR …``
(FreeSWITCH's, or why Switchyard refused the command).

The query is read raw: the spec's examples send ``arg`` unencoded, with
blanks, braces and ``&`` (``arg=originate user/1000 &echo``), so ``arg``
runs to the end of the query (less any ``&key=``/``&cmd=``/``&node=`` after
it), ``+`` is a blank and ``%XX`` is UTF-8, as in a form.

Authentication: the key (SWITCHYARD_CLI_KEY), compared in constant time;
the token middleware is skipped (``exclude_from_auth``), and a GET is never
subject to the CSRF check. No key configured: /cli does not exist (404).

The command runs on the node holding the first channel uuid of its
arguments (channel-location KV), else on ``node=``, else on the first
configured node; the node's owner checks it again (agent.py, ``CliApi``).
"""

from __future__ import annotations

import hmac
import re
import urllib.parse
import uuid
from typing import Any

import nats.js.errors
from litestar import Request, Response, get

from switchyard.call_control.cli_media import expand_media_id
from switchyard.call_control.cli_rules import CliRefused, check_cli, cli_commands, split_bgapi
from switchyard.call_control.linegroups import expand_linegroups
from switchyard.call_control.node_commands import ApiResult, CliApi
from switchyard.call_control.nodes import configured_nodes
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.fsvalues import fs_applications
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError

OPT = {"exclude_from_auth": True, "oplog": False}
TEXT_PLAIN = "text/plain; charset=utf-8"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TRAILING = re.compile(r"&(key|cmd|node)=([^&]*)$")
# A foreground command's wait; an originate's is its own timeout (at most 600 s).
API_TIMEOUT = 30.0
ORIGINATE_TIMEOUT = 120.0


def parse_query(raw: bytes) -> dict[str, str]:
    """key, cmd, node and arg of a raw query string, decoded (ValueError if not UTF-8)."""
    text = raw.decode("utf-8")
    found: dict[str, str] = {}
    rest = text
    while rest:
        if rest.startswith("arg="):
            arg = rest[4:]
            while m := _TRAILING.search(arg):
                found.setdefault(m[1], m[2])
                arg = arg[: m.start()]
            found.setdefault("arg", arg)
            break
        part, _, rest = rest.partition("&")
        name, _, value = part.partition("=")
        found.setdefault(name, value)
    return {
        k: urllib.parse.unquote_plus(v, errors="strict")
        for k, v in found.items()
        if k in ("key", "cmd", "arg", "node")
    }


def _text(body: str, status: int = 200) -> Response[str]:
    return Response(body, status_code=status, media_type=TEXT_PLAIN)


async def _node_for(bus: Bus, args: str, asked: str, nodes: list[str]) -> str:
    kv = await bus.js.key_value(bus.subjects.channel_location_bucket)
    for channel in _UUID.findall(args):
        try:
            entry = await kv.get(channel)
        except nats.js.errors.KeyNotFoundError:
            continue  # a new call's origination_uuid, or a channel gone
        if entry.value:
            return entry.value.decode()
    if asked:
        if asked not in nodes:
            raise CliRefused(f"no node {asked!r}")
        return asked
    if not nodes:
        raise CliRefused("no FreeSWITCH node is configured")
    return nodes[0]


@get("/cli", opt=OPT)
async def cli(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[str]:
    settings = runtime.settings
    if not settings.cli_key:
        raise ApiError(404, "not found")
    try:
        query = parse_query(request.scope.get("query_string", b""))
    except ValueError:
        return _text("-ERR the query is not UTF-8 URL encoding\n", 400)
    if not hmac.compare_digest(query.get("key", "").encode(), settings.cli_key.encode()):
        return _text("-ERR invalid key\n", 403)
    command, args, background = split_bgapi(query.get("cmd", "").strip(), query.get("arg", ""))
    applications = fs_applications(settings.fs_applications)
    try:
        if command in ("cti_originate", "originate"):
            # The trunk group's gateways, in order, as FreeSWITCH dials them.
            args = await expand_linegroups(runtime.pool, args)
        elif command == "uuid_broadcast":
            # A media id is the stored file's path (or signed URL).
            args = await expand_media_id(runtime.pool, args)
        # Refused here without a round trip; the owner checks again.
        check_cli(command, args, cli_commands(settings.cli_commands), applications)
        bus = runtime.bus
        nodes = configured_nodes(settings)
        node = await _node_for(bus, args, query.get("node", ""), nodes)
    except CliRefused as exc:
        return _text(f"-ERR {exc}\n")
    originate = command in ("cti_originate", "originate")
    timeout = ORIGINATE_TIMEOUT if originate and not background else API_TIMEOUT
    cmd = CliApi(command, args, background, str(uuid.uuid4()) if background else "", timeout)
    try:
        answer = await bus.request(
            bus.subjects.node_command(node), cmd, ApiResult, timeout=timeout + 5
        )
    except BusError as exc:
        return _text(f"-ERR {exc.code}: node {node}\n", 503)
    return _text(answer.body)


route_handlers = [cli]
