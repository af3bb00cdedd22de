"""The chaos suite's short form, in every CI run: `python -m chaos --short`.

Two replicas of each service as processes, two fssim nodes, its own Postgres
and NATS (never the machine's shared ones), steady traffic, and every fault
once (docs/reliability.md). It exits non-zero on a lost event or write, a
double owner, a hang or a 500; the output names the seed that replays it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every fault class (the full `./sy chaos` runs each twice, with longer pauses).
CI_FAULTS = (
    "kill-call-control,kill-event-relay,kill-config-api,restart-nats,restart-postgres,"
    "drop-esl,stop-node,webhook-outage,pause-replica"
)


@pytest.mark.timeout(420)
def test_nothing_is_lost_under_chaos() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    run = subprocess.run(
        [sys.executable, "-m", "chaos", "--short", "--no-doc", "--faults", CI_FAULTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-4000:]
    assert ", passed" in run.stdout, run.stdout[-6000:]


def test_the_run_counts_a_zombie_owners_command_as_a_double_owner() -> None:
    """The counting itself, on a recorded history: fs1 moves from replica 1 to
    replica 2 at t=110; replica 1's command at t=112 is a double owner."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # chaos/ is a top-level program, like benchmarks/
    from chaos.observe import Observer, OwnerChange
    from chaos.report import Report, owners_rows

    obs = Observer(stack=None, nodes=["fs1"])  # type: ignore[arg-type]
    obs.history = [OwnerChange(100.0, "fs1", "h-11-a"), OwnerChange(110.0, "fs1", "h-22-b")]
    obs.ids = {"call-control#1": {"h-11-a"}, "call-control#2": {"h-22-b"}}
    # The bucket read every 0.1 s, except from 113 to 118 (NATS away, say).
    obs.reads = [
        (t / 10, t / 10 + 0.01, {"fs1": "h-11-a" if t < 1100 else "h-22-b"})
        for t in range(900, 1300)
        if not 1130 < t < 1180
    ]
    # Port 5000 was replica 1's first and, reused, replica 2's from t=120.
    obs.peers = {"127.0.0.1:5000": [(99.0, "call-control#1"), (120.2, "call-control#2")]}
    # (sent, its connection opened); the one at 115 falls where the run was blind.
    at = [(105.0, 98.9), (112.0, 98.9), (115.0, 98.9), (121.0, 120.1)]
    obs.commands = {
        "fs1": [{"at": t, "peer": "127.0.0.1:5000", "opened": o, "command": "api x"} for t, o in at]
    }
    report = Report()
    owners_rows(report, obs, mark=0.0)
    assert report.rows[0][1].startswith("3 judged, 1 from another owner's time")
    assert report.failures
    assert report.details == ["fs1: call-control#1 sent 'api x' while call-control#2 owned it"]
