"""Helpers of the cross-service tests: `switchyard` as a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from switchyard.shared.embedded import free_port

SWITCHYARD = [sys.executable, "-m", "switchyard.shared.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any SWITCHYARD_* variable, plus ``extra``."""
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

    def stop_and_check_nothing_left(self) -> None:
        children = self.descendants()
        assert children, "up should run embedded servers and a worker"
        self.proc.send_signal(signal.SIGINT)
        assert self.proc.wait(timeout=60) in (0, -signal.SIGINT, 130)
        _, alive = psutil.wait_procs(children, timeout=15)
        assert alive == [], f"left behind: {[p.pid for p in alive]}"


StartUp = Callable[..., Up]


@pytest.fixture
def start_up(tmp_path: Path) -> Iterator[StartUp]:
    """``start_up(*args, **env)``: `switchyard up` on a free port, data in ``tmp_path/data``."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, **env: str) -> Up:
        port = free_port()
        proc = subprocess.Popen(
            [*SWITCHYARD, "up", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(SWITCHYARD_DATA_DIR=str(tmp_path / "data"), **env),
        )
        started.append(proc)
        return Up(proc, port)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
