"""The `switchyard` admin commands as an operator types them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import asyncpg
import httpx

from switchyard.shared import accounts
from switchyard.shared.cli import POSTGRES_URL_FILE
from switchyard.shared.db import load_migrations
from switchyard.shared.embedded import free_port
from tests.conftest import SWITCHYARD, StartUp, clean_env


def _switchyard(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SWITCHYARD, *args],
        capture_output=True,
        text=True,
        env=clean_env(SWITCHYARD_DATABASE_URL=database_url, **env),
        timeout=90,
        check=False,
    )


def test_migrate_applies_then_reports_nothing_to_do(empty_database_url: str) -> None:
    first = _switchyard("migrate", database_url=empty_database_url)
    assert first.returncode == 0, first.stderr
    assert f"applied {len(load_migrations())} migration(s)" in first.stdout
    again = _switchyard("migrate", database_url=empty_database_url)
    assert again.stdout.strip() == "applied 0 migration(s)"


async def test_token_create_list_revoke(database_url: str) -> None:
    created = _switchyard("token", "create", "--name", "billing", database_url=database_url)
    assert created.returncode == 0, created.stderr
    token_id = int(re.search(r"^id (\d+)$", created.stdout, re.M).group(1))  # type: ignore[union-attr]
    token = re.search(r"^token (\S+)$", created.stdout, re.M).group(1)  # type: ignore[union-attr]

    conn = await asyncpg.connect(database_url)
    try:
        principal = await accounts.authenticate(conn, token)
        assert principal is not None and principal.name == "billing"

        listed = _switchyard("token", "list", database_url=database_url)
        assert "billing" in listed.stdout and "active" in listed.stdout
        assert token not in listed.stdout, "a token is shown only once"

        revoked = _switchyard("token", "revoke", str(token_id), database_url=database_url)
        assert revoked.returncode == 0
        assert await accounts.authenticate(conn, token) is None
        assert "revoked" in _switchyard("token", "list", database_url=database_url).stdout

        again = _switchyard("token", "revoke", str(token_id), database_url=database_url)
        assert again.returncode != 0 and "no active token" in again.stderr
    finally:
        await conn.close()


async def test_user_add_creates_a_login(database_url: str) -> None:
    r = _switchyard(
        "user",
        "add",
        "ops",
        "--super",
        database_url=database_url,
        SWITCHYARD_NEW_PASSWORD="long enough pw",
    )
    assert r.returncode == 0, r.stderr
    conn = await asyncpg.connect(database_url)
    try:
        user = await accounts.check_login(conn, "ops", "long enough pw")
        assert user is not None and user.is_super
        assert await accounts.check_login(conn, "ops", "wrong") is None
    finally:
        await conn.close()
    dup = _switchyard(
        "user", "add", "ops", database_url=database_url, SWITCHYARD_NEW_PASSWORD="long enough pw"
    )
    assert dup.returncode != 0 and "exists" in dup.stderr


def test_commands_needing_a_database_say_so(tmp_path: Path) -> None:
    # No URL and no embedded cluster in the data dir (`up` never ran there).
    for args in (["migrate"], ["token", "list"]):
        r = _switchyard(*args, database_url="", SWITCHYARD_DATA_DIR=str(tmp_path))
        assert r.returncode != 0 and "SWITCHYARD_DATABASE_URL" in r.stderr


def test_commands_use_the_embedded_postgres_of_up(start_up: StartUp, tmp_path: Path) -> None:
    data = tmp_path / "data"  # start_up's data dir

    def sy(*args: str) -> subprocess.CompletedProcess[str]:
        return _switchyard(*args, database_url="", SWITCHYARD_DATA_DIR=str(data))

    # While `up` runs, the commands reach its Postgres.
    up = start_up()
    up.token()
    up.wait_ready()
    created = sy("token", "create", "--name", "ops")
    assert created.returncode == 0, created.stderr
    token_id = re.search(r"^id (\d+)$", created.stdout, re.M).group(1)  # type: ignore[union-attr]
    token = re.search(r"^token (\S+)$", created.stdout, re.M).group(1)  # type: ignore[union-attr]
    r = httpx.get(up.url + "/api/routes", headers={"X-XTRA-AUTH-ID": token})
    assert r.status_code == 200
    assert sy("migrate").stdout.strip() == "applied 0 migration(s)"
    up.stop_and_check_nothing_left()
    assert not (data / POSTGRES_URL_FILE).exists()

    # `up` is gone (here as if killed, its file left behind pointing nowhere):
    # each command starts the data dir's Postgres for itself, then stops it.
    (data / POSTGRES_URL_FILE).write_text(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    revoked = sy("token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    listed = sy("token", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(rf"^\s*{token_id}\s+ops\s.*\brevoked$", listed.stdout, re.M), listed.stdout
    assert not (data / "postgres" / "postmaster.pid").exists(), "the command's Postgres stopped"
