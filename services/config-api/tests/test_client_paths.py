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


async def test_ivr_routes(api: Api) -> None:
    ivr = await api.create("/api/ivrs", {"name": "menu"})
    other = await api.create("/api/ivrs", {"name": "other"})
    to_ivr = await api.create(
        "/api/routes", _route("to-ivr", "60", dest_type="FS_DEST_IVR", dest_uuid=str(ivr))
    )
    await api.create(
        "/api/routes", _route("to-other", "61", dest_type="FS_DEST_IVR", dest_uuid=str(other))
    )
    await api.create("/api/routes", _route("user", "62", dest_uuid=str(ivr)))  # not an IVR dest
    r = await api.ok("GET", f"/api/ivrs/{ivr}/routes")
    assert r == {"data": [to_ivr]}
    assert r["data"][0]["body"] == "menu" and r["data"][0]["id"] == to_ivr["id"]
    empty = await api.create("/api/ivrs", {"name": "unused"})
    assert await api.ok("GET", f"/api/ivrs/{empty}/routes") == {"data": []}
    assert (await api.get("/api/ivrs/99999/routes")).status_code == 404


async def test_gateway_relevance_info(api: Api) -> None:
    gw = await api.create("/api/gateways", {"name": "gw-a", "realm": "a.example"})
    backup = await api.create("/api/gateways", {"name": "gw-b", "realm": "b.example"})
    ext = await api.create("/api/extensions", {"extn": "1000"})
    assert ext
    primary = await api.create(
        "/api/routes", _route("via-a", "0", dest_type="FS_DEST_GATEWAY", dest_uuid=str(gw))
    )
    pair = await api.create(
        "/api/routes",
        _route("via-b-then-a", "00", dest_type="FS_DEST_GATEWAY", dest_uuid=f"{backup},{gw}"),
    )
    await api.create(
        "/api/routes", _route("via-b", "01", dest_type="FS_DEST_GATEWAY", dest_uuid=str(backup))
    )
    rules = await api.ok(
        "POST",
        "/api/time_recurrence",
        [{"dest_type": "FS_DEST_GATEWAY", "dest_uuid": f"{gw}", "route_id": str(pair["id"]),
          "time_recurrence": "20220502T000000|PT1H|daily||1|MO"}],
    )  # fmt: skip
    dod = await api.create(
        "/api/dods", {"extn": "1000", "line_number": "88001", "type": "GATEWAY", "name": "gw-a"}
    )
    r = await api.ok("GET", f"/api/gateways/relevance_info/{gw}")
    assert (r["code"], r["message"]) == (200, "success")
    assert r["data"] == {
        "routes": [
            {"id": str(primary["id"]), "name": "via-a"},
            {"id": str(pair["id"]), "name": "via-b-then-a"},
        ],
        "time_rules": [{"id": str(rules[0]["id"]), "route_id": str(pair["id"])}],
        "dods": [{"id": str(dod), "line_number": "88001", "extn": "1000"}],
        "distributors": [],
    }
    # the same rows refuse the delete
    r409 = await api.delete(f"/api/gateways/{gw}")
    assert r409.status_code == 409 and "via-a" in r409.text and "88001" in r409.text
    unused = await api.create("/api/gateways", {"name": "gw-c", "realm": "c.example"})
    r = await api.ok("GET", f"/api/gateways/relevance_info/{unused}")
    assert r["data"] == {"routes": [], "time_rules": [], "dods": [], "distributors": []}
    assert (await api.get("/api/gateways/relevance_info/99999")).status_code == 404


async def test_blacklist_download_imports_back(api: Api, db: asyncpg.Pool) -> None:
    rows = [
        {"名称": "vip", "名单类型": "1", "限制用户类型": "2", "描述": "白名单",
         "号码名称": "boss", "起始号码": "13800000000"},
        {"名称": "vip", "名单类型": "1", "限制用户类型": "2", "号码名称": "ops",
         "起始号码": "13900000000"},
        {"名称": "spam", "名单类型": "0", "限制用户类型": "0", "起始号码": "400"},
    ]  # fmt: skip
    await api.ok("POST", "/api/blacklists/import", {"lists": rows})
    await api.create("/api/blacklists", {"name": "empty", "list_type": 0, "limit_user_type": 1})
    sheet = await api.ok("GET", "/api/blacklists/download?language=zh")
    assert sheet == [
        ["名称", "名单类型", "限制用户类型", "描述", "号码名称", "起始号码"],
        ["vip", "1", "2", "白名单", "boss", "13800000000"],
        ["vip", "1", "2", "白名单", "ops", "13900000000"],
        ["spam", "0", "0", "", "", "400"],
        ["empty", "0", "1", "", "", ""],
    ]
    assert sheet == await api.ok("GET", "/api/blacklists/download")
    en = await api.ok("GET", "/api/blacklists/download?language=en&name=spam")
    assert en == [
        ["name", "list_type", "limit_user_type", "description", "k", "v"],
        ["spam", "0", "0", "", "", "400"],
    ]
    # delete everything, import the download (as a spreadsheet reader gives it: empty
    # cells left out), and the same sheet comes back
    for (bid,) in await db.fetch("SELECT id FROM blacklists"):
        await api.ok("DELETE", f"/api/blacklists/{bid}")
    again = [{k: v for k, v in zip(sheet[0], row, strict=True) if v != ""} for row in sheet[1:]]
    await api.ok("POST", "/api/blacklists/import", {"lists": again})
    assert await api.ok("GET", "/api/blacklists/download?language=zh") == sheet
    r = await api.get("/api/blacklists/download?searchField=nope&searchKey=x")
    assert r.status_code == 400 and r.json()["data"]["field"] == "searchField"


async def test_client_paths_need_a_token(api: Api) -> None:
    for method, path in [
        ("POST", "/api/routes"),
        ("POST", "/api/routes/upload"),
        ("GET", "/api/routes/download"),
        ("GET", "/api/ivrs/1/routes"),
        ("GET", "/api/gateways/relevance_info/1"),
        ("GET", "/api/blacklists/download"),
    ]:
        r = await api.client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
