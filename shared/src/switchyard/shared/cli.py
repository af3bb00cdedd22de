"""``switchyard``: the one command for people and for Kubernetes.

switchyard up [--port N] [--no-demo]   the whole stack in one process
switchyard run <service>               one service alone
switchyard migrate                     apply SQL migrations
switchyard token create|list|revoke    machine API tokens
switchyard user add <username>         a login for POST /api/sessions
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import TypeVar

import asyncpg

from switchyard.shared import accounts
from switchyard.shared.db import migrate
from switchyard.shared.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    die_with_parent,
    free_port,
    wait_for_port,
)
from switchyard.shared.service import UnknownService, discover, select
from switchyard.shared.settings import ENV_PREFIX, Settings, SettingsError
from switchyard.shared.telemetry import configure_logging

log = logging.getLogger("switchyard")

COMMANDS_ENTRY_POINT_GROUP = "switchyard.commands"
UP_TOKEN_NAME = "switchyard-up"  # noqa: S105 - a token name, not a secret
# While `up` serves an embedded Postgres, this file in the data dir holds its
# URL, so that `migrate`, `token` and `user` reach the same database.
POSTGRES_URL_FILE = "postgres.url"

T = TypeVar("T")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"switchyard: {exc}")
    configure_logging(settings.log_level, settings.log_format)
    try:
        args.func(settings, args)
    except (UnknownService, _UsageError) as exc:
        sys.exit(f"switchyard: {exc}")
    except KeyboardInterrupt:
        pass


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchyard", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(required=True, metavar="command")

    up = sub.add_parser("up", help="run every service in one process (embedded Postgres/NATS)")
    up.add_argument("--port", type=int, help="HTTP port (default SWITCHYARD_HTTP_PORT or 8081)")
    up.add_argument(
        "--no-demo",
        dest="demo",
        action="store_false",
        help="do not seed the demo PBX (it is seeded once, into an empty configuration)",
    )
    up.set_defaults(func=cmd_up)

    run = sub.add_parser("run", help="run one service (what Kubernetes runs)")
    run.add_argument("service")
    run.add_argument("--port", type=int)
    run.set_defaults(func=cmd_run)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="machine API tokens")
    tsub = token.add_subparsers(required=True, metavar="action")
    create = tsub.add_parser("create", help="create a token; it is printed once")
    create.add_argument("--name", default="cli")
    create.set_defaults(func=cmd_token_create)
    tsub.add_parser("list", help="list tokens (never their values)").set_defaults(
        func=cmd_token_list
    )
    revoke = tsub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=cmd_token_revoke)

    user = sub.add_parser("user", help="users who log in with POST /api/sessions")
    usub = user.add_subparsers(required=True, metavar="action")
    add = usub.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--password", help="default: prompt (or read SWITCHYARD_NEW_PASSWORD)")
    add.add_argument("--super", action="store_true", help="administrator")
    add.set_defaults(func=cmd_user_add)

    # Commands contributed by other packages (e.g. `switchyard fssim`): each
    # entry point is a function taking the subparsers object and adding its
    # parser with set_defaults(func=callable(settings, args)).
    for ep in entry_points(group=COMMANDS_ENTRY_POINT_GROUP):
        ep.load()(sub)
    return parser


# --- up ------------------------------------------------------------------------


@contextlib.contextmanager
def _backing_services(settings: Settings) -> Iterator[Settings]:
    """Start embedded Postgres/NATS for whatever the settings leave unset."""
    with contextlib.ExitStack() as stack:
        changes: dict[str, str] = {}
        data = settings.data_dir
        if not settings.database_url:
            pg = stack.enter_context(EmbeddedPostgres(data / "postgres"))
            log.info("embedded postgres %s on port %d", pg.version, pg.port)
            changes["database_url"] = pg.url
            stack.enter_context(_announce(data / POSTGRES_URL_FILE, pg.url))
        if not settings.nats_url:
            nats = stack.enter_context(EmbeddedNats(data / "nats"))
            log.info("embedded nats-server on port %d", nats.port)
            changes["nats_url"] = nats.url
        if not settings.fs_nodes:
            changes["fs_nodes"] = stack.enter_context(_fssim(settings))
            log.info("FreeSWITCH simulator: %s", changes["fs_nodes"].split("@")[-1])
        yield _replace(settings, **changes)


@contextlib.contextmanager
def _announce(path: Path, url: str) -> Iterator[None]:
    """Keep ``url`` in ``path`` while the block runs (written whole, then renamed)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(url + "\n")
    tmp.replace(path)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _fssim(settings: Settings) -> Iterator[str]:
    """The FreeSWITCH simulator as a child process; yields its SWITCHYARD_FS_NODES value.

    It POSTs dialplan fetches to this stack's /fs/xml, and dies with us (even
    on SIGKILL) like the embedded servers.
    """
    host = "127.0.0.1"
    port = free_port()
    web = host if settings.http_host in ("0.0.0.0", "::") else settings.http_host  # noqa: S104
    out = open(settings.data_dir / "fssim.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "switchyard.shared.cli",
            "fssim",
            "--esl-port",
            str(port),
            "--xml-curl-url",
            f"http://{web}:{settings.http_port}/fs/xml",
        ],
        stdout=out,
        stderr=out,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    out.close()
    try:
        wait_for_port(host, port, 30, proc, "fssim")
        yield f"fssim=esl://ClueCon@{host}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _replace(settings: Settings, **changes: object) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, **changes)


