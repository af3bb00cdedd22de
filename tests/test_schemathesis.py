"""schemathesis over the whole app's OpenAPI document, as an integrator runs it.

Every service (the demo PBX seeded, one fssim node, TTS through the media
tests' fake vendors) is served on a real port, and the schemathesis CLI
runs against ``/schema/openapi.json`` with every check
(``tests/schemathesis.toml``) and every phase: the schema's examples,
coverage (boundaries, undeclared methods, missing parameters), fuzzing,
and the stateful phase that follows the document's links from a create
to reading, updating and deleting what it made. A failure of any
check fails the test, with the requests that failed.

CI runs a bounded number of examples per operation
(``SWITCHYARD_FUZZ_EXAMPLES``, 10); ``./sy fuzz`` runs the same with more.
The checks a few operations still fail are excluded one by one in
``tests/schemathesis.toml``, each with the reason (docs/config-api.md).
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import msgspec
import pytest

from switchyard.shared.embedded import free_port
from switchyard.shared.service import discover
from switchyard.shared.settings import Settings
from tests.conftest import served_stack

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = int(os.environ.get("SWITCHYARD_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("SWITCHYARD_FUZZ_SEED", "1")
PHASES = "examples,coverage,fuzzing,stateful"


def _fake_vendors() -> ModuleType:
    """The media tests' fake TTS vendors (services/media/tests is no package
    on this test's path): loaded from their file."""
    path = Path(__file__).parents[1] / "services/media/tests/fake_vendors.py"
    spec = importlib.util.spec_from_file_location("media_fake_vendors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


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
    reports = tmp_path / "reports"
    port = free_port()
    # TTS answers for real: the media tests' fake vendors (local HTTP servers
    # answering as each vendor documents), and signed /tts URLs name this stack.
    fake = _fake_vendors()
    async with fake.vendor_servers() as vendors:
        demo = fake.vendor_settings(
            msgspec.structs.replace(settings, demo=True, media_url=f"http://127.0.0.1:{port}"),
            vendors.base,
        )
        await _check_everything(demo, api_token, port, tmp_path, reports)


# Appended where sox is missing (.ci/run installs it; the media phrase tests
# skip without it): a phrase naming a stored MP3 is then the documented 503.
NO_SOX = """
[[operations]]
include-name = "POST /api/media_files"
checks.not_a_server_error.enabled = false
"""


def _config(tmp_path: Path) -> Path:
    if shutil.which("sox"):
        return CONFIG
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.read_text() + NO_SOX)
    return config


async def _check_everything(
    demo: Settings, api_token: str, port: int, tmp_path: Path, reports: Path
) -> None:
    async with served_stack(demo, api_token, list(discover().values()), port=port) as served:
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(_config(tmp_path)),
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
