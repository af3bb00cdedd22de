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
# Every fault class whose bugs are fixed; the full `./sy chaos` runs them all.
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
