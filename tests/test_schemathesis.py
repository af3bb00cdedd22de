"""schemathesis over the whole app's OpenAPI document, as an integrator runs it.

Every service (the demo PBX seeded, one fssim node) is served on a real
port, and the schemathesis CLI runs against ``/schema/openapi.json`` with
every check (``tests/schemathesis.toml``) and every phase: the schema's
examples, coverage (boundaries, undeclared methods, missing parameters),
fuzzing, and the stateful phase that follows the document's links from a
create to reading, updating and deleting what it made. A failure of any
check fails the test, with the requests that failed.

CI runs a bounded number of examples per operation
(``SWITCHYARD_FUZZ_EXAMPLES``, 10); ``./sy fuzz`` runs the same with more.
The checks a few operations still fail are excluded one by one in
``tests/schemathesis.toml``, each with the reason (docs/config-api.md).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from pathlib import Path

import msgspec
import pytest

from switchyard.shared.service import discover
from switchyard.shared.settings import Settings
from tests.conftest import served_stack

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = int(os.environ.get("SWITCHYARD_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("SWITCHYARD_FUZZ_SEED", "1")
PHASES = "examples,coverage,fuzzing,stateful"


def _failures(report_dir: Path) -> list[str]:
    """One line per failed check (the first request that failed it), from the NDJSON report."""
    out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            finished = json.loads(line).get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished.get("recorder", {})
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check["status"] != "failure":
                        continue
                    failure = check["failure_info"]["failure"]
                    case = recorder["cases"][case_id]["value"]
                    key = (failure.get("code", ""), f"{case['method']} {case['path']}")
                    if key in seen:
                        continue
                    seen.add(key)
                    exchange = recorder.get("interactions", {}).get(case_id, {})
                    request, response = exchange.get("request", {}), exchange.get("response") or {}
                    body = response.get("content", {}).get("$base64", "")
                    sent = (request.get("body") or {}).get("$base64", "")
                    out.append(
                        f"{key[0]} {check['name']} [{finished['phase']}] "
                        f"{request.get('method')} {request.get('uri')} "
                        f"body={base64.b64decode(sent)[:300]!r} -> {response.get('status_code')} "
                        f"{base64.b64decode(body)[:300]!r}\n    "
                        + failure.get("message", "")[:300].replace("\n", " | ")
                    )
    return out


@pytest.mark.timeout(900 if EXAMPLES <= 10 else 0)
async def test_every_check_every_phase(settings: Settings, api_token: str, tmp_path: Path) -> None:
    demo = msgspec.structs.replace(settings, demo=True)
    reports = tmp_path / "reports"
    async with served_stack(demo, api_token, list(discover().values())) as served:
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{served.base_url}/schema/openapi.json",
            "--phases",
            PHASES,
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            SEED,
            # One worker: Python 3.11 before 3.11.8 can fail building an AST
            # in two threads at once (gh-106905), which schemathesis does.
            "--workers",
            "1",
            "--no-shrink",
            "--header",
            f"X-XTRA-AUTH-ID: {api_token}",
            "--report",
            "ndjson",
            "--report-dir",
            str(reports),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # Its cache (.schemathesis/) goes here, not into the work tree.
            cwd=tmp_path,
        )
        output, _ = await proc.communicate()
    text = output.decode(errors="replace")
    summary = text[text.find("SUMMARY") :] if "SUMMARY" in text else text[-4000:]
    assert proc.returncode == 0, (
        summary + "\n" + "\n".join(_failures(reports)[:60]) + "\n(seed " + SEED + ")"
    )
