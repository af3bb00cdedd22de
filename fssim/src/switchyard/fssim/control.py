"""fssim's HTTP control port: what tests in another process use instead of the Python API.

POST /nodes/<node>/calls          {"caller","destination","context","caller_name","sip_headers"}
POST /nodes/<node>/users          {"extension","domain","mode","ring_seconds","early_media","cause",
                                   "network_ip","network_port","user_agent","expires"}
                                  a phone registers (sofia::register)
DELETE /nodes/<node>/users/<ext>    it unregisters (sofia::unregister; the user stays known)
POST /nodes/<node>/users/<ext>/expire  its registration runs out (sofia::expire)
POST /nodes/<node>/users/<ext>/ping {"ms","status"}  an OPTIONS ping answered (Reachable) or not
GET  /nodes/<node>/registrations    the registered phones
POST /nodes/<node>/gateways/<gw>    {"state","mode","ring_seconds","early_media","cause"}
POST /nodes/<node>/channels/<uuid>/answer | /reject {"cause"}
POST /nodes/<node>/channels/<uuid>/dtmf  {"digits","duration"}  the far end keys digits
POST /nodes/<node>/drop             cut every ESL connection
POST /nodes/<node>/restart          new Core-UUID, channels gone; {"down_seconds"}: down so long
GET  /nodes/<node>/journal?events=N&commands=M&fired=F  the journal's records from those offsets
POST /nodes/<node>/heartbeat        fire a HEARTBEAT now
GET  /nodes                         the nodes and their ESL ports
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import parse_qs

import msgspec

from switchyard.fssim.behaviour import Behaviour
from switchyard.fssim.core import DTMF_DIGITS, PHONE_USER_AGENT
from switchyard.fssim.node import Node
from switchyard.fssim.simulator import Simulator

MAX_BODY = 1 << 20


class CallIn(msgspec.Struct, forbid_unknown_fields=True):
    caller: str
    destination: str
    context: str = "public"
    caller_name: str = ""
    sip_headers: dict[str, str] = {}


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    extension: str
    domain: str = ""
    mode: str = "answer"
    ring_seconds: float = 0.0
    early_media: bool = False
    cause: str = "USER_BUSY"
    network_ip: str = ""
    network_port: int = 0
    user_agent: str = PHONE_USER_AGENT
    expires: int = 3600


class PingIn(msgspec.Struct, forbid_unknown_fields=True):
    ms: float
    status: str = "Reachable"


class GatewayIn(msgspec.Struct, forbid_unknown_fields=True):
    state: str | None = None
    mode: str | None = None
    ring_seconds: float = 0.0
    early_media: bool = False
    cause: str = "USER_BUSY"


class RejectIn(msgspec.Struct):
    cause: str = "CALL_REJECTED"


class DtmfIn(msgspec.Struct, forbid_unknown_fields=True):
    digits: str
    duration: int = 2000


class RestartIn(msgspec.Struct, forbid_unknown_fields=True):
    down_seconds: float = 0.0


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _behaviour(mode: str, ring: float, early: bool, cause: str) -> Behaviour:
    if mode not in ("answer", "reject", "silent"):
        raise HttpError(400, "mode: must be answer, reject or silent")
    return Behaviour(mode=mode, ring_seconds=ring, early_media=early, cause=cause)  # type: ignore[arg-type]


class ControlServer:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        port_: int = self._server.sockets[0].getsockname()[1]
        return port_

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length > MAX_BODY:
                raise HttpError(413, "body too large")
            body = await reader.readexactly(length) if length else b""
            status, out = 200, await self._route(method, path, body)
        except HttpError as exc:
            status, out = exc.status, {"error": str(exc)}
        except msgspec.ValidationError as exc:
            status, out = 400, {"error": str(exc)}
        except (ValueError, asyncio.IncompleteReadError, TimeoutError):
            status, out = 400, {"error": "bad request"}
        payload = json.dumps(out).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        with contextlib.suppress(Exception):
            await writer.drain()
            writer.close()

    def _node(self, name: str) -> Node:
        try:
            return self.sim.node(name)
        except KeyError:
            raise HttpError(404, f"no node {name}") from None

    async def _route(self, method: str, path: str, body: bytes) -> Any:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts == ["nodes"] and method == "GET":
            return [
                {"name": n.name, "esl_port": n.port, "core_uuid": n.core_uuid}
                for n in self.sim.nodes
            ]
        if len(parts) < 3 or parts[0] != "nodes":
            raise HttpError(404, "not found")
        node = self._node(parts[1])
        what = parts[2:]
        if method == "POST" and what == ["calls"]:
            c = msgspec.json.decode(body, type=CallIn)
            ch = node.inject_call(
                c.caller,
                c.destination,
                context=c.context,
                caller_name=c.caller_name,
                sip_headers=c.sip_headers,
            )
            return {"uuid": ch.uuid}
        if method == "POST" and what == ["users"]:
            u = msgspec.json.decode(body, type=UserIn)
            if not u.extension or any(c in u.extension for c in "@/ "):
                raise HttpError(400, "extension: must be a user name without @, / or blanks")
            if not 0 <= u.network_port <= 65535:
                raise HttpError(400, "network_port: must be 0-65535")
            if not 1 <= u.expires <= 86400:
                raise HttpError(400, "expires: must be 1-86400 seconds")
            reg = node.register_user(
                u.extension,
                u.domain,
                _behaviour(u.mode, u.ring_seconds, u.early_media, u.cause),
                network_ip=u.network_ip,
                network_port=u.network_port,
                user_agent=u.user_agent,
                expires=u.expires,
            )
            return {"ok": True, "call_id": reg.call_id, "contact": reg.url}
        if method == "GET" and what == ["registrations"]:
            return [
                {
                    "user": r.user,
                    "domain": r.host,
                    "call_id": r.call_id,
                    "contact": r.url,
                    "network_ip": r.network_ip,
                    "network_port": r.network_port,
                    "ping_status": r.ping_status,
                    "ping_ms": r.ping_ms,
                }
                for r in node.registrations.values()
            ]
        if method == "DELETE" and len(what) == 2 and what[0] == "users":
            if not node.unregister_user(what[1]):
                raise HttpError(404, f"no registration of {what[1]}")
            return {"ok": True}
        if method == "POST" and len(what) == 3 and what[0] == "users" and what[2] == "expire":
            if not node.expire_user(what[1]):
                raise HttpError(404, f"no registration of {what[1]}")
            return {"ok": True}
        if method == "POST" and len(what) == 3 and what[0] == "users" and what[2] == "ping":
            p = msgspec.json.decode(body, type=PingIn)
            if p.status not in ("Reachable", "Unreachable"):
                raise HttpError(400, "status: must be Reachable or Unreachable")
            if not 0 <= p.ms <= 60000:
                raise HttpError(400, "ms: must be 0-60000")
            regs = node.find_registrations(what[1])
            if not regs:
                raise HttpError(404, f"no registration of {what[1]}")
            for reg in regs:
                node.set_ping(reg, p.ms, p.status)
            return {"ok": True}
        if method == "POST" and len(what) == 2 and what[0] == "gateways":
            g = msgspec.json.decode(body or b"{}", type=GatewayIn)
            kw: dict[str, object] = {}
            if g.mode is not None:
                kw["behaviour"] = _behaviour(g.mode, g.ring_seconds, g.early_media, g.cause)
            gw = node.set_gateway(what[1], g.state, **kw)
            return {"name": gw.name, "state": gw.state, "status": gw.status}
        if method == "POST" and len(what) == 3 and what[0] == "channels":
            if what[2] == "answer":
                found = node.answer_leg(what[1])
            elif what[2] == "reject":
                found = node.reject_leg(
                    what[1], msgspec.json.decode(body or b"{}", type=RejectIn).cause
                )
            elif what[2] == "dtmf":
                d = msgspec.json.decode(body, type=DtmfIn)
                if not d.digits or any(c.upper() not in DTMF_DIGITS for c in d.digits):
                    raise HttpError(400, "digits: must be 0-9, *, #, A-D")
                if not 1 <= d.duration <= 64000:
                    raise HttpError(400, "duration: must be 1-64000 samples")
                found = node.send_dtmf(what[1], d.digits, duration=d.duration)
            else:
                raise HttpError(404, "not found")
            if not found:
                raise HttpError(404, f"no channel {what[1]}")
            return {"ok": True}
        if method == "POST" and what == ["drop"]:
            await node.drop_connections()
            return {"ok": True}
        if method == "POST" and what == ["restart"]:
            r = msgspec.json.decode(body or b"{}", type=RestartIn)
            if not 0 <= r.down_seconds <= 600:
                raise HttpError(400, "down_seconds: must be 0-600")
            await node.restart(down_seconds=r.down_seconds)
            return {"core_uuid": node.core_uuid}
        if method == "GET" and what == ["journal"]:
            journal = node.server.journal if node.server else None
            if journal is None:
                raise HttpError(409, "journal: not recording (switchyard fssim --journal)")
            query = parse_qs(path.partition("?")[2])
            try:
                first_event = int(query.get("events", ["0"])[0])
                first_command = int(query.get("commands", ["0"])[0])
                first_fired = int(query.get("fired", ["0"])[0])
            except ValueError:
                raise HttpError(400, "events, commands, fired: must be integers") from None
            return {
                "core_uuid": node.core_uuid,
                "events": journal.events[first_event:],
                "commands": journal.commands[first_command:],
                "fired": journal.every_event[first_fired:],
            }
        if method == "POST" and what == ["heartbeat"]:
            node.heartbeat()
            return {"ok": True}
        raise HttpError(404, "not found")
