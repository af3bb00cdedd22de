"""Counting: what was produced, delivered, written, answered and who commanded each node."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from chaos.faults import Fault
from chaos.observe import Observer
from chaos.traffic import Traffic
from switchyard.call_control.agent import DEFAULT_EVENTS, DEFAULT_SUBCLASSES

# Sub "b" takes these from fssim1 only (traffic.subscribe).
B_EVENTS = {"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"}
# Sub "d" (xswitch format) gets an ai::channel-state made from each of these,
# its webhook-id the source's plus ":ai" (docs/event-relay.md, the mod_ai push).
D_EVENTS = {
    "CHANNEL_CREATE",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_ANSWER",
    "CHANNEL_HANGUP_COMPLETE",
}
ID_SUFFIX = {"d": ":ai"}
# How long after a lease changed hands the run still gives the old holder's
# last command the benefit of the doubt (the owner is polled, not pushed).
OWNER_TOLERANCE = 0.3
# Sub "c" is owed events again this long after its re-enable (the relays reload).
REENABLE_SETTLE = 3.0
FAILING = ("500", "hang", "503-no-reason")


@dataclass
class Report:
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (check, figure, verdict)
    failures: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def note(self, check: str, figure: str) -> None:
        """A figure that is no verdict: what the run saw and cannot blame anyone for."""
        self.rows.append((check, figure, "info"))

    def add(self, check: str, figure: str, ok: bool, why: str = "") -> None:
        self.rows.append((check, figure, "ok" if ok else "FAIL"))
        if not ok:
            self.failures.append(f"{check}: {why or figure}")

    def table(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        fig = max(len(r[1]) for r in self.rows)
        lines = [f"| {'check':<{width}} | {'figure':<{fig}} | verdict |"]
        lines.append(f"| {'-' * width} | {'-' * fig} | ------- |")
        lines += [f"| {c:<{width}} | {f:<{fig}} | {v:<7} |" for c, f, v in self.rows]
        return "\n".join(lines)


def owed(
    traffic: Traffic, observer: Observer, mark: float, faults: list[Fault]
) -> dict[str, set[str]]:
    """Per subscription, the events it is owed: produced (taken by a listener) since ``mark``."""
    c_from = mark
    for f in faults:
        if "reenabled_at" in f.notes:
            c_from = max(c_from, f.notes["reenabled_at"] + REENABLE_SETTLE)
    out: dict[str, set[str]] = {"a": set(), "b": set(), "c": set(), "d": set()}
    for node, events in observer.events.items():
        for e in events:
            if e["at"] < mark:
                continue
            out["a"].add(e["id"])
            if e["at"] >= c_from:
                out["c"].add(e["id"])
            if node == "fssim1" and e["name"] in B_EVENTS:
                out["b"].add(e["id"])
            if e["name"] in D_EVENTS:
                out["d"].add(e["id"])
    return out


def lost(traffic: Traffic, expected: dict[str, set[str]]) -> dict[str, set[str]]:
    acked: dict[str, set[str]] = defaultdict(set)
    for d in traffic.deliveries:
        if d.acked:
            acked[d.sub].add(d.key)
    return {sub: ids - acked[sub] for sub, ids in expected.items()}


def events_rows(report: Report, traffic: Traffic, expected: dict[str, set[str]]) -> None:
    missing = lost(traffic, expected)
    per: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for d in traffic.deliveries:
        per[(d.sub, d.key)].append(d)
    for sub in sorted(expected):
        want = expected[sub]
        got = {k for (s, k) in per if s == sub and k in want}
        dup = sum(
            max(0, sum(1 for d in ds if d.acked) - 1) for (s, _), ds in per.items() if s == sub
        )
        arrivals = sum(len(ds) for (s, _), ds in per.items() if s == sub)
        ids_differ = sum(
            1
            for (s, k), ds in per.items()
            if s == sub and {d.webhook_id for d in ds} != {k + ID_SUFFIX.get(sub, "")}
        )
        report.add(
            f"events owed to webhook {sub} vs delivered (2xx)",
            f"{len(want)} owed, {len(got)} delivered, {len(missing[sub])} lost",
            not missing[sub],
            f"{len(missing[sub])} lost, e.g. {sorted(missing[sub])[:3]}",
        )
        report.add(
            f"webhook {sub}: arrivals, duplicates (2xx twice)",
            f"{arrivals} arrivals, {dup} duplicates, {ids_differ} with another webhook-id",
            ids_differ == 0,
        )
        unsigned = sum(1 for d in traffic.deliveries if d.sub == sub and not d.signed)
        report.add(f"webhook {sub}: signature checks", f"{unsigned} failed", unsigned == 0)
        # Per call, the first 2xx of each event must come in Event-Sequence order.
        broken = 0
        lanes: dict[str, list[Any]] = defaultdict(list)
        seen: set[str] = set()
        for d in sorted(traffic.deliveries, key=lambda d: d.at):
            if d.sub == sub and d.acked and d.key not in seen:
                seen.add(d.key)
                lanes[d.lane].append(d)
        examples = []
        for lane, ds in lanes.items():
            top = -1
            for d in ds:
                if d.seq < top:
                    broken += 1
                    examples.append(f"{lane}: {d.seq} after {top}")
                top = max(top, d.seq)
        report.add(
            f"webhook {sub}: per-call order",
            f"{len(lanes)} calls/lanes, {broken} out of order",
            broken == 0,
            "; ".join(examples[:3]),
        )


async def writes_rows(report: Report, traffic: Traffic, pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        rows: dict[str, dict[str, dict[str, Any]]] = {
            "routes": {
                r["name"]: dict(r)
                for r in await conn.fetch(
                    "SELECT name, prefix, max_length FROM routes WHERE name LIKE 'chaos-%'"
                )
            },
            "gateways": {
                r["name"]: dict(r)
                for r in await conn.fetch(
                    "SELECT name, realm FROM gateways WHERE name LIKE 'chaos-%'"
                )
            },
            "blacklists": {
                r["name"]: dict(r)
                for r in await conn.fetch(
                    "SELECT name, list_type FROM blacklists WHERE name LIKE 'chaos-%'"
                )
            },
        }
    finally:
        await conn.close()
    acked = missing = half = unacked_present = 0
    for w in traffic.writes:
        row = rows[w.kind].get(w.name)
        if row is not None:
            for key, value in row.items():
                if str(w.fields[key]) != str(value):
                    half += 1
                    report.details.append(f"half-applied {w.kind} {w.name}: {key}={value!r}")
                    break
        if w.result == "ok":
            acked += 1
            if row is None:
                missing += 1
                report.details.append(f"acknowledged {w.kind} {w.name} missing ({w.phase})")
        elif row is not None:
            unacked_present += 1
    report.add(
        "API writes acknowledged (2xx) present afterwards",
        f"{len(traffic.writes)} sent, {acked} acknowledged, {missing} missing",
        missing == 0,
    )
    report.add(
        "API writes half-applied",
        f"{half} (and {unacked_present} unacknowledged but whole)",
        half == 0,
    )


def answers_rows(report: Report, traffic: Traffic) -> None:
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for o in traffic.outcomes:
        by_kind[o.kind][o.result] += 1
        if o.result in FAILING:
            report.details.append(
                f"{o.result} {o.kind} on {o.replica} during {o.phase}: {o.status} "
                f"after {o.elapsed:.1f}s {o.detail[:120]}"
            )
    for kind, counts in sorted(by_kind.items()):
        bad = sum(counts[r] for r in FAILING)
        figure = ", ".join(f"{r} {n}" for r, n in counts.most_common())
        report.add(
            f"answers: {kind}", figure, bad == 0, f"{bad} answers were 500/hang/503 without reason"
        )


def owners_rows(report: Report, observer: Observer, mark: float) -> None:
    double = unknown = no_owner = judged = 0
    for node, commands in observer.commands.items():
        for c in commands:
            if c["at"] < mark:
                continue
            sender = observer.sender(c["peer"], c["opened"])
            if sender is None:
                unknown += 1
                continue
            seen = observer.owner_at(node, c["at"])
            if seen is None:
                continue  # the run could not see the lease bucket then
            owner_id, since = seen
            if since > c["at"] - OWNER_TOLERANCE:
                continue
            judged += 1
            owner = observer.replica_of_id(owner_id)
            if owner_id is None:
                no_owner += 1
                report.details.append(f"{node}: {sender} sent {c['command'][:60]!r} with no owner")
            elif owner != sender:
                double += 1
                report.details.append(
                    f"{node}: {sender} sent {c['command'][:60]!r} while {owner} owned it"
                )
    report.add(
        "commands to a node from a replica not owning it",
        f"{judged} judged, {double} from another owner's time, {no_owner} with no owner, "
        f"{unknown} sender unknown",
        double == 0,
    )


def fault_rows(report: Report, traffic: Traffic, faults: list[Fault]) -> None:
    for f in faults:
        bits = [f"target {f.target}", f"{f.end - f.start:.1f}s"]
        ok = bool(f.notes.get("settled", True))
        if "ownerless_s" in f.notes:
            gaps = f.notes["ownerless_s"]
            if gaps:
                bits.append("no owner " + ", ".join(f"{n} {s}s" for n, s in sorted(gaps.items())))
            else:
                bits.append("the victim owned no node")
        if "held_calls" in f.notes:
            held = f.notes["held_calls"]
            bits.append(
                f"calls up across it hung up via API: {held['ok']} ok, {held['failed']} failed"
            )
            ok = ok and held["failed"] == 0
        if "down_at" in f.notes:
            during = [
                o
                for o in traffic.outcomes
                if o.kind == "fsxml" and f.notes["down_at"] <= o.at <= f.notes["up_at"]
            ]
            good = sum(1 for o in during if o.result == "ok")
            bits.append(f"/fs/xml while Postgres down: {good}/{len(during)} answered 200")
            ok = ok and good == len(during) and len(during) > 0
        if "disabled_by_410" in f.notes:
            bits.append(f"410 disabled sub c: {f.notes['disabled_by_410']}")
            ok = ok and f.notes["disabled_by_410"] and f.notes["reenabled"]
        if not f.notes.get("settled", True):
            bits.append("stack did NOT settle afterwards")
        report.add(f"fault: {f.name}", "; ".join(bits), ok)


def unheard_rows(report: Report, observer: Observer, mark: float, faults: list[Fault]) -> None:
    """Events of the kinds call-control relays that a node fired while no ESL
    connection listened: FreeSWITCH drops them, so no one can relay them.
    Counted by the fault going on then (from its start to the next one's)."""
    relayed = {*DEFAULT_EVENTS, *DEFAULT_SUBCLASSES, "BACKGROUND_JOB"}
    taken = {e["id"] for events in observer.events.values() for e in events}
    by_phase: Counter[str] = Counter()
    total = 0
    for events in observer.fired.values():
        for e in events:
            if e["at"] < mark or e["name"] not in relayed or e["id"] in taken:
                continue
            total += 1
            phase = "before the first fault"
            for f in faults:
                if f.start <= e["at"]:
                    phase = f.name
            by_phase[phase] += 1
    figure = f"{total}" + (
        " (" + ", ".join(f"{p}: {n}" for p, n in by_phase.most_common()) + ")" if total else ""
    )
    report.note("events fired with no ESL listener (nobody could relay them)", figure)
