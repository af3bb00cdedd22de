"""FreeSWITCH nodes found in DNS (discovery.py), asked of a real DNS server
over UDP that answers as cluster DNS answers for a headless Service: SRV
records naming the pods, their addresses in the additional section."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import pytest_asyncio

from switchyard.call_control.discovery import NodeDiscovery, resolve
from switchyard.call_control.nodes import NodeConfig
from switchyard.call_control.replica import Replica
from switchyard.fssim import Simulator
from switchyard.shared.bus import Bus
from switchyard.shared.testing import eventually

SERVICE = "_esl._tcp.freeswitch.voice.svc.cluster.local."
ZONE = "freeswitch.voice.svc.cluster.local."


@dataclass
class Zone:
    """What the server answers: SRV targets (pod name -> (address, port)), or a failure."""

    pods: dict[str, tuple[str, int]] = field(default_factory=dict)
    rcode: int = dns.rcode.NOERROR
    queries: int = 0


class DnsServer(asyncio.DatagramProtocol):
    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        self.zone.queries += 1
        reply = dns.message.make_response(query)
        asked = query.question[0].name
        if self.zone.rcode != dns.rcode.NOERROR:
            reply.set_rcode(self.zone.rcode)
        elif asked != dns.name.from_text(SERVICE) or not self.zone.pods:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        else:
            srv = [f"0 50 {port} {pod}.{ZONE}" for pod, (_, port) in self.zone.pods.items()]
            reply.answer.append(dns.rrset.from_text_list(asked, 5, "IN", "SRV", srv))
            for pod, (address, _) in self.zone.pods.items():
                reply.additional.append(dns.rrset.from_text(f"{pod}.{ZONE}", 5, "IN", "A", address))
        self.transport.sendto(reply.to_wire(), addr)  # type: ignore[attr-defined]


@pytest_asyncio.fixture
async def dns_server() -> AsyncIterator[tuple[Zone, dns.asyncresolver.Resolver]]:
    zone = Zone()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: DnsServer(zone), local_addr=("127.0.0.1", 0)
    )
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = transport.get_extra_info("sockname")[1]
    resolver.lifetime = 1.0
    try:
        yield zone, resolver
    finally:
        transport.close()


async def test_srv_records_name_the_nodes_and_the_additional_section_their_addresses(
    dns_server: tuple[Zone, dns.asyncresolver.Resolver],
) -> None:
    zone, resolver = dns_server
    zone.pods = {"freeswitch-1": ("10.0.0.11", 8021), "freeswitch-0": ("10.0.0.10", 8022)}
    assert await resolve(SERVICE, "s3cret", resolver) == [
        NodeConfig("freeswitch-0", "10.0.0.10", 8022, "s3cret"),
        NodeConfig("freeswitch-1", "10.0.0.11", 8021, "s3cret"),
    ]
    zone.pods = {}
    assert await resolve(SERVICE, "x", resolver) == []  # no pod ready: no node
    zone.rcode = dns.rcode.SERVFAIL
    with pytest.raises(dns.exception.DNSException):
        await resolve(SERVICE, "x", resolver)


async def test_a_replica_serves_the_nodes_dns_lists_as_they_come_and_go(
    bus: Bus, dns_server: tuple[Zone, dns.asyncresolver.Resolver]
) -> None:
    zone, resolver = dns_server
    async with Simulator() as sim:
        nodes = [await sim.add_node(name) for name in ("fs-a", "fs-b")]
        ports = {n.name: urlsplit(n.esl_url).port or 0 for n in nodes}
        zone.pods = {"fs-a": ("127.0.0.1", ports["fs-a"])}
        replica = Replica(bus, [], lease=2.0)
        discovery = NodeDiscovery(
            SERVICE, "ClueCon", replica.set_nodes, every=0.1, resolver=resolver
        )
        await replica.start()
        await discovery.start()

        def serving() -> set[str]:
            return {n for n, a in replica.agents.items() if a.client.connected}

        try:
            await eventually(lambda: serving() == {"fs-a"})
            zone.pods["fs-b"] = ("127.0.0.1", ports["fs-b"])
            await eventually(lambda: serving() == {"fs-a", "fs-b"})

            # DNS failing keeps the nodes: several lookups fail, nothing moves.
            zone.rcode = dns.rcode.SERVFAIL
            seen = zone.queries
            await eventually(lambda: zone.queries >= seen + 3)
            assert serving() == {"fs-a", "fs-b"}
            zone.rcode = dns.rcode.NOERROR

            del zone.pods["fs-a"]  # the pod went away: its node is released
            await eventually(
                lambda: serving() == {"fs-b"} and "fs-a" not in replica.ownership.owned
            )
            zone.pods = {}
            await eventually(lambda: not replica.ownership.owned and not replica.agents)
        finally:
            await discovery.stop()
            await replica.stop()
