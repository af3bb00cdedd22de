"""Issue 10, finding 11: the docs UI loaded unpinned scripts from public CDNs;
no X-Content-Type-Options, X-Frame-Options or CSP; the session cookie had no
Secure flag; a cookie-authenticated cross-origin text/plain POST was
accepted (CSRF)."""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from switchyard.shared import accounts
from switchyard.shared.http.auth import SESSION_COOKIE
from tests.security.conftest import OpenClient

Client = AsyncTestClient  # type: ignore[type-arg]
PASSWORD = "correct horse battery"
HOST = "http://testserver.local"


def _assert_security_headers(r: Any) -> None:
    h = r.headers
    assert h["x-content-type-options"] == "nosniff", r.url
    assert h["x-frame-options"] == "DENY", r.url
    assert h["referrer-policy"] == "same-origin", r.url
    csp = {
        d.split()[0]: d.split()[1:] for d in h["content-security-policy"].split(";") if d.strip()
    }
    assert csp["script-src"] == ["'self'"], r.url
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]


async def test_every_response_has_the_security_headers(http: Client, api_token: str) -> None:
    auth = {"X-XTRA-AUTH-ID": api_token}
    for r in [
        await http.get("/healthz"),
        await http.get("/api/notes", headers=auth),
        await http.get("/api/notes"),  # 401
        await http.get("/no/such/path"),  # 404, not routed
        await http.post("/api/notes", content=b"{", headers=auth),  # 400
        await http.post("/api/sessions", json={"username": "x", "password": "y"}),  # 401
        await http.get("/schema"),
        await http.get("/schema/openapi.json"),
        await http.get("/schema/ui/swagger-ui-bundle.js"),
    ]:
        _assert_security_headers(r)


