# ruff: noqa: E501  (the spec's example bodies, kept on one line each)
"""Blacklists, func codes, blocks, trunks, trunk groups, route codes, hotlines and DODs."""

from __future__ import annotations

import asyncpg

from .conftest import Api


async def test_blacklist_examples(api: Api, db: asyncpg.Pool) -> None:
    bid = await api.create(
        "/api/blacklists",
        {"name": "test", "description": "test", "limit_user_type": "1", "list_type": "1"},
    )
    one = await api.ok("GET", f"/api/blacklists/{bid}")
    assert (one["id"], one["list_type"], one["limit_user_type"]) == (str(bid), "1", "1")
    nid = await api.create(f"/api/blacklists/{bid}/lists", {"k": "test", "v": "test"})
    r = await api.ok("POST", f"/api/blacklists/{bid}/import",
                     {"data": [{"k": "lili", "v": "1008"}, {"k": "lisi", "v": "1009"}, {"k": "1012", "v": "1012"}]})  # fmt: skip
    assert [(x["k"], x["v"], x["realm"], x["ref_id"]) for x in r["data"]] == [
        ("lili", "1008", "BLACKLIST", bid), ("lisi", "1009", "BLACKLIST", bid), ("1012", "1012", "BLACKLIST", bid)
    ]  # fmt: skip
    r = await api.ok("PUT", f"/api/blacklists/{bid}/lists/{nid}", {"k": "test", "v": "1008"})
    assert r == {"message": "success", "data": str(nid), "code": 200}
    first, second = r_ids = [
        x["id"] for x in (await api.ok("GET", f"/api/blacklists/{bid}"))["params"][1:3]
    ]
    assert len(r_ids) == 2
    r = await api.ok("PUT", f"/api/blacklists/{bid}/multimodify",
                     {"data": [{"k": "xiaoyang", "v": "1003", "id": first}, {"k": "xiaoyang1", "v": "1004", "id": second}]})  # fmt: skip
    assert (r["data"]["id"], r["data"]["v"], r["data"]["realm"]) == (second, "1004", "BLACKLIST")
    # the spec's curl example omits the ids: a k that exactly one number has names it;
    # no number is called lili any more: refused, naming the row, nothing changed
    r = await api.put(f"/api/blacklists/{bid}/multimodify",
                      {"data": [{"k": "xiaoyang", "v": "1005"}, {"k": "lili", "v": "1001"}]})  # fmt: skip
    assert r.status_code == 400 and r.json()["data"]["field"] == "data[1].id"
    assert "no row has k 'lili'" in r.json()["message"]
    assert await db.fetchval("SELECT v FROM blacklist_numbers WHERE id = $1", first) == "1003"
    r = await api.ok("PUT", f"/api/blacklists/{bid}/multimodify",
                     {"data": [{"k": "xiaoyang", "v": "1005"}, {"k": "1012", "v": "1013"}]})  # fmt: skip
    assert (r["data"]["k"], r["data"]["v"]) == ("1012", "1013")
    assert await db.fetchval("SELECT v FROM blacklist_numbers WHERE id = $1", first) == "1005"
    await api.create(f"/api/blacklists/{bid}/lists", {"k": "1012", "v": "1014"})
    r = await api.put(f"/api/blacklists/{bid}/multimodify", {"data": [{"k": "1012", "v": "9"}]})
    assert r.status_code == 400 and "2 rows have k '1012'" in r.json()["message"]
    r = await api.ok("PUT", f"/api/blacklists/{bid}", {"name": "test01", "id": "2", "limit_user_type": "1",
                                                      "list_type": "1", "description": "test01"})  # fmt: skip
    assert r["data"] == str(bid)
    r = await api.ok("DELETE", f"/api/blacklists/{bid}/lists/{nid}")
    assert r["data"] == str(nid)
    r = await api.ok("DELETE", f"/api/blacklists/{bid}")
    assert r == {"data": str(bid), "code": 200, "message": "success"}
    assert await db.fetchval("SELECT count(*) FROM blacklist_numbers") == 0


async def test_blacklist_excel_import_is_all_or_nothing(api: Api, db: asyncpg.Pool) -> None:
    rows = [
        {
            "名称": "import_1",
            "名单类型": 1,
            "限制用户类型": 1,
            "号码名称": "hello",
            "起始号码": "123",
        },
        {
            "名称": "import_1",
            "名单类型": 1,
            "限制用户类型": 1,
            "号码名称": "hello1",
            "起始号码": "12345",
        },
    ]
    bad = [*rows, {"名称": "import_2", "名单类型": 7, "限制用户类型": 1, "起始号码": "9"}]
    r = await api.post("/api/blacklists/import", {"lists": bad})
    assert r.status_code == 400
    assert r.json()["data"]["row"] == 2 and r.json()["data"]["field"] == "lists[2].list_type"
    assert await db.fetchval("SELECT count(*) FROM blacklists") == 0
    assert await db.fetchval("SELECT count(*) FROM blacklist_numbers") == 0
    r = await api.ok("POST", "/api/blacklists/import", {"lists": rows})
    assert [(x["name"], x["list_type"], x["limit_user_type"]) for x in r["data"]] == [
        ("import_1", 1, 1)
    ]
    assert await db.fetchval("SELECT count(*) FROM blacklist_numbers") == 2


