"""Every ``FS_DEST_*`` destination type as FreeSWITCH dialplan actions.

One function per family; ``plan()`` dispatches on the type. A plan names the
module its applications need and whether stock FreeSWITCH ships it, so the
explanation can say so (docs/routing.md has the table). A reference that
points at nothing (a deleted gateway, say) gives ``hangup
NO_ROUTE_DESTINATION`` and the reason, never a broken dial string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import msgspec

from switchyard.config_api.routing.model import (
    ConferenceProfile,
    ConferenceRoom,
    Distributor,
    Extension,
    Gateway,
    Ivr,
    MediaFile,
    NumberTranslation,
    Queue,
    Snapshot,
    Trunk,
    TrunkGroup,
)
from switchyard.config_api.routing.transform import Transform, compile_transform
from switchyard.shared.callcenter import queue_name
from switchyard.shared.fsvalues import (
    APPLICATIONS,
    HOST,
    LABEL,
    NAME,
    NO_EXPANSION,
    NUMBER,
    SCRIPT,
    SOUND,
    Applications,
    Rule,
    UnsafeValue,
)

# Every value a builder splices into application data passes its rule from
# switchyard.shared.fsvalues (config-api checked it at input too; a row
# stored before the rules existed is refused here, never passed on): a
# number (NUMBER) may not hold ${…} (an API call when FreeSWITCH expands the
# data) nor ,|[]@/ (dial-string syntax); a name spliced into composite data
# (``<room>-<domain>@<profile>``, ``${distributor(<name>)}``: LABEL) may not
# hold @ ( ) $ { } , | or spaces.


class Action(msgspec.Struct, frozen=True):
    application: str
    data: str = ""


class Condition(msgspec.Struct, frozen=True):
    """A ``<condition>`` of the document, read by mod_dialplan_xml when it
    parses the document (hunt time, before any action runs): a ``field``
    with ``$`` in it is expanded then, so ``${db(exists/dnd/1000)}`` asks
    mod_db at that moment. ``field`` empty: the dialled-number condition
    (the engine fills it in). ``brk``: FreeSWITCH's ``break`` when not the
    default ``on-false``."""

    field: str
    expression: str
    actions: tuple[Action, ...] = ()
    brk: str = ""


class LegCaller(msgspec.Struct, frozen=True):
    """A gateway's ``sdnc`` applied to the caller number of its own leg."""

    gateway: str
    spec: str
    before: str
    after: str
    error: str = ""


class Plan(msgspec.Struct, frozen=True):
    # The path a call takes when none of ``conditions`` fires (what
    # sy.config.route and the explanation show).
    actions: tuple[Action, ...]
    module: str = "mod_dptools"
    stock: bool = True
    note: str = ""
    error: str = ""
    # The resource an outbound call leaves through, for DOD matching.
    via: tuple[str, str] | None = None
    # The document form, when it depends on FreeSWITCH state read at hunt
    # time; replaces ``actions`` in the document.
    conditions: tuple[Condition, ...] = ()
    # The plan depends on the caller number (a gateway with an ``sdnc``):
    # planned again once the engine knows it (after the DOD, which needs
    # ``via``).
    uses_caller: bool = False
    # Per-leg caller numbers (gateway ``sdnc``), for the explanation.
    leg_callers: tuple[LegCaller, ...] = ()


@dataclass(frozen=True)
class Resources:
    """Snapshot resources indexed for the lookup path."""

    domain: str
    gateways: Mapping[int, Gateway] = field(default_factory=dict)
    ivrs: Mapping[int, Ivr] = field(default_factory=dict)
    rooms: Mapping[int, ConferenceRoom] = field(default_factory=dict)
    profiles: Mapping[int, ConferenceProfile] = field(default_factory=dict)
    queues: Mapping[int, Queue] = field(default_factory=dict)
    media: Mapping[int, MediaFile] = field(default_factory=dict)
    trunks: Mapping[int, Trunk] = field(default_factory=dict)
    trunk_groups: Mapping[int, TrunkGroup] = field(default_factory=dict)
    distributors: Mapping[int, Distributor] = field(default_factory=dict)
    extensions: Mapping[int, Extension] = field(default_factory=dict)
    gateway_dnc: Mapping[int, Transform | str] = field(default_factory=dict)
    gateway_sdnc: Mapping[int, Transform | str] = field(default_factory=dict)
    # Applications a system destination may name (SWITCHYARD_FS_APPLICATIONS).
    applications: Applications = APPLICATIONS

    @classmethod
    def of(cls, s: Snapshot, applications: Applications = APPLICATIONS) -> Resources:
        tables = {t.id: t for t in s.number_translations}
        return cls(
            applications=applications,
            gateway_dnc={g.id: _transform(g.dnc, tables) for g in s.gateways if g.dnc},
            gateway_sdnc={g.id: _transform(g.sdnc, tables) for g in s.gateways if g.sdnc},
            domain=s.domain,
            gateways={g.id: g for g in s.gateways},
            ivrs={i.id: i for i in s.ivrs},
            rooms={r.id: r for r in s.conference_rooms},
            profiles={p.id: p for p in s.conference_profiles},
            queues={q.id: q for q in s.queues},
            media={m.id: m for m in s.media_files},
            trunks={t.id: t for t in s.trunks},
            trunk_groups={g.id: g for g in s.trunk_groups},
            distributors={d.id: d for d in s.distributors},
            extensions={e.id: e for e in s.extensions},
        )


