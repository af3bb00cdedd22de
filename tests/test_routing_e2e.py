"""Calls through the FreeSWITCH simulator, routed by config-api over real HTTP.

config-api is served on a real port in this test's event loop (granian's
embedded server), fssim's mod_xml_curl client POSTs its dialplan fetches
there, and the configuration is written through the REST API first. What a
caller would notice is asserted: where the call ends up bridged, that it is
rejected, that the time of day changes where it goes, that the IVR's
greeting plays and a digit keyed in its menu takes the call where the menu
says (fssim's ``ivr`` fetches ``ivr.conf`` from /fs/xml as FreeSWITCH does).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
import pytest_asyncio

from switchyard.config_api.service import service
from switchyard.fssim import Node
from switchyard.fssim.behaviour import Behaviour
from switchyard.fssim.channel import Channel
from switchyard.shared.settings import Settings
from tests.conftest import served_stack

DOMAIN = "127.0.0.1"  # fssim registers users in its node's IPv4 domain
WAIT = 5.0


@dataclass
class Stack:
    api: httpx.AsyncClient
    node: Node
    xml_url: str

    async def create(self, path: str, body: Any) -> Any:
        r = await self.api.post(path, json=body)
        assert r.status_code == 200, (path, r.text)
        return r.json()["data"]

    async def settle(self) -> None:
        # The API's routing answers wait for every acknowledged write;
        # /fs/xml (what FreeSWITCH asks) serves it within a second anyway.
        r = await self.api.get("/api/routes/explain?destNumber=0")
        assert r.status_code == 200


async def until(check: Callable[[], bool], what: str) -> None:
    # fssim exposes no Python-side event for "bridged" or "played": poll its state.
    for _ in range(int(WAIT / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def bridged_to(ch: Channel) -> str:
    """Where the call is bridged: ``gateway <name> <number>`` or the B leg's channel name."""
    await until(lambda: ch.peer is not None or not ch.is_up, "the bridge")
    peer = ch.peer
    assert peer is not None, f"call ended with {ch.hangup_cause} instead of bridging"
    if gw := peer.variables.get("sip_gateway_name"):
        return f"gateway {gw} {peer.profile.destination_number}"
    return peer.name


