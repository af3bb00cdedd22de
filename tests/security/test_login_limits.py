"""Issue 10, finding 8: 500 wrong passwords at about 33/s, no limit, no
lockout, no log of failed logins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from granian.constants import Interfaces
from granian.server.embed import Server
from litestar.testing import AsyncTestClient

from switchyard.shared import accounts
from switchyard.shared.embedded import free_port
from switchyard.shared.http import limits
from switchyard.shared.http.limits import LoginLimiter
from switchyard.shared.http.peer import client_ip, is_https
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from tests.security.conftest import OpenClient, probe

Client = AsyncTestClient  # type: ignore[type-arg]
PASSWORD = "correct horse battery"


async def _login(http: Client, username: str, password: str, **kw: Any) -> Any:
    return await http.post("/api/sessions", json={"username": username, "password": password}, **kw)


def _assert_429(r: Any) -> int:
    assert r.status_code == 429, r.text
    retry = int(r.headers["retry-after"])
    assert retry > 0
    body = r.json()
    assert body["code"] == 429 and "too many failed logins" in body["message"]
    assert body["data"] == {"reason": "too_many_failed_logins", "retry_after": retry}
    return retry


async def test_wrong_passwords_lock_the_user_even_for_the_right_one(
    http: Client, db: asyncpg.Pool
) -> None:
    await accounts.create_user(db, "alice", PASSWORD)
    for i in range(5):
        assert (await _login(http, "alice", f"guess-{i}")).status_code == 401
    r = await _login(http, "alice", PASSWORD)
    assert _assert_429(r) >= 300 - 1
    assert "for this user" in r.json()["message"]
    # The XUI spelling is the same login, and so is another case of the name.
    r = await http.post("/api/sessions", json={"login": "ALICE", "password": PASSWORD})
    assert r.status_code == 429
    # Other users are not locked by alice's failures.
    await accounts.create_user(db, "bob", PASSWORD)
    assert (await _login(http, "bob", PASSWORD)).status_code == 200


async def test_concurrent_guesses_do_not_get_past_the_limit(http: Client, db: asyncpg.Pool) -> None:
    await accounts.create_user(db, "alice", PASSWORD)
    guesses = await asyncio.gather(*(_login(http, "alice", f"guess-{i}") for i in range(30)))
    codes = sorted(r.status_code for r in guesses)
    assert codes.count(401) == 5 and codes.count(429) == 25, codes
    assert (await _login(http, "alice", PASSWORD)).status_code == 429


async def test_a_client_ip_is_limited_across_usernames_and_spoofed_forwarded_for(
    open_http: OpenClient, db: asyncpg.Pool
) -> None:
    http = await open_http(login_ip_failures=20, login_ip_window=60)
    await accounts.create_user(db, "carol", PASSWORD)
    for i in range(20):
        # X-Forwarded-For from a peer that is not a trusted proxy is ignored.
        r = await _login(http, f"user{i}", "x", headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert r.status_code == 401
    r = await _login(http, "carol", PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"})
    _assert_429(r)
    assert "from this address" in r.json()["message"]


async def test_failed_logins_are_in_the_operation_log_without_the_password(
    http: Client, db: asyncpg.Pool
) -> None:
    await accounts.create_user(db, "alice", PASSWORD)
    for i in range(5):
        await _login(http, "alice", f"hunter2-{i}")
    for _ in range(3):
        assert (await _login(http, "alice", PASSWORD)).status_code == 429
    await _login(http, "nobody", "s3cret-guess")

    rows = await db.fetch(
        "SELECT operator, ip, action, method, path, status, detail->>'username' AS tried "
        "FROM operation_logs WHERE resource = 'sessions' ORDER BY id"
    )
    actions = [(r["action"], r["operator"], r["status"]) for r in rows]
    assert actions == [
        *[("login_failed", "alice", 401)] * 5,
        ("login_limited", "alice", 429),  # once per block, not once per refusal
        ("login_failed", "nobody", 401),
    ]
    assert {(r["ip"], r["method"], r["path"]) for r in rows} == {
        ("testclient", "POST", "/api/sessions")
    }
    assert [r["tried"] for r in rows] == [r["operator"] for r in rows]
    everything = await db.fetchval("SELECT string_agg(o::text, ' ') FROM operation_logs o")
    assert "hunter2" not in everything and "s3cret" not in everything
    assert PASSWORD not in everything


async def test_a_successful_login_is_logged_and_clears_the_users_failures(
    http: Client, db: asyncpg.Pool
) -> None:
    await accounts.create_user(db, "alice", PASSWORD)
    for _ in range(2):
        for i in range(4):
            assert (await _login(http, "alice", f"guess-{i}")).status_code == 401
        assert (await _login(http, "alice", PASSWORD)).status_code == 200
    logged = await db.fetchval(
        "SELECT count(*) FROM operation_logs WHERE action = 'login' AND operator = 'alice'"
    )
    assert logged == 2


def test_each_lock_lasts_longer_and_ends() -> None:
    now = [1000.0]
    limiter = LoginLimiter(
        user_failures=5, user_window=300, max_lockout=1000, ip_failures=1000, clock=lambda: now[0]
    )

    def fail_five() -> None:
        for _ in range(5):
            assert limiter.begin("alice", "192.0.2.1") is None

    fail_five()
    locks = []
    for _ in range(4):
        limited = limiter.begin("alice", "192.0.2.1")
        assert limited is not None and limited.limit == "user" and limited.first
        locks.append(limited.retry_after)
        now[0] += limited.retry_after - 1
        still = limiter.begin("alice", "192.0.2.1")
        assert still is not None and not still.first
        now[0] += 1
        fail_five()
    assert locks == [300, 600, 1000, 1000]
    # A right password (let through while not locked) clears the record.
    limiter.succeeded("alice", "192.0.2.1")
    assert limiter.begin("alice", "192.0.2.1") is None


def test_a_flood_of_made_up_usernames_never_wipes_a_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attack review: refused attempts used to create username entries, and
    a full table dropped the least recently seen one, locks included."""
    monkeypatch.setattr(limits, "MAX_KEYS", 50)
    now = [1000.0]
    limiter = LoginLimiter(
        user_failures=5, user_window=300, max_lockout=3600, ip_failures=20, clock=lambda: now[0]
    )
    for _ in range(5):
        assert limiter.begin("admin", "192.0.2.1") is None
    lock = limiter.begin("admin", "192.0.2.1")
    assert lock is not None and lock.limit == "user"
    # From one IP: the IP limit refuses the flood before any username is kept.
    for i in range(200):
        limiter.begin(f"user{i}", "192.0.2.1")
    # From many IPs: every made-up username fails once; the table is full.
    for i in range(200):
        limiter.begin(f"other{i}", f"198.51.100.{i % 250}")
    now[0] += 61  # past the IP window, not past admin's lock
    still = limiter.begin("admin", "203.0.113.9")
    assert still is not None and still.limit == "user"


