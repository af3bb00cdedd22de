"""Issue 10, findings 1, 10 and 12 against a real `switchyard up`:

- it listened on 0.0.0.0 and /fs/xml answered anyone;
- its embedded NATS took any connection (anyone on the machine could send
  ``api system id`` to a node's command subject) and its embedded Postgres
  trusted loopback;
- it wrote its API token and the admin password into a world-readable log,
  and the token never expired.
"""

from __future__ import annotations

import asyncio
import re
import stat
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
import nats
import nats.errors
import psutil

from switchyard.shared.embedded import EmbeddedPostgres
from tests.conftest import StartUp

SECRET_FILES = [
    "postgres.password",
    "postgres.url",
    "xml_curl.secret",
    "up.credentials",
    "nats/nats.conf",
    "fssim.log",
    "nats/server.log",
    "postgres/server.log",
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def refused_by_nats(url: str) -> bool:
    try:
        nc = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
    except (nats.errors.Error, OSError):
        return True
    # Connected: prove it by the finding itself, a command on a node's subject.
    await nc.publish("sy.cmd.node.fssim", b'{"api":"system id"}')
    await nc.close()
    return False


async def refused_by_postgres(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        return True
    await conn.close()
    return False


def test_up_keeps_its_edge_and_its_secrets(start_up: StartUp) -> None:
    up = start_up()
    token = up.token()
    up.wait_ready()
    assert up.data_dir is not None
    data = up.data_dir
    creds = up.credentials()
    assert "admin" in creds, "the first run creates admin"

    # Listens on 127.0.0.1 only (SWITCHYARD_HTTP_HOST unset).
    port = int(up.url.rsplit(":", 1)[1])
    listening = [
        c.laddr
        for c in psutil.net_connections("inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    assert listening and all(a.ip == "127.0.0.1" for a in listening), listening
    assert any("listening on 127.0.0.1" in line for line in up.lines)

    # Every secrets file (and log) is the owner's alone.
    for name in SECRET_FILES:
        assert mode(data / name) == 0o600, (name, oct(mode(data / name)))

    # Finding 12: neither the token nor the admin password (nor any other
    # secret) in a log; checked once `up` has stopped, below.
    nats_password = re.search(r'"password": "([^"]+)"', (data / "nats/nats.conf").read_text())
    assert nats_password is not None
    secrets = {
        "token": token,
        "admin password": creds["admin"],
        "postgres password": (data / "postgres.password").read_text().strip(),
        "nats password": nats_password.group(1),
        "xml_curl secret": (data / "xml_curl.secret").read_text().strip(),
    }

    # The token expires, and the printout says when.
    pg_url = (data / "postgres.url").read_text().strip()

    async def token_lifetime() -> timedelta:
        conn = await asyncpg.connect(pg_url)
        try:
            lifetime: timedelta = await conn.fetchval(
                "SELECT expires_at - created_at FROM api_tokens "
                "WHERE name = 'switchyard-up' AND revoked_at IS NULL"
            )
            return lifetime
        finally:
            await conn.close()

    assert abs(asyncio.run(token_lifetime()) - timedelta(days=3)) < timedelta(minutes=5)
    assert any(re.search(r"expires \d{4}-\d\d-\d\d", line) for line in up.lines)

    # Finding 10, Postgres: the URL `up` publishes carries a password, and
    # without it (or with a wrong one) loopback is refused.
    pg_port = int(re.search(r":(\d+)/", pg_url).group(1))  # type: ignore[union-attr]
    assert not asyncio.run(refused_by_postgres(pg_url))
    for url in (
        f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
        f"postgresql://postgres:guess@127.0.0.1:{pg_port}/postgres",
    ):
        assert asyncio.run(refused_by_postgres(url)), url

    # Finding 10, NATS: no connection without the generated credentials.
    conf = (data / "nats/nats.conf").read_text()
    nats_port = int(re.search(r'listen: "127\.0\.0\.1:(\d+)"', conf).group(1))  # type: ignore[union-attr]
    for url in (
        f"nats://127.0.0.1:{nats_port}",
        f"nats://switchyard:guess@127.0.0.1:{nats_port}",
        f"nats://guest:guest@127.0.0.1:{nats_port}",
    ):
        assert asyncio.run(refused_by_nats(url)), url

    # Finding 1 on the real port: nothing without the secret, the simulator
    # (which has it) still routes, and a real node's binding line is printed.
    form = urlencode({"section": "directory", "user": "1000", "domain": "x", "action": "sip_auth"})
    ct = {"Content-Type": "application/x-www-form-urlencoded"}
    r = httpx.post(up.url + "/fs/xml", content=form, headers=ct)
    assert r.status_code == 401 and "password" not in r.text
    auth = ("freeswitch", secrets["xml_curl secret"])
    r = httpx.post(up.url + "/fs/xml", content=form, headers=ct, auth=auth)
    assert r.status_code == 200 and 'name="password"' in r.text
    up.wait_for(r'name="gateway-credentials"')

    up.stop_and_check_nothing_left()
    assert not (data / "postgres.url").exists()
    # Everything it wrote to stdout (a pipe here, as when redirected to a log
    # file) and to its logs, from start to stop: no secret in any of it.
    assert up.proc.stdout is not None
    up.lines += up.proc.stdout.readlines()
    logs = [p.read_text(errors="replace") for p in data.rglob("*.log")] + ["".join(up.lines)]
    for name, value in secrets.items():
        assert not any(value in text for text in logs), f"the {name} is in a log"
    secret = secrets["xml_curl secret"]

    # The secret is kept across restarts (real nodes are configured with it).
    again = start_up()
    again.token()
    again.wait_ready()
    assert (data / "xml_curl.secret").read_text().strip() == secret
    assert "admin" not in again.credentials()
    again.stop_and_check_nothing_left()


def test_an_old_cluster_that_trusted_loopback_gets_a_password(tmp_path: Path) -> None:
    cluster = tmp_path / "postgres"
    with EmbeddedPostgres(cluster) as pg:
        port = pg.port
    # As an older Switchyard left it: host connections trusted, no password file.
    (cluster / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    pg.password_file.unlink()
    with EmbeddedPostgres(cluster, port=port) as pg:
        assert mode(pg.password_file) == 0o600
        bare = f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
        assert asyncio.run(refused_by_postgres(bare))
        assert not asyncio.run(refused_by_postgres(pg.url))


def test_an_explicit_http_host_wins(start_up: StartUp) -> None:
    host = "0.0.0.0"  # noqa: S104 - what is asked for
    up = start_up(SWITCHYARD_HTTP_HOST=host)
    up.token()
    up.wait_ready()
    port = int(up.url.rsplit(":", 1)[1])
    listening = [
        c.laddr.ip
        for c in psutil.net_connections("inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    assert listening and set(listening) == {host}, listening
    up.stop_and_check_nothing_left()
