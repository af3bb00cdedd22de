"""`switchyard up` and `switchyard run` as a user runs them: real processes, real ports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from switchyard.shared.embedded import free_port
from switchyard.shared.settings import Settings

SWITCHYARD = [sys.executable, "-m", "switchyard.shared.cli"]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(extra)
    env["SWITCHYARD_LOG_FORMAT"] = "text"
    return env


class Up:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            self.lines.append(line)
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"never printed {pattern!r}:\n{''.join(self.lines)}")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("never became ready")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)


@pytest.fixture
def start_up(tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, **env: str) -> Up:
        port = free_port()
        proc = subprocess.Popen(
            [*SWITCHYARD, "up", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_clean_env(SWITCHYARD_DATA_DIR=str(tmp_path / "data"), **env),
        )
        started.append(proc)
        return Up(proc, port)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _stop_and_check_nothing_left(up: Up) -> None:
    children = up.descendants()
    assert children, "up should run embedded servers and a worker"
    up.proc.send_signal(signal.SIGINT)
    assert up.proc.wait(timeout=60) in (0, -signal.SIGINT, 130)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"


def test_up_starts_everything_embedded_and_stops_clean(start_up) -> None:  # type: ignore[no-untyped-def]
    up = start_up()
    token = up.wait_for(r"token:? (\S+)").group(1)
    up.wait_ready()
    health = httpx.get(up.url + "/readyz").json()
    assert set(health["services"]) == {"config-api", "call-control", "event-relay", "media"}
    assert health["checks"] == {"postgres": "ok", "nats": "ok"}

    assert httpx.delete(up.url + "/api/sessions").status_code == 401
    r = httpx.delete(up.url + "/api/sessions", headers={"X-XTRA-AUTH-ID": token})
    assert r.status_code == 200
    _stop_and_check_nothing_left(up)

    # Data is kept across restarts; the last run's printed token is retired.
    again = start_up()
    new_token = again.wait_for(r"token:? (\S+)").group(1)
    again.wait_ready()
    assert new_token != token
    assert not any("Login:" in line for line in again.lines), "admin is created only once"
    assert (
        httpx.delete(again.url + "/api/sessions", headers={"X-XTRA-AUTH-ID": token}).status_code
        == 401
    )
    _stop_and_check_nothing_left(again)


def test_up_uses_configured_postgres_and_nats(start_up, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    up = start_up(
        SWITCHYARD_DATABASE_URL=settings.database_url,
        SWITCHYARD_NATS_URL=settings.nats_url,
        SWITCHYARD_NATS_NAMESPACE=settings.nats_namespace,
    )
    token = up.wait_for(r"token:? (\S+)").group(1)
    up.wait_ready()
    assert (
        httpx.delete(
            up.url + "/api/sessions", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    # No embedded servers this time: only granian's worker is a child.
    names = {p.name() for p in up.descendants()}
    assert not any("postgres" in n or "nats" in n for n in names), names
    _stop_and_check_nothing_left(up)


@pytest.mark.parametrize("service", ["config-api", "call-control", "event-relay", "media"])
def test_each_service_runs_alone(service: str, settings: Settings) -> None:
    port = free_port()
    env = _clean_env(**{k: v for k, v in settings.to_env().items() if k != "SWITCHYARD_HTTP_PORT"})
    proc = subprocess.Popen(
        [*SWITCHYARD, "run", service, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        up = Up(proc, port)  # type: ignore[arg-type]
        up.wait_ready()
        health = httpx.get(up.url + "/readyz").json()
        assert list(health["services"]) == [service]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_run_refuses_an_unknown_service() -> None:
    r = subprocess.run(
        [*SWITCHYARD, "run", "nope"], capture_output=True, text=True, env=_clean_env(), check=False
    )
    assert r.returncode != 0
    assert "unknown service nope" in r.stderr


def test_a_killed_up_leaves_no_worker_behind(start_up) -> None:  # type: ignore[no-untyped-def]
    up = start_up()
    up.wait_for(r"token:? (\S+)")
    up.wait_ready()
    children = up.descendants()
    up.proc.send_signal(signal.SIGKILL)
    up.proc.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"orphans: {[(p.pid, p.name()) for p in alive]}"
