"""Call-center queues end to end: config-api's queue resource served as callcenter.conf
through /fs/xml, an FS_DEST_NUM_QUEUE route into it, coocenter's agent-login, and
fssim's mod_callcenter putting the caller through to the member's phone.

config-api and call-control run under granian on a real port in this loop;
fssim's mod_xml_curl fetches the dialplan and callcenter.conf from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Node
from switchyard.fssim.callcenter import of
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually
from tests.conftest import served_stack

DOMAIN = "127.0.0.1"  # fssim registers users in its node's IPv4 domain
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest_asyncio.fixture
async def stack(
    settings: Settings, api_token: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Node]]:
    settings = msgspec.structs.replace(settings, sip_domain=DOMAIN, timezone="UTC")
    async with served_stack(settings, api_token, [config_api, call_control]) as served:
        yield served.api, served.node


async def _create(api: httpx.AsyncClient, path: str, body: object) -> Any:
    r = await api.post(path, json=body)
    assert r.status_code == 200, (path, r.text)
    return r.json()["data"]


async def test_a_queue_call_reaches_the_logged_in_member(
    stack: tuple[httpx.AsyncClient, Node],
) -> None:
    api, node = stack
    qid = await _create(api, "/api/callcenter_queues", {"name": "630", "strategy": "top-down"})
    await _create(api, f"/api/callcenter_queues/{qid}/members", {"extn": "1001", "penalty": 1})
    await _create(
        api,
        "/api/routes",
        {"name": "queues", "prefix": "630", "max_length": 3, "context": "context-1",
         "dest_type": "FS_DEST_NUM_QUEUE"},
    )  # fmt: skip
    r = await api.get(f"/api/callcenter_queues/{qid}")
    assert r.status_code == 200, r.text
    assert [m["extn"] for m in r.json()["members"]] == ["1001"], r.text
    await api.get("/api/routes/explain?destNumber=0")  # every write acknowledged is served
    node.register_user("1001", domain=DOMAIN)

    # The member logs in (coocenter): mod_callcenter already knows it from
    # callcenter.conf, so only its status changes.
    r = await api.post(
        "/coocenter-api/queues/agent-login", headers=FORM, content="extension=1001&queue=630"
    )
    assert r.json() == {"status": "success", "message": "login extension success"}, r.text
    cc = of(node.executor)
    agent = cc.agents["1001@default"]
    assert agent.status == "Available"
    assert agent.contact == f"[leg_timeout=20]user/1001@{DOMAIN}"
    tier = cc.tier("630@default", "1001@default")
    assert tier is not None and tier.level == 2  # penalty 1

    caller = node.inject_call("5550001", "630", context="context-1")
    await eventually(lambda: caller.peer is not None or not caller.is_up)
    assert caller.peer is not None, caller.hangup_cause
    assert caller.peer.name == f"sofia/internal/1001@{DOMAIN}"
    v = caller.variables
    assert v["cc_queue"] == "630@default" and v["cc_cause"] == "answered"
    assert int(v["cc_queue_answered_epoch"]) >= int(v["cc_queue_joined_epoch"])
    fetched = [r for r in node.xml_curl_requests if r.get("key_value") == "callcenter.conf"]
    assert fetched, "callcenter.conf came from config-api's /fs/xml"

    r = await api.get("/coocenter-api/queues/queue-info")
    assert r.json()["data"] == {"630": [{"name": "sip/1001", "paused": "0", "penalty": "1"}]}
    node.hangup(caller)
    await asyncio.wait_for(caller.hungup.wait(), 5)


async def test_member_changes_reach_a_running_mod_callcenter(
    stack: tuple[httpx.AsyncClient, Node],
) -> None:
    api, node = stack
    qid = await _create(api, "/api/callcenter_queues", {"name": "631"})
    first = await _create(api, f"/api/callcenter_queues/{qid}/members", {"extn": "1001"})
    # The notice of each write makes call-control reload the queue, its agents
    # and tiers on the node (mod_callcenter reads callcenter.conf when told to).
    cc = of(node.executor)
    await eventually(lambda: cc.tier("631@default", "1001@default") is not None)
    assert (await node.api("callcenter_config queue count")) == "1\n"

    # Added and removed members reach it through call-control's notice handling.
    await _create(api, f"/api/callcenter_queues/{qid}/members", {"extn": "1002", "penalty": 2})
    await eventually(lambda: cc.tier("631@default", "1002@default") is not None)
    tier = cc.tier("631@default", "1002@default")
    assert tier is not None and tier.level == 3
    assert cc.agents["1002@default"].contact == f"[leg_timeout=20]user/1002@{DOMAIN}"
    r = await api.delete(f"/api/callcenter_queues/{qid}/members/{first}")
    assert r.status_code == 200, r.text
    await eventually(lambda: cc.tier("631@default", "1001@default") is None)


@pytest_asyncio.fixture
async def paused(
    settings: Settings, api_token: str, db: asyncpg.Pool, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[httpx.AsyncClient, Node, asyncpg.Pool]]:
    """After-call work on, for 1 s (or the seconds the test asks for)."""
    settings = msgspec.structs.replace(
        settings,
        sip_domain=DOMAIN,
        timezone="UTC",
        coocenter_pausetime=True,
        coocenter_pause_seconds=getattr(request, "param", 1),
    )
    async with served_stack(settings, api_token, [config_api, call_control]) as served:
        yield served.api, served.node, db


async def _answered_queue_call(api: httpx.AsyncClient, node: Node) -> str:
    """A call into queue 640, answered by member 1001 and hung up: the caller's uuid."""
    qid = await _create(api, "/api/callcenter_queues", {"name": "640"})
    await _create(api, f"/api/callcenter_queues/{qid}/members", {"extn": "1001"})
    await _create(
        api,
        "/api/routes",
        {"name": "queues", "prefix": "640", "max_length": 3, "context": "context-1",
         "dest_type": "FS_DEST_NUM_QUEUE"},
    )  # fmt: skip
    await api.get("/api/routes/explain?destNumber=0")
    node.register_user("1001", domain=DOMAIN)
    r = await api.post(
        "/coocenter-api/queues/agent-login", headers=FORM, content="extension=1001&queue=640"
    )
    assert r.json()["status"] == "success", r.text
    caller = node.inject_call("5550001", "640", context="context-1")
    await eventually(lambda: caller.peer is not None or not caller.is_up)
    assert caller.peer is not None, caller.hangup_cause
    node.hangup(caller)
    return caller.uuid