def _transform(spec: str, tables: Mapping[int, NumberTranslation]) -> Transform | str:
    try:
        return compile_transform(spec, tables)
    except ValueError as exc:
        return str(exc)


class Target(msgspec.Struct, frozen=True):
    """What a destination is asked to reach."""

    dest_type: str
    dest_uuid: str
    body: str
    number: str  # the callee after dnc
    argument: str = ""  # digits after a func code or route prefix
    context: str = ""  # the call's dialplan context
    # The caller number the call leaves with (after cid_number, DOD, route
    # sdnc); None while the engine does not know it yet.
    caller: str | None = None


Builder = Callable[[Target, Resources], Plan]


def plan(target: Target, res: Resources) -> Plan:
    """The plan for ``target``; a value that breaks its rule (fsvalues) fails
    the plan with the reason: the call hangs up, the value never reaches
    FreeSWITCH."""
    builder = BUILDERS.get(target.dest_type)
    if builder is None:
        return _fail(f"unknown destination type {target.dest_type!r}")
    try:
        NUMBER.check("number", target.number)
        if target.argument:
            NUMBER.check("argument", target.argument)
        if target.context:
            NAME.check("context", target.context)
        return builder(target, res)
    except UnsafeValue as exc:
        return _fail(f"{exc.field} {exc.reason}; refused")


def _ok(rule: Rule, what: str, value: str) -> str:
    """``value`` if it passes ``rule``; else the plan fails naming ``what``."""
    return rule.check(what, value)


def _a(application: str, data: str = "") -> Action:
    return Action(application, data)


def _fail(reason: str) -> Plan:
    return Plan(actions=(_a("hangup", "NO_ROUTE_DESTINATION"),), error=reason)


