"""Issue 10, finding 1: ``/fs/xml`` handed every SIP password (section
directory) and the carriers' credentials (sofia.conf) to anyone who could
reach the port. Now FreeSWITCH proves itself with the xml_curl secret (basic
auth ``freeswitch:<secret>`` as mod_xml_curl sends ``gateway-credentials``,
or the URL secret); without one configured, nothing is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import urlencode

import asyncpg
import httpx
import msgspec
import pytest_asyncio

from switchyard.config_api.service import service
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

SECRET = "fs-xml-secret-for-the-test"
SIP_PASSWORD = "sip-pass-Wh1sper"
CARRIER_PASSWORD = "carrier-pass-Sh0ut"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "freeswitch-xml/1.0"}

FETCHES = {
    "directory": {
        "section": "directory", "tag_name": "domain", "key_name": "name",
        "key_value": "example.com", "user": "1000", "domain": "example.com",
        "action": "sip_auth", "purpose": "",
    },
    "sofia.conf": {
        "section": "configuration", "tag_name": "configuration", "key_name": "name",
        "key_value": "sofia.conf",
    },
    "acl.conf": {
        "section": "configuration", "tag_name": "configuration", "key_name": "name",
        "key_value": "acl.conf",
    },
    "ivr.conf": {
        "section": "configuration", "tag_name": "configuration", "key_name": "name",
        "key_value": "ivr.conf",
    },
    "dialplan": {
        "section": "dialplan", "Caller-Context": "context-1", "Hunt-Context": "context-1",
        "Caller-Destination-Number": "1000", "Hunt-Destination-Number": "1000",
        "Caller-Caller-ID-Number": "1001",
    },
}  # fmt: skip

Serve = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest_asyncio.fixture
async def serve(settings: Settings, db: asyncpg.Pool) -> AsyncIterator[Serve]:
    """``serve(secret)``: config-api with that xml_curl secret, over a PBX with
    a SIP user and a registering carrier gateway."""
    await db.execute(
        "INSERT INTO extensions (extn, name, password, context) "
        "VALUES ('1000', 'Alice', $1, 'context-1')",
        SIP_PASSWORD,
    )
    await db.execute(
        "INSERT INTO gateways (name, realm, username, password) "
        "VALUES ('carrier', 'sip.carrier.example', 'acct-42', $1)",
        CARRIER_PASSWORD,
    )

    def start(secret: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        app = create_app(msgspec.structs.replace(settings, xml_curl_secret=secret), [service])
        return serving(app)

    yield start


def leaks(text: str) -> bool:
    return SIP_PASSWORD in text or CARRIER_PASSWORD in text or "acct-42" in text


async def test_the_right_credential_gets_the_secrets(serve: Serve) -> None:
    """The control: what the attacker must not get is really in the answers."""
    async with serve(SECRET) as client:
        got = {}
        for name, form in FETCHES.items():
            r = await client.post(
                "/fs/xml", content=urlencode(form), headers=FORM, auth=("freeswitch", SECRET)
            )
            assert r.status_code == 200, (name, r.text)
            got[name] = r.text
        assert SIP_PASSWORD in got["directory"]
        assert CARRIER_PASSWORD in got["sofia.conf"] and "acct-42" in got["sofia.conf"]
        r = await client.post(f"/fs/xml/{SECRET}", content=urlencode(FETCHES["directory"]))
        assert r.status_code == 200 and SIP_PASSWORD in r.text


async def test_no_credential_gets_nothing(serve: Serve) -> None:
    async with serve(SECRET) as client:
        for name, form in FETCHES.items():
            body = urlencode(form)
            r = await client.post("/fs/xml", content=body, headers=FORM)
            assert r.status_code == 401 and not leaks(r.text), name
            assert r.headers["www-authenticate"].startswith("Basic")
            # mod_xml_curl's method=get: the form in the query string.
            r = await client.get(f"/fs/xml?{body}", headers={"User-Agent": FORM["User-Agent"]})
            assert r.status_code == 401 and not leaks(r.text), name


WRONG: list[tuple[str, dict[str, object]]] = [
    ("wrong password", {"auth": ("freeswitch", "guess")}),
    ("wrong user", {"auth": ("admin", SECRET)}),
    ("empty password", {"auth": ("freeswitch", "")}),
    ("a prefix of the secret", {"auth": ("freeswitch", SECRET[:-1])}),
    ("the secret as the user", {"auth": (SECRET, "")}),
    ("not base64", {"headers": {**FORM, "Authorization": "Basic %%%"}}),
    ("a bearer token", {"headers": {**FORM, "Authorization": f"Bearer {SECRET}"}}),
    ("wrong URL secret", {"params": {"secret": "guess"}}),
]


async def test_a_wrong_credential_gets_nothing(serve: Serve) -> None:
    async with serve(SECRET) as client:
        for how, request_kwargs in WRONG:
            kwargs: dict[str, object] = {"headers": FORM, **request_kwargs}
            for form in (FETCHES["directory"], FETCHES["sofia.conf"]):
                r = await client.post("/fs/xml", content=urlencode(form), **kwargs)  # type: ignore[arg-type]
                assert r.status_code in (401, 403), how
                assert not leaks(r.text), how
        r = await client.post("/fs/xml/guess", content=urlencode(FETCHES["directory"]))
        assert r.status_code == 403 and not leaks(r.text)


async def test_no_secret_configured_no_answer(serve: Serve) -> None:
    """The old default: an empty SWITCHYARD_XML_CURL_SECRET answered everyone."""
    async with serve("") as client:
        for name, form in FETCHES.items():
            for auth in (None, ("freeswitch", ""), ("", "")):
                r = await client.post("/fs/xml", content=urlencode(form), headers=FORM, auth=auth)
                assert r.status_code == 403, (name, auth)
                assert not leaks(r.text)
            r = await client.post("/fs/xml?secret=", content=urlencode(form), headers=FORM)
            assert r.status_code == 403 and not leaks(r.text)
