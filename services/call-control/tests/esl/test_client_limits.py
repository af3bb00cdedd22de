"""The ESL client's limits: reconnect backoff, rejected filters, its own filter, a bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from switchyard.call_control.esl import CommandError, EslClient, EslEvent
from switchyard.fssim import Node
from switchyard.fssim.esl.session import EslSession
from switchyard.fssim.esl.wire import Packet

T = 5.0


class Sleeps:
    """The backoff sleep, recorded instead of slept; parks the client after ``stop_after``."""

    def __init__(self, stop_after: int = 1_000) -> None:
        self.delays: list[float] = []
        self.stop_after = stop_after
        self.enough = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if len(self.delays) >= self.stop_after:
            self.enough.set()
            await asyncio.Event().wait()  # until the client is closed
        await asyncio.sleep(0)


def _in_step(delay: float, attempt: int, initial: float) -> bool:
    # "Equal jitter": half of the step fixed, half random.
    step = initial * 2**attempt
    return step / 2 <= delay <= step


async def _until(pred: Callable[[], bool], timeout: float = T) -> None:
    async with asyncio.timeout(timeout):
        while not pred():  # noqa: ASYNC110 - nothing to await for these counters
            await asyncio.sleep(0.005)


def _server_filters(node: Node) -> list[list[tuple[str, str]]]:
    return [s.filters for s in node.sessions if s.authed]


@pytest.mark.parametrize("server", ["drops us", "rejects the subscription"])
async def test_a_server_that_fails_us_right_after_auth_gets_a_growing_backoff(
    node: Node, monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    async def drop(self: EslSession, rest: str, p: Packet) -> None:
        self.abort()

    async def reject(self: EslSession, rest: str, p: Packet) -> None:
        self.reply("-ERR no keywords supplied")

    monkeypatch.setattr(EslSession, "_cmd_event", drop if server == "drops us" else reject)
    sleeps = Sleeps(stop_after=6)
    now = [0.0]

    def clock() -> float:
        now[0] += 100.0  # every connection "lived" long: only the failed subscription counts
        return now[0]

    client = EslClient(
        "127.0.0.1",
        node.port,
        "ClueCon",
        backoff_initial=1.0,
        backoff_max=1_000.0,
        sleep=sleeps,
        clock=clock,
    )
    await client.start()
    try:
        async with asyncio.timeout(T):
            await sleeps.enough.wait()
    finally:
        await client.close()
    # Each connection that opened and failed was followed by a sleep (it used to
    # reconnect at once, hundreds of times a second), and the sleeps grow.
    assert 1 <= client.connections <= len(sleeps.delays) == 6
    for attempt, delay in enumerate(sleeps.delays):
        assert _in_step(delay, attempt, 1.0), (attempt, sleeps.delays)


async def test_the_backoff_restarts_only_after_a_connection_that_lasted(node: Node) -> None:
    sleeps = Sleeps()
    now = [0.0]
    client = EslClient(
        "127.0.0.1",
        node.port,
        "ClueCon",
        backoff_initial=1.0,
        backoff_max=1_000.0,
        backoff_reset_after=5.0,
        sleep=sleeps,
        clock=lambda: now[0],
    )
    await client.start(wait=T)
    try:
        for n in range(2, 5):  # three drops in quick succession (the clock stands still)
            await node.drop_connections()
            await _until(lambda n=n: client.connections == n and client.connected)
            await client.wait_connected(T)
        now[0] += 5.0  # connection 4 has been up long enough
        await node.drop_connections()
        await _until(lambda: client.connections == 5 and client.connected)
    finally:
        await client.close()
    assert len(sleeps.delays) == 4, "a sleep before every reconnection"
    assert [_in_step(d, a, 1.0) for d, a in zip(sleeps.delays, (0, 1, 2, 0), strict=True)] == [
        True
    ] * 4, sleeps.delays


async def test_a_rejected_filter_or_subscription_raises_and_is_not_replayed(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[EslEvent] = []
    client = EslClient(
        "127.0.0.1",
        node.port,
        "ClueCon",
        on_event=events.append,
        events=("CHANNEL_CREATE",),
        backoff_initial=0.01,
        backoff_max=0.05,
    )
    await client.start(wait=T)
    try:
        # The audit's probe: FreeSWITCH answers this with -ERR invalid syntax; it
        # used to be kept and replayed on every reconnection, which then failed.
        with pytest.raises(ValueError):
            await client.add_filter("Unique-ID", "")
        assert client.filters == ()
        assert _server_filters(node) == [[]]

        original_filter, original_event = EslSession._cmd_filter, EslSession._cmd_event

        async def picky_filter(self: EslSession, rest: str, p: Packet) -> None:
            if "reject-me" in rest:
                self.reply("-ERR invalid syntax")
            else:
                await original_filter(self, rest, p)

        async def picky_event(self: EslSession, rest: str, p: Packet) -> None:
            if "NOT_AN_EVENT" in rest:
                self.reply("-ERR no keywords supplied")
            else:
                await original_event(self, rest, p)

        monkeypatch.setattr(EslSession, "_cmd_filter", picky_filter)
        monkeypatch.setattr(EslSession, "_cmd_event", picky_event)
        with pytest.raises(CommandError):
            await client.add_filter("Caller-Caller-ID-Name", "reject-me")
        with pytest.raises(CommandError):
            await client.subscribe("NOT_AN_EVENT")
        # Not kept, and the BACKGROUND_JOB filter it brought is gone from the server too.
        assert client.filters == ()
        assert _server_filters(node) == [[]]

        await node.drop_connections()
        await _until(lambda: client.connections == 2 and client.connected)
        await client.wait_connected(T)  # the re-subscription succeeded
        assert _server_filters(node) == [[]]
        out = await client.api("originate loopback/9999 &park")
        uuid = out.removeprefix("+OK ").strip()
        await _until(lambda: any(e.unique_id == uuid for e in events))  # unfiltered
    finally:
        await client.close()


async def test_deleting_the_event_name_filters_keeps_bgapi_working(node: Node) -> None:
    events: list[EslEvent] = []
    client = EslClient(
        "127.0.0.1", node.port, "ClueCon", on_event=events.append, events=("CHANNEL_CREATE",)
    )
    await client.start(wait=T)
    try:
        await client.add_filter("Event-Name", "CHANNEL_CREATE")
        await client.add_filter("Unique-ID", "no-such-channel")
        bgjob = ("Event-Name", "BACKGROUND_JOB")
        assert client.filters[0] == bgjob
        await client.delete_filter("Event-Name")
        # The client's own filter stays while another filter is left, here and on the server.
        assert client.filters == (bgjob, ("Unique-ID", "no-such-channel"))
        assert _server_filters(node) == [list(client.filters)]
        assert await client.bgapi("uuid_exists x", timeout=2) == "false"
        # Explicitly too: it is the client's, and bgapi needs it.
        await client.delete_filter("Event-Name", "BACKGROUND_JOB")
        assert client.filters == (bgjob, ("Unique-ID", "no-such-channel"))
        assert await client.bgapi("uuid_exists x", timeout=2) == "false"
        # With the last other filter it goes too: no filter at all, every event passes.
        await client.delete_filter("Unique-ID")
        assert client.filters == ()
        assert _server_filters(node) == [[]]
        out = await client.api("originate loopback/9999 &park")
        uuid = out.removeprefix("+OK ").strip()
        await _until(lambda: any(e.unique_id == uuid for e in events))
        # `all` takes everything, the client's filter included.
        await client.add_filter("Unique-ID", uuid)
        await client.delete_filter("all")
        assert client.filters == ()
        assert _server_filters(node) == [[]]
        assert await client.bgapi("uuid_exists x", timeout=2) == "false"
    finally:
        await client.close()


def _fire(node: Node, n: int, subclass: str, batch: str = "") -> None:
    for i in range(n):
        e = node.event("CUSTOM", "t.c", "t", 1, subclass=subclass)
        e.add("Batch", batch)
        e.add("N", str(i))
        node.fire(e)


async def test_a_slow_owner_stops_the_reader_instead_of_growing_the_queue(node: Node) -> None:
    seen: list[str] = []
    release = asyncio.Event()

    async def slow(e: EslEvent) -> None:
        await release.wait()
        seen.append(e.get("N"))

    client = EslClient(
        "127.0.0.1",
        node.port,
        "ClueCon",
        on_event=slow,
        subclasses=("test::bp",),
        max_queued_events=20,
    )
    await client.start(wait=T)
    try:
        _fire(node, 500, "test::bp")
        await _until(lambda: client.queued >= 20)
        reply = asyncio.create_task(client.api("status"))
        await asyncio.sleep(0.2)  # time enough to read all 500, if the reader were reading
        assert client.queued <= 20
        # The trade-off: the reply is behind the unread events on the socket.
        assert not reply.done()
        release.set()
        async with asyncio.timeout(T):
            assert "UP" in await reply
        await _until(lambda: len(seen) == 500)
        assert seen == [str(i) for i in range(500)], "nothing lost, nothing reordered"
    finally:
        release.set()
        await client.close()


async def test_a_handler_may_call_the_api_while_the_queue_is_full(node: Node) -> None:
    answers: list[str] = []
    seen: list[str] = []
    release = asyncio.Event()

    async def handler(e: EslEvent) -> None:
        batch, n = e.get("Batch"), e.get("N")
        if batch == "a" and n == "0":
            # Its reply is behind 300 events the full queue has no room for.
            answers.append(await client.api("uuid_exists x"))
        if batch == "b":
            await release.wait()
        seen.append(f"{batch}{n}")

    async def on_connect(c: EslClient, first: bool) -> None:
        answers.append(await c.api("uuid_exists y"))

    client = EslClient(
        "127.0.0.1",
        node.port,
        "ClueCon",
        on_event=handler,
        on_connect=on_connect,
        subclasses=("test::bp",),
        max_queued_events=5,
        command_timeout=T,
        backoff_initial=0.01,
        backoff_max=0.05,
    )
    await client.start(wait=T)
    try:
        await _until(lambda: len(answers) == 1)
        _fire(node, 300, "test::bp", "a")
        await _until(lambda: len(seen) == 300)
        assert answers == ["false", "false"]
        # A reconnection, then a full queue: the owner's reconcile (on_connect) gets
        # its reply from behind the new connection's events. (The queue is not full
        # at the drop: a paused reader reads nothing, so it notices a drop only
        # once the owner has made room.)
        _fire(node, 3, "test::bp", "b")
        await _until(lambda: client.queued >= 2)  # b0 in the handler, b1 b2 waiting
        await node.drop_connections()
        await _until(lambda: client.connections == 2 and client.connected)
        await client.wait_connected(T)
        _fire(node, 300, "test::bp", "c")
        await _until(lambda: client.queued >= 5)
        release.set()
        await _until(lambda: len(answers) == 3 and seen[-1:] == ["c299"])
        assert answers[2] == "false"
        assert [s for s in seen if s[0] == "c"] == [f"c{i}" for i in range(300)]
    finally:
        release.set()
        await client.close()
