"""ESL: event ingest (ours vs greenswitch, same stream) and command round trips against fssim.

Ingest: fssim produces a realistic call's channel events (150+ headers each,
from a loopback call carrying SIP headers); a separate "blaster" process
replays those frames as fast as a socket takes them, the way a busy
FreeSWITCH would, so neither reader shares a CPU slice with the producer.
Our client (JSON, its production format, and plain) and greenswitch (plain,
the only format it parses, in its own process) read the same bytes.

Round trip: fssim runs as its own process (``switchyard fssim``); our client
does ``api`` calls in sequence, then many ``bgapi`` jobs in flight at once.
The baseline is a bare asyncio socket doing the same api calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Context, one_at_a_time
from benchmarks.simcall import channel_events, esl_handshake, esl_ingest_rate
from switchyard.call_control.esl import EslClient
from switchyard.shared.embedded import free_port, switchyard_command

EVENTS = 20_000
API_CALLS = 3_000
BGAPI_JOBS = 3_000
BGAPI_IN_FLIGHT = 50


async def _call_frames(fmt: str) -> tuple[bytes, int, float]:
    """One call's channel events as wire frames; returns (frames, count, mean headers)."""
    sip = {f"X-Bench-{i}": f"value {i} with spaces & symbols" for i in range(75)}
    channel, _ = await channel_events("Bench Caller", sip)
    mean = statistics.mean(len(e.headers) for e in channel)
    return b"".join(e.frame(fmt) for e in channel), len(channel), mean


def blast(port: int, frames_file: str, count: int) -> None:
    """The blaster process: greet, accept auth and event commands, then write ``count`` events."""
    frames = Path(frames_file).read_bytes()
    per_call = int(Path(frames_file + ".n").read_text())
    calls = -(-count // per_call)
    srv = socket.create_server(("127.0.0.1", port))
    while True:
        conn, _ = srv.accept()
        # OSError: the readiness probe, or a reader that went away.
        with contextlib.suppress(OSError):
            _serve_blast(conn, frames, calls)
        conn.close()


def _serve_blast(conn: socket.socket, frames: bytes, calls: int) -> None:
    esl_handshake(conn)
    for _ in range(calls):
        conn.sendall(frames)
    while conn.recv(65536):
        pass


GREENSWITCH_READER = r"""
import sys, time, gevent, greenswitch
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fs = greenswitch.InboundESL(host=host, port=port, password="ClueCon")
fs.connect()
seen = [0]
done = gevent.event.Event()
def count(event):
    seen[0] += 1
    if seen[0] >= n:
        done.set()
fs.register_handle("*", count)
start = time.perf_counter()
fs.send("event plain ALL")
done.wait(120)
print(seen[0], time.perf_counter() - start)
"""


async def _blaster(fmt: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int, int, float]:
    frames, n, mean = await _call_frames(fmt)
    path = tmp / f"frames.{fmt}"
    # Set-up, outside any measured window.
    path.write_bytes(frames)
    Path(str(path) + ".n").write_text(str(n))  # noqa: ASYNC240
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - set-up, outside any measured window
        [
            sys.executable,
            "-c",
            f"from benchmarks.bench_esl import blast; blast({port}, {str(path)!r}, {EVENTS})",
        ],
        cwd=Path(__file__).parents[1],
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            await asyncio.sleep(0.02)
    return proc, port, n, mean


def _greenswitch_ingest(port: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", GREENSWITCH_READER, "127.0.0.1", str(port), str(EVENTS)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout.split()
    return int(out[0]) / float(out[1])


async def _ingest(ctx: Context, tmp: Path) -> None:
    results: dict[str, float] = {}
    for fmt in ("json", "plain"):
        proc, port, per_call, mean = await _blaster(fmt, tmp)
        try:
            results[f"ours-{fmt}"] = await esl_ingest_rate(port, EVENTS)
            if fmt == "plain":
                results["greenswitch"] = await asyncio.to_thread(_greenswitch_ingest, port)
        finally:
            proc.kill()
            proc.wait()
    print(
        f"  stream: {per_call} channel events per call, {mean:.0f} headers on average, "
        f"{EVENTS:,} events per reader",
        flush=True,
    )
    base = results["greenswitch"]
    ctx.report("greenswitch, plain (baseline)", base, "events/s")
    ctx.report(
        "EslClient, plain",
        results["ours-plain"],
        "events/s",
        baseline=base,
        baseline_name="greenswitch",
    )
    ctx.report(
        "EslClient, json",
        results["ours-json"],
        "events/s",
        baseline=base,
        baseline_name="greenswitch",
    )


async def _round_trip(ctx: Context) -> None:
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - set-up, outside any measured window
        switchyard_command("fssim", "--esl-port", str(port), "--users", "", "--heartbeat", "3600"),
        stdout=subprocess.DEVNULL,
        env={**os.environ, "SWITCHYARD_LOG_FORMAT": "text"},
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        client = EslClient("127.0.0.1", port, "ClueCon")
        await client.start(wait=10)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.readuntil(b"\n\n")
        writer.write(b"auth ClueCon\n\n")
        await reader.readuntil(b"\n\n")

        async def bare() -> bytes:
            writer.write(b"api uuid_exists x\n\n")
            head = await reader.readuntil(b"\n\n")
            n = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
            return await reader.readexactly(n)

        async def ours() -> str:
            return await client.api("uuid_exists x")

        our_rate = await one_at_a_time(
            ctx,
            "EslClient.api, one connection",
            ours,
            bare,
            n=API_CALLS,
            warm=300,
            unit="calls/s",
            bare_label="bare socket api",
            short="EslClient.api",
        )

        samples: list[float] = []
        sem = asyncio.Semaphore(BGAPI_IN_FLIGHT)

        async def job() -> None:
            async with sem:
                t = time.perf_counter()
                await client.bgapi("uuid_exists x")
                samples.append((time.perf_counter() - t) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(job() for _ in range(BGAPI_JOBS)))
        jobs_rate = BGAPI_JOBS / (time.perf_counter() - start)
        q = statistics.quantiles(samples, n=100)
        ctx.report(
            f"EslClient.bgapi, {BGAPI_IN_FLIGHT} in flight",
            jobs_rate,
            "jobs/s",
            baseline=our_rate,
            baseline_name="sequential api",
        )
        ctx.report("EslClient.bgapi p50 (in flight)", q[49], "ms")
        ctx.report("EslClient.bgapi p99 (in flight)", q[98], "ms")
        writer.close()
        await client.close()
    finally:
        proc.terminate()
        proc.wait(10)


async def run(ctx: Context) -> None:
    with tempfile.TemporaryDirectory(prefix="sy-bench-esl-") as tmp:
        print(" event ingest:", flush=True)
        await _ingest(ctx, Path(tmp))
    print(" command round trip (fssim in its own process):", flush=True)
    await _round_trip(ctx)
