"""The ESL listener: accepts connections and runs one :class:`EslSession` for each."""

from __future__ import annotations

import asyncio
import contextlib

from switchyard.fssim.core import Core
from switchyard.fssim.esl.session import EslSession
from switchyard.fssim.executor import Executor
from switchyard.fssim.journal import Journal


class EslServer:
    def __init__(self, node: Core, executor: Executor) -> None:
        self.node = node
        self.executor = executor
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.Server | None = None
        self._sessions: set[EslSession] = set()
        # Set by Node.record(): every later connection writes to it.
        self.journal: Journal | None = None

    async def start(self, host: str, port: int) -> int:
        self.host = host
        self._server = await asyncio.start_server(self._accept, host, port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self.drop_all()
            # A session still inside a blocking api (an originate ringing for a
            # minute) would outlive the server; FreeSWITCH's would die with it.
            for s in list(self._sessions):
                if s.task is not None:
                    s.task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def drop_all(self) -> None:
        """Cut every socket. As in FreeSWITCH, a blocking api keeps running to its end."""
        for s in list(self._sessions):
            s.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = EslSession(self.node, self.executor, reader, writer, journal=self.journal)
        self._sessions.add(session)
        session.task = asyncio.current_task()
        try:
            await session.run()
        finally:
            self._sessions.discard(session)
