"""The demo PBX, seeded once per database when SWITCHYARD_DEMO is set.

Extensions 1000-1019, an example gateway, an example IVR and a few routes,
so a newcomer can call something at once. The ``config_seeds`` marker row
makes it a one-off even across restarts and replicas (the insert of the
marker and the data share one transaction).
"""

from __future__ import annotations

import logging
import secrets

from switchyard.shared.runtime import Runtime

log = logging.getLogger(__name__)

MARKER = "demo-pbx"


async def seed(runtime: Runtime) -> bool:
    """Seed the demo PBX; False when it was already seeded."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            "INSERT INTO config_seeds (name) VALUES ($1) ON CONFLICT DO NOTHING RETURNING name",
            MARKER,
        )
        if done is None:
            return False
        await conn.executemany(
            "INSERT INTO extensions (extn, name, password, context) "
            "VALUES ($1, $2, $3, 'context-1') ON CONFLICT DO NOTHING",
            [(str(n), f"Demo {n}", secrets.token_urlsafe(12)) for n in range(1000, 1020)],
        )
        gw = await conn.fetchval(
            "INSERT INTO gateways (name, realm, register, description) "
            "VALUES ('example', 'example.com', 'no', '(demo) example gateway') "
            "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id"
        )
        ivr = await conn.fetchval(
            "INSERT INTO ivrs (id, name, key, description, digit_len) "
            "VALUES (nextval('ivrs_id_seq'), 'IVR示例1', 'ivr-demo', "
            "'欢迎致电,请直拨分机号', 4) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name "
            "RETURNING id"
        )
        await conn.execute(
            "INSERT INTO ivr_actions (ivr_menu_id, digits, action, match_prefix) "
            "VALUES ($1, '1', 'IVR_EXTENSION', 1)",
            ivr,
        )
        routes = [
            ("User", "本地分机", "1", 4, "FS_DEST_USER", "", ""),
            ("IVR", "(demo) IVR", "6000", 4, "FS_DEST_IVR", str(ivr), "IVR示例1"),
            ("Outbound", "(demo) outside numbers", "0", 12, "FS_DEST_GATEWAY", str(gw), "example"),
        ]
        await conn.executemany(
            "INSERT INTO routes (name, description, prefix, max_length, context, dest_type, "
            "dest_uuid, body) VALUES ($1, $2, $3, $4, 'context-1', $5, $6, $7) "
            "ON CONFLICT DO NOTHING",
            routes,
        )
        await conn.execute(
            "INSERT INTO config_outbox (resource, payload) VALUES "
            '(\'routes\', \'{"resource":"routes","action":"create","ids":[]}\')'
        )
    log.info("seeded the demo PBX (extensions 1000-1019, gateway example, an IVR, routes)")
    return True