def _scope(peer: str, trusted: str, headers: dict[str, str], scheme: str = "http") -> Any:
    settings = Settings(trusted_proxies=trusted)
    app = SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(settings=settings)))
    return {
        "type": "http",
        "scheme": scheme,
        "client": (peer, 40000),
        "app": app,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


def test_forwarded_headers_are_believed_only_from_trusted_proxies() -> None:
    fwd = {"X-Forwarded-For": "6.6.6.6, 198.51.100.9, 10.0.0.2", "X-Forwarded-Proto": "https"}
    # No trusted proxy: the socket peer, whatever the headers say.
    assert client_ip(_scope("192.0.2.5", "", fwd)) == "192.0.2.5"
    assert not is_https(_scope("192.0.2.5", "", fwd))
    # A peer outside the trusted list: the same.
    assert client_ip(_scope("192.0.2.5", "10.0.0.0/8", fwd)) == "192.0.2.5"
    # Behind trusted proxies: the nearest hop that is not one of them (a
    # client-written leftmost entry is not believed).
    assert client_ip(_scope("10.0.0.1", "10.0.0.0/8", fwd)) == "198.51.100.9"
    assert is_https(_scope("10.0.0.1", "10.0.0.0/8", fwd))
    assert is_https(_scope("192.0.2.5", "", {}, scheme="https"))


async def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_and_logged(
    settings: Settings, db: asyncpg.Pool
) -> None:
    """Under granian, as deployed: the socket peer is 127.0.0.1, here a trusted proxy."""
    logging.getLogger("_granian").setLevel(logging.WARNING)
    await accounts.create_user(db, "alice", PASSWORD)
    app = create_app(
        msgspec.structs.replace(settings, trusted_proxies="127.0.0.1/32", login_ip_failures=3),
        [probe],
    )
    port = free_port()
    server = Server(app, address="127.0.0.1", port=port, interface=Interfaces.ASGI)
    serving = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await eventually_ready(http)
            fwd = {"X-Forwarded-For": "6.6.6.6, 198.51.100.9", "X-Forwarded-Proto": "https"}
            for i in range(3):
                r = await http.post(
                    "/api/sessions", json={"username": f"u{i}", "password": "x"}, headers=fwd
                )
                assert r.status_code == 401
            # Another client behind the same proxy is not limited by 198.51.100.9's failures.
            other = {"X-Forwarded-For": "198.51.100.10", "X-Forwarded-Proto": "https"}
            ok = await http.post(
                "/api/sessions", json={"username": "alice", "password": PASSWORD}, headers=other
            )
            assert ok.status_code == 200
            assert "secure" in ok.headers["set-cookie"].lower()
            r = await http.post(
                "/api/sessions", json={"username": "alice", "password": PASSWORD}, headers=fwd
            )
            assert r.status_code == 429
    finally:
        server.stop()
        async with asyncio.timeout(10):
            await serving
    ips = await db.fetch("SELECT action, ip FROM operation_logs ORDER BY id")
    assert [(r["action"], r["ip"]) for r in ips] == [
        *[("login_failed", "198.51.100.9")] * 3,
        ("login", "198.51.100.10"),
        ("login_limited", "198.51.100.9"),
    ]


async def eventually_ready(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