async def test_func_code_examples(api: Api) -> None:
    fid = await api.create(
        "/api/func_code",
        {"func_code": "*123", "func_type": "FS_DEST_FUNC_CALL_FORWARDING", "description": "test"},
    )
    r = await api.ok("PUT", f"/api/func_code/{fid}", {"action": "toggle"})
    assert r == {"code": 200, "data": str(fid), "message": "success"}
    assert (await api.ok("GET", f"/api/func_code/{fid}"))["disabled"] == 1
    await api.ok(
        "PUT",
        f"/api/func_code/{fid}",
        {"func_code": "*1234", "func_type": "FS_DEST_MCASTS", "description": "test1"},
    )
    one = await api.ok("GET", f"/api/func_code/{fid}")
    assert (one["func_code"], one["func_type"], one["disabled"]) == ("*1234", "FS_DEST_MCASTS", 1)
    r = await api.put(f"/api/func_code/{fid}", {"func_type": "FS_DEST_NOPE"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "func_type"
    r = await api.post("/api/func_code", {"func_code": "*1234", "func_type": "FS_DEST_MCASTS"})
    assert r.status_code == 409 and r.json()["data"]["field"] == "func_code"
    assert (await api.ok("GET", "/api/func_code"))["rowCount"] == 1
    assert (await api.ok("DELETE", f"/api/func_code/{fid}"))["data"] == str(fid)


async def test_blocks_examples(api: Api) -> None:
    bid = await api.create("/api/blocks", {"name": "test", "description": "test"})
    listed = await api.ok("GET", "/api/blocks")
    assert listed["data"][0]["id"] == str(bid) and listed["data"][0]["xml"] == ""
    r = await api.ok("PUT", f"/api/blocks/{bid}", {"name": "test", "description": "test"})
    assert r["data"] == str(bid)
    assert (await api.ok("DELETE", f"/api/blocks/{bid}"))["data"] == str(bid)


async def test_trunk_and_group_examples(api: Api, db: asyncpg.Pool) -> None:
    r = await api.ok("POST", "/api/trunks", {"name": "trunk_111", "description": "123", "remote_addr": "1.2.3.4",
                     "local_addr": "5.5.5.5", "type": "INOUT", "protocol": "UDP", "source": "context-2"})  # fmt: skip
    tid = r["data"]
    assert isinstance(tid, str)
    one = await api.ok("GET", f"/api/trunks/{tid}")
    assert (one["enabled"], one["register"], one["trunk_groups"], one["params"]) == (
        True,
        False,
        [],
        "",
    )
    r = await api.ok("PUT", f"/api/trunks/{tid}", {"name": "trunk_111", "description": "12355", "local_addr": "5.5.5.5",
                     "remote_addr": "1.2.3.4", "type": "INOUT", "protocol": "UDP"})  # fmt: skip
    assert r["data"] == tid
    rows = [{"中继名称": "trunk_import", "描述": "import desc", "类型": "INOUT", "本地地址": "", "远端地址": "1.2.3.4:9999",
             "协议": "UDP", "是否注册": "f", "呼叫源": "code:from", "是否启用": "t", "参数": "{}"}]  # fmt: skip
    r = await api.post("/api/trunks/import", {"trunks": [*rows, {"中继名称": "trunk_111"}]})
    assert r.status_code == 409 and r.json()["data"]["row"] == 1
    assert await db.fetchval("SELECT count(*) FROM trunks") == 1
    r = await api.ok("POST", "/api/trunks/import", {"trunks": rows})
    assert (r["data"][0]["name"], r["data"][0]["register"], r["data"][0]["enabled"]) == (
        "trunk_import",
        False,
        True,
    )
    listed = await api.ok(
        "GET",
        "/api/trunks?page=1&perPage=1&sortField=name&sortOrder=desc&searchField=name&searchKey=trunk",
    )
    assert (listed["rowCount"], listed["pageCount"], listed["data"][0]["name"]) == (
        2,
        2,
        "trunk_import",
    )

    r = await api.ok(
        "POST", "/api/trunk_groups", {"name": "t_group9", "description": "desc", "strategy": "RR"}
    )
    gid = r["data"]
    assert isinstance(gid, str)
    r = await api.ok("PUT", f"/api/trunk_groups/{gid}",
                     {"name": "trunk goup2", "description": "ggg", "strategy": "WEIGHT", "id": "22"})  # fmt: skip
    assert r == {"id": gid}
    code = await api.create(
        "/api/route_codes", {"code": "code1", "description": "desc1", "tg_id": gid}
    )
    assert code == "1" or code.isdigit()
    group = await api.ok("GET", f"/api/trunk_groups/{gid}")
    assert [c["code"] for c in group["route_codes"]] == ["code1"]
    r = await api.post("/api/route_codes", {"code": "toolongcode", "tg_id": gid})
    assert r.status_code == 400 and r.json()["data"]["field"] == "code"
    r = await api.post("/api/route_codes", {"code": "c2", "tg_id": "999"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "tg_id"
    r = await api.ok(
        "PUT", f"/api/route_codes/{code}", {"code": "testcode", "description": "test", "tg_id": gid}
    )
    assert r["data"] == code
    codes = await api.ok("GET", "/api/route_codes?perPage=10&page=1")
    assert set(codes["data"][0]) >= {"code", "description", "id", "tg_id"}
    assert (await api.delete(f"/api/trunk_groups/{gid}")).status_code == 409
    await api.create("/api/route_codes", {"code": "c3", "tg_id": gid})
    r = await api.ok("DELETE", "/api/route_codes")
    assert r["data"] == "2"
    assert (await api.ok("DELETE", f"/api/trunk_groups/{gid}"))["data"] == gid
    assert (await api.ok("DELETE", f"/api/trunks/{tid}"))["data"] == tid


async def test_hotline_examples(api: Api) -> None:
    hid = await api.create("/api/hotlines", {"numbers": "1005", "line_number": "6553998"})
    await api.create("/api/hotlines", {"numbers": "1001", "line_number": "6753997"})
    r = await api.ok("PUT", f"/api/hotlines/{hid}", {"numbers": "1009", "line_number": "6553998"})
    assert r["data"] == str(hid)
    by_ext = await api.ok("GET", "/api/hotlines?numbers=1001")
    assert [h["line_number"] for h in by_ext["data"]] == ["6753997"]
    by_line = await api.ok("GET", "/api/hotlines?page=1&perPage=10&line_number=6553998")
    assert [h["numbers"] for h in by_line["data"]] == ["1009"]
    assert by_line["data"][0]["id"] == str(hid)
    r = await api.post("/api/hotlines", {"numbers": "1", "line_number": "6553998"})
    assert r.status_code == 409
    assert (await api.ok("DELETE", f"/api/hotlines/{hid}"))["data"] == str(hid)


async def test_dod_examples_resolve_extension_and_gateway(api: Api, db: asyncpg.Pool) -> None:
    for n in ("1000", "1001", "1005"):
        await api.create("/api/extensions", {"extn": n, "password": "secret-pass"})
    gw = await api.create("/api/gateways", {"name": "example"})
    await api.create("/api/gateways", {"name": "gw2"})
    did = await api.create(
        "/api/dods",
        {"type": "GATEWAY", "extn": "1005", "line_number": "6553998", "name": "example"},
    )
    one = await api.ok("GET", f"/api/dods/{did}")
    assert (one["extn"], one["ref_id"], one["name"], one["type"]) == (
        "1005",
        str(gw),
        "example",
        "GATEWAY",
    )
    r = await api.ok("PUT", f"/api/dods/{did}", {"name": "gw2"})
    assert r["data"] == str(did)
    assert (await api.ok("GET", f"/api/dods/{did}"))["name"] == "gw2"
    r = await api.post(
        "/api/dods", {"type": "GATEWAY", "extn": "1009", "line_number": "1", "name": "example"}
    )
    assert r.status_code == 400 and r.json()["data"]["field"] == "extn"
    r = await api.post(
        "/api/dods", {"type": "GATEWAY", "extn": "1000", "line_number": "1", "name": "nope"}
    )
    assert r.status_code == 400 and r.json()["data"]["field"] == "name"
    rows = [{"分机": "1001", "线路号码": "12345688", "资源类型": "GATEWAY", "资源名": "example"},
            {"分机": "1000", "线路号码": "56799999", "资源类型": "GATEWAY", "资源名": "example"}]  # fmt: skip
    r = await api.post(
        "/api/dods/import",
        {
            "dods": [
                *rows,
                {"分机": "1005", "线路号码": "1", "资源类型": "GATEWAY", "资源名": "example"},
            ]
        },
    )
    assert r.status_code == 409 and r.json()["data"]["row"] == 2
    assert await db.fetchval("SELECT count(*) FROM dods") == 1
    r = await api.ok("POST", "/api/dods/import", {"dods": rows})
    assert [(d["extn"], d["ref_id"], d["name"]) for d in r["data"]] == [
        ("1001", gw, "example"),
        ("1000", gw, "example"),
    ]
    by_ext = await api.ok("GET", "/api/dods?extn=1001")
    assert [d["line_number"] for d in by_ext["data"]] == ["12345688"]
    by_line = await api.ok("GET", "/api/dods?page=1&perPage=10&line_number=56799999")
    assert [d["extn"] for d in by_line["data"]] == ["1000"]
    assert (await api.delete(f"/api/gateways/{gw}")).status_code == 409
    assert (await api.ok("DELETE", f"/api/dods/{did}"))["data"] == str(did)
    ext = await api.ok("GET", "/api/extensions?extn=1000")
    assert ext["data"][0]["password"] == "******"
    assert "secret-pass" not in (await api.get("/api/extensions")).text


async def test_extension_call_authority_is_lenient_in_numeric_out(api: Api) -> None:
    ext = await api.create("/api/extensions", {"extn": "1000"})
    assert (await api.ok("GET", f"/api/extensions/{ext}"))["call_authority"] == 4
    await api.ok("PUT", f"/api/extensions/{ext}", {"call_authority": "2"})
    assert (await api.ok("GET", f"/api/extensions/{ext}"))["call_authority"] == 2
    made = await api.create("/api/extensions", {"extn": "1001", "call_authority": 0})
    assert (await api.ok("GET", f"/api/extensions/{made}"))["call_authority"] == 0
    for bad in ("5", -1, "x"):
        r = await api.put(f"/api/extensions/{ext}", {"call_authority": bad})
        assert r.status_code == 400 and r.json()["data"]["field"] == "call_authority", bad
    assert (await api.ok("GET", f"/api/extensions/{ext}"))["call_authority"] == 2


async def test_trunk_routes_name_a_stored_trunk_when_they_name_one(
    api: Api, db: asyncpg.Pool
) -> None:
    # FS_DEST_TRUNK_* and FS_DEST_TRUNK_GROUP_* route through a trunk (group)
    # id like the spec's CLUSTER_TRUNK types. The spec does not make it
    # required and XSwitch's own client sends none, so an empty one is taken
    # (the engine then explains that no trunk was chosen); a wrong one is not.
    tid = (await api.ok("POST", "/api/trunks", {"name": "core", "remote_addr": "10.0.0.9"}))["data"]
    gid = (await api.ok("POST", "/api/trunk_groups", {"name": "cores", "strategy": "RR"}))["data"]
    base = {"name": "t", "prefix": "9", "max_length": 12, "context": "context-1"}
    for n, (dest_type, good) in enumerate(
        [("FS_DEST_TRUNK_OUT", tid), ("FS_DEST_TRUNK_IN", tid),
         ("FS_DEST_TRUNK_GROUP_OUT", gid), ("FS_DEST_TRUNK_GROUP_IN", gid)]
    ):  # fmt: skip
        for uuid in ["abc", "999"]:
            r = await api.post("/api/routes", {**base, "dest_type": dest_type, "dest_uuid": uuid})
            assert r.status_code == 400, (dest_type, uuid, r.text)
            assert r.json()["data"]["field"] == "dest_uuid"
        assert await db.fetchval("SELECT count(*) FROM routes") == 2 * n
        route = await api.create(
            "/api/routes",
            {
                **base,
                "name": dest_type,
                "prefix": f"9{n}",
                "dest_type": dest_type,
                "dest_uuid": good,
            },
        )
        assert route["body"] == ("core" if "GROUP" not in dest_type else "cores")
        as_cp_sends = {**base, "name": f"{dest_type}-cp", "prefix": f"8{n}"}
        route = await api.create("/api/routes", {**as_cp_sends, "dest_type": dest_type})
        assert (route["dest_uuid"], route["body"]) == ("", "")
    # A time rule's destination is checked the same way.
    rid = await db.fetchval("SELECT min(id) FROM routes")
    rule = {"route_id": str(rid), "time_recurrence": "20200101T200000|PT10H|daily",
            "dest_type": "FS_DEST_TRUNK_OUT", "dest_uuid": "999"}  # fmt: skip
    r = await api.post("/api/time_recurrence", [rule])
    assert r.status_code == 400 and r.json()["data"]["field"] == "body[0].dest_uuid"
    # The trunk and the group cannot go while routes use them.
    r = await api.delete(f"/api/trunks/{tid}")
    assert r.status_code == 409 and "FS_DEST_TRUNK_OUT" in r.json()["message"], r.text
    r = await api.delete(f"/api/trunk_groups/{gid}")
    assert r.status_code == 409 and "FS_DEST_TRUNK_GROUP_IN" in r.json()["message"], r.text
