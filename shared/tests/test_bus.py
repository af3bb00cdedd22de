from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from nats.js.api import KeyValueConfig, StreamConfig
from opentelemetry.sdk.trace import TracerProvider

from switchyard.shared.bus import Bus, BusError
from switchyard.shared.embedded import EmbeddedNats
from switchyard.shared.messages import Pong
from switchyard.shared.subjects import Subjects


class Ask(msgspec.Struct):
    n: int


class Answer(msgspec.Struct):
    doubled: int


async def test_request_and_reply_are_typed(bus: Bus) -> None:
    async def double(ask: Ask) -> Answer:
        return Answer(ask.n * 2)

    await bus.serve(bus.subjects.ping, Ask, double)
    assert await bus.request(bus.subjects.ping, Ask(21), Answer) == Answer(42)


async def test_no_responder_is_a_typed_error_at_once(bus: Bus) -> None:
    with pytest.raises(BusError) as err:
        await bus.request(bus.subjects.node_command("fs1"), Ask(1), Answer, timeout=30)
    # "no_responder", not "timeout": NATS said at once that nobody listens,
    # rather than the request sitting out its 30 s.
    assert err.value.code == "no_responder"


# local: served in-process for this bus's own requests (Bus.serve); the
# answers and errors are the same as through the NATS server.
async def test_a_slow_responder_is_a_typed_timeout(bus: Bus, local: bool) -> None:
    async def slow(ask: Ask) -> Answer:
        await asyncio.sleep(5)
        return Answer(0)

    await bus.serve(bus.subjects.ping, Ask, slow, local=local)
    with pytest.raises(BusError) as err:
        await bus.request(bus.subjects.ping, Ask(1), Answer, timeout=0.2)
    assert err.value.code == "timeout"


async def test_a_slow_request_does_not_hold_up_the_next(bus: Bus) -> None:
    """Requests are handled side by side: one waiting on FreeSWITCH (an
    originate's BACKGROUND_JOB) does not hold a hangup behind it."""
    release = asyncio.Event()

    async def handler(ask: Ask) -> Answer:
        if ask.n == 1:
            await release.wait()
        return Answer(ask.n * 2)

    await bus.serve(bus.subjects.ping, Ask, handler)
    slow = asyncio.create_task(bus.request(bus.subjects.ping, Ask(1), Answer, timeout=10))
    assert await bus.request(bus.subjects.ping, Ask(2), Answer, timeout=5) == Answer(4)
    assert not slow.done()
    release.set()
    assert await slow == Answer(2)


async def test_handler_errors_arrive_typed(bus: Bus, local: bool) -> None:
    async def picky(ask: Ask) -> Answer:
        if ask.n < 0:
            raise BusError("not_found", "no channel -1")
        raise RuntimeError("secret internals")

    await bus.serve(bus.subjects.ping, Ask, picky, local=local)
    with pytest.raises(BusError) as err:
        await bus.request(bus.subjects.ping, Ask(-1), Answer)
    assert (err.value.code, err.value.message) == ("not_found", "no channel -1")

    with pytest.raises(BusError) as err:
        await bus.request(bus.subjects.ping, Ask(1), Answer)
    assert err.value.code == "internal"
    assert "secret" not in err.value.message

    with pytest.raises(BusError) as err:
        await bus.request(bus.subjects.ping, {"n": "not a number"}, Answer)
    assert err.value.code == "invalid"


