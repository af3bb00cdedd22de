# ruff: noqa: E501  (request bodies and URLs kept on one line each)
"""POST /fs/xml as FreeSWITCH's mod_xml_curl uses it: configuration written
through the API, documents read back the way FreeSWITCH parses them."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
import msgspec
import pytest
import pytest_asyncio

from switchyard.config_api import live as live_module
from switchyard.config_api.fsxml import endpoint
from switchyard.config_api.routing.xmldoc import NOT_FOUND
from switchyard.config_api.service import service
from switchyard.config_api.state import NAME
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

from .conftest import Api

SAMPLE = Path(__file__).parent / "routing" / "data" / "dialplan-request-loopback.form"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "freeswitch-xml/1.0"}


async def settle(api: Api) -> None:
    """Wait until this replica compiled every acknowledged write: the API's
    routing answers do (read-your-writes); /fs/xml itself never waits."""
    await api.ok("GET", "/api/routes/explain?destNumber=0")


def fs_auth(api: Api) -> httpx.BasicAuth:
    """What mod_xml_curl sends for ``gateway-credentials`` = ``freeswitch:<secret>``."""
    return httpx.BasicAuth("freeswitch", api.client.app.state.runtime.settings.xml_curl_secret)


async def fetch(api: Api, fields: dict[str, str], path: str = "/fs/xml") -> str:
    await settle(api)
    # No X-XTRA-AUTH-ID: FreeSWITCH has no API token, only the xml_curl secret.
    r = await api.client.post(path, content=urlencode(fields), headers=FORM, auth=fs_auth(api))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml")
    return str(r.text)


def parse(doc: str) -> ET.Element:
    return ET.fromstring(doc)  # noqa: S314 - our own output


def dialplan(context: str, dest: str, caller: str = "1000") -> dict[str, str]:
    return {
        "hostname": "fs1",
        "section": "dialplan",
        "tag_name": "",
        "key_name": "",
        "key_value": "",
        "Caller-Context": context,
        "Caller-Destination-Number": dest,
        "Caller-Caller-ID-Number": caller,
        "Hunt-Context": context,
        "Hunt-Destination-Number": dest,
        "Hunt-Caller-ID-Number": caller,
    }


def config(name: str, **extra: str) -> dict[str, str]:
    return {
        "hostname": "fs1",
        "section": "configuration",
        "tag_name": "configuration",
        "key_name": "name",
        "key_value": name,
        **extra,
    }


async def test_captured_dialplan_fetch_gets_the_callers_context_and_the_route(api: Api) -> None:
    gid = await api.create("/api/gateways", {"name": "gw1", "realm": "example.net"})
    await api.create(
        "/api/routes",
        {"name": "777", "prefix": "777", "max_length": 12, "context": "context-1",
         "dest_type": "FS_DEST_GATEWAY", "dest_uuid": str(gid), "dnc": "-777"},
    )  # fmt: skip
    await settle(api)
    r = await api.client.post(
        "/fs/xml", content=SAMPLE.read_bytes(), headers=FORM, auth=fs_auth(api)
    )
    assert r.status_code == 200
    root = parse(r.text)
    assert root.get("type") == "freeswitch/xml"
    assert root.find("section").get("name") == "dialplan"  # type: ignore[union-attr]
    ctx = root.find("section/context")
    assert ctx is not None and ctx.get("name") == "context-1"
    cond = root.find("section/context/extension/condition")
    assert cond is not None and cond.get("expression") == "^7771234$"
    actions = [(a.get("application"), a.get("data")) for a in cond.findall("action")]
    assert actions[-1] == ("bridge", "sofia/gateway/gw1/1234")
    # the same number in a context with no route: FreeSWITCH's not-found document
    assert await fetch(api, dialplan("public", "7771234")) == NOT_FOUND


async def test_unknown_sections_and_keys_are_not_found(api: Api) -> None:
    assert await fetch(api, {**config("x"), "section": "languages"}) == NOT_FOUND
    assert await fetch(api, config("voicemail.conf")) == NOT_FOUND
    assert await fetch(api, config("ivr.conf", **{"Menu-Name": "nope"})) == NOT_FOUND
    assert await fetch(api, config("sofia.conf", profile="nope")) == NOT_FOUND
    root = parse(NOT_FOUND)
    assert root.find("section").get("name") == "result"  # type: ignore[union-attr]
    assert root.find("section/result").get("status") == "not found"  # type: ignore[union-attr]


async def test_directory_serves_extensions_for_sip_auth_and_user_call(api: Api) -> None:
    await api.create(
        "/api/extensions",
        {"extn": "2001", "password": "s3cr3t&<x>", "cid_name": "Alice", "context": "context-1"},
    )
    off = await api.create("/api/extensions", {"extn": "2002", "password": "p"})
    await api.ok("PUT", f"/api/extensions/{off}", {"disabled": 1})

    def ask(user: str, action: str) -> dict[str, str]:
        return {"hostname": "fs1", "section": "directory", "tag_name": "domain",
                "key_name": "name", "key_value": "pbx.example", "key": "id", "user": user,
                "domain": "pbx.example", "action": action}  # fmt: skip

    for action in ("sip_auth", "user_call"):
        root = parse(await fetch(api, ask("2001", action)))
        assert root.find("section").get("name") == "directory"  # type: ignore[union-attr]
        domain = root.find("section/domain")
        assert domain is not None and domain.get("name") == "pbx.example"
        user = domain.find("groups/group/users/user")
        assert user is not None and user.get("id") == "2001"
        params = {p.get("name"): p.get("value") for p in user.findall("params/param")}
        assert params["password"] == "s3cr3t&<x>"
        variables = {v.get("name"): v.get("value") for v in user.findall("variables/variable")}
        assert variables["user_context"] == "context-1"
        assert variables["effective_caller_id_name"] == "Alice"
    assert await fetch(api, ask("2002", "sip_auth")) == NOT_FOUND  # disabled
    assert await fetch(api, ask("9999", "sip_auth")) == NOT_FOUND  # unknown
    gateways = parse(await fetch(api, {**ask("", ""), "purpose": "gateways"}))
    assert gateways.find("section/domain") is not None
    assert gateways.find("section/domain/groups/group/users/user") is None


async def test_sofia_conf_has_profiles_and_gateways_with_params_and_variables(api: Api) -> None:
    gid = await api.create(
        "/api/gateways",
        {"name": "carrier", "realm": "sip.carrier.net", "username": "acct",
         "password": "pw", "register": "yes"},
    )  # fmt: skip
    await api.create(f"/api/gateways/{gid}/params", {"k": "expire-seconds", "v": "600"})
    await api.create(f"/api/gateways/{gid}/variables", {"k": "x_in", "v": "1", "direction": "1"})
    await api.create("/api/gateways", {"name": "off", "realm": "x", "disabled": 1})
    root = parse(await fetch(api, config("sofia.conf")))
    conf = root.find("section/configuration")
    assert conf is not None and conf.get("name") == "sofia.conf"
    profiles = {p.get("name"): p for p in conf.findall("profiles/profile")}
    assert set(profiles) == {"internal", "external"}
    gws = {g.get("name"): g for g in profiles["external"].findall("gateways/gateway")}
    assert "off" not in gws
    params = {p.get("name"): p.get("value") for p in gws["carrier"].findall("param")}
    assert params == {
        "username": "acct",
        "password": "pw",
        "realm": "sip.carrier.net",
        "register": "true",
        "expire-seconds": "600",
    }
    var = gws["carrier"].find("variables/variable")
    assert var is not None and (var.get("name"), var.get("direction")) == ("x_in", "inbound")
    ext = {p.get("name"): p.get("value") for p in profiles["external"].findall("settings/param")}
    assert ext["apply-inbound-acl"] == "sy-blacklist"
    only = parse(await fetch(api, config("sofia.conf", profile="internal")))
    assert [p.get("name") for p in only.iter("profile")] == ["internal"]


async def test_ivr_conf_menus_actions_and_sounds_from_media_json(api: Api) -> None:
    sub = await api.create("/api/ivrs", {"name": "sub", "greet_long": "/sounds/sub.wav"})
    media = {"media_id": 7, "media_path": "/media/welcome.wav", "media_type": "UPLOAD"}
    main = await api.create(
        "/api/ivrs",
        {"name": "main", "greet_long": json.dumps(media), "digit_len": 4, "timeout": 5000},
    )
    await api.create(
        f"/api/ivrs/{main}/actions",
        {"digits": "1", "action": "IVR_EXTENSION", "args": '[{"extn":"1001|d"}]'},
    )
    await api.create(
        f"/api/ivrs/{main}/actions", {"digits": "2", "action": "IVR_SUB", "args": str(sub)}
    )
    await api.create(f"/api/ivrs/{main}/actions", {"digits": "9", "action": "IVR_EXIT"})
    await api.create(f"/api/ivrs/{main}/actions", {"digits": "3", "action": "IVR_EXTENSION",
                                                   "match_prefix": 1})  # fmt: skip
    root = parse(await fetch(api, config("ivr.conf", **{"Menu-Name": "main"})))
    menus = {m.get("name"): m for m in root.iter("menu")}
    assert set(menus) == {"main", "sub"}  # the sub menu comes along for menu-sub
    m = menus["main"]
    assert (m.get("greet-long"), m.get("digit-len"), m.get("timeout")) == (
        "/media/welcome.wav",
        "4",
        "5000",
    )
    assert menus["sub"].get("greet-long") == "/sounds/sub.wav"
    entries = [(e.get("action"), e.get("digits"), e.get("param")) for e in m.iter("entry")]
    assert entries == [
        ("menu-exec-app", "1", "bridge user/1001@$${domain}"),
        ("menu-sub", "2", "sub"),
        ("menu-exit", "9", ""),
        ("menu-exec-app", "/^(3[0-9]*)$/", "bridge user/$1@$${domain}"),
    ]


async def test_acl_conf_denies_the_ip_blacklist(api: Api) -> None:
    await api.ok("POST", "/api/iptables/add_rule", {"target_ip": "203.0.113.9"})
    await api.ok("POST", "/api/iptables/add_rule", {"target_ip": "198.51.100.0/24", "target_port": "5060", "target_protocol": "udp"})  # fmt: skip
    root = parse(await fetch(api, config("acl.conf")))
    lists = {x.get("name"): x for x in root.iter("list")}
    bl = lists["sy-blacklist"]
    assert bl.get("default") == "allow"
    assert sorted((n.get("type"), n.get("cidr")) for n in bl.iter("node")) == [
        ("deny", "198.51.100.0/24"),
        ("deny", "203.0.113.9/32"),
    ]


async def test_route_check_and_explain_come_from_the_engine(api: Api) -> None:
    route = await api.create(
        "/api/routes",
        {"name": "day", "prefix": "8", "max_length": 4, "context": "context-1",
         "dest_type": "FS_DEST_USER", "dnc": "-8+1"},
    )  # fmt: skip
    rid = route["id"]
    await api.create(
        "/api/routes",
        {"name": "long", "prefix": "8", "max_length": 12, "context": "context-1",
         "dest_type": "FS_DEST_USER"},
    )  # fmt: skip
    await api.ok(
        "POST",
        "/api/time_recurrence",
        [{"route_id": str(rid), "dest_type": "FS_DEST_SYSTEM", "body": "playback night.wav",
          "time_recurrence": "20200101T200000|PT10H|daily"}],
    )  # fmt: skip
    bid = await api.create("/api/blacklists", {"name": "bad", "list_type": "0", "limit_user_type": "0"})  # fmt: skip
    await api.create(f"/api/blacklists/{bid}/lists", {"k": "spam", "v": "666"})
    await api.ok("PUT", f"/api/routes/{rid}", {"blacklist": str(bid)})

    check = await api.ok("GET", "/api/routes?destNumber=8001&context=context-1")
    assert [r["name"] for r in check["data"]] == ["day"]
    # The check takes the list's parameters and refuses what the list refuses.
    r = await api.get("/api/routes?destNumber=8001&page=-1")
    assert r.status_code == 400 and r.json()["data"]["field"] == "page"

    day = await api.ok(
        "GET", "/api/routes/explain?destNumber=8001&context=context-1&callerNumber=1000&at=2026-05-04T10:00:00"
    )  # fmt: skip
    d = day["data"]["decision"]
    assert (d["outcome"], d["route_id"], d["callee"]) == ("route", rid, "1001")
    assert [(c["name"], c["taken"]) for c in d["candidates"]] == [("day", True), ("long", False)]
    assert d["time_rules"][0]["active"] is False and d["time_rule_id"] is None
    assert d["blacklist"]["admitted"] is True
    assert [(s["source"], s["before"], s["after"]) for s in d["transformations"]] == [
        ("dnc", "8001", "1001")
    ]
    assert "user/1001@" in day["data"]["xml"]

    night = await api.ok(
        "GET", "/api/routes/explain?destNumber=8001&callerNumber=1000&at=2026-05-04T23:00:00"
    )
    nd = night["data"]["decision"]
    assert nd["time_rules"][0]["active"] is True and nd["dest_type"] == "FS_DEST_SYSTEM"
    assert 'application="playback" data="night.wav"' in night["data"]["xml"]

    spam = await api.ok("GET", "/api/routes/explain?destNumber=8001&callerNumber=6661234")
    sd = spam["data"]["decision"]
    assert sd["outcome"] == "rejected" and sd["blacklist"]["admitted"] is False
    assert 'data="CALL_REJECTED"' in spam["data"]["xml"]

    nothing = await api.ok("GET", "/api/routes/explain?destNumber=5&context=public")
    assert nothing["data"]["decision"]["outcome"] == "not_found"
    assert nothing["data"]["xml"] == NOT_FOUND
    r = await api.get("/api/routes/explain?context=public")
    assert r.status_code == 400 and r.json()["data"]["field"] == "destNumber"
    r = await api.get("/api/routes/explain?destNumber=1&at=yesterday")
    assert r.status_code == 400 and r.json()["data"]["field"] == "at"
    assert (await api.client.get("/api/routes/explain?destNumber=1")).status_code == 401


@pytest_asyncio.fixture
async def secret_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(msgspec.structs.replace(settings, xml_curl_secret="t0p-s3cret"), [service])
    async with serving(app) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/fs/xml", 401),
        ("/fs/xml?secret=wrong", 403),
        ("/fs/xml/wrong", 403),
        ("/fs/xml?secret=t0p-s3cret", 200),
        ("/fs/xml/t0p-s3cret", 200),
    ],
)
async def test_shared_secret_in_the_url(
    secret_client: httpx.AsyncClient, path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    r = await secret_client.post(path, content=urlencode(config("acl.conf")), headers=FORM)
    assert r.status_code == status
    if status == 200:
        assert "sy-blacklist" in r.text
    # mod_xml_curl with method=get: the form appended to the same URL.
    joined = f"{path}{'&' if '?' in path else '?'}{urlencode(config('acl.conf'))}"
    r = await secret_client.get(joined, headers={"User-Agent": FORM["User-Agent"]})
    assert r.status_code == status
    if status == 200:
        assert "sy-blacklist" in r.text and r.headers["content-type"].startswith("text/xml")
    # The server side never logs it (httpx, the client here, logs its own URL).
    server_logs = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert not any("t0p-s3cret" in line for line in server_logs)


@pytest.mark.parametrize(
    ("credentials", "status"),
    [
        (("freeswitch", "t0p-s3cret"), 200),
        (("freeswitch", "wrong"), 403),
        (("someone", "t0p-s3cret"), 403),
        (("freeswitch", ""), 403),
    ],
)
async def test_basic_auth_as_gateway_credentials_sends_it(
    secret_client: httpx.AsyncClient, credentials: tuple[str, str], status: int
) -> None:
    body = urlencode(config("acl.conf"))
    r = await secret_client.post("/fs/xml", content=body, headers=FORM, auth=credentials)
    assert r.status_code == status
    assert ("sy-blacklist" in r.text) is (status == 200)


async def test_a_garbled_authorization_header_is_refused(
    secret_client: httpx.AsyncClient,
) -> None:
    body = urlencode(config("acl.conf"))
    for header in ["Basic !!!", "Bearer t0p-s3cret", "Basic"]:
        r = await secret_client.post(
            "/fs/xml", content=body, headers={**FORM, "Authorization": header}
        )
        assert r.status_code in (401, 403), header


async def test_no_secret_configured_refuses_every_fetch(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, xml_curl_secret=""), [service])
    async with serving(app) as client:
        for fields in [dialplan("context-1", "1000"), config("acl.conf"), config("sofia.conf")]:
            r = await client.post("/fs/xml", content=urlencode(fields), headers=FORM)
            assert r.status_code == 403
            r = await client.post(
                "/fs/xml", content=urlencode(fields), headers=FORM, auth=("freeswitch", "")
            )
            assert r.status_code == 403


def test_no_secret_configured_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    endpoint.warn_if_open("")
    endpoint.warn_if_open("set")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "SWITCHYARD_XML_CURL_SECRET is not set" in warned[0]


async def test_route_answers_are_503_while_this_replica_cannot_catch_up(
    api: Api, db: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await settle(api)
    live = api.client.app.state[NAME].live
    held = live.current.version

    async def stuck() -> None:  # Postgres readable, but no reload succeeds
        return None

    monkeypatch.setattr(live, "_reload", stuck)
    monkeypatch.setattr(live_module, "FRESH_TIMEOUT", 0.2)
    await db.execute("UPDATE config_version SET version = version + 1")
    for path in ["/api/routes/explain?destNumber=1", "/api/routes?destNumber=1&context=context-1"]:
        r = await api.get(path)
        assert r.status_code == 503, (path, r.text)
        body = r.json()
        assert body["code"] == 503 and "not current" in body["message"]
        assert body["data"] == {"reason": "stale", "version": held, "committed": held + 1}
    # mod_xml_curl never waits: it still answers from what the replica holds.
    r = await api.client.post(
        "/fs/xml", content=urlencode(config("acl.conf")), headers=FORM, auth=fs_auth(api)
    )
    assert r.status_code == 200 and "sy-blacklist" in r.text
