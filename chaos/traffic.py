"""Steady traffic while faults happen, and a record of every answer it got.

- API writes (routes, gateways, blacklists) to config-api;
- calls placed through the API (originate) and from the nodes (fssim's
  control port), each hung up through the API a few seconds later;
- ``/fs/xml`` dialplan fetches, as FreeSWITCH's mod_xml_curl sends them;
- a webhook receiver whose answers the faults change.

Requests go to a live, unpaused replica of the service, as a load balancer
whose health checks noticed would send them; one that dies or freezes
under a request in flight is recorded as such, not as a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from chaos.stack import WEBHOOK_TIMEOUT, Replica, Stack
from switchyard.shared import webhooks
from switchyard.shared.webhook_receiver import Answer, Received, Receiver

# Longer than any answer may take: the bus timeout (3 s) plus margin. A
# request still unanswered then is a hang.
DEADLINE = 10.0
# An originate waits for the callee: its own bound is the originate timeout
# it asks for plus the API's 5 s of slack.
ORIGINATE_TIMEOUT = 5
ORIGINATE_DEADLINE = ORIGINATE_TIMEOUT + 5 + 3.0
FSXML_FORM = {
    "section": "dialplan",
    "Caller-Context": "context-1",
    "Hunt-Context": "context-1",
    "Caller-Destination-Number": "1000",
    "Hunt-Destination-Number": "1000",
    "Caller-Caller-ID-Number": "1001",
}


@dataclass
class Outcome:
    kind: str  # api-write, originate, hangup, fsxml, node-call, ...
    replica: str
    at: float
    elapsed: float
    status: int | None
    result: str  # ok, 4xx, 503, 503-no-reason, 500, hang, refused, cut, frozen
    phase: str
    detail: str = ""


@dataclass
class Write:
    kind: str
    name: str
    fields: dict[str, Any]
    result: str
    phase: str


@dataclass
class Delivery:
    sub: str
    webhook_id: str
    key: str  # Core-UUID:Event-Sequence from the body
    lane: str
    seq: int
    acked: bool
    signed: bool
    at: float


@dataclass
class Call:
    uuid: str
    origin: str  # api or node
    hangup_at: float
    held: bool = False  # kept up across a fault, hung up by the fault itself


class Traffic:
    def __init__(self, stack: Stack, http: httpx.AsyncClient, rng: random.Random) -> None:
        self.stack = stack
        self.http = http
        self.rng = rng
        self.phase = "steady"
        self.outcomes: list[Outcome] = []
        self.writes: list[Write] = []
        self.calls: dict[str, Call] = {}
        self.hung_up: dict[str, str] = {}  # uuid -> result of its hangup
        self.deliveries: list[Delivery] = []
        self.webhook_mode = "ok"  # ok, 500, timeout, 410
        self.gone_sub = "c"  # the subscription answered 410 in that mode
        self.secrets: dict[str, str] = {}
        self.sub_ids: dict[str, int] = {}
        self.receiver = Receiver(self._answer, keep=False, on_request=self._received)
        self.receiver_url = ""
        self._n = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.auth = {"X-XTRA-AUTH-ID": stack.token}

    # --- requests ---------------------------------------------------------------------

    def _pick(self, service: str) -> Replica | None:
        live = [r for r in self.stack.of(service) if r.alive and not r.paused]
        return self.rng.choice(live) if live else None

    async def request(
        self,
        kind: str,
        service: str,
        method: str,
        path: str,
        deadline: float = DEADLINE,
        **kw: Any,
    ) -> httpx.Response | None:
        rep = self._pick(service)
        if rep is None:
            self._record(kind, "-", time.time(), 0.0, None, "refused", "no live replica")
            return None
        starts, started, t0 = rep.starts, time.time(), time.monotonic()
        headers = {**self.auth, **kw.pop("headers", {})}
        try:
            resp = await self.http.request(
                method, rep.url + path, headers=headers, timeout=deadline, **kw
            )
        except httpx.TimeoutException:
            result = "frozen" if rep.paused or rep.starts != starts else "hang"
            self._record(kind, rep.name, started, time.monotonic() - t0, None, result)
            return None
        except httpx.ConnectError:
            self._record(kind, rep.name, started, time.monotonic() - t0, None, "refused")
            return None
        except httpx.TransportError as exc:
            self._record(kind, rep.name, started, time.monotonic() - t0, None, "cut", str(exc))
            return None
        status = resp.status_code
        if 200 <= status < 300:
            result = "ok"
        elif status == 503:
            result = "503" if _reason(resp) else "503-no-reason"
        elif status >= 500:
            result = str(status)
        else:
            result = "4xx"
        self._record(kind, rep.name, started, time.monotonic() - t0, status, result, resp.text)
        return resp

    def _record(
        self,
        kind: str,
        replica: str,
        at: float,
        elapsed: float,
        status: int | None,
        result: str,
        detail: str = "",
    ) -> None:
        self.outcomes.append(
            Outcome(kind, replica, at, elapsed, status, result, self.phase, detail[:200])
        )

    # --- drivers ----------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._every(0.4, self.api_write)),
            asyncio.create_task(self._every(1.0, self.api_call)),
            asyncio.create_task(self._every(1.5, self.node_call)),
            asyncio.create_task(self._every(0.25, self.fsxml)),
            asyncio.create_task(self._every(0.3, self.hangups)),
        ]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []

    async def _every(self, period: float, step: Any) -> None:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                await step()
            await asyncio.sleep(period * self.rng.uniform(0.7, 1.3))

    async def api_write(self) -> None:
        self._n += 1
        kind = ("routes", "gateways", "blacklists")[self._n % 3]
        name = f"chaos-{kind[:-1]}-{self._n}"
        body: dict[str, Any]
        if kind == "routes":
            body = {
                "name": name,
                "prefix": str(700000 + self._n),
                "max_length": 12,
                "context": "context-1",
                "dest_type": "FS_DEST_USER",
            }
        elif kind == "gateways":
            body = {"name": name, "realm": f"sip{self._n}.example.com"}
        else:
            body = {"name": name, "list_type": self._n % 2, "limit_user_type": 1}
        phase = self.phase
        await self.request("api-write", "config-api", "POST", f"/api/{kind}", json=body)
        # request() recorded its outcome last, with no await since.
        self.writes.append(Write(kind, name, body, self.outcomes[-1].result, phase))

    async def originate(self) -> str | None:
        resp = await self.request(
            "originate",
            "call-control",
            "POST",
            "/api/channels",
            deadline=ORIGINATE_DEADLINE,
            data={"destNumber": "1000", "timeout": str(ORIGINATE_TIMEOUT)},
        )
        if resp is not None and resp.status_code == 200 and resp.json().get("result") == "ok":
            uuid: str = resp.json()["uuid"]
            return uuid
        return None

    async def api_call(self) -> None:
        if (uuid := await self.originate()) is not None:
            self.calls[uuid] = Call(uuid, "api", time.time() + self.rng.uniform(1, 4))

    async def node_call(self) -> None:
        node = self.rng.choice(list(self.stack.esl_ports))
        r = await self.http.post(
            f"{self.stack.control}/nodes/{node}/calls",
            json={"caller": "1001", "destination": "9999", "context": "default"},
            timeout=5,
        )
        if r.status_code == 200:
            uuid = r.json()["uuid"]
            self.calls[uuid] = Call(uuid, "node", time.time() + self.rng.uniform(1, 4))

    async def hangup(self, uuid: str) -> str:
        """DELETE through the API: ``ok``, ``gone`` (404) or the failure."""
        resp = await self.request("hangup", "call-control", "DELETE", f"/api/channels/{uuid}")
        if resp is None:
            return self.outcomes[-1].result
        if resp.status_code == 404:
            return "gone"
        return self.outcomes[-1].result

    async def hangups(self) -> None:
        now = time.time()
        for call in [c for c in self.calls.values() if not c.held and c.hangup_at <= now]:
            result = await self.hangup(call.uuid)
            if result in ("ok", "gone") or now - call.hangup_at > 30:
                self.hung_up[call.uuid] = result
                self.calls.pop(call.uuid, None)

    async def fsxml(self) -> None:
        await self.request(
            "fsxml",
            "config-api",
            "POST",
            "/fs/xml",
            data=FSXML_FORM,
            headers={"User-Agent": "freeswitch-xml/1.0"},
            auth=("freeswitch", self.stack.xml_secret),
        )

    # --- webhooks ---------------------------------------------------------------------

    async def subscribe(self) -> None:
        self.receiver_url = await self.receiver.start()
        subs: dict[str, dict[str, Any]] = {
            "a": {"events": ["*"]},
            "b": {
                "events": ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"],
                "filters": {"node": "fssim1"},
            },
            "c": {"events": ["*"]},
            # mod_ai's ai::channel-state, made by the relay from channel events
            "d": {"format": "xswitch"},
        }
        for name, extra in subs.items():
            secret = webhooks.new_secret()
            body = {"url": f"{self.receiver_url}/{name}", "format": "raw", "secret": secret}
            resp = await self.request(
                "webhook-api", "event-relay", "POST", "/api/webhooks", json={**body, **extra}
            )
            assert resp is not None and resp.status_code == 200, resp and resp.text
            self.sub_ids[name] = int(resp.json()["data"])
            self.secrets[name] = secret

    async def reenable(self, sub: str) -> bool:
        for _ in range(50):
            resp = await self.request(
                "webhook-api",
                "event-relay",
                "PUT",
                f"/api/webhooks/{self.sub_ids[sub]}",
                json={"enabled": True},
            )
            if resp is not None and resp.status_code == 200:
                return True
            await asyncio.sleep(0.2)
        return False

    async def subscription(self, sub: str) -> dict[str, Any] | None:
        resp = await self.request(
            "webhook-api", "event-relay", "GET", f"/api/webhooks/{self.sub_ids[sub]}"
        )
        if resp is None or resp.status_code != 200:
            return None
        data: dict[str, Any] = resp.json()
        return data

    def _answer(self, got: Received) -> Answer:
        sub = got.path.strip("/")
        if self.webhook_mode == "500":
            return Answer(500)
        if self.webhook_mode == "timeout":
            return Answer(204, delay=WEBHOOK_TIMEOUT + 1.0)
        if self.webhook_mode == "410" and sub == self.gone_sub:
            return Answer(410)
        return Answer(204)

    def _received(self, got: Received) -> None:
        sub = got.path.strip("/")
        # Decided the same way _answer decides, before it runs.
        acked = self.webhook_mode == "ok" or (self.webhook_mode == "410" and sub != self.gone_sub)
        try:
            webhooks.verify(self.secrets[sub], got.body, got.headers)
            signed = True
        except (webhooks.SignatureError, KeyError):
            signed = False
        try:
            event = msgspec.json.decode(got.body)
        except msgspec.DecodeError:
            event = {}
        if not isinstance(event, dict):
            event = {}
        key = f"{event.get('Core-UUID', '')}:{event.get('Event-Sequence', '')}"
        lane = str(event.get("Channel-Call-UUID") or event.get("Unique-ID") or key)
        seq = int(event.get("Event-Sequence") or 0)
        self.deliveries.append(
            Delivery(sub, got.headers.get("webhook-id", ""), key, lane, seq, acked, signed, got.at)
        )


def _reason(resp: httpx.Response) -> bool:
    """A 503 says why: the error envelope's message (and, for bus failures, data.reason)."""
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("message"))
