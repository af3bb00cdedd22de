"""event-relay: webhook deliveries per second and the event's way to a receiver.

Everything that sends or receives runs in a process of its own: the relay
(``switchyard run event-relay``, granian, one worker, as deployed), the
receiver (``webhook_receiver.Receiver``, plain asyncio), the baseline client
and the paced node. This process publishes and watches.

- **Receiver alone**: wrk (C, 2 threads, 100 connections) POSTs the same
  body to it, so the figures below are known not to be its limit.
- **Bare client**: the relay's own ``Sender`` (``httpclient.py``, the same
  limits) POSTing the same signed body with 100 in flight, from its own
  process; and httpx, which the relay used before, the same way.
- **Deliveries/s** with 1, 10 and 100 subscriptions (``raw``, ``*``): channel
  events of a real call (about 150 headers, a new call every 11 events) are
  published into the events stream as call-control does; the clock runs from
  the first publish until the receiver has counted every delivery. Three
  turns per count, each between two runs of the bare client; the median
  turn's ratio is to the mean of the two around it.
- **Latency** at a steady 1,000 events/s (the target) and 300 events/s (to
  see the path when it keeps up): a paced ESL node in its own process
  stamps ``Event-Date-Timestamp`` as it writes each event; call-control's
  node agent (here) publishes them to JetStream; the relay delivers them to
  one subscription; the receiver subtracts the stamp from its clock on
  arrival (same machine, same clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import httpx
import msgspec

from benchmarks import harness
from benchmarks.harness import Context
from benchmarks.simcall import channel_events, esl_handshake, relaying_agent
from switchyard.call_control.events import EventPublisher, stream_config
from switchyard.fssim.event import Event
from switchyard.shared import webhooks
from switchyard.shared.bus import Bus
from switchyard.shared.embedded import free_port, stop_process, switchyard_command, wait_for_port
from switchyard.shared.messages import WebhooksChanged
from switchyard.shared.subjects import Subjects

SUBSCRIPTIONS = (1, 10, 100)
DELIVERIES = 20_000  # per subscription count and turn
TURNS = 3  # per subscription count, each between two measures of the bare client
BARE_POSTS = 20_000
IN_FLIGHT = 100  # the relay's pool per subscription (delivery.Sender)
STEADY_RATES = (1_000, 300)  # events/s
STEADY_SECONDS = 20
WARMUP_SECONDS = 3  # of the steady run, not counted
ROOT = Path(__file__).parents[1]

# The receiver: counts deliveries; on /lat, the delay since the event's
# Event-Date-Timestamp (microseconds, stamped by the paced node); GET /stats
# answers {count, lat} and starts over.
RECEIVER = r"""
import asyncio, json, sys, time
import msgspec
from switchyard.shared.webhook_receiver import Answer, Receiver

class Stamp(msgspec.Struct):
    ts: str = msgspec.field(name="Event-Date-Timestamp", default="0")

decode = msgspec.json.Decoder(Stamp).decode
stats = {"count": 0, "lat": []}

def answer(got):
    if got.path == "/stats":
        body = json.dumps(stats).encode()
        stats["count"], stats["lat"] = 0, []
        return Answer(200, body=body)
    stats["count"] += 1
    if got.path == "/lat":
        stats["lat"].append(time.time() * 1000 - int(decode(got.body).ts) / 1000)
    return Answer(204)

async def main():
    rx = Receiver(answer, keep=False)
    await rx.start(port=int(sys.argv[1]))
    await asyncio.Event().wait()

asyncio.run(main())
"""

# The bare client: the relay's Sender (or httpx, as the relay used before), the
# same body and headers, IN_FLIGHT at once.
BARE = r"""
import asyncio, sys, time
from pathlib import Path
import httpx
import uvloop
from switchyard.event_relay.delivery import Sender
from switchyard.event_relay.urlpolicy import Policy, parse_allow
from switchyard.shared import webhooks

async def main(url, body_file, n, width, kind):
    body = Path(body_file).read_bytes()
    key = webhooks.secret_key(webhooks.new_secret())
    policy = Policy(parse_allow("127.0.0.0/8"))
    sender = Sender(15.0)
    plain = httpx.AsyncClient(limits=httpx.Limits(max_connections=100))
    sem = asyncio.Semaphore(width)

    async def one(i):
        async with sem:
            headers = webhooks.headers([key], f"bare:{i}", int(time.time()), body)
            headers["content-type"] = "application/json"
            if kind == "httpx":
                r = await plain.post(url, content=body, headers=headers)
            else:
                r = await sender.post(policy, url, headers, body)
            assert r.status_code == 204, r.status_code

    await asyncio.gather(*(one(i) for i in range(200)))  # connections open
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    print(n / (time.perf_counter() - start), flush=True)
    await sender.client.aclose()
    await plain.aclose()

