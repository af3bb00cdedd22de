"""The ESL client against fssim: FIFO replies, bgapi jobs, timeouts, drops and reconnection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from switchyard.call_control.esl import (
    AuthFailed,
    CommandTimeout,
    ConnectionLost,
    EslClient,
    EslConnection,
    EslEvent,
)
from switchyard.fssim import Behaviour, Node

T = 5.0


class Owner:
    """What call-control would be: it records events and (re)connections, in order."""

    def __init__(self) -> None:
        self.log: list[object] = []
        self.events: list[EslEvent] = []
        self.changed = asyncio.Event()
        self.reconciled: list[dict[str, object]] = []

    def on_event(self, e: EslEvent) -> None:
        self.events.append(e)
        self.log.append(e.name)
        self.changed.set()

    async def on_connect(self, client: EslClient, first: bool) -> None:
        self.log.append(("connected", first))
        # What call-control does after a reconnect: reconcile with FreeSWITCH's view.
        self.reconciled.append(json.loads(await client.api("show channels as json")))
        self.changed.set()

    async def wait_for(self, pred: object, timeout: float = T) -> None:
        async def loop() -> None:
            while not pred():  # type: ignore[operator]
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)


@pytest_asyncio.fixture
async def owner_client(node: Node) -> AsyncIterator[tuple[Owner, EslClient]]:
    owner = Owner()
    client = EslClient(
        "127.0.0.1",
        node.port,
        "ClueCon",
        on_event=owner.on_event,
        on_connect=owner.on_connect,
        events=("CHANNEL_CREATE", "CHANNEL_HANGUP"),
        command_timeout=T,
        backoff_initial=0.02,
        backoff_max=0.2,
    )
    await client.start(wait=T)
    yield owner, client
    await client.close()


async def _until(pred: object, timeout: float = T) -> None:
    async def loop() -> None:
        # The simulator's channel table has no change notification to await.
        while not pred():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    await asyncio.wait_for(loop(), timeout)


async def _park(client: EslClient, **vars: str) -> str:
    prefix = "{" + ",".join(f"{k}={v}" for k, v in vars.items()) + "}" if vars else ""
    out = await client.api(f"originate {prefix}loopback/9999 &park")
    assert out.startswith("+OK "), out
    return out[4:].strip()


async def test_concurrent_api_and_bgapi_each_get_their_own_answer(
    owner_client: tuple[Owner, EslClient],
) -> None:
    _, client = owner_client
    uuids = [await _park(client, mark=f"m{i}") for i in range(5)]

    async def ask(i: int) -> tuple[str, str]:
        u = uuids[i % 5]
        if i % 2:
            return u, await client.bgapi(f"uuid_getvar {u} mark")
        return u, await client.api(f"uuid_getvar {u} mark")

    results = await asyncio.gather(*(ask(i) for i in range(40)))
    assert [r for _, r in results] == [f"m{i % 5}" for i in range(40)]


async def test_a_timed_out_api_does_not_shift_later_replies(
    node: Node, owner_client: tuple[Owner, EslClient]
) -> None:
    _, client = owner_client
    node.register_user("1000", behaviour=Behaviour(ring_seconds=0.3))
    with pytest.raises(CommandTimeout):
        await client.api("originate user/1000 &park", timeout=0.05)
    # The late "+OK <uuid>" belongs to the timed-out call, not to this one.
    assert await client.api("uuid_exists 00000000-0000-0000-0000-000000000000") == "false"
    assert await client.bgapi("uuid_exists 00000000-0000-0000-0000-000000000000") == "false"


async def test_a_drop_fails_every_pending_call_at_once_then_everything_comes_back(
    node: Node, owner_client: tuple[Owner, EslClient]
) -> None:
    owner, client = owner_client
    # The owner's reconcile reads show channels at once: this test is about the
    # client, not about the table's lag (call-control's agent waits it out).
    node.show_channels_lag = False
    await client.add_filter("Event-Name", "CHANNEL_CREATE")
    node.register_user("1001", behaviour=Behaviour(mode="silent"))
    blocked_api = asyncio.create_task(client.api("originate user/1001 &park", timeout=30))
    blocked_job = asyncio.create_task(client.bgapi("originate user/1001 &park", timeout=30))
    # The blocking api holds this connection's events back; watch the node instead.
    await _until(lambda: len(node.channels) >= 1)
    await node.drop_connections()
    for task in (blocked_api, blocked_job):
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(task, 2)
    # Back by itself; same events and filters; the owner was told and reconciled.
    await owner.wait_for(lambda: ("connected", False) in owner.log)
    await client.wait_connected(T)
    assert owner.reconciled[-1]["row_count"] >= 1  # the silent legs are still ringing
    before = len(owner.events)
    a_leg = await _park(client)
    await owner.wait_for(lambda: any(e.unique_id == a_leg for e in owner.events[before:]))
    new = [e.name for e in owner.events[before:]]
    assert "CHANNEL_CREATE" in new
    assert "CHANNEL_HANGUP" not in new, "the filter was replayed: only CHANNEL_CREATE passes"
    assert await client.bgapi("uuid_exists x") == "false", "BACKGROUND_JOB still passes the filter"


async def test_repeated_drops_mid_command_never_hang(
    node: Node, owner_client: tuple[Owner, EslClient]
) -> None:
    _, client = owner_client
    node.register_user("1002", behaviour=Behaviour(mode="silent"))
    for _ in range(5):
        await client.wait_connected(T)
        calls = [
            asyncio.create_task(client.api("originate user/1002 &park", timeout=30)),
            asyncio.create_task(client.bgapi("originate user/1002 &park", timeout=30)),
            asyncio.create_task(client.api("status")),
        ]
        await asyncio.sleep(0.01)
        await node.drop_connections()
        _, pending = await asyncio.wait(calls, timeout=2)
        assert not pending, "a call hung after the drop"
    await client.wait_connected(T)
    assert client.connections == 6
    assert (await client.api("uuid_exists x")) == "false"


async def test_calls_fail_fast_while_disconnected_and_a_restart_is_reconciled(
    node: Node, owner_client: tuple[Owner, EslClient]
) -> None:
    owner, client = owner_client
    await _park(client)
    old_core = node.core_uuid
    restart = asyncio.create_task(node.restart(down_seconds=0.3))
    await asyncio.sleep(0.1)
    with pytest.raises(ConnectionLost):
        await asyncio.wait_for(client.api("status"), 1)
    await restart
    await owner.wait_for(lambda: owner.log.count(("connected", False)) == 1)
    assert node.core_uuid != old_core
    assert owner.reconciled[-1] == {"row_count": 0}  # the restart took the channels away
    a_leg = await _park(client)
    await owner.wait_for(lambda: any(e.unique_id == a_leg for e in owner.events))
    assert next(e for e in owner.events if e.unique_id == a_leg).core_uuid == node.core_uuid


async def test_events_reach_the_owner_in_the_order_they_were_sent(node: Node) -> None:
    seen: list[EslEvent] = []
    done = asyncio.Event()

    async def slow_handler(e: EslEvent) -> None:
        if e.name == "CUSTOM":
            await asyncio.sleep(0)  # a handler that yields must not reorder anything
            seen.append(e)
            if e.get("N") == "299":
                done.set()

    client = EslClient(
        "127.0.0.1", node.port, "ClueCon", on_event=slow_handler, subclasses=("test::order",)
    )
    await client.start(wait=T)
    try:
        for i in range(300):
            e = node.event("CUSTOM", "t.c", "t", 1, subclass="test::order")
            e.add("N", str(i))
            node.fire(e)
        await asyncio.wait_for(done.wait(), T)
        assert [e.get("N") for e in seen] == [str(i) for i in range(300)]
        assert [e.sequence for e in seen] == sorted(e.sequence for e in seen)
    finally:
        await client.close()


async def test_a_wrong_password_is_reported_and_retried_not_hidden(node: Node) -> None:
    with pytest.raises(AuthFailed):
        await EslConnection.open("127.0.0.1", node.port, "wrong", lambda e: None, timeout=T)
    client = EslClient("127.0.0.1", node.port, "wrong", backoff_initial=0.01, backoff_max=0.05)
    await client.start()
    try:
        with pytest.raises(TimeoutError):
            await client.wait_connected(0.3)
        with pytest.raises(ConnectionLost):
            await client.api("status")
    finally:
        await client.close()


async def test_sendmsg_execute_and_hangup(owner_client: tuple[Owner, EslClient]) -> None:
    owner, client = owner_client
    await client.subscribe("CHANNEL_EXECUTE_COMPLETE")
    a_leg = await _park(client)
    await client.execute(a_leg, "playback", "silence_stream://20", event_uuid="app-1")
    await owner.wait_for(
        lambda: any(
            e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application-UUID") == "app-1"
            for e in owner.events
        )
    )
    done = next(e for e in owner.events if e.get("Application-UUID") == "app-1")
    assert done.get("Application") == "playback"
    assert done.get("Application-Response") == "FILE PLAYED"
    await client.hangup(a_leg, "USER_BUSY")
    await owner.wait_for(
        lambda: any(e.name == "CHANNEL_HANGUP" and e.unique_id == a_leg for e in owner.events)
    )
    hangup = next(e for e in owner.events if e.name == "CHANNEL_HANGUP" and e.unique_id == a_leg)
    assert hangup.get("Hangup-Cause") == "USER_BUSY"
    with pytest.raises(ValueError):
        await client.execute(f"{a_leg}\nevil: header", "park")  # no header injection


async def test_session_commands_and_exit(owner_client: tuple[Owner, EslClient]) -> None:
    _, client = owner_client
    assert (await client.linger()).text == "-ERR not controlling a session"
    assert (await client.nolinger()).text == "-ERR not controlling a session"
    await client.unsubscribe("CHANNEL_HANGUP")
    assert (await client.exit()).text == "+OK bye"


async def test_caught_up_waits_for_the_handler_to_take_every_event_read_so_far(
    node: Node,
) -> None:
    handled: list[str] = []

    async def slow_handler(e: EslEvent) -> None:
        await asyncio.sleep(0.02)  # an owner that lags behind the reader
        if e.name == "CHANNEL_CREATE":
            handled.append(e.unique_id)

    client = EslClient(
        "127.0.0.1", node.port, "ClueCon", on_event=slow_handler, events=("CHANNEL_CREATE",)
    )
    await client.start(wait=T)
    try:
        # Its CHANNEL_CREATE is read before the BACKGROUND_JOB that answers.
        out = await client.bgapi("originate loopback/9999 &park")
        assert out.startswith("+OK "), out
        uuid = out[4:].strip()
        async with asyncio.timeout(T):
            await client.caught_up()
        assert uuid in handled
    finally:
        await client.close()
