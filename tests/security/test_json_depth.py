"""Issue 10, finding 9: JSON nested 500 deep (unauthenticated /api/sessions
included) gave 500 (RecursionError) instead of 400."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from switchyard.shared.http.body import MAX_JSON_DEPTH, check_json_depth
from switchyard.shared.http.errors import ApiError

Client = AsyncTestClient  # type: ignore[type-arg]


def _nested(depth: int) -> bytes:
    return b'{"text":"x","tags":' + b"[" * depth + b"1" + b"]" * depth + b"}"


def _objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


DEEP = [
    _nested(500),
    _objects(500),
    b"[" * 5000 + b"]" * 5000,
    b"[" * 100_000,  # never closed
    b'{"username":' + b"[" * 3000,
]
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]


def _assert_400(r: Any) -> None:
    body = r.json()
    assert r.status_code == 400, r.text
    assert body["code"] == 400
    assert body["data"]["field"] == "body"
    reason = body["data"]["reason"]
    assert "nested deeper than 64" in reason or "brackets do not match" in reason
    assert body["message"] == f"body: {reason}"


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
async def test_deep_json_to_the_unauthenticated_login_is_400(
    http: Client, content_type: str
) -> None:
    for raw in DEEP:
        r = await http.post("/api/sessions", content=raw, headers={"Content-Type": content_type})
        _assert_400(r)


async def test_deep_json_is_400_on_every_body_path(http: Client, api_token: str) -> None:
    auth = {"X-XTRA-AUTH-ID": api_token, "Content-Type": "application/json"}
    # read_body (what every service's handlers use), Litestar's own `data`
    # decoding (into a dict and into a Struct) and request.json().
    for path in ["/api/notes", "/api/probe/data", "/api/probe/struct", "/api/probe/json"]:
        for raw in DEEP:
            _assert_400(await http.post(path, content=raw, headers=auth))
    assert (await http.get("/api/notes", headers=auth)).json()["rowCount"] == 0


async def test_json_up_to_the_limit_is_still_read(http: Client, api_token: str) -> None:
    auth = {"X-XTRA-AUTH-ID": api_token, "Content-Type": "application/json"}
    # 63 levels of tags inside the one object: 64 in all.
    for path in ["/api/notes", "/api/probe/data", "/api/probe/struct", "/api/probe/json"]:
        r = await http.post(path, content=_nested(MAX_JSON_DEPTH - 1), headers=auth)
        assert r.status_code == 200, (path, r.text)
    # Brackets inside strings are text, not nesting.
    r = await http.post("/api/notes", content=b'{"text":"' + b'[{\\"' * 1000 + b'"}', headers=auth)
    assert r.status_code == 200, r.text


def test_the_depth_check_counts_only_real_nesting() -> None:
    check_json_depth(b"[" * 64 + b"]" * 64)
    check_json_depth(b"[{" * 32 + b"}]" * 32)
    check_json_depth(b"[" + b"[[]]," * 10_000 + b"[]]")
    check_json_depth(b'["' + b"[" * 1000 + b'"]')
    for deep in (b"[" * 65 + b"]" * 65, b"[{" * 33 + b"}]" * 33, _objects(65)):
        with pytest.raises(ApiError) as err:
            check_json_depth(deep)
        assert err.value.status == 400 and err.value.data["field"] == "body"
