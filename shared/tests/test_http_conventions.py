from __future__ import annotations

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

Client = AsyncTestClient  # type: ignore[type-arg]


@pytest.fixture
def auth(api_token: str) -> dict[str, str]:
    return {"X-XTRA-AUTH-ID": api_token}


async def _seed(db: asyncpg.Pool, n: int) -> None:
    await db.executemany(
        "INSERT INTO things (name, max_length) VALUES ($1, $2)",
        [(f"thing-{i:02d}", i % 5) for i in range(n)],
    )


async def test_a_list_is_paged_in_the_xswitch_envelope(
    client: Client, db: asyncpg.Pool, auth: dict[str, str]
) -> None:
    await _seed(db, 25)
    r = await client.get("/api/things?page=2&perPage=10", headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert (body["page"], body["pageCount"], body["rowCount"]) == (2, 3, 25)
    assert [t["name"] for t in body["data"]] == [f"thing-{i:02d}" for i in range(10, 20)]

    last = (await client.get("/api/things?page=3&page_size=10", headers=auth)).json()
    assert len(last["data"]) == 5
    beyond = (await client.get("/api/things?page=9&pageSize=10", headers=auth)).json()
    assert (beyond["rowCount"], beyond["data"]) == (25, [])


async def test_sorting_is_stable_and_whitelisted(
    client: Client, db: asyncpg.Pool, auth: dict[str, str]
) -> None:
    await _seed(db, 10)
    body = (
        await client.get("/api/things?sortField=max_length&sortOrder=desc&perPage=50", headers=auth)
    ).json()
    keys = [(t["max_length"], t["id"]) for t in body["data"]]
    assert keys == sorted(keys, reverse=True)

    r = await client.get("/api/things?sortField=name;DROP TABLE things", headers=auth)
    assert r.status_code == 400
    assert r.json()["data"]["field"] == "sortField"
    assert await db.fetchval("SELECT count(*) FROM things") == 10


async def test_search_matches_literally(
    client: Client, db: asyncpg.Pool, auth: dict[str, str]
) -> None:
    await db.executemany(
        "INSERT INTO things (name) VALUES ($1)", [("100%",), ("1000",), ("a_b",), ("axb",)]
    )
    hits = (await client.get("/api/things?searchField=name&searchKey=0%", headers=auth)).json()
    assert [t["name"] for t in hits["data"]] == ["100%"]
    hits = (await client.get("/api/things?searchField=name&searchKey=a_", headers=auth)).json()
    assert [t["name"] for t in hits["data"]] == ["a_b"]
    r = await client.get("/api/things?searchField=password&searchKey=x", headers=auth)
    assert r.status_code == 400


async def test_bad_paging_parameters_are_400_naming_the_parameter(
    client: Client, auth: dict[str, str]
) -> None:
    for query, field in [
        ("page=0", "page"),
        ("perPage=ten", "perPage"),
        ("sortOrder=up", "sortOrder"),
    ]:
        r = await client.get(f"/api/things?{query}", headers=auth)
        assert r.status_code == 400, query
        assert r.json()["data"]["field"] == field


async def test_create_answers_the_envelope_and_accepts_numbers_as_strings(
    client: Client, auth: dict[str, str]
) -> None:
    # The spec's own curl sends JSON with curl's default form content type.
    r = await client.post(
        "/api/things",
        content=b'{"name": "a", "max_length": "11", "dest_uuid": 7, "disabled": "1"}',
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == 200 and body["message"] == "success"
    thing = (await client.get(f"/api/things/{body['data']}", headers=auth)).json()
    assert (thing["max_length"], thing["dest_uuid"], thing["disabled"]) == (11, "7", True)


async def test_a_form_body_is_understood(client: Client, auth: dict[str, str]) -> None:
    r = await client.post("/api/things", data={"name": "f", "max_length": "3"}, headers=auth)
    assert r.status_code == 200
    thing = (await client.get(f"/api/things/{r.json()['data']}", headers=auth)).json()
    assert thing["max_length"] == 3


async def test_bad_input_is_400_naming_the_field_and_nothing_is_written(
    client: Client, db: asyncpg.Pool, auth: dict[str, str]
) -> None:
    cases = [
        (b'{"name": "a", "max_length": "eleven"}', "max_length"),
        (b'{"max_length": 3}', "body"),
        (b'{"name": "a",', "body"),
    ]
    for content, field in cases:
        r = await client.post(
            "/api/things", content=content, headers={**auth, "Content-Type": "application/json"}
        )
        assert r.status_code == 400, content
        body = r.json()
        assert body["code"] == 400
        assert body["data"]["field"] == field
        assert field in body["message"]
    r = await client.post("/api/things", content=b'{"max_length": 3}', headers=auth)
    assert "name" in r.json()["message"]
    assert await db.fetchval("SELECT count(*) FROM things") == 0


async def test_not_found_is_404_with_the_error_body(client: Client, auth: dict[str, str]) -> None:
    for r in [
        await client.get("/api/things/999", headers=auth),
        await client.delete("/api/things/999", headers=auth),
        await client.get("/api/nothing-here", headers=auth),
    ]:
        assert r.status_code == 404
        assert r.json() == {"code": 404, "message": "not found", "data": {}}


async def test_every_successful_write_lands_in_the_operation_log(
    client: Client, db: asyncpg.Pool, auth: dict[str, str]
) -> None:
    new_id = (await client.post("/api/things", json={"name": "x"}, headers=auth)).json()["data"]
    await client.delete(f"/api/things/{new_id}", headers=auth)
    await client.post("/api/things", json={"max_length": 1}, headers=auth)  # 400: not logged
    await client.get("/api/things", headers=auth)  # a read: not logged
    rows = await db.fetch(
        "SELECT operator, ip, resource, action, method, path FROM operation_logs ORDER BY id"
    )
    assert [(r["operator"], r["resource"], r["action"], r["path"]) for r in rows] == [
        ("token:pytest", "things", "create", "/api/things"),
        ("token:pytest", "things", "delete", f"/api/things/{new_id}"),
    ]
    assert all(r["ip"] for r in rows)


async def test_openapi_is_generated_from_the_handlers(client: Client) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert "/api/things" in r.json()["paths"]
