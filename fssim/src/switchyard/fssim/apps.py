"""Dialplan applications (mod_dptools subset, conference, db) as the simulator runs them.

Each receives the executor (to run queued or nested apps, to dial) and the channel.
"""

from __future__ import annotations

import asyncio
import logging

from switchyard.fssim import callcenter, ivr
from switchyard.fssim.causes import Q850, normalize
from switchyard.fssim.channel import Channel
from switchyard.fssim.core import Conference, Core, Member
from switchyard.fssim.executor import App, Executor
from switchyard.fssim.hashdb import hash_app
from switchyard.fssim.media import play_file
from switchyard.fssim.originate import dial

log = logging.getLogger("switchyard.fssim.apps")

# --- the apps ------------------------------------------------------------------------


async def _answer(ex: Executor, ch: Channel, data: str) -> str:
    ex.core.answer(ch)
    return "_none_"


async def _pre_answer(ex: Executor, ch: Channel, data: str) -> str:
    ex.core.pre_answer(ch)
    return "_none_"


async def _ring_ready(ex: Executor, ch: Channel, data: str) -> str:
    ex.core.ring(ch)
    return "_none_"


async def _park(ex: Executor, ch: Channel, data: str) -> str:
    node = ex.core
    ch.parked = True
    node.channel_event(ch, "CHANNEL_PARK", "switch_ivr.c", "switch_ivr_park", 1002)
    while not ch.interrupted:
        while node.read_dtmf(ch) is not None:
            pass  # switch_ivr_park reads (and so reports) digits as they come
        if ch.pending:
            await ex.run_pending(ch)
            continue
        await ch.pause(None)
    if ch.parked and ch.is_up:
        ch.parked = False
        node.channel_event(ch, "CHANNEL_UNPARK", "switch_ivr.c", "switch_ivr_park", 1213)
    return "_none_"


async def _wait_until_interrupted(ex: Executor, ch: Channel, data: str) -> str:
    while not ch.interrupted:
        if ch.pending:
            await ex.run_pending(ch)
            continue
        await ch.pause(None)
    return "_none_"


async def _hangup(ex: Executor, ch: Channel, data: str) -> str:
    ex.core.hangup(ch, normalize(data) if data.strip() else "NORMAL_CLEARING")
    return "_none_"


async def _playback(ex: Executor, ch: Channel, data: str) -> str:
    finished, _ = await play_file(ex.core, ch, data, "terminators")
    return "FILE PLAYED" if finished else "FILE NOT FOUND"


async def _ivr(ex: Executor, ch: Channel, data: str) -> str:
    return await ivr.run(ex, ch, data)


async def _callcenter(ex: Executor, ch: Channel, data: str) -> str:
    """mod_callcenter's app: the caller waits in the queue ``data`` (callcenter.py)."""
    return await callcenter.of(ex).join(ch, data)


async def _sleep(ex: Executor, ch: Channel, data: str) -> str:
    try:
        ms = int(data.strip() or "0")
    except ValueError:
        ms = 0
    await ch.pause(ms / 1000)
    return "_none_"


async def _set(ex: Executor, ch: Channel, data: str) -> str:
    name, _, value = data.partition("=")
    if name:
        if value:
            ch.variables[name.strip()] = value
        else:
            ch.variables.pop(name.strip(), None)
    return "_none_"


async def _export(ex: Executor, ch: Channel, data: str) -> str:
    await _set(ex, ch, data.removeprefix("nolocal:"))
    name = data.partition("=")[0].strip()
    exported = [v for v in ch.variables.get("export_vars", "").split(",") if v]
    if name and name not in exported:
        ch.variables["export_vars"] = ",".join([*exported, name])
    return "_none_"


async def _record_session(ex: Executor, ch: Channel, data: str) -> str:
    node = ex.core
    path = data.split()[0] if data.split() else ""
    ch.variables["record_session_path"] = path
    node.record_start(ch, path)  # stopped by hangup (or uuid_record stop)
    return "_none_"