@pytest.fixture(params=[False, True], ids=["over-nats", "in-process"])
def local(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def test_a_local_server_answers_its_own_process_and_stops_when_unsubscribed(
    bus: Bus, nats_url: str
) -> None:
    """With ``local``, a replica's own requests are served by its own handler
    even when another member of the queue group could take them; others'
    requests still reach it through NATS; once it stops serving, its
    requests go to the others. A handler the requester stopped waiting for
    runs to its end, as over NATS."""
    other = await Bus.connect(nats_url, bus.subjects, timeout=2.0)
    served: list[str] = []
    finished = asyncio.Event()

    def handler(name: str) -> Any:
        async def answer(ask: Ask) -> Answer:
            served.append(name)
            if ask.n == 0:
                await asyncio.sleep(0.3)
                finished.set()
            return Answer(ask.n * 2)

        return answer

    try:
        mine = await bus.serve(bus.subjects.ping, Ask, handler("mine"), queue="q", local=True)
        await other.serve(bus.subjects.ping, Ask, handler("other"), queue="q")
        for n in range(1, 21):
            assert await bus.request(bus.subjects.ping, Ask(n), Answer) == Answer(2 * n)
        assert served == ["mine"] * 20
        served.clear()
        answers = [await other.request(bus.subjects.ping, Ask(n), Answer) for n in range(1, 41)]
        assert answers == [Answer(2 * n) for n in range(1, 41)]
        assert "mine" in served  # the queue group still shares the others' requests

        with pytest.raises(BusError) as err:
            await bus.request(bus.subjects.ping, Ask(0), Answer, timeout=0.05)
        assert err.value.code == "timeout"
        await asyncio.wait_for(finished.wait(), 2)

        await mine.unsubscribe()
        served.clear()
        assert await bus.request(bus.subjects.ping, Ask(5), Answer) == Answer(10)
        assert served == ["other"]
    finally:
        await other.close()


async def test_published_messages_arrive_typed_and_malformed_ones_are_dropped(bus: Bus) -> None:
    got: asyncio.Queue[Ask] = asyncio.Queue()

    async def on_ask(ask: Ask) -> None:
        got.put_nowait(ask)

    await bus.subscribe(bus.subjects.ping, Ask, on_ask)
    await bus.nc.publish(bus.subjects.ping, b"not json")
    await bus.publish(bus.subjects.ping, {"n": "not a number"})
    await bus.publish(bus.subjects.ping, Ask(7))
    # Only the one that decodes reaches the handler, and the subscription lives on.
    assert await asyncio.wait_for(got.get(), 2) == Ask(7)
    assert got.empty()


async def test_trace_context_travels_in_headers(nats_url: str, namespace: str) -> None:
    provider = TracerProvider()
    tracer = provider.get_tracer("test")
    bus = await Bus.connect(nats_url, Subjects(namespace), tracer=tracer)
    seen: list[str] = []

    async def capture(msg: object) -> None:
        headers = getattr(msg, "headers", None) or {}
        seen.append(headers.get("traceparent", ""))
        await msg.respond(b'{"data":{"doubled":0}}')  # type: ignore[attr-defined]

    try:
        await bus.nc.subscribe(bus.subjects.ping, cb=capture)
        with tracer.start_as_current_span("outer") as span:
            await bus.request(bus.subjects.ping, Ask(1), Answer)
            trace_id = format(span.get_span_context().trace_id, "032x")
        assert seen and seen[0].split("-")[1] == trace_id
    finally:
        await bus.close()


async def test_namespaces_keep_stacks_apart(nats_url: str, namespace: str) -> None:
    a = await Bus.connect(nats_url, Subjects(namespace + "a"))
    b = await Bus.connect(nats_url, Subjects(namespace + "b"))
    try:

        async def echo(ask: Ask) -> Answer:
            return Answer(ask.n)

        await a.serve(a.subjects.ping, Ask, echo)
        with pytest.raises(BusError) as err:
            await b.request(b.subjects.ping, Ask(1), Answer)
        assert err.value.code == "no_responder"
    finally:
        await a.close()
        await b.close()


async def test_a_nats_without_jetstream_is_refused_clearly(tmp_path: Path) -> None:
    with (
        EmbeddedNats(tmp_path / "nats", jetstream=False) as plain,
        pytest.raises(BusError) as err,
    ):
        await Bus.connect(plain.url, Subjects())
    assert err.value.code == "no_jetstream"
    assert "JetStream must be enabled on SWITCHYARD_NATS_URL" in str(err.value)


async def test_every_runner_process_answers_ping(
    client: AsyncTestClient,  # type: ignore[type-arg]
    bus: Bus,
) -> None:
    # `client` serves the probe service through the real runner, on bus's namespace.
    assert await bus.request(bus.subjects.ping, None, Pong) == Pong(["probe"])


async def test_streams_and_buckets_are_created_idempotently(bus: Bus) -> None:
    s = bus.subjects
    config = StreamConfig(name=s.events_stream, subjects=[s.events_all], duplicate_window=120)
    await bus.ensure_stream(config)
    await bus.ensure_stream(config)
    # A changed configuration is applied to the existing stream, not refused.
    await bus.ensure_stream(
        StreamConfig(name=s.events_stream, subjects=[s.events_all], max_msgs=1000)
    )
    info = await bus.js.stream_info(s.events_stream)
    assert info.config.max_msgs == 1000

    kv = await bus.ensure_kv(KeyValueConfig(bucket=s.node_owner_bucket, ttl=5))
    await kv.put("fs1", b"replica-a")
    again = await bus.ensure_kv(KeyValueConfig(bucket=s.node_owner_bucket, ttl=5))
    assert (await again.get("fs1")).value == b"replica-a"
    await bus.js.delete_stream(s.events_stream)
    await bus.js.delete_key_value(s.node_owner_bucket)


def test_subject_tokens_cannot_be_injected() -> None:
    s = Subjects("x")
    assert s.node_command("fs-1") == "sy.x.cmd.node.fs-1"
    for bad in ("fs.1", "*", ">", "a b", ""):
        with pytest.raises(ValueError):
            s.node_command(bad)


def test_event_subjects_keep_subclasses_inside_one_token() -> None:
    s = Subjects()
    assert (
        s.events("fs1", "CUSTOM", "ai::channel-state")
        == "sy.fs.events.fs1.CUSTOM.ai::channel-state"
    )
    assert s.events("fs1", "CUSTOM", "x.y *>") == "sy.fs.events.fs1.CUSTOM.x_y___"
    assert s.events("fs1", "CHANNEL_CREATE") == "sy.fs.events.fs1.CHANNEL_CREATE"