@pytest_asyncio.fixture
async def stack(
    settings: Settings, api_token: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    settings = msgspec.structs.replace(settings, sip_domain=DOMAIN, timezone="UTC")
    async with served_stack(settings, api_token, [service], node_name="fs-e2e") as served:
        s = Stack(served.api, served.node, f"{served.base_url}/fs/xml")
        # Calls from outside (trunks, SIP peers) arrive in "public".
        await s.create("/api/contexts", {"name": "Public", "key": "public"})
        yield s


async def test_routed_numbers_end_bridged_to_their_destination(stack: Stack) -> None:
    stack.node.set_gateway("carrier")
    gid = await stack.create("/api/gateways", {"name": "carrier", "realm": "sip.carrier.net"})
    await stack.create(
        "/api/routes",
        {"name": "out", "prefix": "0", "max_length": 12, "context": "context-1",
         "dest_type": "FS_DEST_GATEWAY", "dest_uuid": str(gid), "dnc": "-0+86"},
    )  # fmt: skip
    await stack.create(
        "/api/routes",
        {"name": "local", "prefix": "1", "max_length": 4, "context": "context-1",
         "dest_type": "FS_DEST_USER"},
    )  # fmt: skip
    await stack.settle()
    stack.node.register_user("1001", domain=DOMAIN)

    out = stack.node.inject_call("1000", "0201234", context="context-1")
    assert await bridged_to(out) == "gateway carrier 86201234"
    local = stack.node.inject_call("1000", "1001", context="context-1")
    assert await bridged_to(local) == f"sofia/internal/1001@{DOMAIN}"
    # No route in this context: FreeSWITCH gets not-found and its static
    # dialplan has nothing either.
    lost = stack.node.inject_call("1000", "0201234", context="public")
    await asyncio.wait_for(lost.hungup.wait(), WAIT)
    assert lost.hangup_cause == "NO_ROUTE_DESTINATION"


async def test_each_gateway_sends_the_caller_number_its_sdnc_makes(stack: Stack) -> None:
    stack.node.set_gateway("carrier")
    gid = await stack.create(
        "/api/gateways", {"name": "carrier", "realm": "sip.carrier.net", "sdnc": "+86"}
    )
    await stack.create(
        "/api/routes",
        {"name": "out", "prefix": "0", "max_length": 12, "context": "context-1",
         "dest_type": "FS_DEST_GATEWAY", "dest_uuid": str(gid)},
    )  # fmt: skip
    await stack.settle()

    out = stack.node.inject_call("1000", "0201234", context="context-1")
    assert await bridged_to(out) == "gateway carrier 0201234"
    assert out.peer is not None and out.peer.profile.caller_id_number == "861000"


async def test_an_extension_calls_only_routes_within_its_call_authority(stack: Stack) -> None:
    stack.node.set_gateway("carrier")
    gid = await stack.create("/api/gateways", {"name": "carrier", "realm": "sip.carrier.net"})
    await stack.create(
        "/api/routes",
        {"name": "domestic", "prefix": "0", "max_length": 12, "context": "context-1",
         "dest_type": "FS_DEST_GATEWAY", "dest_uuid": str(gid), "route_type": "3"},
    )  # fmt: skip
    ext = await stack.create("/api/extensions", {"extn": "1000", "call_authority": "2"})
    await stack.settle()

    local_only = stack.node.inject_call("1000", "0201234", context="context-1")
    await asyncio.wait_for(local_only.hungup.wait(), WAIT)
    assert local_only.hangup_cause == "CALL_REJECTED" and local_only.peer is None
    r = await stack.api.put(f"/api/extensions/{ext}", json={"call_authority": 3})
    assert r.status_code == 200
    await stack.settle()
    allowed = stack.node.inject_call("1000", "0201234", context="context-1")
    assert await bridged_to(allowed) == "gateway carrier 0201234"


async def test_a_blacklisted_caller_is_rejected(stack: Stack) -> None:
    bid = await stack.create(
        "/api/blacklists", {"name": "spam", "list_type": "0", "limit_user_type": "0"}
    )
    await stack.create(f"/api/blacklists/{bid}/lists", {"k": "robocaller", "v": "0666"})
    await stack.create(
        "/api/routes",
        {"name": "in", "prefix": "1", "max_length": 4, "context": "public",
         "dest_type": "FS_DEST_USER", "blacklist": str(bid)},
    )  # fmt: skip
    await stack.settle()
    stack.node.register_user("1001", domain=DOMAIN)

    spam = stack.node.inject_call("06661234567", "1001", context="public")
    await asyncio.wait_for(spam.hungup.wait(), WAIT)
    assert spam.hangup_cause == "CALL_REJECTED" and spam.peer is None
    fine = stack.node.inject_call("02012345678", "1001", context="public")
    assert await bridged_to(fine) == f"sofia/internal/1001@{DOMAIN}"


async def test_a_time_rule_switches_the_destination(stack: Stack) -> None:
    route = await stack.create(
        "/api/routes",
        {"name": "desk", "prefix": "8000", "max_length": 4, "context": "public",
         "dest_type": "FS_DEST_USER", "dnc": "@1001"},
    )  # fmt: skip
    await stack.settle()
    stack.node.register_user("1001", domain=DOMAIN)
    stack.node.register_user("1002", domain=DOMAIN)
    day = stack.node.inject_call("02000000000", "8000", context="public")
    assert await bridged_to(day) == f"sofia/internal/1001@{DOMAIN}"

    # A daily window around the present moment: active now, whatever the clock says.
    start = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y%m%dT%H%M%S")
    r = await stack.api.post(
        "/api/time_recurrence",
        json=[{"route_id": str(route["id"]), "dest_type": "FS_DEST_SYSTEM",
               "body": "bridge user/1002@" + DOMAIN, "time_recurrence": f"{start}|PT2H|daily"}],
    )  # fmt: skip
    assert r.status_code == 200, r.text
    await stack.settle()
    night = stack.node.inject_call("02000000000", "8000", context="public")
    assert await bridged_to(night) == f"sofia/internal/1002@{DOMAIN}"
    why = await stack.api.get(
        "/api/routes/explain?destNumber=8000&context=public&callerNumber=02000000000"
    )
    assert why.json()["data"]["decision"]["time_rule_id"] is not None


async def _ivr_call(stack: Stack) -> Channel:
    """A caller reaching a front-desk menu (1: extension 1001, 2: number 8000 in public)."""
    greeting = '{"media_id":3,"media_path":"/var/media/welcome-e2e.wav","media_type":"UPLOAD"}'
    ivr = await stack.create("/api/ivrs", {"name": "front-desk", "greet_long": greeting})
    contexts = (await stack.api.get("/api/contexts")).json()["data"]
    public = next(c for c in contexts if c["key"] == "public")
    await stack.create(
        f"/api/ivrs/{ivr}/actions", {"digits": "1", "action": "IVR_EXTENSION", "args": "1001"}
    )
    await stack.create(
        f"/api/ivrs/{ivr}/actions",
        {"digits": "2", "action": "IVR_ROUTE", "args": str(public["id"]), "body": "8000"},
    )  # fmt: skip
    await stack.create(
        "/api/routes",
        {"name": "menu", "prefix": "6000", "max_length": 4, "context": "public",
         "dest_type": "FS_DEST_IVR", "dest_uuid": str(ivr)},
    )  # fmt: skip
    await stack.create(
        "/api/routes",
        {"name": "desk", "prefix": "8000", "max_length": 4, "context": "public",
         "dest_type": "FS_DEST_USER", "dnc": "@1002"},
    )  # fmt: skip
    await stack.settle()
    stack.node.register_user("1001", domain=DOMAIN)
    stack.node.register_user("1002", domain=DOMAIN)
    call = stack.node.inject_call("02000000000", "6000", context="public")
    await until(lambda: bool(call.played) or not call.is_up, "the greeting")
    return call


async def test_an_ivr_greets_the_caller_and_a_digit_reaches_the_extension(
    stack: Stack,
) -> None:
    call = await _ivr_call(stack)
    # FreeSWITCH asked config-api for the menu by name, as mod_dptools does.
    fetch = next(r for r in stack.node.xml_curl_requests if r["section"] == "configuration")
    assert (fetch["key_value"], fetch["Menu-Name"]) == ("ivr.conf", "front-desk")
    assert call.played == ["/var/media/welcome-e2e.wav"]
    assert call.answer_state == "answered"
    assert stack.node.send_dtmf(call.uuid, "1")
    assert await bridged_to(call) == f"sofia/internal/1001@{DOMAIN}"


async def test_an_ivr_digit_transfers_the_call_to_a_routed_number(stack: Stack) -> None:
    call = await _ivr_call(stack)
    stack.node.send_dtmf(call.uuid, "2")
    # menu-exec-app transfer: the call is routed again, by config-api, as 8000.
    assert await bridged_to(call) == f"sofia/internal/1002@{DOMAIN}"
    assert call.profile.destination_number == "8000"


async def _features(stack: Stack) -> None:
    """Extensions 1000 and 1001 in context-1, a route to them, and the
    feature codes a phone dials to set and clear forwarding and DND."""
    await stack.create(
        "/api/routes",
        {"name": "local", "prefix": "1", "max_length": 4, "context": "context-1",
         "dest_type": "FS_DEST_USER"},
    )  # fmt: skip
    await stack.create("/api/extensions", {"extn": "1000", "password": "p", "context": "context-1"})
    codes = {
        "*72": "FS_DEST_FUNC_CALL_FORWARDING",
        "*73": "FS_DEST_FUNC_CALL_FORWARDING_CANCEL",
        "*90": "FS_DEST_FUNC_CALL_FORWARD_BUSY",
        "*78": "FS_DEST_FUNC_CALL_DND",
        "*79": "FS_DEST_FUNC_CALL_DND_CANCEL",
    }
    for code, kind in codes.items():
        await stack.create("/api/func_code", {"func_code": code, "func_type": kind})
    await stack.settle()
    stack.node.register_user("1000", domain=DOMAIN)
    stack.node.register_user("1001", domain=DOMAIN)


async def _dial_code(stack: Stack, number: str) -> None:
    """Extension 1000 dials a feature code: confirmed, then hung up."""
    call = stack.node.inject_call("1000", number, context="context-1")
    await until(lambda: not call.is_up, f"{number} to finish")
    assert call.hangup_cause == "NORMAL_CLEARING" and call.answer_state == "hangup"


async def test_forwarding_set_by_feature_code_sends_calls_to_the_target(stack: Stack) -> None:
    await _features(stack)
    await _dial_code(stack, "*721001")
    assert stack.node.db[("cf_all", "1000")] == "1001"
    forwarded = stack.node.inject_call("02000000000", "1000", context="context-1")
    assert await bridged_to(forwarded) == f"sofia/internal/1001@{DOMAIN}"
    # The target was routed afresh, as FreeSWITCH's transfer does.
    assert forwarded.profile.destination_number == "1001"

    await _dial_code(stack, "*73")
    assert ("cf_all", "1000") not in stack.node.db
    again = stack.node.inject_call("02000000000", "1000", context="context-1")
    assert await bridged_to(again) == f"sofia/internal/1000@{DOMAIN}"


async def test_dnd_rejects_calls_until_cancelled(stack: Stack) -> None:
    await _features(stack)
    await _dial_code(stack, "*78")
    rejected = stack.node.inject_call("02000000000", "1000", context="context-1")
    await until(lambda: not rejected.is_up, "the rejection")
    assert rejected.hangup_cause == "USER_BUSY" and rejected.peer is None
    await _dial_code(stack, "*79")
    rings = stack.node.inject_call("02000000000", "1000", context="context-1")
    assert await bridged_to(rings) == f"sofia/internal/1000@{DOMAIN}"


async def test_forward_on_busy_only_when_the_extension_is_busy(stack: Stack) -> None:
    await _features(stack)
    await _dial_code(stack, "*901001")
    # Answered: the forward is not used.
    first = stack.node.inject_call("02000000000", "1000", context="context-1")
    assert await bridged_to(first) == f"sofia/internal/1000@{DOMAIN}"
    # Busy: the call goes on to 1001.
    stack.node.register_user("1000", domain=DOMAIN, behaviour=Behaviour(mode="reject"))
    busy = stack.node.inject_call("02000000000", "1000", context="context-1")
    assert await bridged_to(busy) == f"sofia/internal/1001@{DOMAIN}"
    # Another failure (not registered) is not forwarded: its cause ends the call.
    stack.node.unregister_user("1000")
    gone = stack.node.inject_call("02000000000", "1000", context="context-1")
    await until(lambda: not gone.is_up, "the failure")
    assert gone.hangup_cause == "USER_NOT_REGISTERED" and gone.peer is None
