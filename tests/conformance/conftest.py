"""One conformance suite, two targets: fssim by default, a real FreeSWITCH when FS_ESL_URL is set.

FS_ESL_URL=esl://ClueCon@127.0.0.1:8021 points the suite at a FreeSWITCH;
FS_XML_CURL_LISTEN=host:port is where the mod_xml_curl tests listen (that
FreeSWITCH must POST its dialplan fetches to http://<FS_XML_CURL_LISTEN>/fs/xml).
Tests marked ``fssim_only`` drive the simulator's control interface and
are skipped against a real FreeSWITCH. See docs/fssim.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from switchyard.call_control.esl import EslClient, parse_esl_url
from switchyard.fssim import Node
from switchyard.fssim.dialplan import static_document

REAL = bool(os.environ.get("FS_ESL_URL"))
TIMEOUT = 5.0
# The files a real FreeSWITCH under test is given (conf/dialplan/*.xml, ...).
FREESWITCH_CONF = os.path.join(os.path.dirname(__file__), "freeswitch")


def _static_dialplan() -> str:
    """conf/dialplan/*.xml of a real node under test, as fssim's static dialplan."""
    folder = os.path.join(FREESWITCH_CONF, "dialplan")
    texts = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            texts.append(f.read())
    return static_document(texts)


STATIC_DIALPLAN = _static_dialplan()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fssim_only: needs the simulator's control interface (skipped on real FreeSWITCH)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not REAL:
        return
    skip = pytest.mark.skip(reason="simulator-only (FS_ESL_URL points at a real FreeSWITCH)")
    for item in items:
        if "fssim_only" in item.keywords:
            item.add_marker(skip)


@dataclass
class Target:
    host: str
    port: int
    password: str
    node: Node | None  # None on a real FreeSWITCH

    @property
    def url(self) -> str:
        return f"esl://{self.password}@{self.host}:{self.port}"

    @property
    def sim(self) -> Node:
        assert self.node is not None, "simulator-only test ran against a real FreeSWITCH"
        return self.node


@pytest_asyncio.fixture
async def target() -> AsyncIterator[Target]:
    if REAL:
        host, port, password = parse_esl_url(os.environ["FS_ESL_URL"])
        yield Target(host, port, password, None)
        return
    node = Node("fssim", heartbeat_seconds=3600, playback_seconds=0.05)
    node.static_dialplan = STATIC_DIALPLAN
    port = await node.start()
    try:
        yield Target("127.0.0.1", port, node.password, node)
    finally:
        await node.stop()


class RawEsl:
    """A bare socket speaking ESL, for assertions on exact bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.backlog: list[bytes] = []  # events read while waiting for a reply

    @classmethod
    async def connect(cls, t: Target, *, auth: bool = True) -> RawEsl:
        r, w = await asyncio.wait_for(asyncio.open_connection(t.host, t.port), TIMEOUT)
        raw = cls(r, w)
        assert await raw.frame() == b"Content-Type: auth/request\n\n"
        if auth:
            await raw.send(f"auth {t.password}")
            assert b"+OK accepted" in await raw.frame()
        return raw

    async def send(self, packet: str) -> None:
        self.writer.write(packet.encode() + b"\n\n")
        await self.writer.drain()

    async def frame(self, timeout: float = TIMEOUT) -> bytes:
        """One whole frame: header block, blank line, Content-Length bytes."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\n\n"), timeout)
        m = re.search(rb"^Content-Length: (\d+)$", head, re.M)
        body = (
            await asyncio.wait_for(self.reader.readexactly(int(m.group(1))), timeout) if m else b""
        )
        return head + body

    async def reply(self, packet: str) -> bytes:
        """Send, then return the next reply frame, skipping events."""
        await self.send(packet)
        while True:
            f = await self.frame()
            if b"Content-Type: text/event-" not in f.split(b"\n\n", 1)[0]:
                return f
            self.backlog.append(f)

    async def events_until(self, pred: object, timeout: float = TIMEOUT) -> list[bytes]:
        out: list[bytes] = []
        while self.backlog:
            f = self.backlog.pop(0)
            out.append(f)
            if pred(f):  # type: ignore[operator]
                return out
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            f = await self.frame(max(left, 0.01))
            out.append(f)
            if pred(f):  # type: ignore[operator]
                return out

    async def close(self) -> None:
        self.writer.close()


def body_of(frame: bytes) -> bytes:
    return frame.split(b"\n\n", 1)[1]


def event_headers(frame: bytes) -> list[tuple[str, str]]:
    """Header lines of a plain event frame, still URL-encoded, in order."""
    payload = body_of(frame)
    head = payload.split(b"\n\n", 1)[0].decode()
    return [tuple(line.split(": ", 1)) for line in head.split("\n")]  # type: ignore[misc]


@pytest_asyncio.fixture(autouse=True)
async def hang_up_leftovers(target: Target) -> AsyncIterator[None]:
    """On a real node: what a test leaves (a failed assertion before its
    uuid_kill) is hung up, and the table emptied, before the next test.
    fssim's node is thrown away with the test."""
    yield
    if target.node is not None:
        return
    c = EslClient(target.host, target.port, target.password, command_timeout=TIMEOUT)
    await c.start(wait=TIMEOUT)
    try:
        await c.api("hupall MANAGER_REQUEST")
        await channels_shown(c, 0)
    finally:
        await c.close()


@pytest_asyncio.fixture
async def raw(target: Target) -> AsyncIterator[RawEsl]:
    conn = await RawEsl.connect(target)
    yield conn
    await conn.close()


@pytest_asyncio.fixture
async def client(target: Target) -> AsyncIterator[EslClient]:
    c = EslClient(target.host, target.port, target.password, command_timeout=TIMEOUT)
    await c.start(wait=TIMEOUT)
    yield c
    await c.close()


async def channels_shown(client: EslClient, count: int) -> dict[str, Any]:
    """``show channels as json`` once it lists ``count`` rows.

    The table trails the channels by one SQL batch: rows appear 30-200 ms
    after ``originate`` answers and stay 90-300 ms after ``uuid_kill`` has
    (freeswitch-observed section 1), so a test polls, both ways.
    """
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        shown: dict[str, Any] = json.loads(await client.api("show channels as json"))
        if shown["row_count"] == count or asyncio.get_running_loop().time() > deadline:
            return shown
        await asyncio.sleep(0.02)


# Frames captured from a real FreeSWITCH 1.10.12 (copied from the project's reference).
SAMPLES = os.path.join(os.path.dirname(__file__), "samples")


def sample(name: str) -> bytes:
    with open(os.path.join(SAMPLES, name), "rb") as f:
        return f.read()
