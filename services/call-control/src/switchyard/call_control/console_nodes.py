"""The console's nodes page (docs/console.md): each FreeSWITCH node, the
call-control replica holding its lease and when it last renewed it, whether
the owner reaches the node over ESL (it answers ``status`` through it),
its channels, and the events per second it sends into ``SY_FS_EVENTS``
(counted over one second while the page is made)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import UTC, datetime
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from litestar import Request, get
from litestar.response import Template

from switchyard.call_control.node_commands import Api, ApiResult, ChannelList, ListChannels
from switchyard.call_control.nodes import configured_nodes
from switchyard.call_control.ownership import OWNER
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.console.pages import LOGIN_REDIRECT, render
from switchyard.shared.http.deps import AppRuntime

PAGE = "switchyard.call_control:nodes.html"
RATE_WINDOW = 1.0  # seconds the events/s figure is counted over
_SESSIONS = re.compile(r"(\d+) session\(s\) - peak (\d+)")


class NodeView(msgspec.Struct):
    name: str
    owner: str = ""
    renewed: datetime | None = None  # the lease's last write
    esl: bool = False
    status: str = ""  # the first lines of FreeSWITCH's ``status``
    sessions: str = ""
    peak: str = ""
    channels: int | None = None
    events_per_second: float | None = None


async def _owner(bus: Bus, node: str) -> tuple[str, datetime | None]:
    bucket = bus.subjects.node_owner_bucket
    with contextlib.suppress(nats.js.errors.Error, nats.errors.Error):
        msg = await bus.js.get_msg(f"KV_{bucket}", subject=f"$KV.{bucket}.{OWNER}{node}")
        if msg.data and not (msg.headers or {}).get("KV-Operation"):
            return msg.data.decode(), msg.time
    return "", None


async def _events_seen(bus: Bus, node: str) -> int | None:
    try:
        info = await bus.js.stream_info(
            bus.subjects.events_stream, subjects_filter=bus.subjects.events_of_node(node)
        )
    except (nats.js.errors.Error, nats.errors.Error):
        return None
    return sum((info.state.subjects or {}).values())


async def _node(bus: Bus, name: str) -> NodeView:
    view = NodeView(name)
    before = asyncio.create_task(_events_seen(bus, name))
    started = asyncio.get_running_loop().time()
    view.owner, view.renewed = await _owner(bus, name)
    subject = bus.subjects.node_command(name)
    try:
        status = await bus.request(subject, Api("status"), ApiResult)
        view.esl = True
        view.status = "\n".join(status.body.strip().splitlines()[:2])
        if m := _SESSIONS.search(status.body):
            view.sessions, view.peak = m.group(1), m.group(2)
        view.channels = len((await bus.request(subject, ListChannels(), ChannelList)).rows)
    except BusError:
        pass  # no owner, or the owner has no ESL link: shown as such
    first = await before
    await asyncio.sleep(max(0.0, RATE_WINDOW - (asyncio.get_running_loop().time() - started)))
    second = await _events_seen(bus, name)
    if first is not None and second is not None:
        view.events_per_second = max(0, second - first) / RATE_WINDOW
    return view


@get("/console/nodes", include_in_schema=False, exception_handlers=LOGIN_REDIRECT)
async def nodes_page(request: Request[Any, Any, Any], runtime: AppRuntime) -> Template:
    names = configured_nodes(runtime.settings)
    nodes = await asyncio.gather(*(_node(runtime.bus, n) for n in names))
    return render(request, PAGE, {"nodes": nodes, "now": datetime.now(UTC)})


route_handlers = [nodes_page]
