"""What every benchmark shares: backing services, timing, and the report.

A benchmark module is ``benchmarks/bench_<name>.py`` with
``async def run(ctx: Context) -> None``. It measures its subject and a
baseline in the same run and reports both through ``ctx.report``, which
prints figures and the ratio. Results are recorded by hand in
docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from switchyard.shared.embedded import EmbeddedNats, EmbeddedPostgres


@dataclass
class Context:
    pg_url: str
    nats_url: str
    lines: list[str] = field(default_factory=list)

    def report(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        baseline_name: str = "baseline",
        higher_is_better: bool = True,
    ) -> None:
        line = f"  {name:<48} {value:>12,.1f} {unit}"
        if baseline:
            ratio = value / baseline
            line += f"   ({ratio:.2f}x {baseline_name}"
            line += ", higher is better)" if higher_is_better else ", lower is better)"
        print(line, flush=True)
        self.lines.append(line)


async def rate(n: int, one: Callable[[], Awaitable[object]]) -> float:
    """Calls per second of ``one`` run ``n`` times in sequence."""
    start = time.perf_counter()
    for _ in range(n):
        await one()
    return n / (time.perf_counter() - start)


async def latencies(n: int, one: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """p50 and p99 latency of ``one`` in milliseconds."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await one()
        samples.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(samples, n=100)
    return q[49], q[98]


@contextlib.contextmanager
def backing() -> Iterator[Context]:
    """Postgres and NATS from SWITCHYARD_TEST_* when set, else embedded ones."""
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="sy-bench-"))
        pg = os.environ.get("SWITCHYARD_TEST_DATABASE_URL")
        if not pg:
            pg = stack.enter_context(EmbeddedPostgres(tmp / "pg")).url
        nats = os.environ.get("SWITCHYARD_TEST_NATS_URL")
        if not nats:
            nats = stack.enter_context(EmbeddedNats(tmp / "nats")).url
        yield Context(pg, nats)
