"""A ``send`` wrapper that remembers the response status, for middleware that
records it (tracing, the operation log)."""

from __future__ import annotations

from litestar.types import Message, Send


class StatusCapture:
    """``send`` passed through; ``status`` is the answer's (500 until one starts)."""

    __slots__ = ("send", "status")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)
