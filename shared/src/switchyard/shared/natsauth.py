"""NATS subject permissions per service: what each one publishes and subscribes.

The table of docs/architecture.md ("Credentials and permissions"), as a
nats-server ``permissions`` block; tests/security/test_nats_permissions.py
runs every service under its own, so the table stays true. Only
call-control may publish on the command subjects (a node's command subject
is a way to the PBX).
"""

from __future__ import annotations

from typing import Any

from switchyard.shared.subjects import Subjects

SERVICES = ("config-api", "call-control", "event-relay", "media")


def permissions(subjects: Subjects, service: str) -> dict[str, Any]:
    """The nats-server ``permissions`` of ``service``'s user."""
    p = subjects.prefix
    kv = [f"$KV.{subjects.node_owner_bucket}.>", f"$KV.{subjects.channel_location_bucket}.>"]
    own: dict[str, tuple[list[str], list[str]]] = {
        "config-api": (
            [f"{p}.config.changed.>", subjects.gateway_control],
            [subjects.config_changed_all, subjects.route_lookup],
        ),
        "call-control": (
            [f"{p}.cmd.>", subjects.route_lookup, subjects.events_all, "$JS.API.>", *kv],
            [f"{p}.cmd.>", subjects.config_changed_all, subjects.gateway_control, *kv],
        ),
        "event-relay": ([], []),
        # JetStream: the recordings consumer on the events stream and the
        # object store's stream (OBJ_<bucket>), whose chunks and meta it writes.
        "media": (
            ["$JS.API.>", f"$O.{subjects.media_bucket}.>"],
            [subjects.tts_request],
        ),
    }
    publish, subscribe = own[service]
    return {
        # Bus.connect's JetStream check; replies go to requesters' inboxes;
        # every service answers logins and logouts, so each tells the others
        # of a revoked token and hears of theirs.
        "publish": ["$JS.API.INFO", subjects.token_revoked, *publish],
        "subscribe": [subjects.ping, "_INBOX.>", subjects.token_revoked, *subscribe],
        "allow_responses": True,
    }
