"""Dicts, contexts and routes: the spec's curl examples replayed, and the rules around them."""

from __future__ import annotations

import asyncpg

from .conftest import Api, Notices

ROUTE_KEYS = {
    "id", "name", "description", "prefix", "max_length", "context", "dnc", "sdnc",
    "dest_type", "dest_uuid", "body", "auto_record", "bill_rate", "blacklist",
    "proxy_media", "route_type", "media_codec", "disabled", "cid_number",
    "created_at", "updated_at", "deleted_at",
    # in the spec's create and route-check answers; nothing sets them: always ""
    "outdest_type", "outdest_uuid", "outbody", "work_time",
}  # fmt: skip


async def test_dicts_hold_the_twenty_destination_types(api: Api) -> None:
    body = await api.ok("GET", "/api/dicts?realm=DEST")
    assert isinstance(body, list) and len(body) == 20
    first = body[0]
    assert {"id", "realm", "k", "v", "d", "o", "created_at", "updated_at", "deleted_at"} <= set(
        first
    )
    assert (first["k"], first["v"], first["realm"]) == ("FS_DEST_USER", "USER", "DEST")
    assert {d["k"] for d in body} >= {"FS_DEST_GATEWAY", "FS_DEST_IVR", "FS_DEST_RING_EXTNS"}
    funcs = await api.ok("GET", "/api/dicts?realm=FUNC")
    assert len(funcs) == 18
    assert await api.ok("GET", "/api/dicts?realm=NOPE") == []


async def test_fresh_database_has_context_1(api: Api) -> None:
    body = await api.ok("GET", "/api/contexts")
    assert body["rowCount"] == 1
    ctx = body["data"][0]
    assert (ctx["key"], ctx["id"], ctx["hotline_enabled"]) == ("context-1", 1, "0")
    assert ctx["identifier"] == "context-1"


async def test_context_examples(api: Api, notices: Notices) -> None:
    new_id = await api.create("/api/contexts", {"name": "test", "description": "测试"})
    assert isinstance(new_id, int)
    one = await api.ok("GET", f"/api/contexts/{new_id}")
    assert one["key"] == f"context-{new_id}"
    assert set(one) >= {"key", "hotline_enabled", "name", "created_at", "updated_at",
                        "deleted_at", "domain", "description", "id"}  # fmt: skip
    assert len(one["created_at"]) == 19 and one["deleted_at"] == ""
    r = await api.ok(
        "PUT",
        f"/api/contexts/{new_id}",
        {"description": "For Internal Call", "hotline_enabled": "1"},
    )
    assert r == {"code": 200, "message": "success", "data": str(new_id)}
    one = await api.ok("GET", f"/api/contexts/{new_id}")
    assert (one["description"], one["hotline_enabled"]) == ("For Internal Call", "1")
    subject, notice = await notices.next()
    assert subject.endswith(".config.changed.contexts")
    assert notice["action"] == "create" and notice["ids"] == [new_id]
    r = await api.ok("DELETE", f"/api/contexts/{new_id}")
    assert r == {"code": 200, "message": "success", "data": str(new_id)}
    assert (await api.get(f"/api/contexts/{new_id}")).status_code == 404


async def test_context_with_routes_cannot_be_deleted(api: Api) -> None:
    cid = await api.create("/api/contexts", {"name": "sales"})
    key = f"context-{cid}"
    await api.create(
        "/api/routes",
        {"name": "r1", "max_length": 12, "context": key, "dest_type": "FS_DEST_USER"},
    )
    r = await api.delete(f"/api/contexts/{cid}")
    assert r.status_code == 409
    assert "r1" in r.json()["message"]


