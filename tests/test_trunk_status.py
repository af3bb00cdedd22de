"""GET /api/trunk_groups/status beside config-api's own /api/trunk_groups/{id} routes."""

from __future__ import annotations

import asyncpg
import msgspec

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving


async def test_each_trunk_of_each_group_with_its_configured_state(
    settings: Settings, db: asyncpg.Pool, api_token: str
) -> None:
    a = await db.fetchval(
        "INSERT INTO trunks (name, remote_addr, protocol) VALUES ('a', '10.0.0.1:5060', 'udp') "
        "RETURNING id"
    )
    b = await db.fetchval(
        "INSERT INTO trunks (name, remote_addr, enabled) VALUES ('b', '10.0.0.2', false) "
        "RETURNING id"
    )
    await db.execute("INSERT INTO trunks (name, remote_addr) VALUES ('loose', '10.0.0.3')")
    group = await db.fetchval(
        "INSERT INTO trunk_groups (name, description, params) VALUES ('avaya', 'pbx', $1) "
        "RETURNING id",
        msgspec.json.encode({"trunk_ids": [a, b]}).decode(),
    )
    app = create_app(settings, [config_api, call_control])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as client:
        body = (await client.get("/api/trunk_groups/status")).json()
        assert (body["page"], body["rowCount"], body["pageCount"]) == (1, 3, 1)
        loose, first, second = body["data"]
        assert loose["group_name"] == "" and loose["remote_addr"] == "sip:10.0.0.3;transport=UDP"
        assert first == {
            "description": "pbx",
            "group_name": "avaya",
            "status": "Active",
            "group_id": str(group),
            "priority": "0",
            "remote_addr": "sip:10.0.0.1:5060;transport=UDP",
            "dflags": "AX",
            "ping": "disabled",
            "flags": "0",
            "attrs": "",
        }
        assert (second["status"], second["dflags"]) == ("disabled", "DX")

        paged = (await client.get("/api/trunk_groups/status?page=2&perPage=2")).json()
        assert (paged["page"], paged["pageCount"], len(paged["data"])) == (2, 2, 1)
        # config-api's own route for one group still answers beside it.
        assert (await client.get(f"/api/trunk_groups/{group}")).status_code == 200
