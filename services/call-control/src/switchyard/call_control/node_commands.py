"""The commands call-control replicas send each other over NATS, and their replies.

Only call-control speaks them (no other service may publish on
``sy.cmd.>``, docs/architecture.md), so they live here, not among the
messages between services (shared/messages.py).

Per-node subjects (``Subjects.node_command``) carry a ``NodeCommand``,
answered only by the replica owning that node; ``Subjects.any_node_command``
(queue group ``call-control``) carries an ``Originate`` without a node,
served by any replica that owns at least one node. Every struct is tagged so
one subject carries a union of commands.
"""

from __future__ import annotations

import msgspec


class App(msgspec.Struct, frozen=True):
    app: str
    args: str = ""


class Originate(msgspec.Struct, frozen=True, tag="originate"):
    uuid: str  # chosen by the HTTP handler so even an async originate can answer it
    dial: str  # the dial string (endpoint), e.g. user/1000 or loopback/1000/context-1
    apps: tuple[App, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    ignore_early_media: bool = False
    background: bool = False
    timeout: int = 60  # originate_timeout, seconds
    # The XML dialplan context the new leg belongs to: where a ``transfer`` it
    # runs routes (empty: FreeSWITCH's own default, the context "default").
    context: str = ""


class Hangup(msgspec.Struct, frozen=True, tag="hangup"):
    uuid: str
    cause: str = "NORMAL_CLEARING"


class ChannelApi(msgspec.Struct, frozen=True, tag="channel_api"):
    """A uuid_* API on one channel, e.g. ``uuid_audio <uuid> start write mute 1``."""

    uuid: str
    command: str
    args: str = ""


class ListChannels(msgspec.Struct, frozen=True, tag="list_channels"):
    pass


class Api(msgspec.Struct, frozen=True, tag="api"):
    """A plain API command (gateway control, status, /cli)."""

    command: str
    args: str = ""


class CliApi(msgspec.Struct, frozen=True, tag="cli_api"):
    """A command of mod_cti's ``/cli`` (cli_rules.py): held by the owner to the
    /cli allowlist and parsers, not to ``Api``'s, so it is a type of its own
    (an ``Api`` never gets /cli's wider commands). ``background``: run as
    ``bgapi`` with ``job`` as its Job-UUID."""

    command: str
    args: str = ""
    background: bool = False
    job: str = ""
    timeout: float = 60.0  # a foreground command's wait for its answer


class CallcenterConfig(msgspec.Struct, frozen=True, tag="callcenter_config"):
    """``callcenter_config <args>`` (coocenter's agents and queues); each word is
    checked and quoted by fsvalues.callcenter_config_args where it is written."""

    args: tuple[str, ...]


class Transfer(msgspec.Struct, frozen=True, tag="transfer"):
    """``uuid_transfer <uuid> <dest> XML <context>`` (coocenter's transfer)."""

    uuid: str
    dest: str
    context: str


NodeCommand = (
    Originate | Hangup | ChannelApi | ListChannels | Api | CliApi | CallcenterConfig | Transfer
)


class OriginateResult(msgspec.Struct, frozen=True):
    ok: bool
    uuid: str
    node: str
    cause: str = ""  # FreeSWITCH's hangup cause when not ok


class ApiResult(msgspec.Struct, frozen=True):
    node: str
    body: str


class ChannelList(msgspec.Struct, frozen=True):
    node: str
    rows: list[dict[str, str]]
