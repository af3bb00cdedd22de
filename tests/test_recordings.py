"""A recording made through call-control on fssim becomes a RECORD media file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Simulator
from switchyard.media.service import service as media
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving


@pytest_asyncio.fixture
async def client(
    settings: Settings, tmp_path: Path, api_token: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with Simulator() as sim:
        node = await sim.add_node("fs1")
        node.register_user("1000")
        s = msgspec.structs.replace(
            settings, fs_nodes=sim.fs_nodes, node_lease=2.0, media_dir=str(tmp_path / "media")
        )
        app = create_app(s, [config_api, call_control, media])
        async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
            replica = app.state["call-control"]
            await eventually(
                lambda: replica.agents and all(a.client.connected for a in replica.agents.values())
            )
            yield c


async def test_a_stopped_recording_is_listed_as_a_record_file_of_its_channel(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    uuid = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    record = {"action": "record", "file_name": "rec-1.mp4"}
    r = await client.put(f"/api/channels/{uuid}", json={**record, "record": "on"})
    assert r.json()["code"] == 200, r.text
    path = r.json()["file"]
    # call-control records into the media folder's recordings/ (one setting,
    # SWITCHYARD_MEDIA_DIR): the file downloads with no further configuration.
    assert path == f"{tmp_path.resolve()}/media/recordings/rec-1.mp4"  # noqa: ASYNC240
    assert (await client.get("/api/media_files", params={"uuid": uuid})).json()["rowCount"] == 0
    # FreeSWITCH's part (fssim writes no audio): the file at the path it was given.
    recorded = b"\0\0\0\x18ftypmp42" + bytes(range(256)) * 40
    Path(path).write_bytes(recorded)  # noqa: ASYNC240
    r = await client.put(f"/api/channels/{uuid}", json={**record, "record": "off"})
    assert r.json()["code"] == 200, r.text

    page = None
    for _ in range(200):
        page = (await client.get("/api/media_files", params={"uuid": uuid})).json()
        if page["rowCount"]:
            break
        await asyncio.sleep(0.05)
    assert page is not None and page["rowCount"] == 1
    [item] = page["data"]
    assert (item["type"], item["channel_uuid"], item["abs_path"]) == ("RECORD", uuid, path)
    assert (item["name"], item["ext"], item["mime"]) == ("rec-1.mp4", "mp4", "video/mp4")
    one = (await client.get(f"/api/media_files/uuid/{uuid}")).json()
    assert one["id"] == item["id"] and one["file_size"] == len(recorded)
    r = await client.get(f"/api/media_files/{item['id']}.mp4")
    assert r.status_code == 200 and r.content == recorded