def cmd_up(settings: Settings, args: argparse.Namespace) -> None:
    settings = _replace(settings, demo=args.demo)
    if args.port:
        settings = _replace(settings, http_port=args.port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _backing_services(settings) as settings:
        token, admin_password = asyncio.run(_prepare_up(settings))
        host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host  # noqa: S104
        url = f"http://{host}:{settings.http_port}"
        print(f"Switchyard is up at {url}", flush=True)
        print(f"API token: {token}", flush=True)
        print(f"  try: curl -H 'X-XTRA-AUTH-ID: {token}' {url}/readyz", flush=True)
        if admin_password:
            print(f"Login: admin / {admin_password}  (shown once)", flush=True)
        _serve(settings)


async def _prepare_up(settings: Settings) -> tuple[str, str | None]:
    await migrate(settings.database_url)
    conn = await asyncpg.connect(settings.database_url)
    try:
        password = None
        if await accounts.count_users(conn) == 0:
            password = secrets.token_urlsafe(12)
            await accounts.create_user(conn, "admin", password, name="Administrator", is_super=True)
        # One live token per `up`: the previous run's is revoked, so tokens
        # printed on past runs do not pile up as valid credentials.
        await conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE kind = 'api' AND name = $1 "
            "AND revoked_at IS NULL",
            UP_TOKEN_NAME,
        )
        _, token, _ = await accounts.issue_token(conn, kind="api", name=UP_TOKEN_NAME)
        return token, password
    finally:
        await conn.close()


def _serve(settings: Settings) -> None:
    """Serve the app with granian; the worker rebuilds settings from the environment."""
    from granian import Granian
    from granian.constants import Interfaces

    os.environ.update(settings.to_env())
    Granian(
        "switchyard.shared.runner:app_from_env",
        address=settings.http_host,
        port=settings.http_port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=1,
        log_access=False,
    ).serve()


# --- run / migrate ----------------------------------------------------------------


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    select(discover(), [args.service])  # fail fast on a typo
    if not settings.database_url or not settings.nats_url:
        raise _UsageError(
            f"run needs {ENV_PREFIX}DATABASE_URL and {ENV_PREFIX}NATS_URL "
            "(use `switchyard up` for embedded ones)"
        )
    changes: dict[str, object] = {"services": args.service}
    if args.port:
        changes["http_port"] = args.port
    _serve(_replace(settings, **changes))


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """The database of the admin commands: ``SWITCHYARD_DATABASE_URL``, else the
    embedded Postgres of the data dir, the running `up`'s or, when `up` is not
    running, one started for the duration of the command."""
    if settings.database_url:
        yield settings.database_url
        return
    data = settings.data_dir
    try:
        announced = (data / POSTGRES_URL_FILE).read_text().strip()
    except OSError:
        announced = ""
    # The file outlives an `up` killed outright: use it only if it answers.
    if announced and asyncio.run(_answers(announced)):
        yield announced
        return
    cluster = data / "postgres"
    if not (cluster / "PG_VERSION").exists():
        raise _UsageError(
            f"set {ENV_PREFIX}DATABASE_URL, or run `switchyard up` once to create "
            f"the embedded Postgres in {data}"
        )
    pg = EmbeddedPostgres(cluster)
    try:
        pg.start()
    except (RuntimeError, TimeoutError) as exc:
        pg.stop()
        raise _UsageError(f"could not start the embedded Postgres in {cluster}: {exc}") from None
    try:
        log.info("embedded postgres %s started for this command", pg.version)
        yield pg.url
    finally:
        pg.stop()


async def _answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except Exception:
        return False
    await conn.close()
    return True


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    with _database(settings) as url:
        applied = asyncio.run(migrate(url))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))


# --- tokens and users ---------------------------------------------------------------


def _with_conn(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` on a connection to the commands' database (see ``_database``)."""

    async def go(url: str) -> T:
        conn = await asyncpg.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    with _database(settings) as url:
        return asyncio.run(go(url))


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> None:
    token_id, token, _ = _with_conn(
        settings, lambda conn: accounts.issue_token(conn, kind="api", name=args.name)
    )
    print(f"id {token_id}\ntoken {token}")


def cmd_token_list(settings: Settings, args: argparse.Namespace) -> None:
    tokens = _with_conn(settings, accounts.list_tokens)
    print(f"{'id':>5}  {'name':<24} {'created':<20} {'last used':<20} state")
    for t in tokens:
        state = "revoked" if t.revoked_at else "active"
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M:%S") if t.last_used_at else "-"
        print(f"{t.id:>5}  {t.name:<24} {t.created_at:%Y-%m-%d %H:%M:%S}  {used:<20} {state}")


def cmd_token_revoke(settings: Settings, args: argparse.Namespace) -> None:
    if not _with_conn(settings, lambda conn: accounts.revoke_token(conn, args.id)):
        raise _UsageError(f"no active token with id {args.id}")
    print(f"revoked token {args.id}")


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> None:
    password = (
        args.password
        or os.environ.get(f"{ENV_PREFIX}NEW_PASSWORD")
        or getpass.getpass("password: ")
    )
    if len(password) < 8:
        raise _UsageError("a password needs at least 8 characters")

    async def add(conn: asyncpg.Connection) -> int:
        try:
            return await accounts.create_user(conn, args.username, password, is_super=args.super)
        except asyncpg.UniqueViolationError:
            raise _UsageError(f"user {args.username!r} exists") from None

    print(f"user {args.username} has id {_with_conn(settings, add)}")


if __name__ == "__main__":
    main()
