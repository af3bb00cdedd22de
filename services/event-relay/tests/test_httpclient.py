"""The relay's HTTP client against a real socket server answering in each way HTTP/1.1 allows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from switchyard.event_relay.httpclient import Client, HttpError

Reply = Callable[[int, asyncio.StreamWriter], Awaitable[bool]]  # request number -> keep open?


class Server:
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[tuple[int, bytes]] = []  # (connection number, body)
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append((conn, await reader.readexactly(length)))
                if not await self.reply(len(self.requests), writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


Serve = Callable[[Reply], Awaitable[tuple[Server, int]]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(reply: Reply) -> tuple[Server, int]:
        s = Server(reply)
        srv = await asyncio.start_server(s.serve, "127.0.0.1", 0)
        servers.append(srv)
        return s, srv.sockets[0].getsockname()[1]

    yield start
    for srv in servers:
        srv.close()


async def _post(client: Client, port: int, body: bytes = b"{}") -> tuple[int, str]:
    r = await client.post("http", "127.0.0.1", port, "example.com", "/hook?a=1", {}, body)
    return r.status_code, r.text


async def test_chunked_answers_on_one_kept_connection(serve: Serve) -> None:
    async def reply(n: int, w: asyncio.StreamWriter) -> bool:
        w.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nok \r\n1\r\n" + b"%d" % n
        )
        w.write(b"\r\n0\r\n\r\n")
        await w.drain()
        return True

    server, port = await serve(reply)
    client = Client(5.0)
    assert await _post(client, port, b"one") == (200, "ok 1")
    assert await _post(client, port, b"two") == (200, "ok 2")
    assert server.requests == [(1, b"one"), (1, b"two")]
    await client.aclose()


async def test_a_connection_the_server_dropped_is_replaced(serve: Serve) -> None:
    async def reply(n: int, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await w.drain()
        return False  # closes without saying so: the kept connection is stale

    server, port = await serve(reply)
    client = Client(5.0)
    assert (await _post(client, port))[0] == 204
    await asyncio.sleep(0.05)
    assert (await _post(client, port))[0] == 204
    assert [c for c, _ in server.requests] == [1, 2]
    await client.aclose()


async def test_a_body_to_the_close_and_redirects_are_answers(serve: Serve) -> None:
    async def reply(n: int, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1/\r\n\r\nmoved")
        await w.drain()
        return False

    _, port = await serve(reply)
    client = Client(5.0)
    assert await _post(client, port) == (302, "moved")  # not followed
    await client.aclose()


async def test_silence_times_out_and_garbage_is_an_error(serve: Serve) -> None:
    async def silent(n: int, w: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(10)
        return False

    async def garbage(n: int, w: asyncio.StreamWriter) -> bool:
        w.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await w.drain()
        return False

    _, quiet = await serve(silent)
    _, bad = await serve(garbage)
    client = Client(0.3)
    with pytest.raises(TimeoutError):
        await _post(client, quiet)
    with pytest.raises(HttpError, match="not an HTTP"):
        await _post(client, bad)
    with pytest.raises(HttpError, match="connect"):
        await _post(client, 1)  # nothing listens
    await client.aclose()
