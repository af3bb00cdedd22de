"""HTTP load from wrk, so the load generator is not what is measured.

httpx in this process tops out at a few hundred requests a second on the
2-core machine, below what the server answers. wrk (C, epoll) sends tens of
thousands from one thread. ``benchmarks/requests.lua`` replays a list of
requests and, with a rate, paces them to a fixed schedule.

Every measure is one ``wrk -t1 -c<connections>`` run: one core for wrk, one
for the server's single worker. A bare constant Litestar app under the same
server shows that wrk is not the bottleneck (it reaches the server's own rate).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import msgspec

from switchyard.shared.embedded import free_port

SCRIPT = Path(__file__).parent / "requests.lua"
INSTALL = (
    "wrk is not installed. It drives these benchmarks (httpx in one process cannot "
    "load the server). Install it: `apt-get install -y wrk` (Debian/Ubuntu), "
    "`dnf install wrk` (Fedora), `brew install wrk` (macOS), or build "
    "https://github.com/wg/wrk and put it on PATH."
)


def require_wrk() -> str:
    """The wrk binary, or stop the benchmark saying how to get it."""
    path = shutil.which("wrk")
    if path is None:
        sys.exit(INSTALL)
    return path


class Req(msgspec.Struct, frozen=True):
    method: str
    path: str
    body: str = ""


class Result(msgspec.Struct, frozen=True):
    requests: int
    duration_us: int
    bytes: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    connect: int
    read: int
    write: int
    status: int
    timeout: int

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    @property
    def p50(self) -> float:
        return self.p50_us / 1000

    @property
    def p99(self) -> float:
        return self.p99_us / 1000

    @property
    def errors(self) -> int:
        return self.connect + self.read + self.write + self.status + self.timeout


async def wrk(
    base_url: str,
    requests: Sequence[Req],
    headers: dict[str, str] | None = None,
    *,
    seconds: float = 8,
    connections: int = 32,
    rate: float = 0,
) -> Result:
    """One wrk run over ``requests`` (round robin); ``rate`` > 0 paces it.

    Any error (a non-2xx answer, a timeout) fails the benchmark: a figure
    for requests that were refused would measure the refusal.
    """
    binary = require_wrk()
    with tempfile.TemporaryDirectory(prefix="sy-wrk-") as tmp:
        req_file, hdr_file = Path(tmp) / "requests", Path(tmp) / "headers"
        lines = []
        for r in requests:
            if "\n" in r.body or "\t" in r.body or "\t" in r.path:
                raise ValueError("wrk requests carry no tab or newline")
            lines.append(f"{r.method}\t{r.path}\t{r.body}")
        req_file.write_text("\n".join(lines) + "\n")
        hdr_file.write_text("".join(f"{k}: {v}\n" for k, v in (headers or {}).items()))
        env = dict(os.environ)
        env.pop("SY_WRK_RATE", None)
        if rate > 0:
            env["SY_WRK_RATE"] = str(rate)
        proc = await asyncio.create_subprocess_exec(
            binary,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(SCRIPT),
            base_url,
            "--",
            str(req_file),
            str(hdr_file),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    text = out.decode()
    line = next((x for x in text.splitlines() if x.startswith("SYWRK ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.decode()}{text}")
    result = msgspec.json.decode(line.removeprefix("SYWRK "), type=Result)
    if result.errors:
        raise RuntimeError(f"wrk saw errors against {base_url}: {result}")
    return result


def combined(runs: Sequence[Result]) -> Result:
    """Several runs of one measure as one: requests over total time, and the
    median of each run's percentiles (wrk reports no histogram to merge)."""

    def median(values: list[int]) -> int:
        return sorted(values)[len(values) // 2]

    return Result(
        requests=sum(r.requests for r in runs),
        duration_us=sum(r.duration_us for r in runs),
        bytes=sum(r.bytes for r in runs),
        p50_us=median([r.p50_us for r in runs]),
        p90_us=median([r.p90_us for r in runs]),
        p99_us=median([r.p99_us for r in runs]),
        max_us=max(r.max_us for r in runs),
        connect=sum(r.connect for r in runs),
        read=sum(r.read for r in runs),
        write=sum(r.write for r in runs),
        status=sum(r.status for r in runs),
        timeout=sum(r.timeout for r in runs),
    )


def load() -> str:
    """The machine's load averages, for the record."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# A bare Litestar app answering a constant, under the same server as the
# services (granian, embedded, one worker): no middleware, no plugins, no
# lifespan. What Litestar and granian cost alone.
BARE_SERVER = r"""
import asyncio, sys
from granian.constants import Interfaces
import uvloop
from granian.server.embed import Server
from litestar import Litestar, Response, route

BODY = b"x" * int(sys.argv[2])

@route("/const", http_method=["GET", "POST"], status_code=200)
async def const() -> Response[bytes]:
    return Response(BODY, media_type="text/plain")

app = Litestar([const], debug=False)
uvloop.run(Server(app, address="127.0.0.1", port=int(sys.argv[1]),
                   interface=Interfaces.ASGI, log_enabled=False).serve())
"""


@contextlib.asynccontextmanager
async def bare_app(size: int) -> AsyncIterator[str]:
    """The bare constant app answering ``size`` bytes; yields its base URL."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        BARE_SERVER,
        str(port),
        str(size),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/const")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError("bare app did not start")
                await asyncio.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        await proc.wait()
