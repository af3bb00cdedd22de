"""The console's shell over HTTP: login with the API's users, the session
cookie, the same-origin check, languages, and the vendored assets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from importlib.resources import files

import asyncpg
import pytest_asyncio
from litestar.testing import AsyncTestClient

from switchyard.shared import accounts
from switchyard.shared.console.i18n import negotiate
from switchyard.shared.http.auth import SESSION_COOKIE
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings

Client = AsyncTestClient  # type: ignore[type-arg]
HOST = "http://testserver.local"
SAME = {"Origin": HOST}


@pytest_asyncio.fixture
async def http(settings: Settings, db: asyncpg.Pool) -> AsyncIterator[Client]:
    async with db.acquire() as conn:
        await accounts.create_user(conn, "boss", "boss-password-1", is_super=True)
        await accounts.create_user(conn, "watcher", "watcher-password-1")
    async with AsyncTestClient(create_app(settings, []), base_url=HOST) as c:
        c.follow_redirects = False
        yield c


async def test_a_page_sends_a_browser_to_login_and_back(http: Client) -> None:
    r = await http.get("/console")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=/console"
    form = await http.get("/console/login?next=/console/calls%3Fnode%3Dfs1")
    assert form.status_code == 200 and 'name="password"' in form.text
    assert 'value="/console/calls?node=fs1"' in form.text

    r = await http.post(
        "/console/login",
        data={"username": "boss", "password": "boss-password-1", "next": "/console/calls?node=fs1"},
        headers=SAME,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/calls?node=fs1"
    assert http.cookies.get(SESSION_COOKIE)
    r = await http.get("/console")
    assert r.status_code == 303 and r.headers["location"] == "/console/calls"


async def test_a_wrong_password_stays_on_the_form_and_is_logged(
    http: Client, db: asyncpg.Pool
) -> None:
    r = await http.post(
        "/console/login", data={"username": "boss", "password": "nope"}, headers=SAME
    )
    assert r.status_code == 401 and "Wrong username or password." in r.text
    assert not http.cookies.get(SESSION_COOKIE)
    rows = await db.fetch("SELECT action, operator FROM operation_logs ORDER BY id")
    assert [(r["action"], r["operator"]) for r in rows] == [("login_failed", "boss")]


async def test_login_and_logout_from_another_site_are_refused(http: Client) -> None:
    r = await http.post(
        "/console/login",
        data={"username": "boss", "password": "boss-password-1"},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403 and not http.cookies.get(SESSION_COOKIE)
    await http.post(
        "/console/login", data={"username": "boss", "password": "boss-password-1"}, headers=SAME
    )
    r = await http.post("/console/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = await http.post("/console/logout", headers=SAME)
    assert r.status_code == 303
    r = await http.get("/console")  # logged out: to the form
    assert r.headers["location"].startswith("/console/login")


async def test_the_language_follows_the_browser_and_the_switch(http: Client) -> None:
    r = await http.get("/console/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in r.text and "登录" in r.text and "Password" not in r.text
    r = await http.get("/console/lang/en?next=/console/login")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    r = await http.get("/console/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in r.text and "Password" in r.text
    # Not a way off the site.
    r = await http.get("/console/lang/en?next=//evil.example/x")
    assert r.headers["location"] == "/console/calls"


def test_accept_language_picks_the_best_catalog() -> None:
    assert negotiate(None, "zh-CN,zh;q=0.9") == "zh_CN"
    assert negotiate(None, "fr-FR,en;q=0.5,zh;q=0.7") == "zh_CN"
    assert negotiate(None, "de") == "en"
    assert negotiate("en", "zh-CN") == "en"
    assert negotiate("xx", "zh-Hans") == "zh_CN"


async def test_the_assets_are_the_pinned_files_from_the_package(http: Client) -> None:
    readme = (files("switchyard.shared.console") / "assets" / "README.md").read_text()
    pinned = dict(re.findall(r"\| `([^`]+)` \| `([0-9a-f]{64})` \|", readme))
    assert set(pinned) == {"htmx.min.js", "htmx-ext-sse.js"}
    for name, digest in pinned.items():
        r = await http.get(f"/console/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
        assert hashlib.sha256(r.content).hexdigest() == digest
    assert (await http.get("/console/static/..%2F__init__.py")).status_code == 404
    page = (await http.get("/console/login")).text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs and all(ref.startswith("/console") for ref in refs), refs
