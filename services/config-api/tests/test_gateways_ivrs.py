# ruff: noqa: E501  (the spec's example bodies, kept on one line each)
"""Gateways (+params, variables), IVRs (+actions): the spec's curl examples replayed."""

from __future__ import annotations

import asyncpg

from .conftest import Api, Notices

MEDIA = (
    '{"media_id":217,"media_path":"/usr/local/freeswitch/storage/upload/x.wav",'
    '"media_type":"UPLOAD"}'
)


async def test_gateway_examples_and_password_masking(api: Api, db: asyncpg.Pool) -> None:
    gid = await api.create(
        "/api/gateways",
        {"name": "test123", "realm": "192.168.1.100:7000", "username": "test",
         "password": "$VeryGoodPassw0rd", "description": "", "profile_id": "1",
         "register": "yes", "template": "default"},
    )  # fmt: skip
    assert isinstance(gid, int)
    r = await api.ok(
        "PUT",
        f"/api/gateways/{gid}",
        {"realm": "192.168.1.100:7000", "username": "1005", "password": "$VeryGoodPassw0rd"},
    )
    assert r == {"data": str(gid), "code": 200, "message": "success"}
    listed = await api.ok("GET", "/api/gateways")
    gw = listed["data"][0]
    assert (gw["id"], gw["profile_id"], gw["register"], gw["username"]) == (
        str(gid),
        "1",
        "yes",
        "1005",
    )
    assert gw["password"] == "******"
    # a GET-edit-PUT round trip keeps the real password
    await api.ok("PUT", f"/api/gateways/{gid}", {**gw, "description": "edited"})
    assert await db.fetchval("SELECT password FROM gateways") == "$VeryGoodPassw0rd"

    pid = await api.create(
        f"/api/gateways/{gid}/params", {"k": "auth-username", "v": "cluecon", "disabled": "0"}
    )
    r = await api.ok(
        "PUT", f"/api/gateways/{gid}/params/{pid}", {"k": "auth-username", "v": "clueconn"}
    )
    assert r["data"]["v"] == "clueconn" and r["data"]["realm"] == "GATEWAY"
    assert r["data"]["ref_id"] == gid and r["data"]["disabled"] == 0
    vid = await api.create(
        f"/api/gateways/{gid}/variables",
        {"k": "test", "v": "xyt", "disabled": "0", "direction": "inbound"},
    )
    vid2 = await api.create(
        f"/api/gateways/{gid}/variables",
        {"k": "test_var", "v": "xui", "disabled": "0", "direction": "1"},
    )
    r = await api.ok("PUT", f"/api/gateways/{gid}/variables/{vid2}", {"k": "test_var", "v": "xui2"})
    assert r["data"]["gateway_id"] == gid and r["data"]["direction"] == 1
    params = await api.ok("GET", f"/api/gateways/params/{gid}")
    assert [p["k"] for p in params] == ["auth-username"]
    variables = await api.ok("GET", f"/api/gateways/variables/{gid}")
    assert [(v["k"], v["direction"]) for v in variables] == [("test", 1), ("test_var", 1)]
    one = await api.ok("GET", f"/api/gateways/{gid}")
    assert len(one["params"]) == 1 and len(one["variables"]) == 2
    assert "$VeryGoodPassw0rd" not in (await api.get(f"/api/gateways/{gid}")).text
    assert "$VeryGoodPassw0rd" not in (await api.get("/api/gateways")).text
    r = await api.ok("DELETE", f"/api/gateways/{gid}/param/{pid}")
    assert r == {"message": "success", "code": 200, "data": 1}
    r = await api.ok("DELETE", f"/api/gateways/{gid}/variable/{vid}")
    assert r["data"] == 1
    r = await api.ok("DELETE", f"/api/gateways/{gid}")
    assert r == {"code": 200, "data": str(gid), "message": "success"}


async def test_gateway_used_by_a_route_is_not_deleted(api: Api) -> None:
    gid = await api.create("/api/gateways", {"name": "gw", "realm": "x"})
    await api.create(
        "/api/routes",
        {"name": "out", "max_length": 12, "context": "context-1", "dest_type": "FS_DEST_GATEWAY",
         "dest_uuid": str(gid)},
    )  # fmt: skip
    r = await api.delete(f"/api/gateways/{gid}")
    assert r.status_code == 409 and "routes out" in r.json()["message"]
    r = await api.post("/api/gateways", {"name": "gw"})
    assert r.status_code == 409 and r.json()["data"]["field"] == "name"
    r = await api.post("/api/gateways", {"name": "gw2", "template": "999"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "template"


async def test_ivr_examples(api: Api, notices: Notices) -> None:
    iid = await api.create("/api/ivrs", {"name": "welcome"})
    ivr = await api.ok("GET", f"/api/ivrs/{iid}")
    assert (ivr["key"], ivr["timeout"], ivr["digit_len"], ivr["greet_long"]) == (
        f"ivr-{iid}",
        15000,
        1,
        "",
    )
    for field in ("greet_long", "greet_short", "invalid_sound", "exit_sound", "transfer_sound"):
        r = await api.ok("PUT", f"/api/ivrs/{iid}", {"id": "5", field: MEDIA})
        assert r == {"message": "success", "code": 200, "data": str(iid)}
    ivr = await api.ok("GET", f"/api/ivrs/{iid}")
    assert ivr["greet_long"] == {"media_id": 217, "media_path": "/usr/local/freeswitch/storage/upload/x.wav",
                                 "media_type": "UPLOAD"}  # fmt: skip
    assert ivr["transfer_sound"]["media_id"] == 217
    aid = await api.create(
        f"/api/ivrs/{iid}/actions",
        {
            "digits": "333",
            "match_prefix": "0",
            "action": "IVR_QUEUE",
            "args": "5",
            "ivr_menu_id": "5",
        },
    )
    r = await api.ok(
        "PUT", f"/api/ivrs/{iid}/actions/{aid}",
        {"digits": "0", "match_prefix": "0", "action": "IVR_PLAY", "args": 257, "id": 24},
    )  # fmt: skip
    assert r == {"message": "success", "code": 200, "data": str(aid)}
    one = await api.ok("GET", f"/api/ivrs/{iid}/actions/{aid}")
    assert isinstance(one, list) and one[0]["args"] == "257" and one[0]["ivr_menu_id"] == iid
    listed = await api.ok("GET", f"/api/ivrs/{iid}/actions")
    assert [a["action"] for a in listed] == ["IVR_PLAY"]
    ivrs = await api.ok("GET", "/api/ivrs")
    assert ivrs["data"][0]["count_actions"] == 1
    r = await api.post(f"/api/ivrs/{iid}/actions", {"digits": "1", "action": "IVR_DANCE"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "action"
    # a route to the IVR (the spec's example) resolves body to the IVR name
    route = await api.create(
        "/api/routes",
        {"name": "IVR test", "prefix": "1", "max_length": "11", "context": "context-1",
         "dest_type": "FS_DEST_IVR", "dest_uuid": str(iid)},
    )  # fmt: skip
    assert route["body"] == "welcome"
    assert (await api.delete(f"/api/ivrs/{iid}")).status_code == 409
    await api.ok("DELETE", f"/api/routes/{route['id']}")
    r = await api.ok("DELETE", f"/api/ivrs/{iid}/actions/{aid}")
    assert r["data"] == str(aid)
    r = await api.ok("DELETE", f"/api/ivrs/{iid}")
    assert r == {"message": "success", "data": str(iid), "code": 200}
    seen = {(await notices.next())[0].rsplit(".", 1)[1] for _ in range(3)}
    assert "ivrs" in seen
