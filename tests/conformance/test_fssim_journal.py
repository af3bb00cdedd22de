"""fssim's journal (``--journal``): which ESL connection took each event and
sent each command, read over the control port. The chaos run (`./sy chaos`)
counts lost events and double masters with it; nothing goes on the wire."""

from __future__ import annotations

import httpx
import pytest

from switchyard.call_control.esl import EslClient, EslEvent
from switchyard.fssim import Simulator
from switchyard.fssim.control import ControlServer
from switchyard.shared.testing import eventually

pytestmark = pytest.mark.fssim_only


def local_peer(client: EslClient) -> str:
    """The client's side of its ESL socket, as the node sees it."""
    transport = client._conn._writer.transport  # type: ignore[union-attr]
    host, port = transport.get_extra_info("sockname")[:2]
    return f"{host}:{port}"


async def test_the_journal_names_the_connection_of_every_event_and_command() -> None:
    async with Simulator() as sim:
        node = await sim.add_node("fs-j", heartbeat_seconds=3600)
        node.record()
        got: list[EslEvent] = []
        listener = EslClient("127.0.0.1", node.port, "ClueCon", on_event=got.append,
                             events=("CHANNEL_CREATE",))  # fmt: skip
        commander = EslClient("127.0.0.1", node.port, "ClueCon", on_event=lambda _: None,
                              events=("HEARTBEAT",))  # fmt: skip
        await listener.start(wait=5)
        await commander.start(wait=5)
        listener_peer, commander_peer = local_peer(listener), local_peer(commander)
        control = ControlServer(sim)
        port = await control.start()
        try:
            assert (await commander.api("originate user/none &park")).startswith("-ERR")
            ch = node.inject_call("1001", "9999", context="default")
            await eventually(lambda: bool(got))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                journal = (await http.get("/nodes/fs-j/journal")).json()
                later = (await http.get("/nodes/fs-j/journal?events=1&commands=1")).json()
                assert (await http.get("/nodes/fs-j/journal?events=x")).status_code == 400
                # A node down for a while (longer than a lease, in the chaos run).
                bad = await http.post("/nodes/fs-j/restart", json={"down_seconds": -1})
                assert bad.status_code == 400 and "down_seconds" in bad.json()["error"]
                before = node.core_uuid
                r = await http.post("/nodes/fs-j/restart", json={"down_seconds": 0.2})
                assert r.json()["core_uuid"] == node.core_uuid != before
        finally:
            await control.stop()
            await listener.close()
            await commander.close()
    created = [e for e in journal["events"] if e["name"] == "CHANNEL_CREATE"]
    assert [e["uuid"] for e in created] == [ch.uuid]
    assert created[0]["id"] == f"{before}:{got[0].get('Event-Sequence')}"
    # Only the connection that asked for CHANNEL_CREATE took it.
    assert created[0]["peers"] == [listener_peer]
    sent = [c for c in journal["commands"] if c["command"].startswith("api originate")]
    assert [c["peer"] for c in sent] == [commander_peer]
    # Every event fired is noted, taken or not: the API event of the originate
    # went to nobody (no connection asked for API events).
    fired = {e["id"]: e["name"] for e in journal["fired"]}
    assert fired[created[0]["id"]] == "CHANNEL_CREATE"
    assert "API" in fired.values()
    assert not any(e["name"] == "API" for e in journal["events"])
    assert later["events"] == journal["events"][1:]
    assert later["commands"] == journal["commands"][1:]
