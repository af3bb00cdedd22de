"""Every NATS name Switchyard uses: subjects, streams, KV buckets, queue groups.

No subject string is written anywhere else (docs/architecture.md, The bus). A namespace
(SWITCHYARD_NATS_NAMESPACE) is spliced into every name so that stacks or
parallel tests sharing one NATS server never see each other.
"""

from __future__ import annotations

import re
from typing import ClassVar

import msgspec

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_SUBCLASS_UNSAFE = re.compile(r"[^A-Za-z0-9_:-]")


def _token(value: str, what: str) -> str:
    # A subject token must not contain '.', '*', '>' or whitespace, or a
    # caller could address (or subscribe to) subjects it was never meant to.
    if not _TOKEN.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a valid subject token")
    return value


class Subjects(msgspec.Struct, frozen=True):
    namespace: str = ""

    @property
    def prefix(self) -> str:
        return f"sy.{_token(self.namespace, 'namespace')}" if self.namespace else "sy"

    def _name(self, base: str) -> str:
        # Stream and bucket names allow no dots.
        if not self.namespace:
            return base
        return f"{base}_{_token(self.namespace, 'namespace')}"

    # --- FreeSWITCH commands (request/reply) ------------------------------
    def node_command(self, node: str) -> str:
        """Per-node commands, answered only by the replica owning the node."""
        return f"{self.prefix}.cmd.node.{_token(node, 'node')}"

    @property
    def any_node_command(self) -> str:
        """Node-agnostic commands (originate), served by queue group ``call_control_queue``."""
        return f"{self.prefix}.cmd.any"

    call_control_queue: ClassVar[str] = "call-control"

    @property
    def replica_left(self) -> str:
        """A stopping call-control replica released its nodes: the others take them now."""
        return f"{self.prefix}.cmd.replica_left"

    # --- FreeSWITCH events (JetStream) -------------------------------------
    @property
    def events_stream(self) -> str:
        return self._name("SY_FS_EVENTS")

    @property
    def events_all(self) -> str:
        return f"{self.prefix}.fs.events.>"

    def events(self, node: str, event_name: str, subclass: str | None = None) -> str:
        subject = f"{self.prefix}.fs.events.{_token(node, 'node')}.{_token(event_name, 'event')}"
        if subclass:
            # CUSTOM subclasses look like "ai::channel-state": colons are fine in a
            # token; anything that could split or wildcard a subject is not.
            subject += "." + _SUBCLASS_UNSAFE.sub("_", subclass)
        return subject

    def events_of_node(self, node: str) -> str:
        return f"{self.prefix}.fs.events.{_token(node, 'node')}.>"

    def events_subclass(self, subclass: str) -> str:
        """One CUSTOM subclass from every node (call-control's after-call work
        follows callcenter::info)."""
        return f"{self.prefix}.fs.events.*.CUSTOM.{_SUBCLASS_UNSAFE.sub('_', subclass)}"

    def node_of_event(self, subject: str) -> str:
        """The node an event subject names (``<prefix>.fs.events.<node>.…``)."""
        return subject.removeprefix(f"{self.prefix}.fs.events.").partition(".")[0]

    def events_named(self, event_name: str) -> str:
        """One event from every node (media follows RECORD_STOP)."""
        return f"{self.prefix}.fs.events.*.{_token(event_name, 'event')}"

    # --- KV buckets ----------------------------------------------------------
    @property
    def node_owner_bucket(self) -> str:
        return self._name("sy_node_owner")

    @property
    def channel_location_bucket(self) -> str:
        return self._name("sy_channel_location")

    # --- configuration changes ------------------------------------------------
    def config_changed(self, resource: str) -> str:
        return f"{self.prefix}.config.changed.{_token(resource, 'resource')}"

    @property
    def config_changed_all(self) -> str:
        return f"{self.prefix}.config.changed.>"

    @property
    def route_lookup(self) -> str:
        """Resolve a number as a dialled call would be; served by config-api
        (queue group ``config_api_queue``), reply shape in docs/routing.md."""
        return f"{self.prefix}.config.route"

    config_api_queue: ClassVar[str] = "config-api"

    @property
    def gateway_control(self) -> str:
        """config-api -> call-control (queue group ``call_control_queue``):
        ``PUT /api/gateways/{id}/control``, which the Ingress sends to
        config-api since the path lies under its ``/api/gateways/{id}``."""
        return f"{self.prefix}.gateways.control"

    # --- event-relay ------------------------------------------------------------
    @property
    def webhooks_changed(self) -> str:
        """Published after a webhook subscription write or a replay: every
        event-relay process reloads its subscriptions, the leader adopts
        deliveries made pending again."""
        return f"{self.prefix}.relay.webhooks.changed"

    events_consumer: ClassVar[str] = "event-relay"

    # --- media ------------------------------------------------------------------
    @property
    def tts_request(self) -> str:
        """Internal TTS, served by queue group ``media_queue``."""
        return f"{self.prefix}.media.tts"

    media_queue: ClassVar[str] = "media"

    @property
    def media_bucket(self) -> str:
        """The JetStream Object Store of media files (SWITCHYARD_MEDIA_STORE=nats)."""
        return self._name("sy_media")

    # --- health -------------------------------------------------------------------
    @property
    def token_revoked(self) -> str:
        """Published when a token is revoked (a logout): every runner process
        drops it from its token cache (shared/http/tokencache.py)."""
        return f"{self.prefix}.auth.token.revoked"

    @property
    def ping(self) -> str:
        """Answered by every process the runner starts (with the names of the
        services it serves): a cheap end-to-end bus check."""
        return f"{self.prefix}.ping"
