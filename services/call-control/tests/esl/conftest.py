from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from switchyard.fssim import Node


@pytest_asyncio.fixture
async def node() -> AsyncIterator[Node]:
    n = Node("fssim", heartbeat_seconds=3600, playback_seconds=0.05)
    await n.start()
    try:
        yield n
    finally:
        await n.stop()
