"""Route lookups in process: the compiled per-context table against a plain
scan implementing the same rules (XUI's SQL order), 10k routes over 50
contexts, same numbers, same run. Also the whole call-path work (lookup with
time rules, blacklist, transformations and actions, plus the XML document).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from benchmarks.harness import Context
from switchyard.config_api.routing.engine import compile
from switchyard.config_api.routing.model import (
    Blacklist,
    Gateway,
    Route,
    Snapshot,
    TimeRule,
)
from switchyard.config_api.routing.table import select_linear
from switchyard.config_api.routing.xmldoc import dialplan_document

ROUTES = 10_000
CONTEXTS = 50
NUMBERS = 2_000
DEST_TYPES = ("FS_DEST_USER", "FS_DEST_GATEWAY", "FS_DEST_IP", "FS_DEST_IVR")


def _snapshot(rng: random.Random) -> Snapshot:
    routes = []
    for i in range(1, ROUTES + 1):
        prefix = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 6)))
        rules: tuple[TimeRule, ...] = ()
        if i % 10 == 0:
            rules = (
                TimeRule(
                    id=i,
                    time_recurrence="20260101T090000|PT8H|daily||1|MO,TU,WE,TH,FR",
                    dest_type="FS_DEST_VOICEMAIL",
                ),
            )
        routes.append(
            Route(
                id=i,
                name=f"route-{i}",
                context=f"ctx{i % CONTEXTS}",
                prefix=prefix,
                max_length=rng.randint(max(len(prefix), 3), 16),
                dest_type=rng.choice(DEST_TYPES),
                dest_uuid="1",
                body="10.0.0.1",
                disabled=rng.random() < 0.05,
                dnc="-0+9" if i % 3 == 0 else "",
                blacklist=1 if i % 7 == 0 else None,
                time_rules=rules,
            )
        )
    return Snapshot(
        timezone="Europe/Berlin",
        routes=tuple(routes),
        gateways=(Gateway(id=1, name="carrier"),),
        blacklists=(Blacklist(id=1, name="spam", numbers=("1900", "1800")),),
    )


def _rate(calls: list[tuple[str, str]], fn: Callable[[str, str], object], floor: float) -> float:
    """Lookups per second over ``calls``, repeated until ``floor`` seconds pass."""
    done, start = 0, time.perf_counter()
    while True:
        for context, number in calls:
            fn(context, number)
        done += len(calls)
        elapsed = time.perf_counter() - start
        if elapsed >= floor:
            return done / elapsed


async def run(ctx: Context) -> None:
    rng = random.Random(5)  # noqa: S311 - reproducible test data, not secrets
    snap = _snapshot(rng)
    start = time.perf_counter()
    router = compile(snap)
    compile_ms = (time.perf_counter() - start) * 1000
    calls = [
        (f"ctx{rng.randrange(CONTEXTS)}", "".join(rng.choice("0123456789") for _ in range(n)))
        for n in (rng.randint(3, 12) for _ in range(NUMBERS))
    ]
    by_context: dict[str, list[Route]] = {}
    for r in snap.routes:
        by_context.setdefault(r.context, []).append(r)
    routes = snap.routes
    tables = router.tables
    # Same answers first, so the figures compare equal work.
    for c, n in calls:
        expected = select_linear(routes, c, n)
        assert tables[c].select(n) == expected
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    full_scan = _rate(calls[:200], lambda c, n: select_linear(routes, c, n), 2.0)
    ctx_scan = _rate(calls, lambda c, n: select_linear(by_context[c], c, n), 2.0)
    compiled = _rate(calls, lambda c, n: tables[c].select(n), 2.0)
    lookup = _rate(calls, lambda c, n: router.lookup(c, n, "13812345678", now), 2.0)
    with_xml = _rate(
        calls,
        lambda c, n: dialplan_document(router.lookup(c, n, "13812345678", now)),
        2.0,
    )
    ctx.report(f"compile {ROUTES:,} routes / {CONTEXTS} contexts", compile_ms, "ms")
    ctx.report("naive scan of all routes (XUI SQL rules)", full_scan, "lookups/s")
    ctx.report("naive scan of the context's routes", ctx_scan, "lookups/s")
    ctx.report(
        "compiled table select",
        compiled,
        "lookups/s",
        baseline=full_scan,
        baseline_name="full scan",
    )
    ctx.report(
        "compiled table select (vs per-context scan)",
        compiled,
        "lookups/s",
        baseline=ctx_scan,
        baseline_name="context scan",
    )
    ctx.report("Router.lookup (rules, lists, dnc, actions)", lookup, "lookups/s")
    ctx.report("lookup + dialplan XML document", with_xml, "lookups/s")
