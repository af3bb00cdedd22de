"""Every message one process sends another over NATS, by subject.

The subjects are ``Subjects``'s; the shapes are here, so a publisher and its
subscribers (often different services) decode one declaration. A service
adds a field here, never a copy of its own. Published messages arrive
through ``Bus.subscribe`` and requests through ``Bus.serve``, both typed by
these Structs. (Commands among call-control's own replicas, on
``Subjects.node_command``, are call-control's: ``call_control/node_commands.py``.)
"""

from __future__ import annotations

from typing import Any

import msgspec

# --- sy.config.changed.<resource>: config-api -> config-api, call-control -----------


class ConfigChanged(msgspec.Struct, frozen=True, omit_defaults=True):
    """After each committed configuration write (config-api's outbox).

    ``seq`` is the outbox row's id, set when published: a notice can come
    twice (at-least-once), and the same ``seq`` says it is the same one.
    """

    resource: str
    action: str  # create | update | delete
    ids: list[Any]
    seq: int = 0


# --- sy.gateways.control: config-api asks call-control ------------------------------


# What a gateway control may do (sofia's startgw, killgw, register, unregister).
GATEWAY_ACTIONS = ("start", "killgw", "register", "unregister")


class GatewayControl(msgspec.Struct, frozen=True):
    """Start, kill, register or unregister ``gateway`` on every node that has it
    (``PUT /api/gateways/{id}/control``, served by config-api, done by call-control)."""

    gateway: str
    action: str


class GatewayControlled(msgspec.Struct, frozen=True):
    """Done on at least one node; failures come back as a BusError (``invalid``,
    ``not_found``, or the node's)."""


# --- sy.config.route: call-control asks config-api ----------------------------------


class RouteRequest(msgspec.Struct, frozen=True):
    """Resolve ``number`` dialled in ``context`` by ``caller`` as a call would be."""

    context: str
    number: str
    caller: str = ""


class RouteAction(msgspec.Struct, frozen=True):
    """One dialplan action: an application and its data."""

    application: str
    data: str = ""


class RouteReply(msgspec.Struct, frozen=True):
    """What the dialplan would do. ``dial_string`` is the data of the first
    ``bridge`` action when the destination is a bridge (``None`` otherwise:
    an IVR, a conference, a hangup …); ``actions`` are every dialplan action
    in order, to run them as FreeSWITCH would. No route: ``BusError``
    ``not_found``."""

    outcome: str  # route, func_code, did, rejected, invalid
    reason: str
    context: str
    callee: str
    caller: str
    actions: list[RouteAction]
    dial_string: str | None = None
    route_id: int | None = None
    dest_type: str = ""
    version: int = 0
    # The answer does not depend on the time of the call (no time rule was
    # checked): call-control may reuse it until the configuration changes.
    timeless: bool = False


# --- sy.media.tts: any service asks media -------------------------------------------


class TtsRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Text to a file FreeSWITCH can play.

    Other services (IVR prompts, /cli playback) ask here rather than calling
    a vendor. Failures come back as ``BusError``: ``invalid`` (bad engine,
    parameters or text), ``unconfigured`` (the vendor has no credentials),
    ``vendor`` (the vendor refused or failed; the message names its code).
    """

    engine: str  # baidu | ali | huawei
    text: str
    voice: str = ""
    speed: int | None = None  # in the vendor's own scale (docs/media.md)
    pitch: int | None = None
    volume: int | None = None
    format: str = "wav"  # wav | mp3
    sample_rate: int = 8000  # 8000 | 16000


class TtsReply(msgspec.Struct, frozen=True, kw_only=True):
    id: int  # the media file
    path: str  # what FreeSWITCH plays: the file's abs_path, which passes fsvalues.SOUND
    mime: str
    cached: bool


# --- sy.relay.webhooks.changed: event-relay -> event-relay --------------------------


class WebhooksChanged(msgspec.Struct, frozen=True):
    """After a webhook subscription write or a replay; says nothing more:
    every relay reloads the table."""


# --- sy.auth.token.revoked: any runner process -> every runner process ---------------


class TokenRevoked(msgspec.Struct, frozen=True):
    """After a logout: drop this token from the token cache (shared/http/tokencache.py)."""

    token_id: int


# --- sy.ping: anyone asks every runner process --------------------------------------


class Pong(msgspec.Struct):
    """The answer to ``Subjects.ping``: the services of the answering process."""

    services: list[str]
