"""A simulated FreeSWITCH node: the core with its modules loaded and its ESL port open.

:class:`Node` is what tests and ``switchyard up`` hold. It wires the layers
below into the core's hooks -- the executor (with the applications) as the
router, the API commands, mod_xml_curl as the XML binding -- and runs the
ESL server; the core itself knows none of them.
"""

from __future__ import annotations

import asyncio

from switchyard.fssim import api
from switchyard.fssim.apps import APPS
from switchyard.fssim.core import Core
from switchyard.fssim.esl.server import EslServer
from switchyard.fssim.event import Event
from switchyard.fssim.executor import Executor
from switchyard.fssim.journal import Journal
from switchyard.fssim.xml_curl import XmlCurl


class Node(Core):
    """A FreeSWITCH double. Everything a test controls is a method here or on the core."""

    # Constructed as a Core is (the same options); the core calls this at the
    # end of its __init__.
    def load_modules(self) -> None:
        self.server: EslServer | None = None
        self.executor = Executor(self, APPS)
        self.router = self.executor.route
        self.xml_binding = XmlCurl(self)
        api.install(self, self.executor)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self.server = EslServer(self, self.executor)
        port = await self.server.start(host, port)
        self.start_heartbeats()
        return port

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    @property
    def esl_url(self) -> str:
        return f"esl://{self.password}@127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.shutdown()
        if self.server:
            await self.server.stop()

    def fire(self, event: Event) -> None:
        # The journal (when on) notes every event, taken or not.
        if self.server is not None and self.server.journal is not None:
            self.server.journal.fired(event)
        super().fire(event)

    def record(self) -> Journal:
        """Journal every event a connection takes and every command one sends
        (journal.py), from the next connection on; call after ``start``."""
        assert self.server is not None
        if self.server.journal is None:
            self.server.journal = Journal()
        return self.server.journal

    async def drop_connections(self) -> None:
        """Cut every ESL socket, as a crash or a network failure would."""
        for session in list(self.sessions):
            session.abort()
        if self.server:
            await self.server.drop_all()

    async def restart(self, *, down_seconds: float = 0.0) -> None:
        """A FreeSWITCH restart: sockets cut, channels gone, a new Core-UUID."""
        assert self.server is not None
        port = self.server.port
        host = self.server.host
        await self.server.stop()
        self.reset()
        if down_seconds:
            await asyncio.sleep(down_seconds)
        await self.server.start(host, port)
