"""Time rules and templates: the spec's examples, array bodies, and recurrence validation."""

from __future__ import annotations

import asyncpg

from .conftest import Api


async def _route(api: Api) -> int:
    route = await api.create(
        "/api/routes",
        {"name": "r", "max_length": 12, "context": "context-1", "dest_type": "FS_DEST_USER"},
    )
    return int(route["id"])


async def test_route_time_rule_examples(api: Api, db: asyncpg.Pool) -> None:
    rid = await _route(api)
    body = [
        {
            "dest_type": "FS_DEST_USER",
            "dest_uuid": "",
            "route_id": str(rid),
            "time_recurrence": "20220502T000000|PT59M59.696S|daily||1|MO",
        }
    ]
    created = await api.ok("POST", "/api/time_recurrence", body)
    assert isinstance(created, list) and set(created[0]) == {"id"}
    tid = created[0]["id"]
    # the spec's curl sends one object, not an array
    one = await api.ok("POST", "/api/time_recurrence", body[0])
    assert len(one) == 1
    r = await api.ok(
        "PUT",
        "/api/time_recurrence",
        [{**body[0], "time_recurrence": "20220502T000000|PT1H59M59S|daily||1|MO", "id": str(tid)}],
    )
    assert r == [{"id": str(tid)}]
    got = await api.ok("GET", f"/api/time_recurrence/route/{rid}")
    assert (got["code"], got["message"]) == (200, "ok")
    assert set(got["data"][0]) >= {
        "updated_at",
        "body",
        "id",
        "created_at",
        "deleted_at",
        "dest_type",
        "dest_uuid",
        "time_recurrence",
        "route_id",
    }
    assert got["data"][0]["time_recurrence"] == "20220502T000000|PT1H59M59S|daily||1|MO"
    assert await api.ok("DELETE", f"/api/time_recurrence/{tid}") == {"id": str(tid)}
    assert (await api.delete(f"/api/time_recurrence/{tid}")).status_code == 404
    assert await api.ok("DELETE", f"/api/time_recurrence/route/{rid}") == {"id": str(rid)}
    assert await db.fetchval("SELECT count(*) FROM route_time_recurrences") == 0


async def test_malformed_recurrences_are_refused_with_the_reason(
    api: Api, db: asyncpg.Pool
) -> None:
    rid = await _route(api)
    good = {
        "dest_type": "FS_DEST_USER",
        "route_id": rid,
        "time_recurrence": "20220502T000000|PT1H|daily||1|MO",
    }
    for bad in (
        "garbage",
        "20220502T000000|1H|daily",
        "20220502T000000|PT1H|hourly",
        "20220502T000000|PT1H|daily||1|XX",
    ):
        r = await api.post("/api/time_recurrence", [good, {**good, "time_recurrence": bad}])
        assert r.status_code == 400, bad
        data = r.json()["data"]
        assert data["field"] == "body[1].time_recurrence" and data["reason"], bad
    r = await api.post("/api/time_recurrence", [{**good, "route_id": 999}])
    assert r.status_code == 400 and r.json()["data"]["field"] == "body[0].route_id"
    r = await api.post(
        "/api/time_recurrence", [{**good, "dest_type": "FS_DEST_IVR", "dest_uuid": "9"}]
    )
    assert r.status_code == 400 and r.json()["data"]["field"] == "body[0].dest_uuid"
    assert await db.fetchval("SELECT count(*) FROM route_time_recurrences") == 0


async def test_template_examples(api: Api, db: asyncpg.Pool) -> None:
    r = await api.ok(
        "POST", "/api/time_recurrence/templates", [{"name": "template_11", "description": "desc 1"}]
    )
    assert (r["code"], r["message"]) == (200, "ok")
    tpl = r["data"][0]
    assert set(tpl) >= {"deleted_at", "description", "name", "updated_at", "id", "created_at"}
    tid = tpl["id"]
    r = await api.ok("POST", "/api/time_recurrence/templates/time_recurrences", [
        {"template_id": tid, "time_recurrence": "20100101T010101|PT10H||daily"},
        {"template_id": str(tid), "time_recurrence": "20100102T010101|PT10H||daily"},
    ])  # fmt: skip
    assert r["data"][0]["id"] == tid
    entries = r["data"][0]["time_recurrences"]
    assert [e["time_recurrence"] for e in entries] == [
        "20100101T010101|PT10H||daily",
        "20100102T010101|PT10H||daily",
    ]
    e1, e2 = (int(e["id"]) for e in entries)
    r = await api.ok(
        "PUT",
        "/api/time_recurrence/templates",
        [{"id": tid, "name": "tempalte_333", "description": "desc333"}],
    )
    assert r["data"] == [{"id": tid}]
    r = await api.ok(
        "PUT",
        "/api/time_recurrence/templates/time_recurrences",
        [{"id": str(e1), "time_recurrence": "20770101T010101|PT10H||daily"}],
    )
    assert r["data"] == [{"id": e1}]
    got = await api.ok("GET", f"/api/time_recurrence/templates/{tid}")
    assert got["data"]["name"] == "tempalte_333"
    assert got["data"]["time_recurrences"] == [
        {"id": e1, "time_recurrence": "20770101T010101|PT10H||daily"},
        {"id": e2, "time_recurrence": "20100102T010101|PT10H||daily"},
    ]
    listed = await api.ok("GET", "/api/time_recurrence/templates?perPage=100")
    assert listed["data"]["rowCount"] == 1 and listed["data"]["data"][0]["id"] == tid
    r = await api.ok("DELETE", f"/api/time_recurrence/templates/time_recurrences/{e2}")
    assert r["data"] == {"id": str(e2)}
    r = await api.ok("DELETE", "/api/time_recurrence/templates/time_recurrences", [e1])
    assert r["data"] == [{"id": e1}]
    r = await api.delete("/api/time_recurrence/templates", [tid, 999])
    assert r.status_code == 400
    r = await api.ok("DELETE", "/api/time_recurrence/templates", [tid])
    assert r == {"code": 200, "message": "ok", "data": [{"id": tid}]}
    r = await api.post(
        "/api/time_recurrence/templates/time_recurrences",
        [{"template_id": tid, "time_recurrence": "20100101T010101|PT10H||daily"}],
    )
    assert r.status_code == 400 and r.json()["data"]["field"] == "body[0].template_id"
