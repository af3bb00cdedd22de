from __future__ import annotations

from datetime import timedelta

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from switchyard.shared import accounts
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings

from .conftest import DDL, probe

Client = AsyncTestClient  # type: ignore[type-arg]


async def test_no_token_is_401_with_the_error_body(client: Client) -> None:
    r = await client.get("/api/things")
    assert r.status_code == 401
    assert r.json() == {"code": 401, "message": "unauthorized", "data": {}}


async def test_a_wrong_token_is_401(client: Client) -> None:
    r = await client.get("/api/things", headers={"X-XTRA-AUTH-ID": "not-a-token"})
    assert r.status_code == 401


async def test_the_token_is_accepted_where_xswitch_clients_send_it(
    client: Client, api_token: str
) -> None:
    for headers, cookies in [
        ({"X-XTRA-AUTH-ID": api_token}, {}),
        ({"Authorization": f"Bearer {api_token}"}, {}),
        ({}, {"freeswitch_xtra_session_id": api_token}),
    ]:
        client.cookies.clear()
        client.cookies.update(cookies)
        r = await client.get("/api/things", headers=headers)
        assert r.status_code == 200, (headers, cookies)


async def test_tokens_are_stored_hashed(db: asyncpg.Pool, api_token: str) -> None:
    stored = await db.fetchval("SELECT token_hash FROM api_tokens WHERE name = 'pytest'")
    assert stored == accounts.hash_token(api_token)
    assert api_token.encode() not in stored


async def test_a_revoked_token_stops_working(
    settings: Settings, db: asyncpg.Pool, api_token: str
) -> None:
    """Revoked behind the API's back (``switchyard token revoke``): a replica
    that verified the token lately trusts it until its cache entry ages out
    (test_token_cache.py covers the TTL); without the cache, at once."""
    headers = {"X-XTRA-AUTH-ID": api_token}
    await db.execute(DDL)
    app = create_app(msgspec.structs.replace(settings, token_cache_ttl=0), [probe])
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/things", headers=headers)).status_code == 200
        token_id = await db.fetchval("SELECT id FROM api_tokens WHERE name = 'pytest'")
        assert await accounts.revoke_token(db, token_id)
        assert (await client.get("/api/things", headers=headers)).status_code == 401


async def test_an_expired_session_is_401(client: Client, db: asyncpg.Pool) -> None:
    user_id = await accounts.create_user(db, "alice", "correct horse")
    _, token, _ = await accounts.issue_token(
        db, kind="session", user_id=user_id, ttl=timedelta(seconds=-1)
    )
    assert (await client.get("/api/things", headers={"X-XTRA-AUTH-ID": token})).status_code == 401


async def test_login_gives_a_working_token_and_logout_ends_it(
    client: Client, db: asyncpg.Pool
) -> None:
    await accounts.create_user(db, "alice", "correct horse", name="Alice", extn="1001")
    r = await client.post("/api/sessions", json={"username": "alice", "password": "correct horse"})
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == 200 and body["token"]
    assert (body["name"], body["extn"], body["super_admin"]) == ("Alice", "1001", 0)
    assert r.cookies.get("freeswitch_xtra_session_id") == body["token"]
    headers = {"X-XTRA-AUTH-ID": body["token"]}
    client.cookies.clear()
    assert (await client.get("/api/things", headers=headers)).status_code == 200

    r = await client.delete("/api/sessions", headers=headers)
    assert r.json() == {"code": 200, "text": "OK"}
    assert (await client.get("/api/things", headers=headers)).status_code == 401


async def test_login_with_a_wrong_password_or_user_is_401(client: Client, db: asyncpg.Pool) -> None:
    await accounts.create_user(db, "alice", "correct horse")
    for creds in ({"username": "alice", "password": "wrong"}, {"username": "bob", "password": "x"}):
        r = await client.post("/api/sessions", json=creds)
        assert r.status_code == 401
        assert r.json()["message"] == "wrong username or password"
    r = await client.post("/api/sessions", json={"username": "alice"})
    assert r.status_code == 400
    assert r.json()["data"] == {"field": "password", "reason": "is required"}


async def test_a_nul_in_a_login_is_a_400_not_a_server_error(client: Client) -> None:
    # Postgres text cannot hold U+0000: the username reached SQL and was a 500.
    r = await client.post("/api/sessions", json={"username": "a\u0000b", "password": "x"})
    assert r.status_code == 400, r.text
    assert r.json()["data"]["field"] == "request"


async def test_a_disabled_users_sessions_stop_working(client: Client, db: asyncpg.Pool) -> None:
    user_id = await accounts.create_user(db, "alice", "correct horse")
    _, token, _ = await accounts.issue_token(
        db, kind="session", user_id=user_id, ttl=timedelta(hours=1)
    )
    await db.execute("UPDATE users SET disabled = true WHERE id = $1", user_id)
    assert (await client.get("/api/things", headers={"X-XTRA-AUTH-ID": token})).status_code == 401


async def test_health_endpoints_need_no_token(client: Client) -> None:
    assert (await client.get("/healthz")).status_code == 200
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"postgres": "ok", "nats": "ok"}