def _id(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def _named(t: Target) -> str:
    """The name a route holds for an object Switchyard keeps no table of
    (queues, conference rooms and profiles, distributors, media files):
    ``body`` (what the API stores as the destination's label), else
    ``dest_uuid`` itself. FreeSWITCH must know the object by that name."""
    return t.body.strip() or t.dest_uuid.strip()


def _unknown(what: str, t: Target, name: str) -> str:
    ref = t.dest_uuid.strip()
    known = f"{what} {ref!r} is not stored in Switchyard" if ref else f"no {what} id"
    return f"{known}; using the name {name!r}"


def _user(number: str, res: Resources) -> str:
    return f"user/{number}@{res.domain}"


# --- local users -------------------------------------------------------------


# mod_db realms the feature codes below write, keyed by the extension number
# (the caller number when the code is dialled); a call to the extension
# reads them back (_user_features).
DND, CF_ALL, CF_BUSY, CF_NOANSWER = "dnd", "cf_all", "cf_busy", "cf_noanswer"
# Bridge failures that forward on busy resp. on no answer.
BUSY_CAUSES = ("USER_BUSY",)
NOANSWER_CAUSES = ("NO_ANSWER", "NO_USER_RESPONSE")


def _dest_user(t: Target, res: Resources) -> Plan:
    # The hash entries are what vanilla FreeSWITCH keeps for pickup (*8),
    # eavesdrop and call return; the func codes below read them.
    head = (
        _a("set", f"dialed_extension={t.number}"),
        _a("hash", f"insert/{res.domain}-last_dial_ext/{t.number}/${{uuid}}"),
        _a("hash", f"insert/{res.domain}-last_dial/global/${{uuid}}"),
        _a("hash", f"insert/{res.domain}-spymap/${{caller_id_number}}/${{uuid}}"),
    )
    bridge = _a("bridge", _user(t.number, res))
    return Plan(
        actions=(*head, bridge),
        conditions=_user_features(t.number, t.context, head, bridge),
    )


def _user_features(
    extn: str, context: str, head: tuple[Action, ...], bridge: Action
) -> tuple[Condition, ...]:
    """A call to a local extension honouring its DND and forwards
    (docs/routing.md, "Forwarding and do not disturb").

    mod_dialplan_xml evaluates every condition when it parses the document,
    before the first action runs, so ``${db(exists/…)}`` in a field reads
    mod_db's state at that moment:

    - DND (``break="on-true"``): ``hangup USER_BUSY`` (486 to a SIP caller),
      nothing rings;
    - unconditional forward (``on-true``): ``transfer <target> XML <context>``,
      nothing rings; the target is routed afresh (its own forwards apply);
    - forward on busy / no answer (``never``): the target is copied into
      ``sy_cf_<cause>`` for each cause and the cause list into
      ``sy_cf_busy``/``sy_cf_noanswer``; the last block sets
      ``continue_on_fail`` to those causes (``,`` alone when neither is set:
      no cause matches, a failed bridge hangs up with its cause as before),
      ``hangup_after_bridge=true`` (a call that was answered ends with its
      bridge), bridges, and after a failed bridge whose cause is listed
      transfers to ``${sy_cf_${originate_disposition}}``, set for exactly
      those causes.
    """

    def exists(realm: str) -> str:
        return f"${{db(exists/{realm}/{extn})}}"

    def select(realm: str) -> str:
        return f"${{db(select/{realm}/{extn})}}"

    def on_fail(realm: str, var: str, causes: tuple[str, ...]) -> Condition:
        sets = tuple(_a("set", f"sy_cf_{cause}={select(realm)}") for cause in causes)
        return Condition(
            exists(realm),
            "^true$",
            (*sets, _a("set", f"{var}={','.join(causes)}")),
            brk="never",
        )

    where = f" XML {context}" if context else ""
    return (
        Condition("", "", head),
        Condition(exists(DND), "^true$", (_a("hangup", "USER_BUSY"),), brk="on-true"),
        Condition(
            exists(CF_ALL),
            "^true$",
            (_a("transfer", f"{select(CF_ALL)}{where}"),),
            brk="on-true",
        ),
        on_fail(CF_BUSY, "sy_cf_busy", BUSY_CAUSES),
        on_fail(CF_NOANSWER, "sy_cf_noanswer", NOANSWER_CAUSES),
        Condition(
            "",
            "",
            (
                _a("set", "continue_on_fail=${sy_cf_busy},${sy_cf_noanswer}"),
                _a("set", "hangup_after_bridge=true"),
                bridge,
                _a("transfer", f"${{sy_cf_${{originate_disposition}}}}{where}"),
            ),
        ),
    )


def _ring_list(t: Target) -> list[str] | str:
    try:
        items = json.loads(t.dest_uuid)
    except ValueError:
        return 'dest_uuid is not the JSON list [{"extn":"1001|domain"}]'
    if not isinstance(items, list) or not items:
        return "the ring group lists no extensions"
    out = []
    for item in items:
        extn = item.get("extn") if isinstance(item, dict) else None
        if not isinstance(extn, str) or not extn:
            return f"ring group item {item!r} has no extn"
        out.append(extn)
    return out


def _ring_group(separator: str) -> Builder:
    def build(t: Target, res: Resources) -> Plan:
        members = _ring_list(t)
        if isinstance(members, str):
            return _fail(members)
        strings = []
        for member in members:
            extn, _, domain = member.partition("|")
            _ok(NUMBER, "ring group extn", extn)
            if domain:
                _ok(HOST, "ring group domain", domain)
            strings.append(f"user/{extn}@{domain or res.domain}")
        return Plan(
            actions=(
                _a("set", "hangup_after_bridge=true"),
                _a("bridge", separator.join(strings)),
            )
        )

    return build


def _dest_usergw(t: Target, res: Resources) -> Plan:
    ext = res.extensions.get(_id(t.dest_uuid) or -1)
    if ext is None:
        return _fail(f"extension {t.dest_uuid!r} (extension gateway) does not exist")
    _ok(NUMBER, "extension", ext.extn)
    domain = _ok(HOST, "extension domain", ext.domain) if ext.domain else res.domain
    # The registered device is the gateway: dial its registered contact with
    # the callee as the request user (sofia_contact gives sofia/<profile>/
    # sip:<extn>@<host…>; the regex swaps the user part).
    contact = f"${{sofia_contact(*/{ext.extn}@{domain})}}"
    dial = f"${{regex({contact}|^(sofia/[^/]+/)(sip:)?[^@]+@(.*)$|%1%2{t.number}@%3)}}"
    return Plan(actions=(_a("bridge", dial),), module="mod_sofia", via=("USERGW", str(ext.id)))


# --- outbound ------------------------------------------------------------------


def _dest_gateway(t: Target, res: Resources) -> Plan:
    ids = [i for i in (_id(p) for p in t.dest_uuid.split(",")) if i is not None]
    gws = [res.gateways[i] for i in ids if i in res.gateways and not res.gateways[i].disabled]
    if not gws and t.body and not t.dest_uuid:
        # XUI kept only the name in body.
        gws = [Gateway(id=0, name=t.body)]
    if not gws:
        return _fail(f"gateway {t.dest_uuid or t.body!r} does not exist or is disabled")
    legs = []
    notes = []
    callers = []
    for g in gws:
        number = t.number
        dnc = res.gateway_dnc.get(g.id)
        if isinstance(dnc, str):
            notes.append(f"gateway {g.name} dnc not applied: {dnc}")
        elif dnc is not None:
            number = dnc.apply(number)
            if not NUMBER.ok(number):
                return _fail(f"gateway {g.name} dnc produced {number!r}, not a dialable number")
        leg = f"sofia/gateway/{_ok(NAME, 'gateway name', g.name)}/{number}"
        sdnc = res.gateway_sdnc.get(g.id)
        if sdnc is not None and t.caller is not None:
            if isinstance(sdnc, str):
                notes.append(f"gateway {g.name} sdnc not applied: {sdnc}")
                callers.append(LegCaller(g.name, g.sdnc, t.caller, t.caller, sdnc))
            else:
                caller = sdnc.apply(t.caller)
                # It goes inside the leg's [...]: NUMBER has no , ] [ | $ { } or space.
                if not NUMBER.ok(caller):
                    return _fail(
                        f"gateway {g.name} sdnc produced {caller!r}, not a dialable number"
                    )
                callers.append(LegCaller(g.name, g.sdnc, t.caller, caller))
                if caller != t.caller:
                    leg = f"[origination_caller_id_number={caller}]{leg}"
        legs.append(leg)
    # Primary then backup: a failed primary falls over to the next.
    return Plan(
        actions=(_a("set", "hangup_after_bridge=true"), _a("bridge", "|".join(legs))),
        module="mod_sofia",
        note="; ".join(notes),
        via=("GATEWAY", str(gws[0].id)),
        uses_caller=any(g.id in res.gateway_sdnc for g in gws),
        leg_callers=tuple(callers),
    )


def _dest_ip(t: Target, res: Resources) -> Plan:
    host = t.body.strip()
    if not host:
        return _fail("FS_DEST_IP needs the IP or host in body")
    _ok(HOST, "body", host)
    return Plan(actions=(_a("bridge", f"sofia/public/{t.number}@{host}"),), module="mod_sofia")


def _trunk_dial(trunk: Trunk, number: str) -> str:
    profile = _ok(NAME, f"trunk {trunk.id} profile", trunk.profile)
    return f"sofia/{profile}/{number}@{_ok(HOST, f'trunk {trunk.id} host', trunk.host)}"


def _dest_trunk(t: Target, res: Resources) -> Plan:
    trunk = res.trunks.get(_id(t.dest_uuid) or -1)
    if trunk is None:
        return _fail(f"trunk {t.dest_uuid!r} does not exist")
    return Plan(
        actions=(_a("set", "hangup_after_bridge=true"), _a("bridge", _trunk_dial(trunk, t.number))),
        module="mod_sofia",
        via=("TRUNK", str(trunk.id)),
    )


def _dest_trunk_group(t: Target, res: Resources) -> Plan:
    group = res.trunk_groups.get(_id(t.dest_uuid) or -1)
    if group is None:
        return _fail(f"trunk group {t.dest_uuid!r} does not exist")
    trunks = [res.trunks[i] for i in group.trunk_ids if i in res.trunks]
    if not trunks:
        return _fail(f"trunk group {group.name!r} has no trunks")
    sep = "|" if group.sequential else ","
    return Plan(
        actions=(
            _a("set", "hangup_after_bridge=true"),
            _a("bridge", sep.join(_trunk_dial(tr, t.number) for tr in trunks)),
        ),
        module="mod_sofia",
        via=("TRUNK_GROUP", str(group.id)),
    )


def _dest_distributor(t: Target, res: Resources) -> Plan:
    note = "mod_distributor is in the FreeSWITCH tree; load it and define the list"
    dist = res.distributors.get(_id(t.dest_uuid) or -1)
    if dist is not None:
        name, ref = _ok(LABEL, "distributor name", dist.name), str(dist.id)
    else:
        name, ref = _named(t), t.dest_uuid.strip()
        if not LABEL.ok(name):
            return _fail(f"distributor {name!r} is not a usable list name")
        note = f"{_unknown('distributor', t, name)}; {note} (distributor.conf)"
    return Plan(
        actions=(
            _a("set", "hangup_after_bridge=true"),
            _a("bridge", f"sofia/gateway/${{distributor({name})}}/{t.number}"),
        ),
        module="mod_distributor",
        note=note,
        via=("DISTRIBUTORS", ref) if ref else None,
    )


# --- applications --------------------------------------------------------------


def _dest_system(t: Target, res: Resources) -> Plan:
    actions: list[Action] = []
    for raw in t.body.replace("\r", "").split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        app, data = res.applications.check_line(f"body line {len(actions) + 1}", line)
        actions.append(_a(app, data))
    if not actions:
        return _fail("FS_DEST_SYSTEM body has no 'app args' lines")
    return Plan(actions=tuple(actions))


def _dest_ivr(t: Target, res: Resources) -> Plan:
    ivr = res.ivrs.get(_id(t.dest_uuid) or -1)
    if ivr is None:
        return _fail(f"IVR {t.dest_uuid!r} does not exist")
    name = _ok(LABEL, "IVR name", ivr.name)
    return Plan(actions=(_a("answer"), _a("sleep", "500"), _a("ivr", name)))


def _dest_ivrblock(t: Target, res: Resources) -> Plan:
    if _id(t.dest_uuid) is None:
        return _fail("FS_DEST_IVRBLOCK needs the block id in dest_uuid")
    return Plan(
        actions=(_a("lua", f"${{script_dir}}/blocks/blocks-{t.dest_uuid.strip()}.lua"),),
        module="mod_lua",
        note="runs the Lua script XUI's block editor generates; Switchyard does not generate it",
    )


def _media_path(t: Target, res: Resources, rule: Rule) -> tuple[str, str]:
    """A media file's path and, when it is not a stored media file, a note.
    ``rule``: SCRIPT for a script lua runs, SOUND for a file played (which may
    be the media service's http_cache:// URL, docs/media.md)."""
    media = res.media.get(_id(t.dest_uuid) or -1)
    if media is not None:
        return _ok(rule, f"media file {media.id} path", media.abs_path), ""
    path = _named(t)
    if not path:
        return "", ""
    return _ok(rule, "path", path), f"{_unknown('media file', t, path)} as the path"


def _dest_script(t: Target, res: Resources) -> Plan:
    path, note = _media_path(t, res, SCRIPT)
    if not path or "\n" in path:
        return _fail("FS_DEST_SCRIPT needs a script path in body or dest_uuid")
    note = note and f"{note} (relative paths are under FreeSWITCH's script_dir)"
    return Plan(actions=(_a("lua", path),), module="mod_lua", note=note)


def _dest_playback(t: Target, res: Resources) -> Plan:
    path, note = _media_path(t, res, SOUND)
    if not path or "\n" in path:
        return _fail("FS_DEST_PLAYBACK needs a media file id in dest_uuid or a path in body")
    if t.body.strip() and _id(t.dest_uuid) is None:
        note = ""  # a path in body is the legacy form, nothing to explain
    return Plan(
        actions=(_a("answer"), _a("playback", path), _a("hangup", "NORMAL_CLEARING")),
        note=note,
    )


def _dest_transfer(t: Target, res: Resources) -> Plan:
    # body: "<number> [context]"; an empty body transfers the dialled number
    # to dest_uuid's context.
    parts = t.body.split()
    number = _ok(NUMBER, "body number", parts[0]) if parts else t.number
    context = parts[1] if len(parts) > 1 else (t.dest_uuid.strip() or "default")
    _ok(NAME, "context", context)
    return Plan(actions=(_a("transfer", f"{number} XML {context}"),))


def _dest_voicemail(t: Target, res: Resources) -> Plan:
    box = _ok(NUMBER, "voicemail box", t.argument or t.body.strip() or t.number)
    return Plan(
        actions=(_a("answer"), _a("voicemail", f"default {res.domain} {box}")),
        module="mod_voicemail",
    )


def _queue(name: str, note: str = "") -> Plan:
    module_note = "mod_callcenter is in the FreeSWITCH tree; load it"
    return Plan(
        actions=(_a("answer"), _a("callcenter", name)),
        module="mod_callcenter",
        note=f"{note}; {module_note} (callcenter.conf)" if note else module_note,
    )


def _dest_cti(t: Target, res: Resources) -> Plan:
    queue = res.queues.get(_id(t.dest_uuid) or -1)
    if queue is not None:
        # A stored queue (/api/callcenter_queues), as callcenter.conf names it.
        return _queue(queue_name(_ok(LABEL, "queue name", queue.name)))
    name = _named(t)
    # mod_callcenter queue names are <queue>@<domain>; a bare name is one of
    # ours (shared/callcenter.py).
    if not all(LABEL.ok(part) for part in name.split("@", 1)):
        return _fail(f"FS_DEST_CTI needs a queue name in body or dest_uuid, got {name!r}")
    return _queue(name if "@" in name else queue_name(name), _unknown("queue", t, name))


def _dest_num_queue(t: Target, res: Resources) -> Plan:
    # The queue named like the dialled number (/api/callcenter_queues).
    return _queue(queue_name(t.number))


# --- conferences ---------------------------------------------------------------


def _conference(room: str, res: Resources, profile: str = "default", note: str = "") -> Plan:
    _ok(LABEL, "conference room", room)
    _ok(LABEL, "conference profile", profile)
    return Plan(
        actions=(_a("answer"), _a("conference", f"{room}-{res.domain}@{profile}")),
        module="mod_conference",
        note=note,
    )


def _dest_conference(t: Target, res: Resources) -> Plan:
    room = res.rooms.get(_id(t.dest_uuid) or -1)
    if room is not None:
        return _conference(room.nbr, res, room.profile)
    # XUI stored the room's number in body; CP sends neither: the callee's room.
    nbr = t.body.strip()
    return _conference(nbr if LABEL.ok(nbr) else t.number, res)


def _dest_conference_room(t: Target, res: Resources) -> Plan:
    room = res.rooms.get(_id(t.dest_uuid) or -1)
    if room is not None:
        return _conference(room.nbr, res, room.profile)
    # XUI stored the room's number in body; without it the id names the room.
    name = _named(t)
    if not LABEL.ok(name):
        return _fail(f"FS_DEST_CONFERENCE_ROOM needs a room in body or dest_uuid, got {name!r}")
    return _conference(name, res, note=_unknown("conference room", t, name))


def _dest_user_conference(t: Target, res: Resources) -> Plan:
    room = t.argument or t.number
    profile = res.profiles.get(_id(t.dest_uuid) or -1)
    if profile is not None:
        return _conference(room, res, profile.name)
    # A profile name in body; a bare id cannot be resolved, stock has "default".
    name = t.body.strip()
    if not LABEL.ok(name):
        name = "default"
    note = f"{_unknown('conference profile', t, name)} (conference.conf)" if t.dest_uuid else ""
    return _conference(room, res, name, note)


def _dest_meeting(t: Target, res: Resources) -> Plan:
    key = t.argument or t.dest_uuid.strip() or t.number
    plan_ = _conference(f"meeting-{key}", res)
    return msgspec.structs.replace(
        plan_, note="scheduled meetings are plain conferences named meeting-<id>"
    )


def _dest_conference_cluster(t: Target, res: Resources) -> Plan:
    nodes = [n.strip() for n in t.body.replace("\r", "").split("\n") if n.strip()]
    if not nodes:
        return _fail("FS_DEST_CONFERENCE_CLUSTER lists no nodes in body")
    for node in nodes:
        _ok(HOST, "body node", node)
    if len(nodes) == 1:
        return _conference(t.number, res)
    # As XUI: the first node is this server; a caller on any other node is
    # bridged there without media.
    return Plan(
        actions=(
            _a("set", "bypass_media=true"),
            _a("bridge", "|".join(f"sofia/public/{t.number}@{ip}" for ip in nodes[1:])),
        ),
        module="mod_sofia",
        note="the first node listed is taken as this server (XUI)",
    )


# --- pickup, barge, feature codes ------------------------------------------------


def _spy(t: Target, res: Resources) -> str:
    return f"${{hash(select/{res.domain}-spymap/{t.argument or t.number})}}"


def _dest_last_intercept(t: Target, res: Resources) -> Plan:
    return Plan(
        actions=(
            _a("answer"),
            _a("intercept", f"${{hash(select/{res.domain}-last_dial/global)}}"),
        )
    )


def _dest_intercept(t: Target, res: Resources) -> Plan:
    target = t.argument or t.number
    return Plan(
        actions=(
            _a("answer"),
            _a("intercept", f"${{hash(select/{res.domain}-last_dial_ext/{target})}}"),
        )
    )


def _dest_eavesdrop(t: Target, res: Resources) -> Plan:
    return Plan(actions=(_a("answer"), _a("eavesdrop", _spy(t, res))))


def _dest_force_insert(t: Target, res: Resources) -> Plan:
    return Plan(actions=(_a("answer"), _a("three_way", _spy(t, res))))


def _dest_force_breakdown(t: Target, res: Resources) -> Plan:
    return Plan(
        actions=(_a("answer"), _a("intercept", f"-bleg {_spy(t, res)}")),
        note="takes the target's call over; the target's leg is hung up",
    )


def _confirm(*actions: Action) -> Plan:
    return Plan(
        actions=(
            _a("answer"),
            *actions,
            _a("playback", "tone_stream://%(250,50,880);loops=2"),
            _a("hangup", "NORMAL_CLEARING"),
        ),
        module="mod_db",
        note="state kept with mod_db (realm per feature, key = caller number)",
    )


def _db_set(realm: str) -> Builder:
    def build(t: Target, res: Resources) -> Plan:
        if not t.argument:
            return _fail(f"dial the forward target after the code ({realm})")
        return _confirm(_a("db", f"insert/{realm}/${{caller_id_number}}/{t.argument}"))

    return build


def _db_clear(realm: str) -> Builder:
    return lambda t, res: _confirm(_a("db", f"delete/{realm}/${{caller_id_number}}"))


def _dest_dnd(t: Target, res: Resources) -> Plan:
    return _confirm(_a("db", f"insert/{DND}/${{caller_id_number}}/1"))


def _dest_extn(t: Target, res: Resources) -> Plan:
    return Plan(
        actions=(
            _a("answer"),
            _a("sleep", "500"),
            _a("say", "en number iterated ${caller_id_number}"),
            _a("hangup", "NORMAL_CLEARING"),
        ),
        module="mod_say_en",
    )


def _dest_fifo_back(t: Target, res: Resources) -> Plan:
    slot = t.argument or "park"
    return Plan(
        actions=(_a("answer"), _a("fifo", f"{slot}@{res.domain} out nowait")), module="mod_fifo"
    )


def _dest_record(t: Target, res: Resources) -> Plan:
    path = "${recordings_dir}/${caller_id_number}-${strftime(%Y%m%d-%H%M%S)}.wav"
    return Plan(
        actions=(
            _a("answer"),
            _a("playback", "tone_stream://%(500,0,880)"),
            _a("record", f"{path} 300 200"),
            _a("hangup", "NORMAL_CLEARING"),
        )
    )


def _dest_check_voicemail(t: Target, res: Resources) -> Plan:
    return Plan(
        actions=(
            _a("answer"),
            _a("voicemail", f"check default {res.domain} ${{caller_id_number}}"),
        ),
        module="mod_voicemail",
    )


# --- types that need modules stock FreeSWITCH lacks -------------------------------


def _external(module: str, app: str, note: str) -> Builder:
    def build(t: Target, res: Resources) -> Plan:
        data = " ".join(p for p in (t.dest_uuid.strip(), t.body.strip()) if p) or t.number
        # XSwitch's own modules take JSON here (FS_DEST_TEN's config): braces
        # are no syntax to them; an expansion would still run.
        _ok(NO_EXPANSION, "dest_uuid and body", data)
        return Plan(
            actions=(_a("answer"), _a(app, data)),
            module=module,
            stock=False,
            note=note,
        )

    return build


def _dest_tencent(t: Target, res: Resources) -> Plan:
    host = t.body.strip()
    if not host:
        return _fail("FS_DEST_TENCENT needs the connector address in body")
    _ok(HOST, "body", host)
    return Plan(
        actions=(_a("bridge", f"sofia/public/{t.number}@{host}"),),
        module="mod_sofia",
        note="Tencent Meeting's SIP connector is reached as a SIP peer",
    )


BUILDERS: dict[str, Builder] = {
    "FS_DEST_USER": _dest_user,
    "FS_DEST_USERGW": _dest_usergw,
    "FS_DEST_RING_EXTNS": _ring_group(","),
    "FS_DEST_SEQ_EXTNS": _ring_group("|"),
    "FS_DEST_GATEWAY": _dest_gateway,
    "FS_DEST_IP": _dest_ip,
    "FS_DEST_CLUSTER_TRUNK": _dest_trunk,
    "FS_DEST_TRUNK_OUT": _dest_trunk,
    "FS_DEST_TRUNK_IN": _dest_trunk,
    "FS_DEST_CLUSTER_TRUNK_GROUP": _dest_trunk_group,
    "FS_DEST_TRUNK_GROUP_OUT": _dest_trunk_group,
    "FS_DEST_TRUNK_GROUP_IN": _dest_trunk_group,
    "FS_DEST_DISTRIBUTORS": _dest_distributor,
    "FS_DEST_SYSTEM": _dest_system,
    "FS_DEST_IVR": _dest_ivr,
    "FS_DEST_IVRBLOCK": _dest_ivrblock,
    "FS_DEST_SCRIPT": _dest_script,
    "FS_DEST_PLAYBACK": _dest_playback,
    "FS_DEST_TRANSFER": _dest_transfer,
    "FS_DEST_VOICEMAIL": _dest_voicemail,
    "FS_DEST_CTI": _dest_cti,
    "FS_DEST_NUM_QUEUE": _dest_num_queue,
    "FS_DEST_CONFERENCE": _dest_conference,
    "FS_DEST_CONFERENCE_ROOM": _dest_conference_room,
    "FS_DEST_USER_CONFERENCE": _dest_user_conference,
    "FS_DEST_MEETING_ROOM": _dest_meeting,
    "FS_DEST_MEETING": _dest_meeting,
    "FS_DEST_TIMELY_MEETING": _dest_meeting,
    "FS_DEST_CONFERENCE_CLUSTER": _dest_conference_cluster,
    "FS_DEST_LAST_INTERCEPT": _dest_last_intercept,
    "FS_DEST_DEST_INTERCEPT": _dest_intercept,
    "FS_DEST_INTERCEPT": _dest_intercept,
    "FS_DEST_EAVESDROP": _dest_eavesdrop,
    "FS_DEST_FORCE_INSERT": _dest_force_insert,
    "FS_DEST_FORCE_BREAKDOWN": _dest_force_breakdown,
    "FS_DEST_FUNC_CALL_EXTN": _dest_extn,
    "FS_DEST_FUNC_CALL_FORWARDING": _db_set(CF_ALL),
    "FS_DEST_FUNC_CALL_FORWARDING_CANCEL": _db_clear(CF_ALL),
    "FS_DEST_FUNC_CALL_FORWARD_BUSY": _db_set(CF_BUSY),
    "FS_DEST_FUNC_CALL_FORWARD_BUSY_CANCEL": _db_clear(CF_BUSY),
    "FS_DEST_FUNC_CALL_FORWARD_NO_RESPONSE": _db_set(CF_NOANSWER),
    "FS_DEST_FUNC_CALL_FORWARD_NO_RESPONSE_CANCEL": _db_clear(CF_NOANSWER),
    # The func-code dict (migration 0101) spells no-answer forwarding this way.
    "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE": _db_set(CF_NOANSWER),
    "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE_CANCEL": _db_clear(CF_NOANSWER),
    "FS_DEST_FUNC_CALL_DND": _dest_dnd,
    "FS_DEST_FUNC_CALL_DND_CANCEL": _db_clear(DND),
    "FS_DEST_FUNC_CALL_FIFO_BACK": _dest_fifo_back,
    "FS_DEST_FUNC_CALL_RECORD": _dest_record,
    "FS_DEST_FUNC_CALL_VOICEMAIL": _dest_check_voicemail,
    "FS_DEST_TENCENT": _dest_tencent,
    "FS_DEST_AGORA": _external(
        "mod_agora (XSwitch)", "agora", "Agora RTC gateway; not in FreeSWITCH"
    ),
    "FS_DEST_CHATGPT": _external(
        "mod_ai (XSwitch)", "ai", "AI robot <uuid> [topic]; not in FreeSWITCH"
    ),
    "FS_DEST_TEN": _external("mod_ten (XSwitch)", "ten", "TEN agent robot; not in FreeSWITCH"),
    "FS_DEST_CALLFLOW": _external(
        "XSwitch call-flow engine", "callflow", "XSwitch call flows; not in FreeSWITCH"
    ),
    "FS_DEST_MCASTS": _external(
        "mod_mcast (XSwitch)", "mcast", "multicast paging; not in FreeSWITCH"
    ),
    "FS_DEST_MCAST_MEET": _external(
        "mod_mcast (XSwitch)", "mcast_meet", "multicast broadcast; not in FreeSWITCH"
    ),
}