# On uvloop, as the relay runs under granian (shared/cli.py): the same loop both sides.
uvloop.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]))
"""

WRK_POST = """
local f = io.open("{body}", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
"""


def _spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )


@contextlib.contextmanager
def _running(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        stop_process(proc, 15)


# --- the events ---------------------------------------------------------------------


async def _call_template() -> tuple[list[list[tuple[str, str]]], str]:
    """One simulated call's channel events (header lists) and its channel uuid."""
    events, channel_uuid = await channel_events(
        "Bench", {f"X-Bench-{i}": f"v {i}" for i in range(75)}
    )
    return [list(e.headers) for e in events], channel_uuid


def _events(template: list[list[tuple[str, str]]], old: str, n: int) -> Iterator[dict[str, str]]:
    """``n`` events: the template's calls again and again, each with a new uuid."""
    call = old
    for i in range(n):
        if i % len(template) == 0:
            call = str(uuid.uuid4())
        yield {
            k: str(i + 1) if k == "Event-Sequence" else v.replace(old, call)
            for k, v in template[i % len(template)]
        }


def _interleaved(
    template: list[list[tuple[str, str]]], old: str, n: int, calls: int
) -> Iterator[dict[str, str]]:
    """``n`` events of ``calls`` calls at a time, their events interleaved: each
    call's next event comes ``calls`` events after its last, as live calls'
    events do (a real call's are seconds apart)."""
    seq = 0
    while seq < n:
        uuids = [str(uuid.uuid4()) for _ in range(calls)]
        for headers in template:
            for call in uuids:
                seq += 1
                if seq > n:
                    return
                yield {
                    k: str(seq) if k == "Event-Sequence" else v.replace(old, call)
                    for k, v in headers
                }


# --- the paced node (its own process) ---------------------------------------------------


def paced(port: int, template_file: str, rate: int, seconds: float) -> None:
    """An ESL node writing ``rate`` channel events a second for ``seconds``, each
    stamped with Event-Date-Timestamp as it is written."""
    data = json.loads(Path(template_file).read_text())
    template = [[(k, v) for k, v in ev] for ev in data["events"]]
    # Frames are made before anyone connects (making one costs about a
    # millisecond); each gets its stamp, of the same width, as it is written.
    frames = []
    # 200 calls at a time: at 1,000 events/s a call's events are 0.2 s apart.
    # Back to back (a whole call within 11 ms) one lane would carry the
    # stream, one round trip at a time, since a call's order is kept.
    core = str(uuid.uuid4())  # each run its own node: JetStream drops repeated message ids
    for ev in _interleaved(template, data["uuid"], int(rate * seconds), calls=200):
        ev["Core-UUID"] = core
        ev["Event-Date-Timestamp"] = PLACEHOLDER.decode()
        frames.append(Event(list(ev.items())).frame("json"))
    srv = socket.create_server(("127.0.0.1", port))
    while True:
        conn, _ = srv.accept()
        with contextlib.suppress(OSError):  # the readiness probe, a reader gone
            _serve_paced(conn, frames, rate)
        conn.close()


PLACEHOLDER = b"9" * 16


def _serve_paced(conn: socket.socket, frames: list[bytes], rate: int) -> None:
    if not esl_handshake(conn):
        return
    tick = 0.01  # a slice of events every 10 ms
    per_tick = max(1, round(rate * tick))
    start = time.monotonic()
    for n in range(0, len(frames), per_tick):
        due = start + n // per_tick * tick
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        stamp = b"%d" % int(time.time() * 1_000_000)
        conn.sendall(b"".join(f.replace(PLACEHOLDER, stamp, 1) for f in frames[n : n + per_tick]))
    while conn.recv(65536):
        pass


# --- the pieces ----------------------------------------------------------------------


async def _stats(http: httpx.AsyncClient) -> dict[str, Any]:
    stats: dict[str, Any] = (await http.get("/stats")).json()
    return stats


async def _count_until(
    http: httpx.AsyncClient, target: int, within: float = 300
) -> tuple[int, list[float]]:
    """Poll the receiver until it has counted ``target`` deliveries."""
    got, lat = 0, []
    deadline = time.monotonic() + within
    while got < target:
        s = await _stats(http)
        got += s["count"]
        lat += s["lat"]
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {got} of {target} deliveries arrived in {within} s")
        await asyncio.sleep(0.02)
    return got, lat


@contextlib.asynccontextmanager
async def _relay(ctx: Context, db_url: str) -> AsyncIterator[tuple[Bus, asyncpg.Pool]]:
    """``switchyard run event-relay`` in its own process; the bus on its namespace."""
    port = free_port()
    env = harness.service_env(
        ctx,
        db_url,
        SWITCHYARD_HTTP_PORT=str(port),
        SWITCHYARD_WEBHOOK_ALLOW_PRIVATE="127.0.0.0/8",
        OTEL_SDK_DISABLED="true",
    )
    bus = await Bus.connect(ctx.nats_url, Subjects(env["SWITCHYARD_NATS_NAMESPACE"]))
    await bus.ensure_stream(stream_config(bus))  # call-control's stream
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    proc = _spawn(switchyard_command("run", "event-relay"), env)
    try:
        with _running(proc):
            await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 60, proc, "event-relay")
            yield bus, pool
    finally:
        await pool.close()
        await bus.js.delete_stream(bus.subjects.events_stream)
        await bus.close()


