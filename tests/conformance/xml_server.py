"""A mod_xml_curl server answering one document, for a simulated node.

Not a test module: tests elsewhere (tests/test_coocenter_api.py) import it
without the conformance suite's markers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from switchyard.fssim.node import Node
from tests.conformance.test_xml_curl import DialplanServer


@contextlib.asynccontextmanager
async def serving_document(node: Node, document: str) -> AsyncIterator[DialplanServer]:
    """``document`` answers every mod_xml_curl fetch of ``node`` while this lasts."""
    server = DialplanServer()
    server.document = document
    srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    node.xml_curl_url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/fs/xml"
    try:
        yield server
    finally:
        srv.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(srv.wait_closed(), 2)
