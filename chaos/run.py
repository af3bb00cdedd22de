"""One chaos run: start the stack, drive traffic, apply the faults in a seeded
order at seeded moments, then count. Exit status 1 on any failure."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

import httpx

from chaos.faults import FAULTS, Chaos, Fault
from chaos.observe import Observer
from chaos.report import (
    Report,
    answers_rows,
    events_rows,
    fault_rows,
    lost,
    owed,
    owners_rows,
    unheard_rows,
    writes_rows,
)
from chaos.stack import Stack
from chaos.traffic import Traffic

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- chaos:last-run -->", "<!-- /chaos:last-run -->"
# The CI form (tests/test_chaos.py): every fault once, short pauses between.
SHORT_GAP = (1.0, 3.0)
FULL_GAP = (3.0, 8.0)
DRAIN = 90.0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="chaos", description=__doc__)
    p.add_argument("--seed", type=int, default=None, help="replay a run (printed by every run)")
    p.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"comma-separated, from: {', '.join(FAULTS)}",
    )
    p.add_argument("--rounds", type=int, default=2, help="each fault this many times")
    p.add_argument("--short", action="store_true", help="the CI form: one round, short gaps")
    p.add_argument("--no-doc", action="store_true", help="do not write docs/reliability.md")
    p.add_argument("--keep", action="store_true", help="keep the run's folder (logs)")
    args = p.parse_args(argv)
    unknown = set(args.faults.split(",")) - set(FAULTS)
    if unknown:
        p.error(f"unknown fault(s): {', '.join(sorted(unknown))}")
    if args.short:
        args.rounds = 1
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1 << 31)
    return args


async def run(args: argparse.Namespace) -> int:
    print(f"chaos: seed {args.seed} (replay: ./sy chaos -- --seed {args.seed})", flush=True)
    rng = random.Random(args.seed)  # noqa: S311 - a replayable schedule, not a secret
    names = [n for n in args.faults.split(",") for _ in range(args.rounds)]
    rng.shuffle(names)
    gap = SHORT_GAP if args.short else FULL_GAP
    root = Path(tempfile.mkdtemp(prefix="sy-chaos-"))
    stack = Stack.create(root)
    started = time.time()
    async with httpx.AsyncClient() as http:
        observer_task: asyncio.Task[None] | None = None
        traffic: Traffic | None = None
        try:
            await stack.start(http)
            print(f"chaos: stack up in {time.time() - started:.0f}s ({root})", flush=True)
            # Traffic has its own generator: its timing varies, the faults' must not.
            traffic = Traffic(stack, http, random.Random(args.seed + 1))  # noqa: S311
            observer = Observer(stack, list(stack.esl_ports))
            observer_task = asyncio.create_task(observer.run(http))
            await traffic.subscribe()
            chaos = Chaos(stack, traffic, observer, rng)
            if not await chaos.settled():
                print("chaos: the stack never settled before the first fault", flush=True)
                return 2
            # Count from the first delivery: the relay's consumer starts at "now".
            await traffic.receiver.wait_for(
                lambda _: any(d.acked and d.sub == "a" for d in traffic.deliveries), timeout=60
            )
            mark = time.time()
            traffic.start()
            faults: list[Fault] = []
            for name in names:
                traffic.phase = "steady"
                await asyncio.sleep(rng.uniform(*gap))
                traffic.phase = name
                print(f"chaos: {time.time() - started:5.0f}s {name}", flush=True)
                fault = await FAULTS[name](chaos)
                fault.end = time.time()
                traffic.phase = f"after {name}"
                fault.notes["settled"] = await chaos.settled()
                faults.append(fault)
            traffic.phase = "steady"
            await asyncio.sleep(rng.uniform(*gap))
            await traffic.stop()
            traffic.phase = "end"
            for uuid in list(traffic.calls):
                traffic.hung_up[uuid] = await traffic.hangup(uuid)
            print(f"chaos: {time.time() - started:5.0f}s traffic stopped; draining", flush=True)
            expected: dict[str, set[str]] = {}
            drain_until = time.monotonic() + DRAIN
            while time.monotonic() < drain_until:
                await asyncio.sleep(2)
                await observer.fetch_journals(http)
                expected = owed(traffic, observer, mark, faults)
                if not any(lost(traffic, expected).values()):
                    break
            if args.keep:
                dump = {
                    "mark": mark,
                    "faults": [dataclasses.asdict(f) for f in faults],
                    "deliveries": [dataclasses.asdict(d) for d in traffic.deliveries],
                    "events": observer.events,
                    "commands": observer.commands,
                    "owners": [dataclasses.asdict(c) for c in observer.history],
                }
                (root / "run.json").write_text(json.dumps(dump, default=str))
            report = Report()
            events_rows(report, traffic, expected)
            await writes_rows(report, traffic, stack.pg.url)
            answers_rows(report, traffic)
            owners_rows(report, observer, mark)
            unheard_rows(report, observer, mark, faults)
            fault_rows(report, traffic, faults)
            elapsed = time.time() - started
            print(report.table(), flush=True)
            for line in report.details[:40]:
                print("  " + line, flush=True)
            verdict = "passed" if not report.failures else f"FAILED ({len(report.failures)})"
            print(f"chaos: seed {args.seed}, {elapsed:.0f}s, {verdict}", flush=True)
            for failure in report.failures:
                print(f"  FAIL {failure}", flush=True)
            if not args.short and not args.no_doc:
                write_doc(args, names, report, elapsed)
            return 0 if not report.failures else 1
        finally:
            if traffic is not None:
                await traffic.stop()
                await traffic.receiver.stop()
            if observer_task is not None:
                observer_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await observer_task
            await asyncio.to_thread(stack.stop)
            if args.keep:
                print(f"chaos: logs kept in {root}", flush=True)
            else:
                shutil.rmtree(root, ignore_errors=True)


def write_doc(args: argparse.Namespace, names: list[str], report: Report, elapsed: float) -> None:
    day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    block = (
        f"{BEGIN}\n"
        f"Seed {args.seed}, {day}, {elapsed:.0f} s on the 2-core machine, "
        f"{len(names)} faults ({args.rounds} round(s)): "
        f"{'passed' if not report.failures else 'FAILED'}.\n\n"
        f"{report.table()}\n{END}"
    )
    text = DOC.read_text()
    DOC.write_text(
        re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(parse(argv)))