async def _subscribe(bus: Bus, pool: asyncpg.Pool, url: str, n: int) -> None:
    """Exactly ``n`` enabled subscriptions of every event to ``url``, the relay told.

    The previous row's are disabled, not deleted: deleting cascades into
    every delivery and attempt they made (40,000 rows after 100
    subscriptions), Postgres's work in the next row's window, and
    autovacuum then records the tables as empty, so that Postgres plans the
    next row's foreign-key checks as scans of tables it believes empty
    (13,000 scans of the events for one row of 20,000: a third of the rate)."""
    await asyncio.sleep(2.0)  # the relay's last attempt writes of the previous run land
    await pool.execute("UPDATE webhooks SET enabled = false WHERE enabled")
    await pool.executemany(
        "INSERT INTO webhooks (url, events, format, secret) VALUES ($1, '{*}', 'raw', $2)",
        [(url, webhooks.new_secret()) for _ in range(n)],
    )
    await bus.publish(bus.subjects.webhooks_changed, WebhooksChanged())
    await bus.nc.flush()


async def _publish(publisher: EventPublisher, bus: Bus, events: Iterator[dict[str, str]]) -> None:
    core = secrets.token_hex(4)
    for ev in events:
        subject = bus.subjects.events("bench", ev["Event-Name"], ev.get("Event-Subclass"))
        publisher.submit(subject, f"{core}:{ev['Event-Sequence']}", msgspec.json.encode(ev))
        if int(ev["Event-Sequence"]) % 500 == 0:
            await asyncio.sleep(0)  # let the pump run as it would beside an ESL reader


async def _throughput(
    bus: Bus,
    rx: httpx.AsyncClient,
    url: str,
    template: list[list[tuple[str, str]]],
    old: str,
    subs: int,
) -> float:
    """Deliveries/s of DELIVERIES to the ``subs`` subscriptions in place."""
    publisher = EventPublisher(bus)
    await publisher.start()
    try:
        # Warm up (and wait for the relay to hold the subscriptions).
        deadline = time.monotonic() + 60
        while True:
            await _stats(rx)
            await _publish(publisher, bus, _events(template, old, 11))
            await asyncio.sleep(1.0)
            s = await _stats(rx)
            if s["count"] >= 11 * subs:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the relay delivered {s['count']} of {11 * subs} warm-up")
        await asyncio.sleep(1.0)  # retries and stragglers of the warm-up
        await _stats(rx)
        n = -(-DELIVERIES // subs)
        start = time.perf_counter()
        await _publish(publisher, bus, _events(template, old, n))
        got, _ = await _count_until(rx, n * subs)
        return got / (time.perf_counter() - start)
    finally:
        await publisher.stop()


class Turn(NamedTuple):
    rate: float  # deliveries/s
    bare: float  # the bare client's posts/s, the mean of just before and just after

    @property
    def ratio(self) -> float:
        return self.rate / self.bare


async def _turns(
    bus: Bus,
    pool: asyncpg.Pool,
    rx: httpx.AsyncClient,
    url: str,
    body_file: Path,
    template: list[list[tuple[str, str]]],
    old: str,
    subs: int,
) -> list[Turn]:
    """TURNS measures of the relay with ``subs`` subscriptions, each between two
    of the bare client: this machine's capacity moves by 2x within minutes
    (the bare client alone: 6,700 to 20,100 posts/s), so a ratio is taken to
    the baseline around it, and the median turn reported."""
    await _subscribe(bus, pool, url + "/tp", subs)
    bare = [await _bare(url, body_file, "sender")]
    turns = []
    for _ in range(TURNS):
        rate = await _throughput(bus, rx, url, template, old, subs)
        bare.append(await _bare(url, body_file, "sender"))
        turns.append(Turn(rate, (bare[-2] + bare[-1]) / 2))
    return turns


async def _steady(
    bus: Bus,
    pool: asyncpg.Pool,
    rx: httpx.AsyncClient,
    url: str,
    template_file: Path,
    rate: int,
) -> tuple[list[float], float]:
    """Latencies (ms) at ``rate`` events/s, after the warm-up; and the rate delivered."""
    await _subscribe(bus, pool, url + "/lat", 1)
    await asyncio.sleep(1.0)
    port = free_port()
    code = (
        "from benchmarks.bench_event_relay import paced; "
        f"paced({port}, {str(template_file)!r}, {rate}, {STEADY_SECONDS})"
    )
    with _running(_spawn([sys.executable, "-c", code])) as node:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 300, node, "paced node")
        agent, publisher = await relaying_agent(bus, port, None, standby=True)
        await _stats(rx)
        await agent.start()
        start = time.perf_counter()
        total = rate * STEADY_SECONDS
        try:
            got, lat = await _count_until(rx, total, within=STEADY_SECONDS + 60)
        finally:
            await agent.stop()
            await publisher.stop()
        elapsed = time.perf_counter() - start
    skip = rate * WARMUP_SECONDS
    return lat[skip:], got / elapsed


