"""greenswitch, the best-known Python ESL client, works against the same target.

It runs in a child process (gevent and asyncio do not share a thread), with
every step bounded, so a hang there fails the test instead of the run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.conformance.conftest import Target

PROBE = Path(__file__).with_name("greenswitch_probe.py")


async def test_greenswitch_api_bgapi_and_plain_events(target: Target) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROBE),
        target.host,
        str(target.port),
        target.password,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    out = json.loads(stdout)
    assert out["event"] == "+OK event listener enabled plain"
    assert out["status"].startswith("UP ")
    assert out["bgapi"].startswith("+OK Job-UUID: ")
    assert out["job"]["Job-Command"] == "originate"
    # greenswitch folds the body into Content-Length (its known bug); the uuid is still there.
    assert len(out["a_leg"]) == 36
    assert out["kill"] == "+OK\n"
    names = [(e["Event-Name"], e["Channel-Name"]) for e in out["events"]]
    assert ("CHANNEL_CREATE", "loopback/9999-a") in names
    assert ("CHANNEL_ANSWER", "loopback/9999-a") in names
    assert ("CHANNEL_DESTROY", "loopback/9999-a") in names
    create = names.index(("CHANNEL_CREATE", "loopback/9999-a"))
    destroy = names.index(("CHANNEL_DESTROY", "loopback/9999-a"))
    assert create < destroy
