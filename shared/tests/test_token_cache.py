"""Tokens verified without a Postgres round trip per request (issue 12), and
revocation still reaching every replica: a logout at once over NATS,
anything else within the cache's TTL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from switchyard.shared import accounts
from switchyard.shared.accounts import Principal
from switchyard.shared.http.tokencache import TokenCache
from switchyard.shared.messages import TokenRevoked
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings

from .conftest import DDL, probe

Client = AsyncTestClient  # type: ignore[type-arg]
ALICE = Principal(7, "session", "login:alice", 1, "alice")


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"not refused within {timeout}s"
        await asyncio.sleep(0.05)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_the_ttl_and_never_past_the_tokens_expiry() -> None:
    clock = Clock()
    cache = TokenCache(5, clock=clock)
    cache.put(b"a", ALICE, None)
    cache.put(b"b", ALICE, datetime.now(UTC) + timedelta(seconds=2))
    cache.put(b"c", ALICE, datetime.now(UTC) - timedelta(seconds=1))  # already expired
    assert cache.get(b"a") == ALICE and cache.get(b"b") == ALICE
    assert cache.get(b"c") is None
    clock.now += 2.5
    assert cache.get(b"a") == ALICE
    assert cache.get(b"b") is None
    clock.now += 2.5
    assert cache.get(b"a") is None


async def test_a_notice_drops_every_entry_of_that_token_and_no_other() -> None:
    cache = TokenCache(60)
    bob = Principal(8, "api", "ci")
    cache.put(b"a", ALICE, None)
    cache.put(b"b", bob, None)
    await cache.on_notice(TokenRevoked(7))
    assert cache.get(b"a") is None and cache.get(b"b") == bob


def test_ttl_zero_caches_nothing() -> None:
    cache = TokenCache(0)
    cache.put(b"a", ALICE, None)
    assert cache.get(b"a") is None


async def test_a_verified_token_needs_no_postgres_until_it_ages_out(
    settings: Settings, db: asyncpg.Pool, api_token: str
) -> None:
    await db.execute(DDL)
    headers = {"X-XTRA-AUTH-ID": api_token}
    app = create_app(msgspec.structs.replace(settings, token_cache_ttl=0.5), [probe])
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/things", headers=headers)).status_code == 200
        # Revoked behind the API's back, as `switchyard token revoke` does: the
        # replica still trusts what it verified a moment ago …
        token_id = await db.fetchval("SELECT id FROM api_tokens WHERE name = 'pytest'")
        assert await accounts.revoke_token(db, token_id)
        assert (await client.get("/api/things", headers=headers)).status_code == 200

        # … for at most the TTL.
        async def refused() -> bool:
            return (await client.get("/api/things", headers=headers)).status_code == 401

        await eventually_async(refused, timeout=5)


async def test_a_logout_ends_the_session_on_every_replica_at_once(
    settings: Settings, db: asyncpg.Pool
) -> None:
    """Two replicas on one database and namespace, a long TTL: the replica that
    did not see the logout drops the token on the NATS notice."""
    await db.execute(DDL)
    await accounts.create_user(db, "alice", "correct horse")
    slow = msgspec.structs.replace(settings, token_cache_ttl=3600)
    async with (
        AsyncTestClient(create_app(slow, [probe])) as one,
        AsyncTestClient(create_app(slow, [probe])) as two,
    ):
        r = await one.post("/api/sessions", json={"username": "alice", "password": "correct horse"})
        headers = {"X-XTRA-AUTH-ID": r.json()["token"]}
        one.cookies.clear()
        for client in (one, two):
            assert (await client.get("/api/things", headers=headers)).status_code == 200
        assert (await one.delete("/api/sessions", headers=headers)).status_code == 200
        assert (await one.get("/api/things", headers=headers)).status_code == 401

        async def refused() -> bool:
            return (await two.get("/api/things", headers=headers)).status_code == 401

        await eventually_async(refused, timeout=2)
