"""The rule declarations (Col.rule, Resource.vet) and `switchyard check`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from types import ModuleType
from typing import Any

import asyncpg
import msgspec
import pytest

from switchyard.config_api import check as check_cmd
from switchyard.config_api.framework import children
from switchyard.config_api.framework.rules import problems
from switchyard.config_api.framework.spec import Resource
from switchyard.config_api.resources import (
    blacklists,
    blocks,
    contexts,
    device_provisions,
    dods,
    extensions,
    func_codes,
    gateways,
    hotlines,
    ip_blacklist,
    ivrs,
    number_translation,
    routes,
    sensors,
    time_rules,
    trunks,
)
from switchyard.config_api.service import service
from switchyard.shared.fsvalues import APPLICATIONS, Applications
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings

BAD_NUMBERS = ["${system(id)}", "1000\n", "1 0", "}", "<x>", "1,2", "1|2", "1@host", ""]


def fields(resource: Resource, row: dict[str, Any], apps: Applications = APPLICATIONS) -> list[str]:
    return [p.field for p in problems(resource, row, apps)]


@pytest.mark.parametrize("extn", BAD_NUMBERS[:-1])
def test_extension_numbers(extn: str) -> None:
    assert fields(extensions.EXTENSIONS, {"extn": extn}) == ["extn"]
    assert fields(extensions.EXTENSIONS, {"extn": "1000", "cid_number": extn}) == ["cid_number"]


def test_extension_fields() -> None:
    ok = {
        "extn": "1000",
        "name": "Demo 1000 张三",
        "password": "$VeryGood pass'word",
        "context": "context-1",
        "domain": "pbx.example.com",
        "cid_name": "Front desk",
        "cid_number": "+4930123",
    }
    assert fields(extensions.EXTENSIONS, ok) == []
    bad = {
        "name": "a}",
        "password": "x${system(id)}",
        "context": "ctx x",
        "domain": "a b",
        "cid_name": "x]",
    }
    assert fields(extensions.EXTENSIONS, {**ok, **bad}) == list(bad)


@pytest.mark.parametrize("name", ["badnl\n\napi status", "gw x", "gwsec\n", "gw/1", "${x}"])
def test_gateway_names(name: str) -> None:
    assert fields(gateways.GATEWAYS, {"name": name}) == ["name"]


def test_gateway_spec_values_and_children() -> None:
    gw = {"name": "test", "realm": "192.168.1.100:7000", "username": "1001"}
    assert fields(gateways.GATEWAYS, {**gw, "password": "$VeryGoodPassw0rd"}) == []
    assert fields(gateways.GATEWAYS, {**gw, "realm": "x;y", "profile_id": "a b"}) == [
        "realm",
        "profile_id",
    ]
    params = gateways.PARAMS.res
    assert fields(params, {"k": "auth-username", "v": "cluecon"}) == []
    assert fields(params, {"k": "password", "v": "p4ss<>'\""}) == []  # a secret: printable
    assert fields(params, {"k": "password", "v": "a${system(id)}"}) == ["v"]
    assert fields(params, {"k": "proxy", "v": "x}"}) == ["v"]
    assert fields(params, {"k": "a b", "v": ""}) == ["k"]
    variables = gateways.VARIABLES.res
    assert fields(variables, {"k": "test_var", "v": "xui"}) == []
    assert fields(variables, {"k": "execute_on_answer", "v": "x"}) == ["k"]
    assert fields(variables, {"k": "a-b", "v": "x{"}) == ["k", "v"]


def test_route_bodies_by_dest_type() -> None:
    def route(dest_type: str, body: str = "", uuid: str = "") -> list[str]:
        row = {"dest_type": dest_type, "body": body, "dest_uuid": uuid, "context": "context-1"}
        return fields(routes.ROUTES, row)

    assert route("FS_DEST_SYSTEM", "answer\n# system id\r\nplayback /a.wav") == []
    assert route("FS_DEST_SYSTEM", "answer\nsystem id") == ["body"]
    assert route("FS_DEST_SYSTEM", "set api_hangup_hook=system id") == ["body"]
    assert route("FS_DEST_SYSTEM", "log ${system(id)}") == ["body"]
    ring = json.dumps([{"extn": "1001|pbx.example.com"}, {"extn": "1002"}])
    assert route("FS_DEST_RING_EXTNS", uuid=ring) == []
    bad_ring = json.dumps([{"extn": "1001"}, {"extn": "${system(id)}|d"}])
    assert route("FS_DEST_SEQ_EXTNS", uuid=bad_ring) == ["dest_uuid[1].extn"]
    assert route("FS_DEST_RING_EXTNS", uuid="1001") == ["dest_uuid"]
    assert route("FS_DEST_IP", "10.0.0.1:5080") == []
    assert route("FS_DEST_IP", "10.0.0.1;x=y") == ["body"]
    assert route("FS_DEST_CONFERENCE_CLUSTER", "10.0.0.1\n10.0.0.2") == []
    assert route("FS_DEST_CONFERENCE_CLUSTER", "10.0.0.1\n10.0.0.2 x") == ["body"]
    assert route("FS_DEST_TRANSFER", "1000 default") == []
    assert route("FS_DEST_TRANSFER", "1000 default extra") == ["body"]
    assert route("FS_DEST_TRANSFER", "", "ctx}") == ["dest_uuid"]
    assert route("FS_DEST_SCRIPT", "scripts/a.lua") == []
    assert route("FS_DEST_SCRIPT", "/scripts/a.lua") == ["body"]  # not under script_dir
    assert route("FS_DEST_SCRIPT", "../a.lua") == ["body"]
    assert route("FS_DEST_SCRIPT", "~os.execute('id')") == ["body"]
    assert route("FS_DEST_PLAYBACK", "", "12") == []
    assert route("FS_DEST_CTI", "sales@pbx.example.com") == []
    assert route("FS_DEST_CONFERENCE_ROOM", "a b") == ["body"]
    assert route("FS_DEST_AGORA", "https://cb.example/x?a=1") == []
    assert route("FS_DEST_AGORA", "x${system(id)}") == ["body"]
    # a stored object's id: resolve checks it; body is that object's name
    assert route("FS_DEST_IVR", "any name at all", "1") == []
    assert route("FS_DEST_GATEWAY", "gw x") == ["body"]  # XUI's legacy form
    row = {"dest_type": "FS_DEST_USER", "prefix": "1\n", "cid_number": "x y", "media_codec": "A}"}
    assert fields(routes.ROUTES, row) == ["prefix", "media_codec", "cid_number"]
    # time rules replace a route's destination: the same rules
    assert fields(time_rules.RULES, {"dest_type": "FS_DEST_SYSTEM", "body": "lua x"}) == ["body"]


def test_route_params() -> None:
    params = routes.PARAMS.res
    assert fields(params, {"k": "set", "v": "a=2222"}) == []
    assert fields(params, {"k": "uploaded_scripts", "v": "scripts/x.lua"}) == []
    assert fields(params, {"k": "inner_scripts", "v": "x.lua y"}) == ["v"]
    assert fields(params, {"k": "system", "v": "id"}) == ["k"]
    assert fields(params, {"k": "set", "v": "api_hangup_hook=system id"}) == ["v"]
    assert fields(params, {"k": "log", "v": "${system(id)}"}) == ["v"]
    assert fields(params, {"k": "mine", "v": "x"}) == ["k"]
    # SWITCHYARD_FS_APPLICATIONS extends the allowlist
    assert fields(params, {"k": "mine", "v": "x"}, Applications.with_extra(["mine"])) == []


def test_ivrs_and_actions() -> None:
    media = json.dumps({"media_id": 1, "media_path": "$${sound_prefix}/ivr/greeting.wav"})
    ok = {
        "name": "IVR示例1",
        "greet_long": media,
        "invalid_sound": "/usr/local/freeswitch/sounds/x.wav",
        "exec_on_max_failures": "hangup",
        "tts_engine": "flite",
        "tts_voice": "kal",
    }
    assert fields(ivrs.IVRS, ok) == []
    bad = {
        "name": "a b",
        "greet_long": json.dumps({"media_path": "x.wav ${system(id)}"}),
        "greet_short": "{not json",
        "exec_on_max_timeouts": "system id",
        "tts_voice": "a}",
    }
    assert sorted(fields(ivrs.IVRS, {**ok, **bad})) == sorted(
        ["name", "greet_long.media_path", "greet_short", "exec_on_max_timeouts", "tts_voice"]
    )

    def action(action: str, args: str = "", body: str = "") -> list[str]:
        return fields(
            ivrs.ACTIONS.res, {"digits": "1", "action": action, "args": args, "body": body}
        )

    assert action("IVR_SYSTEM", body="playback /a.wav") == []
    assert action("IVR_SYSTEM", body="system id") == ["body"]
    assert action("IVR_PLAY", args="257") == []
    assert action("IVR_PLAY", args="tone_stream://%(1000,0,640)") == []
    assert action("IVR_EXTENSION", args=json.dumps([{"extn": "1001|d.example"}])) == []
    assert action("IVR_EXTENSION", args=json.dumps([{"extn": "1${x}"}])) == ["args[0].extn"]
    assert action("IVR_ROUTE", args="3", body="1000") == []
    assert action("IVR_ROUTE", args="3", body="1000 XML x") == ["body"]
    assert action("IVR_SCRIPT", body="x.lua; rm") == ["body"]
    assert action("IVR_QUEUE", args="5") == []
    assert action("IVR_CONFERENCE", body="room@x") == ["body"]
    assert fields(ivrs.ACTIONS.res, {"digits": "1\n", "action": "IVR_TOP"}) == ["digits"]


def test_other_numbers() -> None:
    assert fields(dods.DODS, {"line_number": "6553998"}) == []
    assert fields(dods.DODS, {"line_number": "1}"}) == ["line_number"]
    assert fields(hotlines.HOTLINES, {"line_number": "1 2", "numbers": "${x}"}) == [
        "line_number",
        "numbers",
    ]
    assert fields(func_codes.FUNC_CODES, {"func_code": "*72"}) == []
    assert fields(number_translation.NTS.res, {"original_number": "1", "nts_number": "9\n"}) == [
        "nts_number"
    ]
    assert fields(trunks.TRUNKS, {"name": "trunk goup2", "remote_addr": "sip:1.2.3.4:5060"}) == []
    assert fields(trunks.TRUNKS, {"remote_addr": "1.2.3.4;transport=x"}) == ["remote_addr"]
    assert fields(contexts.CONTEXTS, {"name": "销售部", "key": "context 4"}) == ["key"]


def _declared(module: ModuleType) -> list[Resource]:
    found = []
    for value in vars(module).values():
        res = value.res if isinstance(value, children.Child) else value
        if isinstance(res, Resource) and (res.vet or any(c.rule for c in res.cols)):
            found.append(res)
    return found


def test_check_covers_every_declared_rule() -> None:
    modules = [
        blacklists, blocks, contexts, device_provisions, dods, extensions, func_codes,
        gateways, hotlines, ip_blacklist, ivrs, number_translation, routes, sensors,
        time_rules, trunks,
    ]  # fmt: skip
    tables = {r.table for r in check_cmd.RESOURCES}
    missing = {r.table for m in modules for r in _declared(m)} - tables
    assert not missing


async def _bad_rows(db: asyncpg.Pool) -> tuple[int, int, int]:
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO extensions (extn) VALUES ('1000')")
        ext = await conn.fetchval(
            "INSERT INTO extensions (extn) VALUES ($1) RETURNING id", "${system(id)}"
        )
        gw = await conn.fetchval(
            "INSERT INTO gateways (name) VALUES ($1) RETURNING id", "badnl\n\napi status"
        )
        route = await conn.fetchval(
            "INSERT INTO routes (name, prefix, max_length, context, dest_type, body) "
            "VALUES ('r', '9', 12, 'context-1', 'FS_DEST_SYSTEM', 'answer\nsystem id') "
            "RETURNING id"
        )
        await conn.execute(
            "INSERT INTO route_params (route_id, k, v) VALUES ($1, 'set', 'a=1'), "
            "($1, 'set', 'execute_on_answer=system id')",
            route,
        )
    return ext, gw, route


async def test_check_finds_rows_stored_with_plain_sql(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        assert await check_cmd.violations(conn, APPLICATIONS) == []
    ext, gw, route = await _bad_rows(db)
    async with db.acquire() as conn:
        found = await check_cmd.violations(conn, APPLICATIONS)
        param = await conn.fetchval("SELECT max(id) FROM route_params")
    assert [(v.table, v.id, v.field) for v in found] == [
        ("extensions", ext, "extn"),
        ("gateways", gw, "name"),
        ("routes", route, "body"),
        ("route_params", param, "v"),
    ]
    assert str(found[2]) == f"routes {route} body: line 2: application 'system' is not allowed"


async def _switchyard_check(database_url: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchyard.shared.cli",
        "check",
        env={**os.environ, "SWITCHYARD_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_switchyard_check_command(db: asyncpg.Pool, database_url: str) -> None:
    rc, out, err = await _switchyard_check(database_url)
    assert rc == 0, err
    assert "every stored value passes its rule" in out
    ext, _, _ = await _bad_rows(db)
    rc, out, err = await _switchyard_check(database_url)
    assert rc == 1, err
    assert f"extensions {ext} extn: may hold" in out
    assert len(out.splitlines()) == 4
    assert "4 stored value(s) break their rule" in err


async def test_demo_pbx_passes_the_rules(settings: Settings, db: asyncpg.Pool) -> None:
    """What `up` seeds is what `switchyard check` then finds clean."""
    async with create_app(msgspec.structs.replace(settings, demo=True), [service]).lifespan():
        pass
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM extensions") == 20
        assert await check_cmd.violations(conn, APPLICATIONS) == []
