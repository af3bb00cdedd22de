"""What the routing engine is compiled from: one immutable snapshot of the
configuration, field names as the XSwitch spec spells them so that a
database loader is a thin mapping (one row, one Struct).

Enum-like integers keep the spec's numbering: ``list_type`` 0 black / 1 white,
``limit_user_type`` 0 caller / 1 callee / 2 both, ``route_type`` and
``call_authority`` 0 emergency … 4 international.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec


class RouteParam(msgspec.Struct, frozen=True):
    """A dialplan application (``k``) with its data (``v``) run before the
    destination. ``order`` sorts first, then ``id``."""

    id: int
    k: str
    v: str = ""
    disabled: bool = False
    order: int = 0


class TimeRule(msgspec.Struct, frozen=True):
    """While ``time_recurrence`` is active, the route goes to this destination."""

    id: int
    time_recurrence: str
    dest_type: str
    dest_uuid: str = ""
    body: str = ""


class Route(msgspec.Struct, frozen=True):
    id: int
    name: str
    dest_type: str
    context: str = "default"
    prefix: str = ""
    max_length: int = 12
    dest_uuid: str = ""
    body: str = ""
    disabled: bool = False
    auto_record: bool = False
    proxy_media: bool = False
    media_codec: str = ""
    cid_number: str = ""
    route_type: int | None = None
    bill_rate: str = ""
    dnc: str = ""
    sdnc: str = ""
    blacklist: int | None = None
    params: tuple[RouteParam, ...] = ()
    time_rules: tuple[TimeRule, ...] = ()


class Blacklist(msgspec.Struct, frozen=True):
    """``numbers`` are prefixes: ``010`` lists every number starting 010."""

    id: int
    name: str
    list_type: int = 0
    limit_user_type: int = 0
    numbers: tuple[str, ...] = ()


class Context(msgspec.Struct, frozen=True):
    key: str
    name: str = ""
    hotline_enabled: bool = False


class Hotline(msgspec.Struct, frozen=True):
    """DID: an inbound ``line_number`` rings extension ``numbers``."""

    id: int
    line_number: str
    numbers: str


class Dod(msgspec.Struct, frozen=True):
    """DOD: extension ``extn`` calls out as ``line_number``, through the
    resource ``type``/``ref_id`` (``GATEWAY``, ``TRUNK``/``TRUNKS``,
    ``DISTRIBUTORS``)."""

    id: int
    extn: str
    line_number: str
    type: str = "GATEWAY"
    ref_id: str = ""


class FuncCode(msgspec.Struct, frozen=True):
    """A feature code such as ``*72``; the digits dialled after it are its argument."""

    id: int
    func_code: str
    func_type: str
    disabled: bool = False


class Gateway(msgspec.Struct, frozen=True):
    """``dnc`` rewrites the callee sent through this gateway (after the
    route's own ``dnc``), ``sdnc`` the caller number (after the route's
    ``cid_number``, the DOD and the route's ``sdnc``), for this gateway's
    leg only."""

    id: int
    name: str
    disabled: bool = False
    dnc: str = ""
    sdnc: str = ""


class Extension(msgspec.Struct, frozen=True):
    id: int
    extn: str
    context: str = "default"
    domain: str = ""
    call_authority: int = 4
    disabled: bool = False


class Ivr(msgspec.Struct, frozen=True):
    id: int
    name: str


class ConferenceRoom(msgspec.Struct, frozen=True):
    id: int
    name: str
    nbr: str
    profile: str = "default"


class ConferenceProfile(msgspec.Struct, frozen=True):
    id: int
    name: str


class Queue(msgspec.Struct, frozen=True):
    """A mod_callcenter queue (XSwitch ``xui_callcenters``)."""

    id: int
    name: str


class MediaFile(msgspec.Struct, frozen=True):
    """A stored file (scripts, prompts); ``abs_path`` as FreeSWITCH sees it."""

    id: int
    name: str
    abs_path: str


class Trunk(msgspec.Struct, frozen=True):
    """A SIP trunk to a peer: calls go to ``sofia/<profile>/<number>@<host>``."""

    id: int
    name: str
    host: str
    profile: str = "external"


class TrunkGroup(msgspec.Struct, frozen=True):
    """Trunks tried in order (``sequential``) or all at once."""

    id: int
    name: str
    trunk_ids: tuple[int, ...] = ()
    sequential: bool = True


class Distributor(msgspec.Struct, frozen=True):
    """A mod_distributor list name; it picks a gateway per call."""

    id: int
    name: str


class NumberTranslation(msgspec.Struct, frozen=True):
    """A number-translation table (``s/prefix_nts_<id>/`` in dnc/sdnc)."""

    id: int
    name: str
    type: str = "exact"  # or "prefix"
    numbers: tuple[tuple[str, str], ...] = ()  # (original_number, nts_number)


class Snapshot(msgspec.Struct, frozen=True):
    """Everything the engine needs, read at one moment."""

    timezone: str = "UTC"
    domain: str = "localhost"
    # A tuple, or after an incremental load a view of the loader's route map.
    routes: Collection[Route] = ()
    contexts: tuple[Context, ...] = ()
    blacklists: tuple[Blacklist, ...] = ()
    hotlines: tuple[Hotline, ...] = ()
    dods: tuple[Dod, ...] = ()
    func_codes: tuple[FuncCode, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    extensions: tuple[Extension, ...] = ()
    ivrs: tuple[Ivr, ...] = ()
    conference_rooms: tuple[ConferenceRoom, ...] = ()
    conference_profiles: tuple[ConferenceProfile, ...] = ()
    queues: tuple[Queue, ...] = ()
    media_files: tuple[MediaFile, ...] = ()
    trunks: tuple[Trunk, ...] = ()
    trunk_groups: tuple[TrunkGroup, ...] = ()
    distributors: tuple[Distributor, ...] = ()
    number_translations: tuple[NumberTranslation, ...] = ()