async def _bridge(ex: Executor, ch: Channel, data: str) -> str:
    node = ex.core
    exports = {
        k: ch.variables[k]
        for k in ch.variables.get("export_vars", "").split(",")
        if k and k in ch.variables
    }
    result = await dial(
        ex,
        data,
        timeout=float(ch.variables.get("call_timeout", "60")),
        originator=ch,
        extra_vars=exports,
    )
    if isinstance(result, str):
        _bridge_failed(node, ch, result)
        return "_none_"
    b = result
    if not ch.is_up:
        node.hangup(b, "ORIGINATOR_CANCEL")
        return "_none_"
    if not b.answered_evt.is_set():
        waits = [
            asyncio.ensure_future(b.answered_evt.wait()),
            asyncio.ensure_future(b.hungup.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        if not b.is_up:
            _bridge_failed(node, ch, b.hangup_cause)
            return "_none_"
    node.answer(ch)
    ch.continue_after_bridge = ch.variables.get("hangup_after_bridge") != "true"
    node.bridge(ch, b)
    ch.variables["originate_disposition"] = "SUCCESS"
    ch.variables["DIALSTATUS"] = "SUCCESS"
    while ch.is_up and ch.peer is b and ch.transfer_to is None:
        await ch.pause(None)
    if ch.peer is b:
        node.unbridge(ch)
    ch.continue_after_bridge = False
    return "_none_"


def _bridge_failed(node: Core, ch: Channel, cause: str) -> None:
    """audio_bridge_function after a failed originate: the dialplan goes on
    only when ``continue_on_fail`` is true or lists the cause (by name or
    Q.850 number, comma-separated); otherwise the caller is hung up with it."""
    ch.variables["originate_disposition"] = cause
    ch.variables["DIALSTATUS"] = cause
    cof = ch.variables.get("continue_on_fail", "")
    if cof.strip().lower() in ("true", "t", "yes", "on", "enabled", "active", "allow", "1"):
        return
    listed = {c.strip().upper() for c in cof.split(",")}
    if cause.upper() in listed or str(Q850.get(cause, 0)) in listed:
        return
    # A caller taken away meanwhile (transferred, intercepted: PICKED_OFF on
    # the ringing leg) has left this bridge; its new owner decides its fate.
    if ch.is_up and not ch.interrupted and cause != "ATTENDED_TRANSFER":
        node.hangup(ch, cause)


async def _transfer(ex: Executor, ch: Channel, data: str) -> str:
    parts = data.split()
    if parts and parts[0] == "-bleg":
        parts = parts[1:]
    if parts:
        ch.transfer_to = (
            parts[0],
            parts[1] if len(parts) > 1 else "",
            parts[2] if len(parts) > 2 else "",
        )
        ch.wake()
    return "_none_"


async def _eavesdrop(ex: Executor, ch: Channel, data: str) -> str:
    node = ex.core
    target = node.find(data.strip())
    if target is None:
        log.info("Usage: eavesdrop: no such channel %s", data)
        return "_none_"
    node.answer(ch)
    while not ch.interrupted and target.is_up:
        await ch.pause(0.5)
    return "_none_"


def partner_of(node: Core, ch: Channel) -> Channel | None:
    """switch_channel_get_partner_uuid: the leg bridged to ``ch`` or, while it
    originates, the leg it is ringing (``originate_signal_bond``)."""
    if ch.peer is not None:
        return ch.peer
    ringing = [c for c in node.channels.values() if c.originator is ch and c.is_up]
    if ringing:
        return ringing[0]
    return ch.originator if ch.originator is not None and ch.originator.is_up else None


async def _intercept(ex: Executor, ch: Channel, data: str) -> str:
    node = ex.core
    """switch_ivr_intercept_session: take over ``<uuid>`` (a call still ringing
    somewhere, or already bridged) and hang its partner up with PICKED_OFF.
    ``-bleg <uuid>`` names the partner instead (the ringing leg)."""
    uuid = data.strip()
    if uuid.lower().startswith("-bleg"):
        leg = node.find(uuid[5:].strip())
        found = partner_of(node, leg) if leg is not None else None
        if found is None:
            log.warning("no uuid bridged to %s", uuid[5:].strip())
            return "_none_"
        uuid = found.uuid
    r = node.find(uuid) if uuid else None
    if r is None or r is ch:
        log.error("no uuid %s", uuid)
        return "_none_"
    b = partner_of(node, r)
    if b is ch:
        b = None
    if ch.variables.get("intercept_unbridged_only") == "true" and r.peer is not None:
        return "_none_"
    if ch.variables.get("intercept_unanswered_only") == "true" and r.answer_state == "answered":
        return "_none_"
    node.answer(ch)
    node.answer(r)
    # CF_TRANSFER + CS_PARK: r leaves its bridge or dialplan for the new bridge.
    r.intercepted = True
    if r.peer is not None:
        node.unbridge(r)
    others = [c for c in node.channels.values() if c.originator is r and c.is_up and c is not b]
    ch.continue_after_bridge = r.continue_after_bridge = False
    node.bridge(ch, r)
    r.wake()
    if b is not None:
        node.hangup(b, "PICKED_OFF")
    # The rest of r's originate is abandoned as when its caller goes away.
    for leg in others:
        node.hangup(leg, "ORIGINATOR_CANCEL")
    while ch.is_up and ch.peer is r:
        await ch.pause(None)
    return "_none_"


async def _db(ex: Executor, ch: Channel, data: str) -> str:
    node = ex.core
    """mod_db's ``db`` app: ``insert/<realm>/<key>/<value>`` or ``delete/<realm>/<key>``."""
    argv = data.split("/", 3) if data else []
    op = argv[0].lower() if argv else ""
    if len(argv) < 3 or op not in ("insert", "delete") or (op == "insert" and len(argv) < 4):
        log.warning("USAGE: db [insert|delete]/<realm>/<key>/<val>")
    elif op == "insert":
        node.db[(argv[1], argv[2])] = argv[3]
    else:
        node.db.pop((argv[1], argv[2]), None)
    return "_none_"


async def _hash(ex: Executor, ch: Channel, data: str) -> str:
    """mod_hash's ``hash`` app: ``<op>/<realm>/<key>[/<val>]``, op insert, insert_ifempty,
    delete or delete_ifmatch."""
    hash_app(ex.core, data)
    return "_none_"


async def _conference(ex: Executor, ch: Channel, data: str) -> str:
    node = ex.core
    room = data.split("@")[0].split("+")[0].strip() or "default"
    conf = node.conferences.get(room)
    if conf is None:
        conf = node.conferences[room] = Conference(room)
    node.answer(ch)
    # Inbound members mark the conference answered when they join, outbound ones
    # once their channel is answered: either way, here (freeswitch-observed §3).
    conf.answered = True
    node.member_ids += 1
    conf.members.insert(0, Member(node.member_ids, ch))  # linked at the head of the list
    conf.floor = conf.floor or node.member_ids
    ch.conference = room
    ch.variables["conference_name"] = room
    ch.variables["conference_member_id"] = str(node.member_ids)
    ch.variables["conference_uuid"] = conf.uuid
    while not ch.interrupted and any(m.channel is ch for m in conf.members):
        await ch.pause(None)
    node.leave_conference(ch)
    ch.conference = ""
    return "_none_"


APPS: dict[str, App] = {
    "answer": _answer,
    "pre_answer": _pre_answer,
    "ring_ready": _ring_ready,
    "park": _park,
    "echo": _wait_until_interrupted,
    "hangup": _hangup,
    "playback": _playback,
    "sleep": _sleep,
    "set": _set,
    "export": _export,
    "record_session": _record_session,
    "bridge": _bridge,
    "transfer": _transfer,
    "eavesdrop": _eavesdrop,
    "three_way": _eavesdrop,
    "intercept": _intercept,
    "conference": _conference,
    "ivr": _ivr,
    "callcenter": _callcenter,
    "db": _db,
    "hash": _hash,
}
