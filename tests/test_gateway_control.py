"""PUT /api/gateways/{id}/control: config-api's path (the Ingress sends
/api/gateways/{id}… there), done by call-control over NATS on every node."""

from __future__ import annotations

import asyncpg
import msgspec

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Simulator
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving


async def test_control_by_id_reaches_every_node_through_config_api(
    settings: Settings, api_token: str, db: asyncpg.Pool
) -> None:
    async with Simulator() as sim:
        for name in ("fs1", "fs2"):
            await sim.add_node(name)
        s = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0)
        cc = create_app(s, [call_control])
        # Two apps, as two Deployments: config-api answers the path, call-control acts.
        async with (
            serving(create_app(s, [config_api]), headers={"X-XTRA-AUTH-ID": api_token}) as api,
            serving(cc),
        ):
            replica = cc.state["call-control"]
            await eventually(
                lambda: (
                    len(replica.agents) == 2
                    and all(a.client.connected for a in replica.agents.values())
                )
            )
            gw_id = await db.fetchval(
                "INSERT INTO gateways (name, profile_id) VALUES ('example', 'internal') "
                "RETURNING id"
            )
            r = await api.put(f"/api/gateways/{gw_id}/control", json={"action": "killgw"})
            assert r.json() == {"code": 200, "message": "success", "data": {}}, r.text
            assert all("example" not in n.gateways for n in sim.nodes)
            r = await api.put(f"/api/gateways/{gw_id}/control?action=start")
            assert r.status_code == 200, r.text
            assert all("example" in n.gateways for n in sim.nodes)

            r = await api.put(f"/api/gateways/{gw_id}/control", json={"action": "explode"})
            assert r.status_code == 400 and r.json()["data"]["field"] == "action"
            r = await api.put("/api/gateways/999999/control", json={"action": "killgw"})
            assert r.status_code == 404
            assert all("example" in n.gateways for n in sim.nodes)  # neither did anything
