"""One call-control replica: owns a fair share of the nodes and serves their commands."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from typing import TypeAlias

import asyncpg
import nats.errors
from litestar.di import NamedDependency
from nats.aio.subscription import Subscription
from nats.js.api import KeyValueConfig

from switchyard.call_control import config_sync
from switchyard.call_control.after_call import AfterCall
from switchyard.call_control.agent import DEFAULT_EVENTS, DEFAULT_SUBCLASSES, NodeAgent
from switchyard.call_control.cli_rules import DEFAULT_CLI_COMMANDS, cli_commands
from switchyard.call_control.discovery import NodeDiscovery
from switchyard.call_control.events import EventPublisher, stream_config
from switchyard.call_control.metrics import CallControlMetrics, NodeMetrics
from switchyard.call_control.node_commands import Originate, OriginateResult
from switchyard.call_control.nodes import NodeConfig, parse_nodes
from switchyard.call_control.ownership import Ownership
from switchyard.call_control.route_cache import RouteCache
from switchyard.shared.bus import Bus, BusError, Served
from switchyard.shared.fsvalues import APPLICATIONS, Applications, fs_applications
from switchyard.shared.http import coocenter
from switchyard.shared.messages import ConfigChanged
from switchyard.shared.metrics import Metrics
from switchyard.shared.runtime import Runtime

log = logging.getLogger(__name__)

# How long a hand-over waits for the new connection to a node to come up.
TAP_WAIT = 2.0


def replica_id() -> str:
    # Unique per process even when several share a pod name or a host.
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def event_names(extra: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    events = list(DEFAULT_EVENTS)
    subclasses = list(DEFAULT_SUBCLASSES)
    for item in (part.strip() for part in extra.split(",")):
        if item.upper().startswith("CUSTOM "):
            subclasses.append(item.split(None, 1)[1])
        elif item:
            events.append(item.upper())
    return tuple(dict.fromkeys(events)), tuple(dict.fromkeys(subclasses))


class Replica:
    def __init__(
        self,
        bus: Bus,
        nodes: list[NodeConfig],
        *,
        pool: asyncpg.Pool | None = None,
        lease: float = 6.0,
        fs_events: str = "",
        applications: Applications = APPLICATIONS,
        cli_commands: frozenset[str] = DEFAULT_CLI_COMMANDS,
        metrics: Metrics | None = None,
        trace_events: float = 0.0,
    ) -> None:
        self.trace_events = trace_events
        self.bus = bus
        self.applications = applications
        self.cli_commands = cli_commands
        self.pool = pool
        self.nodes = {n.name: n for n in nodes}
        self.id = replica_id()
        self.events, self.subclasses = event_names(fs_events)
        self.publisher = EventPublisher(bus)
        # config-api's route answers for this replica's originates.
        self.routes = RouteCache(bus)
        self.agents: dict[str, NodeAgent] = {}
        self.ownership = Ownership(
            bus,
            self.id,
            list(self.nodes),
            ttl=lease,
            on_acquire=self._acquired,
            on_release=self._released,
            on_standby=self._standby,
        )
        self.taps: dict[str, NodeAgent] = {}
        self.metrics = (metrics or Metrics()).bundle(CallControlMetrics)
        self.metrics.owned_nodes.set_function(lambda: len(self.ownership.owned))
        # One set of children per node, whichever agent (owner or standby) holds it.
        self.node_metrics = {name: self._node_metrics(name) for name in self.nodes}
        self._any: Served | None = None
        self._owning = False
        self._config: Subscription | None = None

    async def start(self) -> None:
        await self.bus.ensure_stream(stream_config(self.bus))
        self.locations = await self.bus.ensure_kv(
            KeyValueConfig(bucket=self.bus.subjects.channel_location_bucket, history=1)
        )
        await self.publisher.start()
        await self.routes.start()
        if self.pool is not None:
            self._config = await self.bus.subscribe(
                self.bus.subjects.config_changed_all,
                ConfigChanged,
                config_sync.subscriber(lambda: list(self.agents.values()), self.pool),
            )
        if self.nodes:
            await self._own()

    async def _own(self) -> None:
        if not self._owning:
            self._owning = True
            await self.ownership.start()

    async def set_nodes(self, nodes: list[NodeConfig]) -> None:
        """The node list changed (found in DNS, discovery.py): serve the new
        one. A node that left is released by the next ownership round; one
        that moved to another address is connected to there."""
        new = {n.name: n for n in nodes}
        moved = {name for name, n in new.items() if name in self.nodes and self.nodes[name] != n}
        self.nodes = new
        for name in new:
            if name not in self.node_metrics:
                self.node_metrics[name] = self._node_metrics(name)
        self.ownership.nodes = list(new)
        for name in moved:
            if (tap := self.taps.pop(name, None)) is not None:
                await tap.stop()  # the next round stands by at the new address
            if (agent := self.agents.get(name)) is not None:
                await agent.stop()
                self.agents[name] = self._agent(name, standby=False)
                await self.agents[name].start()
        if new:
            await self._own()
        self.ownership.wake()

    async def stop(self) -> None:
        if self._config is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._config.unsubscribe()
        await self.routes.stop()
        # Release first so the nodes move to other replicas at once, then flush events.
        await self.ownership.stop(release=True)
        await self._standby(set())
        await self.publisher.stop()

    def _node_metrics(self, name: str) -> NodeMetrics:
        return self.metrics.node(name, functools.partial(self._connected, name))

    def _connected(self, name: str) -> bool:
        agent = self.agents.get(name) or self.taps.get(name)
        return agent is not None and agent.client.connected

    def _agent(self, name: str, *, standby: bool) -> NodeAgent:
        return NodeAgent(
            self.bus,
            self.nodes[name],
            self.publisher,
            self.locations,
            events=self.events,
            subclasses=self.subclasses,
            standby=standby,
            owns=lambda: self.ownership.owns(name),
            on_ready=None if standby else self._resync,
            applications=self.applications,
            cli_commands=self.cli_commands,
            metrics=self.node_metrics[name],
            trace_events=self.trace_events,
        )

    async def _resync(self, agent: NodeAgent) -> None:
        # Config notices sent while the node was not listened to are lost:
        # after every (re)connection, and so on acquiring a node, re-apply them.
        await config_sync.resync(agent, self.pool)

    async def _standby(self, names: set[str]) -> None:
        """Keep an event-only connection to the nodes we stand by for (not those we own)."""
        wanted = names - set(self.agents)
        for name in set(self.taps) - wanted:
            await self.taps.pop(name).stop()
        for name in wanted - set(self.taps):
            tap = self._agent(name, standby=True)
            await tap.start()
            self.taps[name] = tap

    async def _acquired(self, name: str) -> None:
        agent = self._agent(name, standby=False)
        await agent.start()
        self.agents[name] = agent
        if name in self.taps:
            # Taking over a node we stood by for: the round closes the standby
            # connection next, so first let this one hear the node.
            with contextlib.suppress(TimeoutError):
                await agent.client.wait_connected(TAP_WAIT)
        if self._any is None:
            self._any = await self.bus.serve(
                self.bus.subjects.any_node_command,
                Originate,
                self._originate_anywhere,
                queue=self.bus.subjects.call_control_queue,
                # An originate this replica's HTTP handler takes is placed on
                # its own nodes, without the round trip through NATS.
                local=True,
            )

    async def _released(self, name: str) -> None:
        agent = self.agents.pop(name, None)
        if not self.agents and self._any is not None:
            # A replica without nodes must not take node-agnostic requests.
            with contextlib.suppress(nats.errors.Error):
                await self._any.unsubscribe()
            self._any = None
        if agent is not None:
            watching = self.ownership.watching
            if name in watching and name not in self.taps and name in self.nodes:
                # Handed over to a replica we stand by for: listen before letting
                # go. Otherwise nobody hears the node between our agent's close
                # and the new owner's connect (and the next round's tap), and
                # FreeSWITCH drops what nobody hears.
                tap = self._agent(name, standby=True)
                await tap.start()
                self.taps[name] = tap
                with contextlib.suppress(TimeoutError):
                    # Connected and subscribed: from then on it hears every event.
                    await tap.client.wait_connected(TAP_WAIT)
            await agent.stop()

    async def _originate_anywhere(self, cmd: Originate) -> OriginateResult:
        live = [a for a in self.agents.values() if a.client.connected and a.owns()]
        if not live:
            raise BusError("node_unavailable", "no connected FreeSWITCH node on this replica")
        agent = min(live, key=lambda a: len(a.channels))
        result: OriginateResult = await agent.handle(cmd)
        return result


# The running replica, for the handlers that need it (service.py provides it).
RunningReplica: TypeAlias = NamedDependency[Replica]


@contextlib.asynccontextmanager
async def replica_lifespan(runtime: Runtime) -> AsyncIterator[Replica]:
    settings = runtime.settings
    coocenter.warn_if_open(
        settings,
        "click-number and extenSpy ring any extension and dial any routed number "
        "or listen to any call; hangup, transfer and agent logins act on any",
    )
    static = parse_nodes(settings.fs_nodes)
    replica = Replica(
        runtime.bus,
        static,
        pool=runtime.pool,
        lease=settings.node_lease,
        fs_events=settings.fs_events,
        applications=fs_applications(settings.fs_applications),
        cli_commands=cli_commands(settings.cli_commands),
        metrics=runtime.metrics,
        trace_events=settings.trace_events,
    )
    discovery = None
    if settings.fs_nodes_srv:
        static_names = {n.name for n in static}

        async def found(nodes: list[NodeConfig]) -> None:
            # SWITCHYARD_FS_NODES' own entries win over a DNS one of the same name.
            await replica.set_nodes([*static, *(n for n in nodes if n.name not in static_names)])

        discovery = NodeDiscovery(
            settings.fs_nodes_srv,
            settings.fs_esl_password,
            found,
            every=settings.fs_nodes_srv_every,
        )
    await replica.start()
    if discovery is not None:
        await discovery.start()
    log.info("call-control replica %s serving %d node(s)", replica.id, len(replica.nodes))
    # coocenter's pausetime=yes: agents On Break after each queue call.
    after_call = None
    if settings.coocenter_pausetime:
        after_call = AfterCall(runtime, settings.coocenter_pause_seconds)
        await after_call.start()
    try:
        yield replica
    finally:
        if discovery is not None:
            await discovery.stop()
        if after_call is not None:
            await after_call.stop()
        await replica.stop()
