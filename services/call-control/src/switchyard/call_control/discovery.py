"""FreeSWITCH nodes found in DNS: the SRV records of a headless Service.

In Kubernetes FreeSWITCH runs as a StatefulSet behind a headless Service
with a port named ``esl``; its DNS answers ``_esl._tcp.<service>.<ns>.svc…``
with one SRV record per ready pod, whose target is the pod's own name
(``freeswitch-0.freeswitch.voice.svc.cluster.local.``), stable across
restarts. The first label of the target is the node's name, so leases,
channel locations and event subjects survive a pod restart; the address is
the target's A/AAAA record from the answer's additional section (what
cluster DNS sends), else the target name itself. Every node found shares
one ESL password (``SWITCHYARD_FS_ESL_PASSWORD``, from a Secret).

Read again every ``SWITCHYARD_FS_NODES_SRV_EVERY`` seconds. A name that
does not exist or has no records means no pod is ready: no nodes. A lookup
that fails (timeout, SERVFAIL) keeps the last set: a DNS hiccup must not
hand every node back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from switchyard.call_control.nodes import NAME, NodeConfig
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

NodesChanged = Callable[[list[NodeConfig]], Awaitable[None]]


async def resolve(
    name: str, password: str, resolver: dns.asyncresolver.Resolver
) -> list[NodeConfig]:
    """The nodes ``name``'s SRV records list, by name; raises
    ``dns.exception.DNSException`` when the lookup itself failed."""
    try:
        answer = await resolver.resolve(name, dns.rdatatype.SRV)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    addresses: dict[str, str] = {}
    for rrset in answer.response.additional:
        if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            for rr in rrset:
                addresses.setdefault(rrset.name.to_text(), rr.address)
    nodes: dict[str, NodeConfig] = {}
    for record in sorted(answer, key=lambda r: (r.priority, -r.weight, r.target.to_text())):
        target = record.target.to_text()
        node = target.split(".", 1)[0]
        if not NAME.fullmatch(node):
            log.warning("SRV target %s: %r is not a node name; skipped", target, node)
            continue
        host = addresses.get(target, target.rstrip("."))
        nodes.setdefault(node, NodeConfig(node, host, record.port, password))
    return sorted(nodes.values(), key=lambda n: n.name)


class NodeDiscovery:
    """Reads the SRV records now and every ``every`` seconds; tells
    ``on_change`` each time the set differs from the last one told."""

    def __init__(
        self,
        name: str,
        password: str,
        on_change: NodesChanged,
        *,
        every: float = 10.0,
        resolver: dns.asyncresolver.Resolver | None = None,
    ) -> None:
        self.name = name
        self.password = password
        self.on_change = on_change
        self.every = every
        self.resolver = resolver or dns.asyncresolver.Resolver()
        self.nodes: list[NodeConfig] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The first lookup happens before this returns (a replica starts
        with the nodes there are), then every ``every`` seconds."""
        await self.refresh()
        self._task = asyncio.create_task(self._run(), name="node-discovery")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def refresh(self) -> None:
        try:
            found = await resolve(self.name, self.password, self.resolver)
        except dns.exception.DNSException as exc:
            log.warning("SRV lookup of %s failed (%s); keeping the last nodes", self.name, exc)
            return
        if found != self.nodes:
            log.info("SRV %s: nodes %s", self.name, ", ".join(f"{n.name}={n.host}" for n in found))
            self.nodes = found
            await self.on_change(found)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.refresh()
            except Exception:
                log.exception("applying the nodes of %s failed", self.name)