async def test_the_docs_ui_loads_only_files_from_the_package(http: Client) -> None:
    for page_path in ["/schema", "/schema/swagger"]:
        r = await http.get(page_path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        page = r.text
        # No inline script (the CSP forbids it), nothing from another host.
        assert "<script>" not in page and "//" not in page.replace("<!DOCTYPE html>", "")
        refs = re.findall(r'(?:src|href|data-url)="([^"]+)"', page)
        assert refs and all(ref.startswith("/schema/") for ref in refs), refs
        for ref in refs:
            asset = await http.get(ref)
            assert asset.status_code == 200, ref
            assert asset.headers["content-type"].split(";")[0] in (
                "text/javascript",
                "text/css",
                "application/vnd.oai.openapi+json",
            )
    # The vendored files are the pinned release, unchanged (docs_ui/README.md).
    readme = (files("switchyard.shared.http.docs_ui") / "README.md").read_text()
    for name, digest in re.findall(r"\| `([^`]+)` \| `([0-9a-f]{64})` \|", readme):
        served = (await http.get(f"/schema/ui/{name}")).content
        assert hashlib.sha256(served).hexdigest() == digest, name
    assert "5.35.0" in readme
    # Litestar's CDN-loading UIs are not served.
    for cdn_page in ["/schema/redoc", "/schema/elements", "/schema/rapidoc"]:
        r = await http.get(cdn_page)
        assert "cdn" not in r.text and "unpkg" not in r.text, cdn_page
    assert (await http.get("/schema/ui/..%2F__init__.py")).status_code == 404
    assert (await http.get("/schema/ui/__init__.py")).status_code == 404


async def _login(http: Client, db: asyncpg.Pool, **kw: Any) -> Any:
    if not await db.fetchval("SELECT count(*) FROM users WHERE username = 'alice'"):
        await accounts.create_user(db, "alice", PASSWORD)
    r = await http.post("/api/sessions", json={"username": "alice", "password": PASSWORD}, **kw)
    assert r.status_code == 200, r.text
    return r


def _cookie_attributes(r: Any) -> set[str]:
    """``{"httponly", "samesite=lax", "path=/", …}`` of the session cookie's Set-Cookie."""
    header = next(v for v in r.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
    return {part.strip().lower() for part in header.split(";")[1:]}


async def test_the_session_cookie_is_secure_over_tls_and_always_httponly_samesite(
    open_http: OpenClient, db: asyncpg.Pool
) -> None:
    plain = await open_http()
    attrs = _cookie_attributes(await _login(plain, db))
    assert {"httponly", "samesite=lax", "path=/"} <= attrs and "secure" not in attrs
    # X-Forwarded-Proto from a peer that is not a trusted proxy changes nothing.
    attrs = _cookie_attributes(await _login(plain, db, headers={"X-Forwarded-Proto": "https"}))
    assert "secure" not in attrs

    tls = await open_http(base_url="https://testserver.local")
    response = await _login(tls, db)
    attrs = _cookie_attributes(response)
    assert {"httponly", "samesite=lax", "secure"} <= attrs
    logout = await tls.delete("/api/sessions", headers={"X-XTRA-AUTH-ID": response.json()["token"]})
    assert {"httponly", "secure"} <= _cookie_attributes(logout)


async def _notes(http: Client, api_token: str) -> int:
    r = await http.get("/api/notes", headers={"X-XTRA-AUTH-ID": api_token})
    count: int = r.json()["rowCount"]
    return count


async def test_a_cross_site_cookie_authenticated_write_is_refused(
    http: Client, db: asyncpg.Pool, api_token: str
) -> None:
    token = (await _login(http, db)).json()["token"]
    http.cookies.clear()
    http.cookies.set(SESSION_COOKIE, token)
    forged = {"Content-Type": "text/plain"}  # a "simple" request: no preflight
    for headers in [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.local.evil.example"},
        {"Referer": "https://evil.example/page"},
        {},  # neither Origin nor Referer
    ]:
        r = await http.post("/api/notes", content=b'{"text":"forged"}', headers=forged | headers)
        assert r.status_code == 403, (headers, r.text)
        body = r.json()
        assert body["code"] == 403 and body["message"].startswith("cross-site request refused")
        assert body["data"]["reason"]
        _assert_security_headers(r)
    r = await http.delete("/api/sessions", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert await _notes(http, api_token) == 0

    # From a page of this site the cookie works, by Origin or by Referer.
    for headers in [{"Origin": HOST}, {"Referer": f"{HOST}/schema"}, {"Origin": HOST + ":80"}]:
        r = await http.post("/api/notes", json={"text": "mine"}, headers=headers)
        assert r.status_code == 200, (headers, r.text)
    # Reading with the cookie needs no Origin.
    assert (await http.get("/api/notes")).status_code == 200
    assert await _notes(http, api_token) == 3


async def test_token_header_writes_are_not_affected(http: Client, api_token: str) -> None:
    for headers in [
        {"X-XTRA-AUTH-ID": api_token},
        {"Authorization": f"Bearer {api_token}"},
    ]:
        r = await http.post(
            "/api/notes",
            json={"text": "api"},
            headers=headers | {"Origin": "https://elsewhere.example"},
        )
        assert r.status_code == 200, r.text


async def test_handlers_that_authenticate_otherwise_are_not_affected(
    http: Client, db: asyncpg.Pool
) -> None:
    # Like FreeSWITCH's mod_xml_curl POSTing to /fs/xml: no Origin, maybe a cookie.
    token = (await _login(http, db)).json()["token"]
    http.cookies.set(SESSION_COOKIE, token)
    for headers in [{}, {"Origin": "https://evil.example"}]:
        r = await http.post(
            "/probe/own-auth",
            content=b"section=directory",
            headers=headers | {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200, r.text


async def test_allowed_origins_may_write_with_the_cookie(
    open_http: OpenClient, db: asyncpg.Pool
) -> None:
    http = await open_http(allowed_origins="https://ui.example.com, http://10.0.0.5:8080")
    token = (await _login(http, db)).json()["token"]
    http.cookies.set(SESSION_COOKIE, token)
    for origin, status in [
        ("https://ui.example.com", 200),
        ("https://ui.example.com:443", 200),
        ("http://10.0.0.5:8080", 200),
        ("http://ui.example.com:8443", 403),
    ]:
        r = await http.post("/api/notes", json={"text": origin}, headers={"Origin": origin})
        assert r.status_code == status, (origin, r.text)