async def test_route_create_examples(api: Api, db: asyncpg.Pool) -> None:
    # 临时会议 (instant conference): numbers sent as strings, answered with the route object.
    r = await api.ok(
        "POST",
        "/api/routes",
        {"context": "context-1", "dest_type": "FS_DEST_USER_CONFERENCE", "dest_uuid": "1",
         "max_length": "12", "name": "cccc", "prefix": "5"},
    )  # fmt: skip
    assert (r["code"], r["message"]) == (200, "success")
    route = r["data"]
    assert set(route) >= ROUTE_KEYS
    assert (route["outdest_type"], route["outdest_uuid"], route["outbody"]) == ("", "", "")
    assert route["max_length"] == 12 and route["disabled"] == 0 and route["proxy_media"] == 1
    assert route["route_type"] == 4 and route["bill_rate"] == "0.00"
    got = await api.ok("GET", f"/api/routes/{route['id']}")
    assert got == route


async def test_route_gateway_example_resolves_body(api: Api, db: asyncpg.Pool) -> None:
    gw = await db.fetchval("INSERT INTO gateways (name) VALUES ('example') RETURNING id")
    route = await api.create(
        "/api/routes",
        {"name": "qing", "prefix": "78900", "max_length": "12", "context": "context-1",
         "dest_type": "FS_DEST_GATEWAY", "dest_uuid": str(gw)},
    )  # fmt: skip
    assert route["body"] == "example"
    # a primary,backup pair is accepted; a missing gateway is not
    r = await api.put(f"/api/routes/{route['id']}", {"dest_uuid": f"{gw},{gw}"})
    assert r.status_code == 200
    r = await api.put(f"/api/routes/{route['id']}", {"dest_uuid": f"{gw},999"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "dest_uuid"
    # the gateway cannot go while the route uses it
    r = await api.delete(f"/api/gateways/{gw}")
    assert r.status_code == 409, r.text
    assert r.json()["data"]["field"] == "id" and "qing" in r.json()["message"]
    assert await db.fetchval("SELECT count(*) FROM gateways WHERE id = $1", gw) == 1
    r = await api.delete("/api/routes/999")
    assert r.status_code == 404


async def test_route_update_and_delete_examples(api: Api) -> None:
    route = await api.create(
        "/api/routes",
        {"name": "test", "prefix": "78900", "max_length": 12, "context": "context-1",
         "dest_type": "FS_DEST_USER"},
    )  # fmt: skip
    rid = route["id"]
    r = await api.ok(
        "PUT",
        f"/api/routes/{rid}",
        {"auto_record": "1", "context": "context-1", "description": "test dialplan",
         "dest_type": "FS_DEST_CONFERENCE", "dest_uuid": "2", "max_length": "10",
         "name": "test", "prefix": "32432", "route_type": "4"},
    )  # fmt: skip
    assert r == {"message": "success", "data": str(rid), "code": 200}
    got = await api.ok("GET", f"/api/routes/{rid}")
    assert (got["auto_record"], got["max_length"], got["dest_type"]) == (
        1,
        10,
        "FS_DEST_CONFERENCE",
    )
    r = await api.ok("PUT", f"/api/routes/{rid}", {"action": "toggle"})
    assert (await api.ok("GET", f"/api/routes/{rid}"))["disabled"] == 1
    r = await api.ok("DELETE", f"/api/routes/{rid}")
    assert r == {"message": "success", "code": 200, "data": str(rid)}
    assert (await api.get(f"/api/routes/{rid}")).status_code == 404
    assert (await api.delete(f"/api/routes/{rid}")).status_code == 404


async def test_route_validation_names_the_field_and_writes_nothing(
    api: Api, db: asyncpg.Pool
) -> None:
    base = {"name": "x", "max_length": "11", "context": "context-1", "dest_type": "FS_DEST_USER"}
    cases = [
        ({**base, "name": ""}, "name"),
        ({k: v for k, v in base.items() if k != "max_length"}, "max_length"),
        ({**base, "max_length": "eleven"}, "max_length"),
        ({**base, "dest_type": "FS_DEST_NOPE"}, "dest_type"),
        ({**base, "dest_type": "FS_DEST_IVR"}, "dest_uuid"),
        ({**base, "dest_type": "FS_DEST_IVR", "dest_uuid": "77"}, "dest_uuid"),
        ({**base, "context": "context-404"}, "context"),
        ({**base, "auto_record": "maybe"}, "auto_record"),
        ({**base, "route_type": "9"}, "route_type"),
        ({**base, "blacklist": "5"}, "blacklist"),
    ]
    for body, field in cases:
        r = await api.post("/api/routes", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["data"]["field"] == field, body
        assert r.json()["message"].startswith(field)
    assert await db.fetchval("SELECT count(*) FROM routes") == 0
    assert await db.fetchval("SELECT count(*) FROM config_outbox") == 0


async def test_route_uniqueness(api: Api) -> None:
    base = {"name": "a", "prefix": "1", "max_length": 4, "context": "context-1",
            "dest_type": "FS_DEST_USER"}  # fmt: skip
    await api.create("/api/routes", base)
    r = await api.post("/api/routes", {**base, "prefix": "2"})
    assert r.status_code == 409 and r.json()["data"]["field"] == "name"
    r = await api.post("/api/routes", {**base, "name": "b"})
    assert r.status_code == 409 and r.json()["data"]["field"] == "prefix"
    other = await api.create("/api/contexts", {"name": "other"})
    await api.create("/api/routes", {**base, "name": "b", "context": f"context-{other}"})


async def test_batch_update_only_touches_listed_fields(api: Api) -> None:
    ids = []
    for i in range(3):
        route = await api.create(
            "/api/routes",
            {"name": f"r{i}", "prefix": str(i), "max_length": 5, "context": "context-1",
             "dest_type": "FS_DEST_USER"},
        )  # fmt: skip
        ids.append(route["id"])
    r = await api.ok(
        "PUT",
        "/api/routes",
        {"auto_record": "1", "media_codec": ["PCMU", "PCMA"], "route": [str(ids[0]), str(ids[1])],
         "name": "ignored"},
    )  # fmt: skip
    assert r == {"data": [], "code": 200, "message": "update rows 2"}
    rows = [await api.ok("GET", f"/api/routes/{i}") for i in ids]
    assert [(x["auto_record"], x["media_codec"]) for x in rows] == [
        (1, "PCMU,PCMA"), (1, "PCMU,PCMA"), (0, "")
    ]  # fmt: skip
    assert [x["name"] for x in rows] == ["r0", "r1", "r2"]
    r = await api.put("/api/routes", {"auto_record": "1"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "route"


async def test_route_list_filters_and_number_check(api: Api) -> None:
    specs = [("user", "1", 12, "FS_DEST_USER"), ("long", "1", 4, "FS_DEST_USER"),
             ("l2", "10", 4, "FS_DEST_SYSTEM"), ("nine", "9", 12, "FS_DEST_IP")]  # fmt: skip
    for name, prefix, max_length, dest_type in specs:
        await api.create(
            "/api/routes",
            {"name": name, "prefix": prefix, "max_length": max_length, "context": "context-1",
             "dest_type": dest_type,
             # an application line for SYSTEM (the allowlist), a host for IP
             "body": {"FS_DEST_SYSTEM": "answer", "FS_DEST_IP": "x"}.get(dest_type, "")},
        )  # fmt: skip
    body = await api.ok("GET", "/api/routes")
    assert (body["page"], body["rowCount"], body["pageCount"]) == (1, 4, 1)
    assert [r["name"] for r in body["data"]] == ["user", "long", "l2", "nine"]
    # destNumber: smallest max_length first, then the longest prefix
    check = await api.ok("GET", "/api/routes?destNumber=1001&context=context-1")
    assert [r["name"] for r in check["data"]] == ["l2"]
    assert set(check["data"][0]) >= ROUTE_KEYS
    check = await api.ok("GET", "/api/routes?destNumber=15666&context=context-1")
    assert [r["name"] for r in check["data"]] == ["user"]
    check = await api.ok("GET", "/api/routes?destNumber=8&context=context-1")
    assert check["data"] == [] and check["rowCount"] == 0
    typed = await api.ok("GET", "/api/routes?destType=FS_DEST_USER&context=context-1")
    assert [r["name"] for r in typed["data"]] == ["user", "long"]
    paged = await api.ok("GET", "/api/routes?page=2&perPage=3&sortField=name&sortOrder=desc")
    assert [r["name"] for r in paged["data"]] == ["l2"]
    found = await api.ok("GET", "/api/routes?searchField=name&searchKey=LON")
    assert [r["name"] for r in found["data"]] == ["long"]


async def test_route_params_examples(api: Api) -> None:
    route = await api.create(
        "/api/routes",
        {"name": "p", "max_length": 12, "context": "context-1", "dest_type": "FS_DEST_USER"},
    )
    rid = route["id"]
    r = await api.ok("POST", f"/api/routes/{rid}/params", {"k": "set", "v": "a=2222"})
    pid = r["data"]
    assert isinstance(pid, int) and (r["code"], r["message"]) == (200, "success")
    listed = await api.ok("GET", f"/api/routes/{rid}/params")
    assert len(listed) == 1
    assert set(listed[0]) >= {"id", "k", "v", "realm", "ref_id", "disabled", "o",
                              "created_at", "updated_at", "deleted_at"}  # fmt: skip
    assert (listed[0]["realm"], listed[0]["ref_id"], listed[0]["disabled"]) == ("ROUTE", rid, 0)
    r = await api.ok("PUT", f"/api/routes/{rid}/params/{pid}", {"k": "set", "v": "a=3333"})
    assert r["data"]["v"] == "a=3333" and r["data"]["realm"] == "ROUTE"
    r = await api.ok("PUT", f"/api/routes/{rid}/params", {"k": "set", "v": "a=4", "id": pid})
    assert r["data"]["v"] == "a=4"
    # the spec's curl: no id, the route's only param with that k
    r = await api.ok("PUT", f"/api/routes/{rid}/params", {"k": "set", "v": "a=3333"})
    assert (r["data"]["id"], r["data"]["v"]) == (pid, "a=3333")
    r = await api.put(f"/api/routes/{rid}/params", {"k": "export", "v": "b=1"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "id"
    r = await api.put(f"/api/routes/{rid}/params/{pid}", {"value": "a=5"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "body"
    other = await api.create(f"/api/routes/{rid}/params", {"k": "set", "v": "b=1"})
    r = await api.put(f"/api/routes/{rid}/params", {"k": "set", "v": "a=4"})
    assert r.status_code == 400 and "2 rows have k 'set'" in r.json()["message"]
    await api.ok("DELETE", f"/api/routes/{rid}/param/{other}")
    r = await api.ok("PUT", f"/api/routes/{rid}/params", {"k": "set", "v": "a=4"})
    assert r["data"]["id"] == pid
    with_params = await api.ok("GET", f"/api/routes/{rid}?with_params=true")
    assert [p["v"] for p in with_params["params"]] == ["a=4"]
    r = await api.ok("DELETE", f"/api/routes/{rid}/param/{pid}")
    assert r == {"message": "success", "data": 1, "code": 200}
    assert (await api.delete(f"/api/routes/{rid}/param/{pid}")).status_code == 404
    assert (await api.get("/api/routes/999/params")).status_code == 404
    r = await api.post(f"/api/routes/{rid}/params", {"v": "x"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "k"


async def test_writes_are_authenticated_and_logged(api: Api, db: asyncpg.Pool) -> None:
    r = await api.client.post("/api/contexts", json={"name": "nope"})
    assert r.status_code == 401
    await api.create("/api/contexts", {"name": "logged"})
    row = await db.fetchrow("SELECT resource, action FROM operation_logs")
    assert tuple(row) == ("contexts", "create")
