"""The demo PBX is seeded once per database, and is usable."""

from __future__ import annotations

import msgspec
from litestar.testing import AsyncTestClient

from switchyard.config_api.service import service
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings


async def test_demo_is_seeded_once(settings: Settings, api_token: str) -> None:
    demo = msgspec.structs.replace(settings, demo=True)
    headers = {"X-XTRA-AUTH-ID": api_token}
    for _ in range(2):
        async with AsyncTestClient(create_app(demo, [service]), timeout=10) as client:
            ext = (await client.get("/api/extensions?perPage=100", headers=headers)).json()
            assert ext["rowCount"] == 20
            assert [e["extn"] for e in ext["data"]][:2] == ["1000", "1001"]
            routes = (await client.get("/api/routes", headers=headers)).json()
            assert routes["rowCount"] == 3
            check = (await client.get("/api/routes?destNumber=1005", headers=headers)).json()
            assert check["data"][0]["dest_type"] == "FS_DEST_USER"
            ivr = (await client.get("/api/routes?destNumber=6000", headers=headers)).json()
            assert ivr["data"][0]["body"] == "IVR示例1"
