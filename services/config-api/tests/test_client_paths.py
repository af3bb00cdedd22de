"""Paths real XSwitch clients call beyond the spec files
(../shared/reference/xswitch-clients-observed.md): route bulk create, upload
and download, IVR routes, gateway relevance, blacklist download."""

from __future__ import annotations

import asyncpg

from .conftest import Api


def _route(name: str, prefix: str, **extra: object) -> dict[str, object]:
    return {"name": name, "prefix": prefix, "max_length": "12", "context": "context-1",
            "dest_type": "FS_DEST_USER", **extra}  # fmt: skip


async def test_post_routes_array_is_a_bulk_insert(api: Api, db: asyncpg.Pool) -> None:
    r = await api.ok("POST", "/api/routes", [_route("b1", "71"), _route("b2", "72")])
    assert (r["code"], r["message"]) == (200, "success")
    assert [x["name"] for x in r["data"]] == ["b1", "b2"]
    assert r["data"][0]["max_length"] == 12 and isinstance(r["data"][0]["id"], int)
    assert await db.fetchval("SELECT count(*) FROM routes WHERE name IN ('b1', 'b2')") == 2
    # all or nothing: the second row's bad dest_type names it, and b3 is not written
    r = await api.post(
        "/api/routes", [_route("b3", "73"), _route("b4", "74", dest_type="FS_DEST_NOPE")]
    )
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {
        "field": "routes[1].dest_type",
        "reason": "unknown destination type 'FS_DEST_NOPE'",
        "row": 1,
    }
    assert await db.fetchval("SELECT count(*) FROM routes WHERE name = 'b3'") == 0
    r = await api.post("/api/routes", [_route("b5", "75"), "x"])
    assert r.status_code == 400 and r.json()["data"]["field"] == "routes[1]"
    r = await api.post("/api/routes", [_route("b6", "76"), _route("b1", "77")])
    assert r.status_code == 409 and r.json()["data"]["field"].startswith("routes[1]")
    r = await api.post("/api/routes", [])
    assert r.status_code == 400 and r.json()["data"]["field"] == "routes"
    # a single object is still a plain create
    one = await api.create("/api/routes", _route("b7", "78"))
    assert one["name"] == "b7"


async def test_routes_upload_and_download_round_trip(api: Api, db: asyncpg.Pool) -> None:
    r = await api.ok(
        "POST",
        "/api/routes/upload",
        {"routes": [
            {"名称": "u1", "被叫前缀": "81", "最大号长": "8", "呼叫源": "context-1",
             "目的地类型": "FS_DEST_USER", "描述": "上传"},
            _route("u2", "82", disabled="1"),
        ]},
    )  # fmt: skip
    assert (r["code"], r["message"]) == (200, "success")
    assert [x["name"] for x in r["data"]["data"]] == ["u1", "u2"]
    u1 = r["data"]["data"][0]
    assert (u1["max_length"], u1["description"], u1["prefix"]) == (8, "上传", "81")

    sheet = await api.ok("GET", "/api/routes/download?language=zh&type=All%20Route")
    header = sheet[0]
    assert header[:6] == ["ID", "名称", "描述", "呼叫源", "被叫前缀", "最大号长"]
    assert "目的地类型" in header and "禁用" in header
    rows = {row[1]: dict(zip(header, row, strict=True)) for row in sheet[1:]}
    assert set(rows) == {"u1", "u2"}
    assert rows["u1"]["ID"] == u1["id"] and rows["u2"]["禁用"] == 1
    assert rows["u1"]["目的地类型"] == "FS_DEST_USER"

    en = await api.ok("GET", "/api/routes/download?language=en&name=u2")
    assert en[0][:3] == ["id", "name", "description"]
    assert [row[1] for row in en[1:]] == ["u2"]
    # the list's filters and sort apply
    desc = await api.ok("GET", "/api/routes/download?sortField=name&sortOrder=desc")
    assert [row[1] for row in desc[1:]] == ["u2", "u1"]
    r = await api.get("/api/routes/download?sortField=nope")
    assert r.status_code == 400 and r.json()["data"]["field"] == "sortField"

    # what was downloaded uploads back (under new names, ids ignored)
    again = [dict(zip(header, row, strict=True)) for row in sheet[1:]]
    for row in again:
        row["名称"] = f"{row['名称']}-copy"
        row["被叫前缀"] = f"9{row['被叫前缀']}"
    r = await api.ok("POST", "/api/routes/upload", {"routes": again})
    assert sorted(x["name"] for x in r["data"]["data"]) == ["u1-copy", "u2-copy"]
    assert all(x["id"] not in (u1["id"],) for x in r["data"]["data"])

    # all or nothing, the bad row named by index and field
    r = await api.post(
        "/api/routes/upload",
        {"routes": [_route("u3", "83"), {"名称": "u4", "呼叫源": "context-1",
                                         "目的地类型": "FS_DEST_USER", "最大号长": "x"}]},
    )  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["data"]["field"] == "routes[1].max_length"
    assert await db.fetchval("SELECT count(*) FROM routes WHERE name = 'u3'") == 0
    r = await api.post("/api/routes/upload", {"routes": []})
    assert r.status_code == 400 and r.json()["data"]["field"] == "routes"
    r = await api.post("/api/routes/upload", {"rows": [_route("u5", "85")]})
    assert r.status_code == 400 and r.json()["data"]["field"] == "routes"


async def test_client_paths_need_a_token(api: Api) -> None:
    for method, path in [
        ("POST", "/api/routes/upload"),
        ("GET", "/api/routes/download"),
    ]:
        r = await api.client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
