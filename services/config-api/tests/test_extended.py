# ruff: noqa: E501  (the spec's example bodies, kept on one line each)
"""Number translation, device provisions, sensors, IP blacklist, logs and check."""

from __future__ import annotations

import asyncpg

from .conftest import Api


async def test_number_translation_examples(api: Api, db: asyncpg.Pool) -> None:
    tid = await api.create("/api/number_translation", {"name": "test", "type": "exact"})
    nid = await api.create(
        f"/api/number_translation/{tid}/numbers",
        {"original_number": "10001", "nts_number": "901001"},
    )
    r = await api.ok(
        "POST",
        f"/api/number_translation/{tid}/import",
        [
            {"nts_number": "10001", "original_number": "901001"},
            {"nts_number": "1002", "original_number": "811002"},
        ],
    )
    assert r["data"] == tid
    r = await api.post(
        f"/api/number_translation/{tid}/import",
        [
            {"nts_number": "1", "original_number": "5"},
            {"nts_number": "2", "original_number": "10001"},
        ],
    )
    assert r.status_code == 409 and r.json()["data"]["row"] == 1
    assert await db.fetchval("SELECT count(*) FROM number_translation_numbers") == 3
    got = await api.ok("GET", f"/api/number_translation/{tid}/numbers")
    assert got["number_translation_info"] == [{"name": "test", "description": "", "type": "exact"}]
    assert got["nts_numbers"]["rowCount"] == 3 and got["nts_numbers"]["data"][0]["id"] == str(nid)
    r = await api.ok(
        "PUT",
        f"/api/number_translation/{tid}/{nid}",
        {"nts_number": "1112", "original_number": "1004"},
    )
    assert r["data"] == str(nid)
    # The spec's curl for this path sends the blacklist list's {"k","v"}: no field
    # of a translation number, so a 400 rather than a success that changes nothing.
    r = await api.put(f"/api/number_translation/{tid}/{nid}", {"k": "test", "v": "1008"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "body"
    assert "original_number" in r.json()["message"]
    r = await api.ok(
        "PUT", f"/api/number_translation/{tid}", {"name": "test01", "description": "test01"}
    )
    assert r["data"] == str(tid)
    assert (await api.ok("DELETE", f"/api/number_translation/{tid}/{nid}"))["data"] == str(nid)
    r = await api.post("/api/number_translation", {"name": "x", "type": "fuzzy"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "type"
    assert (await api.ok("DELETE", f"/api/number_translation/{tid}"))["data"] == str(tid)


async def test_device_provision_examples(api: Api) -> None:
    r = await api.ok(
        "POST",
        "/api/device_provisions",
        {
            "extn": '[{"extn":"1007|demo.xswitch.cn"}]',
            "name": "kf1",
            "vendor": "huawei",
            "mac": "000B7461582D",
        },
    )
    did = r["data"]
    assert isinstance(did, str)
    rows = [
        {"名称": "我在测试", "分机号": "1002", "供应商": "潮流", "MAC": "000B7461582D"},
        {"名称": "admin", "分机号": "1000", "供应商": "gs", "MAC": "000b82d74615"},
    ]
    r = await api.ok("POST", "/api/device_provisions/import", {"devices": rows})
    assert [(d["name"], d["extn"], d["vendor"]) for d in r["data"]] == [
        ("我在测试", "1002", "潮流"),
        ("admin", "1000", "gs"),
    ]
    assert (await api.ok("PUT", f"/api/device_provisions/{did}", {"extn": "1006", "id": 1}))[
        "data"
    ] == did
    listed = await api.ok("GET", "/api/device_provisions")
    assert listed["rowCount"] == 3 and listed["data"][0]["extn"] == "1006"
    assert (await api.ok("DELETE", f"/api/device_provisions/{did}"))["data"] == did


async def test_device_provision_batch_create_and_required_fields(
    api: Api, db: asyncpg.Pool
) -> None:
    # The spec's batch-create curl posts {"data":[…]} to /api/device_provisions:
    # taken like the import, all rows or none, answered with the created rows.
    rows = [
        {"extn": "1031", "mac": "00a859f6c74i", "vendor": "xyt", "name": "lili"},
        {"extn": "1032", "mac": "0a859f6c74o", "vendor": "xyt", "name": "zhangsan"},
    ]
    r = await api.ok("POST", "/api/device_provisions", {"data": rows})
    assert [(d["name"], d["mac"], d["extn"]) for d in r["data"]] == [
        ("lili", "00a859f6c74i", "1031"),
        ("zhangsan", "0a859f6c74o", "1032"),
    ]
    first = r["data"][0]["id"]
    r = await api.post("/api/device_provisions", {"data": [rows[0], {"name": "no-mac"}]})
    assert r.status_code == 400 and r.json()["data"]["field"] == "data[1].mac"
    for body, field in [({}, "name"), ({"name": "x"}, "mac"), ({"mac": "0A"}, "name")]:
        r = await api.post("/api/device_provisions", body)
        assert r.status_code == 400 and r.json()["data"]["field"] == field, body
    assert await db.fetchval("SELECT count(*) FROM device_provisions") == 2
    # an update naming no known field changes nothing and says so
    r = await api.put(f"/api/device_provisions/{first}", {"id": first, "model": "x"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "body"


async def test_sensor_examples(api: Api) -> None:
    ext = await api.create("/api/extensions", {"extn": "1000"})
    sid = await api.create(
        "/api/extn_alarms",
        {
            "name": "新增传感器数据001",
            "caller_number": "1000",
            "call_duration": "100",
            "extn_id": ext,
            "description": "测试",
            "action": "playback",
            "data": 209,
        },
    )
    listed = await api.ok("GET", "/api/extn_alarms?perPage=500&page=1&name=传感器")
    assert listed["rowCount"] == 1 and listed["data"][0]["extn_id"] == str(ext)
    r = await api.ok(
        "PUT",
        f"/api/extn_alarms/{sid}",
        {
            "name": "修改名字001",
            "caller_number": "12412",
            "call_duration": "1214",
            "extn_id": ext,
            "action": "playback",
        },
    )
    assert r["data"] == str(sid)
    r = await api.ok(
        "POST",
        f"/api/extn_alarms/{sid}/import",
        {
            "data": [
                {"device_id": "010", "device_name": "传感器设备010"},
                {"device_id": "011", "device_name": "传感器设备011"},
            ]
        },
    )
    assert r["data"] == "{}"
    devices = await api.ok("GET", f"/api/extn_alarms/{sid}/alarms?page=1&perPage=500")
    assert [(d["device_id"], d["status"], d["extn_alarms_id"]) for d in devices["data"]] == [
        ("010", "init", str(sid)),
        ("011", "init", str(sid)),
    ]
    r = await api.ok("DELETE", f"/api/extn_alarms/alarm/{devices['data'][0]['id']}")
    assert r["data"] == "{}"
    r = await api.post("/api/extn_alarms", {"name": "x", "extn_id": 999})
    assert r.status_code == 400 and r.json()["data"]["field"] == "extn_id"
    assert (await api.ok("DELETE", f"/api/extn_alarms/{sid}"))["code"] == 200


async def test_iptables_examples(api: Api) -> None:
    rule = {
        "target_ip": "1.1.21.12",
        "target_name": "test",
        "target_port": "21345",
        "target_protocol": "udp",
    }
    assert await api.ok("POST", "/api/iptables/add_rule", rule) == {
        "code": 200,
        "data": True,
        "message": "success",
    }
    assert (await api.post("/api/iptables/add_rule", rule)).status_code == 409
    listed = await api.ok("GET", "/api/iptables")
    assert listed["data"] == [
        {
            "chain": "-A",
            "rule_spec": "INPUT -s 1.1.21.12/32 -p udp -m udp --dport 21345 -m comment --comment test -j DROP",
        }
    ]
    r = await api.post("/api/iptables/add_rule", {**rule, "target_name": "x; rm -rf /"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "target_name"
    r = await api.post("/api/iptables/add_rule", {**rule, "target_ip": "1.1.1"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "target_ip"
    assert (await api.ok("POST", "/api/iptables/clean_drop_rule", rule))["data"] is True
    assert (await api.ok("GET", "/api/iptables"))["data"] == []


async def test_logs_and_check(api: Api) -> None:
    await api.create("/api/contexts", {"name": "logged"})
    await api.create("/api/hotlines", {"numbers": "1", "line_number": "2"})
    logs = await api.ok("GET", "/api/logs?page=1&perPage=500&operator=pytest")
    assert logs["rowCount"] == 0
    logs = await api.ok(
        "GET", "/api/logs?page=1&perPage=500&resource=contexts&startDate=2020-01-01"
    )
    assert logs["rowCount"] == 1
    entry = logs["data"][0]
    assert set(entry) >= {
        "id",
        "resource",
        "source_ip",
        "user_id",
        "message",
        "summary",
        "action",
        "user_name",
        "created_at",
    }
    assert (entry["resource"], entry["action"]) == ("contexts", "CREATE")
    assert (await api.get("/api/logs?startDate=yesterday")).status_code == 400
    assert await api.ok("GET", "/api/check/heartbeat") == {"msg": "Already Running", "code": 0}
    assert await api.ok("GET", "/api/check/clean-file") == {"msg": "Not Running", "code": 200}
    assert (await api.get("/api/check/nope")).status_code == 404