async def test_after_call_work_pauses_the_agent_and_records_how_long(
    paused: tuple[httpx.AsyncClient, Node, asyncpg.Pool],
) -> None:
    api, node, pool = paused
    call = await _answered_queue_call(api, node)
    agent = of(node.executor).agents["1001@default"]
    await eventually(lambda: agent.status == "On Break")
    # Up to SWITCHYARD_COOCENTER_PAUSE_SECONDS (1 here), then available again.
    await eventually(lambda: agent.status == "Available")
    row = await pool.fetchrow("SELECT * FROM coocenter_pauses WHERE call_uuid = $1", call)
    assert row is not None and row["agent"] == "1001@default" and row["node"] == node.name
    assert row["ended_by"] == "timeout" and row["seconds"] in (1, 2)


@pytest.mark.parametrize("paused", [30], indirect=True)
async def test_an_unpause_ends_after_call_work_early(
    paused: tuple[httpx.AsyncClient, Node, asyncpg.Pool],
) -> None:
    api, node, pool = paused
    call = await _answered_queue_call(api, node)
    agent = of(node.executor).agents["1001@default"]
    await eventually(lambda: agent.status == "On Break")
    r = await api.post(
        "/coocenter-api/queues/agent-pause", headers=FORM, content="queue=640&member=1001&state=off"
    )
    assert r.json()["status"] == "success"

    async def ended() -> asyncpg.Record | None:
        row: asyncpg.Record | None = await pool.fetchrow(
            "SELECT * FROM coocenter_pauses WHERE call_uuid = $1 AND ended_at IS NOT NULL", call
        )
        return row

    for _ in range(100):
        row = await ended()
        if row is not None:
            break
        await asyncio.sleep(0.05)
    # Ended by the unpause, well before its 30 s.
    assert row is not None and row["ended_by"] == "unpause" and row["seconds"] < 30