async def _bare(url: str, body_file: Path, kind: str) -> float:
    posts = BARE_POSTS if kind == "sender" else BARE_POSTS // 10  # httpx is slow here
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", BARE, url + "/tp", str(body_file), str(posts), str(IN_FLIGHT), kind],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip())


async def run(ctx: Context) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sy-bench-relay-"))
    template, old = await _call_template()
    template_file = tmp / "call.json"
    template_file.write_text(json.dumps({"events": template, "uuid": old}))
    body = msgspec.json.encode(next(_events(template, old, 1)))
    body_file = tmp / "body.json"
    body_file.write_bytes(body)
    mean = statistics.mean(len(e) for e in template)
    print(f"  events: {mean:.0f} headers on average, {len(body):,} bytes of JSON", flush=True)

    rx_port = free_port()
    url = f"http://127.0.0.1:{rx_port}"
    with _running(_spawn([sys.executable, "-c", RECEIVER, str(rx_port)])) as receiver:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", rx_port, 30, receiver, "receiver")
        async with httpx.AsyncClient(base_url=url, timeout=30) as rx:
            # The receiver alone, driven by wrk.
            lua = tmp / "post.lua"
            lua.write_text(WRK_POST.format(body=body_file))
            out = await asyncio.to_thread(
                subprocess.run,
                ["wrk", "-t2", "-c100", "-d5s", "-s", str(lua), url + "/tp"],
                capture_output=True,
                text=True,
                check=True,
            )
            wrk_rate = float(out.stdout.split("Requests/sec:")[1].split()[0])
            await _stats(rx)

            # The bare clients, each in its own process.
            bare = await _bare(url, body_file, "sender")
            plain_httpx = await _bare(url, body_file, "httpx")
            await _stats(rx)

            ctx.report("receiver alone (wrk, 100 connections)", wrk_rate, "req/s")
            ctx.report(f"bare Sender, {IN_FLIGHT} in flight (baseline)", bare, "posts/s")
            ctx.report(f"bare httpx, {IN_FLIGHT} in flight", plain_httpx, "posts/s")
            async with (
                harness.scratch_database(ctx.pg_url) as db_url,
                _relay(ctx, db_url) as (
                    bus,
                    pool,
                ),
            ):
                for subs in SUBSCRIPTIONS:
                    turns = await _turns(bus, pool, rx, url, body_file, template, old, subs)
                    mid = sorted(turns, key=lambda t: t.ratio)[len(turns) // 2]
                    ratios = ", ".join(f"{t.ratio:.2f}x" for t in turns)
                    ctx.report("  bare Sender around the median turn", mid.bare, "posts/s")
                    ctx.report(
                        f"relay deliveries/s, {subs} subscription(s)",
                        mid.rate,
                        "deliveries/s",
                        baseline=mid.bare,
                        baseline_name="bare client",
                    )
                    print(f"    (the {TURNS} turns: {ratios})", flush=True)
                for rate in STEADY_RATES:
                    # Not during autovacuum of the rows above (the latency is
                    # the relay's path, not a vacuum of 60,000 deliveries).
                    await harness.autovacuum_done(db_url)
                    lat, delivered = await _steady(bus, pool, rx, url, template_file, rate)
                    ctx.report(f"steady {rate} events/s: delivered", delivered, "deliveries/s")
                    for q in (50, 99):
                        ctx.report(
                            f"  node -> call-control -> relay -> receiver p{q}",
                            harness.percentile(lat, q),
                            "ms",
                            higher_is_better=False,
                        )
                    ctx.report("  max", max(lat), "ms", higher_is_better=False)
