"""Logs: one JSON object per line, and no secret in any of them.

config-api, call-control and event-relay run as real ``switchyard run``
processes, logging JSON at DEBUG. The traffic carries every kind of secret
the system handles: a login (and a wrong password), API tokens (and a
bogus one), gateway writes with SIP passwords (which reach FreeSWITCH
through /fs/xml's sofia.conf), a webhook secret and a credential-bearing
webhook URL, ESL passwords (one node down, so the reconnect warnings
repeat), the xml_curl secret, and passwords in the Postgres and NATS URLs.
Every record of every process is then searched for each of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from switchyard.fssim import Simulator
from switchyard.shared import accounts
from switchyard.shared.embedded import free_port
from switchyard.shared.settings import Settings
from switchyard.shared.testing import start_run, stop_all, wait_ready
from switchyard.shared.webhook_receiver import Answer, Receiver
from switchyard.shared.webhooks import new_secret


def _with_password(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username or user}:{password}@{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.mark.timeout(180)
async def test_no_secret_reaches_a_log_record(
    settings: Settings, api_token: str, db: asyncpg.Pool, tmp_path: Path
) -> None:
    tag = secrets.token_hex(4)
    esl_password = f"EslPw{tag}"
    dead_esl_password = f"DeadEslPw{tag}"
    sip_password = f"SipPw{tag}"
    sip_password2 = f"SipPwTwo{tag}"
    login_password = f"LoginPw{tag}"
    wrong_password = f"WrongPw{tag}"
    bogus_token = f"BogusToken{tag}"
    hook_secret = new_secret()
    url_password = f"HookPw{tag}"
    url_token = f"HookQueryToken{tag}"
    db_password = f"DbPw{tag}"
    nats_password = f"NatsPw{tag}"
    await accounts.create_user(db, f"ops{tag}", login_password)

    ports = {name: free_port() for name in ("config-api", "call-control", "event-relay")}
    base = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
    async with Simulator() as sim, Receiver(answer=lambda _: Answer(status=500)) as rx:
        await sim.add_node(
            "fs1",
            password=esl_password,
            xml_curl_url=f"{base['config-api']}/fs/xml",
            xml_curl_credentials=f"freeswitch:{settings.xml_curl_secret}",
            heartbeat_seconds=1,  # events for the webhook, signed with its secret
        )
        dead = f"fs2=esl://{dead_esl_password}@127.0.0.1:{free_port()}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")},
            **settings.to_env(),
            # The test servers take any password (trust, no NATS auth): these must be hidden.
            "SWITCHYARD_DATABASE_URL": _with_password(
                settings.database_url, "postgres", db_password
            ),
            "SWITCHYARD_NATS_URL": _with_password(settings.nats_url, "switchyard", nats_password),
            "SWITCHYARD_FS_NODES": f"{sim.fs_nodes},{dead}",
            "SWITCHYARD_NODE_LEASE": "2",
            "SWITCHYARD_WEBHOOK_ALLOW_PRIVATE": "127.0.0.0/8",
            "SWITCHYARD_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2",
            "SWITCHYARD_LOG_FORMAT": "json",
            "SWITCHYARD_LOG_LEVEL": "debug",
        }
        logs = {name: tmp_path / f"{name}.log" for name in ports}
        procs = [start_run(name, port, env, logs[name]) for name, port in ports.items()]
        try:
            await asyncio.gather(*(wait_ready(u) for u in base.values()))
            token = {"X-XTRA-AUTH-ID": api_token}
            async with httpx.AsyncClient(timeout=10) as c:
                cfg = base["config-api"]
                login = {"username": f"ops{tag}", "password": login_password}
                r = await c.post(f"{cfg}/api/sessions", json=login)
                assert r.status_code == 200, r.text
                session_token = r.json()["token"]
                r = await c.post(f"{cfg}/api/sessions", json={**login, "password": wrong_password})
                assert r.status_code == 401
                assert (
                    await c.get(f"{cfg}/api/gateways", headers={"X-XTRA-AUTH-ID": bogus_token})
                ).status_code == 401
                assert (
                    await c.get(f"{cfg}/api/gateways", headers={"X-XTRA-AUTH-ID": session_token})
                ).status_code == 200
                gw = {"name": f"gw{tag}", "realm": "127.0.0.1:5070", "username": "1005",
                      "password": sip_password, "profile_id": "1", "register": "yes"}  # fmt: skip
                r = await c.post(f"{cfg}/api/gateways", json=gw, headers=token)
                assert r.status_code == 200, r.text
                gid = r.json()["data"]
                r = await c.put(
                    f"{cfg}/api/gateways/{gid}",
                    json={**gw, "password": sip_password2},
                    headers=token,
                )
                assert r.status_code == 200, r.text
                # FreeSWITCH reads sofia.conf (the SIP passwords) with the secret in the
                # path, once config-api has compiled the edit.
                fetch = {"section": "configuration", "key_value": "sofia.conf"}
                for _ in range(100):
                    r = await c.post(f"{cfg}/fs/xml/{settings.xml_curl_secret}", data=fetch)
                    if sip_password2 in r.text:
                        break
                    await asyncio.sleep(0.1)
                assert sip_password2 in r.text

                relay = base["event-relay"]
                hook = rx.url.replace("://", f"://hook:{url_password}@")
                r = await c.post(f"{relay}/api/webhooks", json={"url": hook}, headers=token)
                assert r.status_code == 400  # a URL with credentials is refused
                sub = {
                    "url": f"{rx.url}?token={url_token}",
                    "secret": hook_secret,
                    "events": ["*"],
                    "format": "raw",
                }
                r = await c.post(f"{relay}/api/webhooks", json=sub, headers=token)
                assert r.status_code == 200, r.text
                cc = base["call-control"]
                r = await c.put(
                    f"{cc}/api/gateways/control",
                    json={"action": "killgw", "gwname": f"gw{tag}"},
                    headers=token,
                )
                assert r.status_code in (200, 404, 503), r.text
                # HEARTBEATs reach the webhook, fail (500) and are retried; fs2 stays down.
                await rx.wait_for(lambda got: len(got) >= 3, timeout=30)
                r = await c.delete(f"{cfg}/api/sessions", headers={"X-XTRA-AUTH-ID": session_token})
                assert r.status_code == 200, r.text
        finally:
            stop_all(procs)

    hidden = {
        "ESL password": esl_password,
        "ESL password of a node that is down": dead_esl_password,
        "SIP password": sip_password,
        "SIP password (edited)": sip_password2,
        "login password": login_password,
        "wrong login password": wrong_password,
        "API token": api_token,
        "session token": session_token,
        "bogus token": bogus_token,
        "webhook secret": hook_secret,
        "webhook secret key": hook_secret.removeprefix("whsec_"),
        "password in the webhook URL": url_password,
        "token in the webhook URL": url_token,
        "Postgres password": db_password,
        "NATS password": nats_password,
        "xml_curl secret": settings.xml_curl_secret,
    }
    total = 0
    for name, path in logs.items():
        lines = path.read_text().splitlines()
        assert lines, f"{name} logged nothing"
        for line in lines:
            record = json.loads(line)  # one JSON object per line, every line
            assert isinstance(record, dict) and {"ts", "level", "logger", "msg"} <= set(record)
            for what, value in hidden.items():
                assert value not in line, f"{name} logged the {what}: {line}"
        total += len(lines)
    # The down node's reconnect warnings are there, without its password.
    assert any(
        "127.0.0.1" in line and "retrying" in line
        for line in logs["call-control"].read_text().splitlines()
    )
    assert total > 20
