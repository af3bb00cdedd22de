"""The `switchyard` admin commands as an operator types them."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import asyncpg

from switchyard.shared import accounts
from switchyard.shared.db import load_migrations


def _switchyard(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    full_env.update(SWITCHYARD_DATABASE_URL=database_url, SWITCHYARD_LOG_FORMAT="text", **env)
    return subprocess.run(
        [sys.executable, "-m", "switchyard.shared.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
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


def test_commands_needing_a_database_say_so() -> None:
    r = _switchyard("migrate", database_url="")
    assert r.returncode != 0 and "SWITCHYARD_DATABASE_URL" in r.stderr
