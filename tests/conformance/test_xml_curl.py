"""mod_xml_curl as a client: the form FreeSWITCH POSTs, how it runs the answer, its fallbacks.

On fssim the fetch goes to a small HTTP server started here; on a real
FreeSWITCH that server listens on FS_XML_CURL_LISTEN, where FreeSWITCH's
mod_xml_curl (bindings="dialplan") must point: http://<FS_XML_CURL_LISTEN>/fs/xml,
with ``gateway-credentials`` ``freeswitch:conformance-secret`` (CREDENTIALS).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
import pytest_asyncio

from switchyard.call_control.esl import EslClient
from switchyard.shared.webhook_receiver import read_request
from tests.conformance.conftest import REAL, TIMEOUT, Target, sample

# The binding's gateway-credentials (freeswitch/autoload_configs/xml_curl.conf.xml).
CREDENTIALS = "freeswitch:conformance-secret"


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes


@dataclass
class DialplanServer:
    """Answers every POST with ``status`` and ``document``; records what came in."""

    status: int = 200
    document: str = ""
    requests: list[Request] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line, headers, body = await read_request(reader)
        self.requests.append(Request({"request-line": request_line, **headers}, body))
        self.arrived.set()
        payload = self.document.encode()
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()


@pytest_asyncio.fixture
async def dialplan(target: Target) -> AsyncIterator[DialplanServer]:
    server = DialplanServer()
    if REAL:
        listen = os.environ.get("FS_XML_CURL_LISTEN")
        if not listen:
            pytest.skip("FS_XML_CURL_LISTEN is not set")
        host, _, port = listen.rpartition(":")
        srv = await asyncio.start_server(server.handle, host, int(port))
    else:
        srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        target.sim.xml_curl_url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/fs/xml"
        target.sim.xml_curl_credentials = CREDENTIALS
    try:
        yield server
    finally:
        srv.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(srv.wait_closed(), 2)


def _document(context: str, expression: str, actions: str) -> str:
    return (
        '<document type="freeswitch/xml"><section name="dialplan">'
        f'<context name="{context}"><extension name="t">'
        f'<condition field="destination_number" expression="{expression}">{actions}</condition>'
        "</extension></context></section></document>"
    )


def _form(body: bytes) -> list[tuple[str, str]]:
    return [(k, unquote(v)) for k, _, v in (p.partition("=") for p in body.decode().split("&"))]


async def _b_leg(client: EslClient, a_leg: str) -> str:
    return await client.api(f"uuid_getvar {a_leg} other_loopback_leg_uuid")


async def test_the_post_carries_freeswitchs_form_fields_in_order(
    dialplan: DialplanServer, client: EslClient
) -> None:
    dialplan.document = _document(
        "context-1",
        r"^(777)(\d+)$",
        '<action application="set" data="sy_tail=$2"/>'
        '<action application="answer"/><action application="park"/>',
    )
    out = await client.api(
        "originate {origination_caller_id_number=1002}loopback/7771234/context-1 &park"
    )
    assert out.startswith("+OK "), out
    a_leg = out[4:].strip()
    try:
        req = dialplan.requests[-1]
        assert req.headers["request-line"].startswith("POST /fs/xml ")
        assert req.headers["content-type"] == "application/x-www-form-urlencoded"
        assert req.headers["user-agent"] == "freeswitch-xml/1.0"
        # gateway-credentials go up front as basic auth (auth-scheme basic, the default).
        assert (
            req.headers["authorization"]
            == "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
        )
        mine = _form(req.body)
        captured = _form(sample("xml_curl/dialplan-request-loopback.form").strip())
        assert [k for k, _ in mine if not k.startswith("variable_")] == [
            k for k, _ in captured if not k.startswith("variable_")
        ]
        fields = dict(mine)
        assert fields["section"] == "dialplan"
        assert fields["Event-Name"] == "REQUEST_PARAMS"
        assert fields["Caller-Destination-Number"] == "7771234"
        assert fields["Hunt-Context"] == "context-1"
        assert fields["Channel-State"] == "CS_ROUTING"
        # The answer ran: the regex capture reached the channel.
        b_leg = await _b_leg(client, a_leg)
        assert await client.api(f"uuid_getvar {b_leg} sy_tail") == "1234"
    finally:
        await client.api(f"uuid_kill {a_leg}")


@pytest.mark.parametrize(
    ("status", "document"),
    [
        (404, "nope"),
        (500, ""),
        (
            200,
            '<document type="freeswitch/xml"><section name="result">'
            '<result status="not found"/></section></document>',
        ),
        (200, "<document><not-closed>"),
    ],
)
async def test_failures_fall_back_to_the_static_dialplan(
    dialplan: DialplanServer, client: EslClient, status: int, document: str
) -> None:
    dialplan.status, dialplan.document = status, document
    out = await client.api("originate loopback/9999 &park")  # the static files route 9999
    assert out.startswith("+OK "), out
    assert dialplan.requests, "the fetch was made"
    await client.api(f"uuid_kill {out[4:].strip()}")


async def test_a_document_for_another_context_does_not_fall_back(
    dialplan: DialplanServer, client: EslClient
) -> None:
    dialplan.document = _document("elsewhere", "^9999$", '<action application="park"/>')
    assert await client.api("originate loopback/9999 &park") == "-ERR NO_ROUTE_DESTINATION\n"


async def test_a_transfer_fetches_again(dialplan: DialplanServer, client: EslClient) -> None:
    dialplan.document = _document(
        "default",
        r"^(9999|4242)$",
        '<action application="set" data="sy_last=$1"/>'
        '<action application="answer"/><action application="park"/>',
    )
    out = await client.api("originate loopback/9999 &park")
    a_leg = out[4:].strip()
    b_leg = await _b_leg(client, a_leg)
    before = len(dialplan.requests)
    assert await client.api(f"uuid_transfer {b_leg} 4242 XML default") == "+OK\n"

    async def fetched() -> None:
        while len(dialplan.requests) == before:
            dialplan.arrived.clear()
            await dialplan.arrived.wait()

    await asyncio.wait_for(fetched(), TIMEOUT)
    for _ in range(50):
        if await client.api(f"uuid_getvar {b_leg} sy_last") == "4242":
            break
        await asyncio.sleep(0.02)
    assert await client.api(f"uuid_getvar {b_leg} sy_last") == "4242"
    await client.api(f"uuid_kill {a_leg}")


async def test_a_refused_connection_falls_back_to_the_static_dialplan(
    target: Target, client: EslClient
) -> None:
    # Nothing listens where mod_xml_curl posts: the binding returns nothing.
    if REAL:
        if not os.environ.get("FS_XML_CURL_LISTEN"):
            pytest.skip("FS_XML_CURL_LISTEN is not set")
    else:
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        target.sim.xml_curl_url = f"http://127.0.0.1:{port}/fs/xml"
    out = await client.api("originate loopback/9999 &park")  # the static files route 9999
    assert out.startswith("+OK "), out
    a_leg = out[4:].strip()
    try:
        b_leg = await _b_leg(client, a_leg)
        assert await client.api(f"uuid_exists {b_leg}") == "true"
        if not REAL:
            assert target.sim.xml_curl_requests, "the fetch was tried"
    finally:
        await client.api(f"uuid_kill {a_leg}")


async def test_global_variables_and_mod_hash_in_a_fetched_document(
    dialplan: DialplanServer, client: EslClient
) -> None:
    # $${domain} is put in by the preprocessor before the document is parsed;
    # the hash app stores under <realm>_<key>, ${hash(select/…)} reads it back.
    dialplan.document = _document(
        "default",
        r"^4343$",
        '<action application="set" data="sy_domain=$${domain}"/>'
        '<action application="hash" data="insert/$${domain}-last_dial/global/${uuid}"/>'
        '<action application="set" data="sy_hashed=${hash(select/$${domain}-last_dial/global)}"/>'
        '<action application="answer"/><action application="park"/>',
    )
    out = await client.api("originate loopback/4343 &park")
    assert out.startswith("+OK "), out
    a_leg = out[4:].strip()
    try:
        b_leg = await _b_leg(client, a_leg)
        for _ in range(50):
            if await client.api(f"uuid_getvar {b_leg} sy_hashed") == b_leg:
                break
            await asyncio.sleep(0.02)
        domain = await client.api(f"uuid_getvar {b_leg} sy_domain")
        assert domain and "$" not in domain and domain != "_undef_"
        assert await client.api(f"uuid_getvar {b_leg} sy_hashed") == b_leg
        key = f"{domain}-last_dial/global"
        assert await client.api(f"hash select/{key}") == b_leg
        assert await client.api(f"hash insert_ifempty/{key}/x") == "-ERR key already exists\n"
        assert await client.api(f"hash delete_ifmatch/{key}/x") == "-ERR Doesn't match\n"
        assert await client.api(f"hash delete_ifmatch/{key}/{b_leg}") == "+OK\n"
        assert await client.api(f"hash delete/{key}") == "-ERR Not found\n"
        assert await client.api("hash select/nothing/here") == "-ERR no reply\n"
        assert (await client.api("hash bogus/a/b")).startswith("-ERR Usage: hash ")
    finally:
        await client.api(f"uuid_kill {a_leg}")
