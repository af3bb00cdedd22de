"""What a stored destination must hold: a known type, and a `dest_uuid` that
points at the right kind of object (routing/destinations.py builds the
dialplan actions from it).

The specs list 20 ``FS_DEST_*`` types (seeded in dicts realm DEST); real
clients send 54 (../shared/reference/xswitch-clients-observed.md section 4),
all accepted. For the types the spec marks as needing ``dest_uuid``, the id
must name an existing object of the right kind where Switchyard stores that
kind; the others (conference rooms, meetings, call-center queues,
distributors) live outside Switchyard and only need to be present.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg

from switchyard.config_api.framework.rules import app_lines, check, members, text
from switchyard.config_api.framework.spec import Values, is_id
from switchyard.config_api.routing.destinations import BUILDERS
from switchyard.shared.fsvalues import (
    HOST,
    LABEL,
    NAME,
    NO_EXPANSION,
    NUMBER,
    SCRIPT,
    SOUND,
    Applications,
    UnsafeValue,
)
from switchyard.shared.http.errors import bad_request

# Every type a route may name: those the routing engine builds a dialplan
# for (one list; a type without a builder would only ever hang up).
DEST_TYPES: frozenset[str] = frozenset(BUILDERS)

# Trunk and trunk-group types the spec does not list but that only route
# through a stored trunk (group): without its id every call would hang up.
TRUNK_TYPES: frozenset[str] = frozenset({"FS_DEST_TRUNK_OUT", "FS_DEST_TRUNK_IN"})
TRUNK_GROUP_TYPES: frozenset[str] = frozenset({"FS_DEST_TRUNK_GROUP_OUT", "FS_DEST_TRUNK_GROUP_IN"})

# The spec's list of types whose dest_uuid is required.
NEEDS_UUID: frozenset[str] = frozenset(
    f"FS_DEST_{t}"
    for t in [
        "GATEWAY",
        "USERGW",
        "IVRBLOCK",
        "MEETING_ROOM",
        "CONFERENCE_ROOM",
        "CTI",
        "IVR",
        "DISTRIBUTORS",
        "CLUSTER_TRUNK",
        "CLUSTER_TRUNK_GROUP",
    ]
)

# type -> (table, label column, what it is called in errors)
TARGETS: dict[str, tuple[str, str, str]] = {
    "FS_DEST_GATEWAY": ("gateways", "name", "gateway"),
    "FS_DEST_USERGW": ("extensions", "extn", "extension"),
    "FS_DEST_IVRBLOCK": ("blocks", "name", "block"),
    "FS_DEST_IVR": ("ivrs", "name", "IVR"),
    "FS_DEST_CLUSTER_TRUNK": ("trunks", "name", "trunk"),
    "FS_DEST_CLUSTER_TRUNK_GROUP": ("trunk_groups", "name", "trunk group"),
    **{t: ("trunks", "name", "trunk") for t in TRUNK_TYPES},
    **{t: ("trunk_groups", "name", "trunk group") for t in TRUNK_GROUP_TYPES},
}


async def resolve(conn: asyncpg.Connection, values: dict[str, Any]) -> dict[str, Any]:
    """Check dest_type/dest_uuid; return the `body` to store (the target's name)."""
    dest_type = values.get("dest_type", "")
    if dest_type not in DEST_TYPES:
        raise bad_request("dest_type", f"unknown destination type {dest_type!r}")
    uuid = str(values.get("dest_uuid") or "").strip()
    if dest_type in NEEDS_UUID and not uuid:
        raise bad_request("dest_uuid", f"is required for {dest_type}")
    target = TARGETS.get(dest_type)
    if target is None or not uuid:
        return {}
    table, label, what = target
    # FS_DEST_GATEWAY may name a backup: "<primary>,<backup>".
    parts = [p.strip() for p in uuid.split(",")] if dest_type == "FS_DEST_GATEWAY" else [uuid]
    names = []
    for part in parts:
        if not is_id(part):
            raise bad_request("dest_uuid", f"must be a {what} id, got {part!r}")
        name = await conn.fetchval(
            f"SELECT {label} FROM {table} WHERE id = $1",  # noqa: S608 - from TARGETS
            int(part),
        )
        if name is None:
            raise bad_request("dest_uuid", f"no {what} with id {part}")
        names.append(str(name))
    return {"body": names[0]}


def uses_sql(*dest_types: str) -> str:
    """Routes of these types pointing at object $1 through dest_uuid (for delete refusals)."""
    if dest_types == ("FS_DEST_GATEWAY",):
        cond = "$1::bigint::text = ANY(string_to_array(replace(dest_uuid, ' ', ''), ','))"
    else:
        cond = "dest_uuid = $1::bigint::text"
    # dest_types come from TARGETS, never from a request.
    if not dest_types or any(t not in TARGETS for t in dest_types):
        raise ValueError(f"not destination types with a stored target: {dest_types}")
    types = ", ".join(f"'{t}'" for t in sorted(dest_types))
    # name labels a delete refusal; id is for relevance answers.
    return f"SELECT name, id FROM routes WHERE dest_type IN ({types}) AND {cond} ORDER BY id"  # noqa: S608


# --- what body and dest_uuid may hold, by type ------------------------------------

# Types that hand a call to a module stock FreeSWITCH lacks: dest_uuid and
# body go into the application's data as they are.
EXTERNAL_TYPES: frozenset[str] = frozenset(
    f"FS_DEST_{t}" for t in ["AGORA", "CHATGPT", "TEN", "CALLFLOW", "MCASTS", "MCAST_MEET"]
)
_MEETINGS = frozenset({"FS_DEST_MEETING_ROOM", "FS_DEST_MEETING", "FS_DEST_TIMELY_MEETING"})
_TRANSFER_REASON = "must be '<number> [context]' (a number, then a context key)"


def _queue(field: str, name: str) -> Iterator[UnsafeValue]:
    """A mod_callcenter queue: a LABEL, or ``<queue>@<domain>``."""
    if name and not all(LABEL.ok(part) for part in name.split("@", 1)):
        yield UnsafeValue(field, f"{LABEL.reason} (or <queue>@<domain>)")


def dest_problems(row: Values, apps: Applications) -> Iterator[UnsafeValue]:
    """``body`` and ``dest_uuid`` by ``dest_type``, where routing/destinations.py
    splices them into application data or a dial string (routes and their
    time rules). Types whose ``dest_uuid`` names a stored object take only
    that id (``resolve``) and show the object's own, checked, name in body."""
    dest_type = text(row, "dest_type")
    uuid = text(row, "dest_uuid").strip()
    body = text(row, "body")
    b = body.strip()
    # What the builders take as a name when no table holds the object.
    named, named_field = (b, "body") if b else (uuid, "dest_uuid")
    if dest_type in TARGETS and uuid:
        return
    if dest_type == "FS_DEST_SYSTEM":
        yield from app_lines("body", body, apps)
    elif dest_type in ("FS_DEST_IP", "FS_DEST_TENCENT"):
        yield from check("body", b, HOST)
    elif dest_type == "FS_DEST_CONFERENCE_CLUSTER":
        for n, node in enumerate(body.replace("\r", "").split("\n"), start=1):
            if node.strip() and not HOST.ok(node.strip()):
                yield UnsafeValue("body", f"line {n}: {HOST.reason}")
    elif dest_type in ("FS_DEST_RING_EXTNS", "FS_DEST_SEQ_EXTNS"):
        if uuid:
            yield from members("dest_uuid", uuid)
    elif dest_type == "FS_DEST_SCRIPT":
        yield from check(named_field, named, SCRIPT)
    elif dest_type == "FS_DEST_PLAYBACK":
        yield from check(named_field, named, SOUND)
    elif dest_type == "FS_DEST_TRANSFER":
        parts = body.split()
        if len(parts) > 2:
            yield UnsafeValue("body", _TRANSFER_REASON)
            return
        if parts and not NUMBER.ok(parts[0]):
            yield UnsafeValue("body", f"{_TRANSFER_REASON}: the number {NUMBER.reason}")
        if len(parts) == 2 and not NAME.ok(parts[1]):
            yield UnsafeValue("body", f"{_TRANSFER_REASON}: the context {NAME.reason}")
        if len(parts) < 2:
            yield from check("dest_uuid", uuid, NAME)
    elif dest_type == "FS_DEST_VOICEMAIL":
        yield from check("body", b, NUMBER)
    elif dest_type == "FS_DEST_CTI":
        yield from _queue(named_field, named)
    elif dest_type in ("FS_DEST_CONFERENCE_ROOM", "FS_DEST_DISTRIBUTORS"):
        yield from check(named_field, named, LABEL)
    elif dest_type in ("FS_DEST_CONFERENCE", "FS_DEST_USER_CONFERENCE"):
        yield from check("body", b, LABEL)
    elif dest_type in _MEETINGS:
        yield from check("dest_uuid", uuid, LABEL)
    elif dest_type == "FS_DEST_GATEWAY":
        yield from check("body", b, NAME)  # XUI's legacy form: the gateway's name
    elif dest_type in EXTERNAL_TYPES:
        # XSwitch's own modules read JSON here (FS_DEST_TEN's config); the
        # builder refuses the same (routing/destinations.py _external).
        yield from check("dest_uuid", uuid, NO_EXPANSION)
        yield from check("body", b, NO_EXPANSION)
