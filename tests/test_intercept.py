"""Picking up a call that rings elsewhere: POST /api/channels with app=intercept.

The whole stack runs in this test's loop: config-api and call-control on a
real port (granian), fssim's mod_xml_curl fetching its dialplan from
config-api's /fs/xml, call-control driving fssim over ESL. A caller rings
extension 1009, who never answers; 1002 is called with
``intercept <uuid>`` and takes the call over. As switch_ivr_intercept_session
does, the caller ends up bridged to the intercepting leg and the leg that
was ringing is hung up with PICKED_OFF.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import msgspec
import pytest
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Behaviour, Node
from switchyard.fssim.channel import Channel
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually
from tests.conftest import served_stack

DOMAIN = "127.0.0.1"  # fssim registers users in its node's IPv4 domain
WAIT = 10.0


@dataclass
class Stack:
    api: httpx.AsyncClient
    node: Node


def _phones(node: Node) -> None:
    node.register_user("1002")  # the colleague who picks the call up
    node.register_user("1009", behaviour=Behaviour(mode="silent"))  # rings, nobody answers


@pytest_asyncio.fixture
async def stack(
    settings: Settings, api_token: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    settings = msgspec.structs.replace(settings, sip_domain=DOMAIN)
    async with served_stack(
        settings, api_token, [config_api, call_control], node_setup=_phones
    ) as served:
        api = served.api
        for path, body in (
            ("/api/contexts", {"name": "Public", "key": "public"}),
            (
                "/api/routes",
                {"name": "desk", "prefix": "1009", "max_length": 4,
                 "context": "public", "dest_type": "FS_DEST_USER"},
            ),
        ):  # fmt: skip
            r = await api.post(path, json=body)
            assert r.status_code == 200, r.text
        # Routing answers wait for every acknowledged write.
        assert (await api.get("/api/routes/explain?destNumber=0")).status_code == 200
        yield Stack(api, served.node)


async def _ringing_call(stack: Stack) -> tuple[Channel, Channel]:
    """An outside caller dialling 1009; (the caller's leg, the leg ringing at 1009)."""
    caller = stack.node.inject_call("02000000000", "1009", context="public")

    def ringing() -> Channel | None:
        return next(
            (
                c
                for c in stack.node.channels.values()
                if c.originator is caller and c.callstate == "RINGING"
            ),
            None,
        )

    return caller, await eventually(ringing, WAIT)


async def _intercept(stack: Stack, args: str) -> str:
    """Call 1002 and, once answered, run ``intercept <args>`` there; the new leg's uuid."""
    r = await stack.api.post(
        "/api/channels", json={"destNumber": "1002", "app": "intercept", "args": args}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"] == "ok", body
    return str(body["uuid"])


async def _picker(stack: Stack, args: str) -> Channel:
    leg = stack.node.find(await _intercept(stack, args))
    assert leg is not None and leg.name == f"sofia/internal/1002@{DOMAIN}"
    return leg


async def _assert_taken_over(caller: Channel, picker: Channel, ringing: Channel) -> None:
    await eventually(lambda: caller.peer is picker and not ringing.is_up, WAIT)
    assert picker.peer is caller
    assert ringing.hangup_cause == "PICKED_OFF"
    assert caller.is_up and caller.answer_state == "answered"
    # The caller left its own bridge attempt: it did not go on to hang up.
    assert caller.hangup_cause == ""


async def test_intercept_takes_over_a_call_ringing_elsewhere(stack: Stack) -> None:
    caller, ringing = await _ringing_call(stack)
    picker = await _picker(stack, caller.uuid)
    await _assert_taken_over(caller, picker, ringing)
    assert stack.node.find(ringing.uuid) is None

    # The two are one call now: when the colleague hangs up, the caller is gone too.
    r = await stack.api.delete(f"/api/channels/{picker.uuid}")
    assert r.status_code == 200, r.text
    await asyncio.wait_for(caller.hungup.wait(), WAIT)
    assert caller.hangup_cause == "NORMAL_CLEARING"


async def test_intercept_bleg_names_the_ringing_leg(stack: Stack) -> None:
    caller, ringing = await _ringing_call(stack)
    picker = await _picker(stack, f"-bleg {ringing.uuid}")
    await _assert_taken_over(caller, picker, ringing)


async def test_intercepting_an_unknown_call_changes_nothing(stack: Stack) -> None:
    caller, ringing = await _ringing_call(stack)
    picker = await _intercept(stack, "00000000-0000-4000-8000-000000000000")
    # The app found nothing to take over and the leg ended; the other call rings on.
    await eventually(lambda: stack.node.find(picker) is None, WAIT)
    assert ringing.is_up and ringing.callstate == "RINGING"
    assert caller.is_up and caller.peer is None
