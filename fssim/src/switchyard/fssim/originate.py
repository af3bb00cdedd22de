"""Dial strings and endpoints: ``{vars}``, ``[vars]``, ``,`` (together), ``|`` (in turn).

Endpoints: ``user/<ext>[@domain]``, ``loopback/<ext>[/context[/dialplan]]``,
``sofia/gateway/<gw>/<number>``, ``sofia/<profile>/<uri>``, ``error/<cause>``.
A dial returns the answered (or, unless ``ignore_early_media``, early)
channel, or the failure cause.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from switchyard.fssim.behaviour import Behaviour
from switchyard.fssim.causes import normalize
from switchyard.fssim.channel import Channel, Profile
from switchyard.fssim.core import Core
from switchyard.fssim.executor import Executor
from switchyard.shared.fssplit import split_outside

# switch_ivr_originate's pass over its legs when it has no caller to read from.
POLL_SECONDS = 0.02


def split_vars(text: str, opener: str, closer: str) -> tuple[dict[str, str], str]:
    """Leading ``{a=b,c='x,y'}`` (or ``[...]``) variables and the rest of the string."""
    text = text.strip()
    if not text.startswith(opener):
        return {}, text
    depth, end = 0, -1
    for i, c in enumerate(text):
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                end = i
                break
    if end < 0:
        return {}, text
    body, rest = text[1:end], text[end + 1 :]
    out: dict[str, str] = {}
    for item in _split_top(body, ","):
        key, eq, value = item.partition("=")
        if not eq:
            continue  # FreeSWITCH drops an item without =
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key.strip():
            # switch_separate_string: "\," is a comma that does not separate.
            out[key.strip()] = value.replace("\\,", ",")
    return out, rest


def _split_top(text: str, sep: str) -> list[str]:
    parts, _ = split_outside(text, sep, brackets="{[", escapes=True)
    return [p for p in parts if p.strip()]


async def dial(
    ex: Executor,
    dialstring: str,
    *,
    timeout: float = 60.0,
    originator: Channel | None = None,
    extra_vars: dict[str, str] | None = None,
) -> Channel | str:
    """Dial ``dialstring``: the answered (or early) channel, or the failure cause."""
    node = ex.core
    global_vars, rest = split_vars(dialstring, "{", "}")
    variables = {**(extra_vars or {}), **global_vars}
    cause = "NO_ANSWER"
    for group in _split_top(rest, "|"):
        if originator is not None and originator.interrupted:
            break  # the caller went away or was taken elsewhere: no further attempts
        legs = _split_top(group, ",")
        tasks = [
            asyncio.ensure_future(_dial_leg(ex, leg, variables, timeout, originator))
            for leg in legs
        ]
        winner: Channel | None = None
        try:
            for done in asyncio.as_completed(tasks):
                result = await done
                if isinstance(result, Channel):
                    winner = result
                    break
                cause = result
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t
                elif (
                    not t.cancelled()
                    and isinstance(t.result(), Channel)
                    and t.result() is not winner
                ):
                    node.hangup(t.result(), "LOSE_RACE")  # type: ignore[arg-type]
        if winner is not None:
            return winner
    return cause


async def _dial_leg(
    ex: Executor,
    leg: str,
    variables: dict[str, str],
    timeout: float,
    originator: Channel | None,
) -> Channel | str:
    node = ex.core
    leg_vars, target = split_vars(leg, "[", "]")
    v = {**variables, **leg_vars}
    with contextlib.suppress(ValueError):
        timeout = float(v.get("originate_timeout") or v.get("leg_timeout") or timeout)
    early_ok = v.get("ignore_early_media", "false") != "true"
    made = _endpoint(ex, target.strip(), v, originator)
    if isinstance(made, str):
        return made
    ch, far_end = made
    task = node.spawn(far_end)
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiters = [
        asyncio.ensure_future(ch.answered_evt.wait()),
        asyncio.ensure_future(ch.hungup.wait()),
    ]
    if early_ok:
        waiters.append(asyncio.ensure_future(ch.media_evt.wait()))
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if ch.is_up and (ch.answered_evt.is_set() or (early_ok and ch.media_evt.is_set())):
            # switch_ivr_originate looks at its legs once per 20 ms pass
            # (switch_yield(20000)): an answer is seen at the next pass, and a
            # leg that hung up by then fails the originate with its cause
            # (freeswitch-observed section 9: answer + hangup is
            # -ERR NORMAL_CLEARING, answer + sleep 50 + hangup is +OK).
            await asyncio.sleep(POLL_SECONDS - (loop.time() - started) % POLL_SECONDS)
    except asyncio.CancelledError:
        node.hangup(ch, "ORIGINATOR_CANCEL")
        raise
    finally:
        for w in waiters:
            w.cancel()
    if not ch.is_up:
        return ch.hangup_cause or "NORMAL_TEMPORARY_FAILURE"
    if ch.answered_evt.is_set() or (early_ok and ch.media_evt.is_set()):
        return ch
    task.cancel()
    node.hangup(ch, "NO_ANSWER")
    return "NO_ANSWER"


def _outbound(
    node: Core,
    name: str,
    dest: str,
    v: dict[str, str],
    originator: Channel | None,
    *,
    source: str,
    codec: tuple[str, str, str] = ("PCMU", "8000", "64000"),
    endpoint: str,
) -> Channel:
    if originator is not None:
        cid_name = v.get("origination_caller_id_name") or originator.profile.caller_id_name
        cid_num = v.get("origination_caller_id_number") or originator.profile.caller_id_number
    else:
        cid_name = v.get("origination_caller_id_name", "")
        cid_num = v.get("origination_caller_id_number", "0000000000")
    profile = Profile(
        caller_id_name=cid_name,
        caller_id_number=cid_num,
        orig_caller_id_name=cid_name,
        orig_caller_id_number=cid_num,
        callee_id_name="Outbound Call",
        callee_id_number=dest,
        ani=cid_num,
        destination_number=dest,
        source=source,
        context=originator.profile.context if originator else "default",
    )
    variables = dict(v)
    variables["originate_early_media"] = "true"
    variables["originate_endpoint"] = endpoint
    ch = node.new_channel(
        name, "outbound", profile, variables, uuid=v.get("origination_uuid") or None, codec=codec
    )
    ch.originator = originator
    ch.running_state, ch.state = "CS_NONE", "CS_INIT"
    node.channel_event(
        ch, "CHANNEL_OUTGOING", "switch_core_session.c", "switch_core_session_outgoing_channel", 768
    )
    node.set_running_state(ch, "CS_INIT", next_state="CS_ROUTING")
    node.channel_event(
        ch, "CHANNEL_CREATE", "switch_core_state_machine.c", "switch_core_session_run", 626
    )
    node.channel_event(
        ch, "CHANNEL_ORIGINATE", "switch_core_state_machine.c", "switch_core_session_run", 632
    )
    node.set_running_state(ch, "CS_ROUTING")
    node.set_running_state(ch, "CS_CONSUME_MEDIA")
    return ch


async def _behave(node: Core, ch: Channel, b: Behaviour) -> None:
    """The far end: ring, maybe early media, then answer, reject or nothing."""
    node.ring(ch)
    if b.early_media:
        node.pre_answer(ch)
    if b.mode == "silent":
        return
    if b.ring_seconds > 0:
        await asyncio.sleep(b.ring_seconds)
    if not ch.is_up or ch.answer_state == "answered":
        return
    if b.mode == "answer":
        node.answer(ch)
    else:
        node.hangup(ch, normalize(b.cause))


def _endpoint(
    ex: Executor, target: str, v: dict[str, str], originator: Channel | None
) -> tuple[Channel, Coroutine[Any, Any, None]] | str:
    node = ex.core
    kind, _, rest = target.partition("/")
    if kind == "error":
        return normalize(rest or "NORMAL_CLEARING")
    if kind == "user":
        # mod_dptools' user_outgoing_channel: a user missing from the directory is
        # SUBSCRIBER_ABSENT; the stock dial-string then asks sofia_contact, which
        # answers error/user_not_registered for a user with no registration
        # (freeswitch-observed section 13).
        ext, _, domain = rest.partition("@")
        domain = domain or node.ipv4  # the global ``domain`` variable
        if (ext, domain) not in node.directory:
            return "SUBSCRIBER_ABSENT"
        regs = node.find_registrations(ext, domain)
        if not regs:
            return "USER_NOT_REGISTERED"
        v = {**v, "dialed_user": ext, "dialed_domain": domain}
        ch = _outbound(
            node,
            f"sofia/internal/{ext}@{domain}",
            ext,
            v,
            originator,
            source="mod_sofia",
            endpoint="user",
        )
        return ch, _behave(node, ch, regs[0].behaviour)
    if kind == "loopback":
        return _loopback(ex, rest, v, originator)
    if kind == "sofia":
        profile, _, tail = rest.partition("/")
        if profile == "gateway":
            gw_name, _, number = tail.partition("/")
            gw = node.gateways.get(gw_name)
            if gw is None:
                return "INVALID_GATEWAY"
            if gw.status != "UP":
                gw.failed_out += 1
                return "GATEWAY_DOWN"
            gw.calls_out += 1
            ch = _outbound(
                node,
                f"sofia/{gw.profile}/{number}@{gw.realm}",
                number,
                {**v, "sip_gateway_name": gw_name},
                originator,
                source="mod_sofia",
                endpoint="sofia",
            )
            behaviour = node.number_behaviours.get(number, gw.behaviour)
            return ch, _behave(node, ch, behaviour)
        if profile not in node.profiles:
            return "INVALID_PROFILE"
        uri_user = tail.partition("@")[0].removeprefix("sip:")
        ch = _outbound(
            node,
            f"sofia/{profile}/{tail}",
            uri_user,
            v,
            originator,
            source="mod_sofia",
            endpoint="sofia",
        )
        return ch, _behave(node, ch, node.number_behaviours.get(uri_user, node.remote_behaviour))
    return "CHAN_NOT_IMPLEMENTED"


def _loopback(
    ex: Executor, rest: str, v: dict[str, str], originator: Channel | None
) -> tuple[Channel, Coroutine[Any, Any, None]]:
    node = ex.core
    parts = rest.split("/")
    dest = parts[0]
    context = parts[1] if len(parts) > 1 and parts[1] else "default"
    dialplan = parts[2] if len(parts) > 2 and parts[2] else "xml"
    a = _outbound(
        node,
        f"loopback/{dest}-a",
        dest,
        v,
        originator,
        source="mod_loopback",
        codec=("L16", "8000", "128000"),
        endpoint="loopback",
    )
    if len(parts) > 1:
        # With a context in the dial string the A leg's callee number is that
        # context, so its flipped caller id is Outbound Call / <context>
        # (freeswitch-observed, the loopback quirk).
        a.profile.callee_id_number = context
    b_profile = Profile(
        dialplan=dialplan,
        caller_id_name=a.profile.caller_id_name,
        caller_id_number=a.profile.caller_id_number,
        orig_caller_id_name=a.profile.caller_id_name,
        orig_caller_id_number=a.profile.caller_id_number,
        callee_id_name="Outbound Call",
        callee_id_number=context if len(parts) > 1 else dest,
        ani=a.profile.caller_id_number,
        destination_number=dest,
        source="mod_loopback",
        context=context,
    )
    b_vars = {k: val for k, val in v.items() if k.startswith("origination_caller_id")}
    b_vars["other_loopback_leg_uuid"] = a.uuid
    b_vars["loopback_leg"] = "B"
    b = node.new_channel(
        f"loopback/{dest}-b", "inbound", b_profile, b_vars, codec=("L16", "8000", "128000")
    )
    a.variables["other_loopback_leg_uuid"] = b.uuid
    a.variables["loopback_leg"] = "A"
    a.partner, b.partner = b, a
    node.set_running_state(b, "CS_INIT", next_state="CS_ROUTING")
    node.channel_event(
        b, "CHANNEL_CREATE", "switch_core_state_machine.c", "switch_core_session_run", 626
    )

    async def far_end() -> None:
        b.task = asyncio.current_task()  # type: ignore[assignment]
        await ex.route(b)

    return a, far_end()
