"""API commands (mod_commands, mod_sofia, mod_conference subsets) with FreeSWITCH's replies."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import time
from collections.abc import Awaitable, Callable

from switchyard.fssim import cjson
from switchyard.fssim.causes import normalize
from switchyard.fssim.core import (
    VERSION,
    VERSION_LINE,
    Conference,
    Core,
    Gateway,
    Member,
    new_uuid,
    uptime,
)
from switchyard.fssim.executor import Executor
from switchyard.fssim.originate import dial

Handler = Callable[["Core", str], Awaitable[str]]
NO_CHANNEL = "-ERR No such channel!\n"
SHOW_COLUMNS = (
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "application",
    "application_data",
    "dialplan",
    "context",
    "read_codec",
    "read_rate",
    "read_bit_rate",
    "write_codec",
    "write_rate",
    "write_bit_rate",
    "secure",
    "hostname",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "call_uuid",
    "sent_callee_name",
    "sent_callee_num",
    "initial_cid_name",
    "initial_cid_num",
    "initial_ip_addr",
    "initial_dest",
    "initial_dialplan",
    "initial_context",
)


def _words(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def _originate_tokens(args: str) -> list[str]:
    # As mod_commands: the whole line splits on blanks first, quotes removed,
    # so a {…} value with a space must be quoted and its commas escaped "\,"
    # (freeswitch-observed section 7).
    return _separate(args.strip())


def _separate(text: str) -> list[str]:
    """switch_separate_string: blanks split, single quotes group (and are
    removed), a backslash before a quote, a blank or a backslash makes it
    literal; any other backslash is kept for the next split."""
    words: list[str] = []
    cur: list[str] = []
    quoted = started = escaped = False
    for c in text:
        if escaped:
            escaped = False
            if c not in "'\" \\":
                cur.append("\\")
            cur.append(c)
            started = True
        elif c == "\\":
            escaped = True
        elif c == "'":
            quoted = not quoted
            started = True
        elif c.isspace() and not quoted:
            if started:
                words.append("".join(cur))
            cur, started = [], False
        else:
            cur.append(c)
            started = True
    if started:
        words.append("".join(cur))
    return words


async def originate(ex: Executor, args: str) -> str:
    node = ex.core
    t = _originate_tokens(args)
    if len(t) < 2:
        return (
            "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] "
            "[<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"
        )
    url, exten = t[0], t[1]
    dialplan = t[2] if len(t) > 2 else "XML"
    context = t[3] if len(t) > 3 else "default"
    extra: dict[str, str] = {}
    if len(t) > 4 and t[4] not in ("undef", "_undef_"):
        extra["origination_caller_id_name"] = t[4]
    if len(t) > 5 and t[5] not in ("undef", "_undef_"):
        extra["origination_caller_id_number"] = t[5]
    timeout = 60.0
    if len(t) > 6:
        with contextlib.suppress(ValueError):
            timeout = float(t[6])
    result = await dial(ex, url, timeout=timeout, extra_vars=extra)
    if isinstance(result, str):
        return f"-ERR {result}\n"
    a = result
    if exten.startswith("&"):
        app = exten[1:]
        name, _, data = app.partition("(")
        data = data.removesuffix(")") if data else ""
        if not data and " " in name:
            name, _, data = name.partition(" ")
        node.spawn_app_session(a, lambda: ex.run_app(a, name, data))
    else:
        a.profile.destination_number = exten
        a.profile.context = context
        a.profile.dialplan = dialplan
        node.spawn_app_session(a, lambda: ex.route(a))
    return f"+OK {a.uuid}\n"


async def uuid_kill(node: Core, args: str) -> str:
    w = args.split()
    if not w:
        return "-USAGE: <uuid> [cause]\n"
    ch = node.find(w[0])
    if ch is None:
        return NO_CHANNEL
    node.hangup(ch, normalize(w[1]) if len(w) > 1 else "NORMAL_CLEARING")
    return "+OK\n"


async def uuid_bridge(node: Core, args: str) -> str:
    w = args.split()
    if len(w) < 2:
        return "-USAGE: <uuid> <other_uuid>\n"
    a, b = node.find(w[0]), node.find(w[1])
    if a is None or b is None or a is b:
        return "-ERR Invalid uuid\n"
    for ch in (a, b):
        old = ch.peer
        if old is not None:
            node.unbridge(ch)
            if not old.continue_after_bridge:
                node.hangup(old, "NORMAL_CLEARING")
    node.answer(a)
    node.answer(b)
    a.continue_after_bridge = b.continue_after_bridge = False
    node.bridge(a, b)
    return f"+OK {b.uuid}\n"


async def uuid_transfer(ex: Executor, args: str) -> str:
    node = ex.core
    w = args.split()
    if len(w) < 2:
        return "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
    ch = node.find(w[0])
    if ch is None:
        return NO_CHANNEL
    targets = [ch]
    rest = w[1:]
    if rest[0] in ("-bleg", "-both"):
        peer = ch.peer
        if rest[0] == "-bleg":
            if peer is None:
                return "-ERR\n"
            targets = [peer]
        elif peer is not None:
            targets.append(peer)
        rest = rest[1:]
    if not rest:
        return "-ERR\n"
    for t in targets:
        t.transfer_to = (
            rest[0],
            rest[1] if len(rest) > 1 else "",
            rest[2] if len(rest) > 2 else "",
        )
        if t.peer is not None:
            other = t.peer
            node.unbridge(t)
            if other not in targets:
                other.continue_after_bridge = False
                node.hangup(other, "NORMAL_CLEARING")
        ex.ensure_runner(t)
        t.wake()
    return "+OK\n"


async def uuid_broadcast(ex: Executor, args: str) -> str:
    node = ex.core
    w = args.split()
    if len(w) < 2:
        return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
    ch = node.find(w[0])
    if ch is None:
        return "-ERR invalid uuid\n"
    legs = w[2] if len(w) > 2 else "aleg"
    targets = []
    if legs in ("aleg", "both", "holdb"):
        targets.append(ch)
    if legs in ("bleg", "both") and ch.peer is not None:
        targets.append(ch.peer)
    what = w[1]
    app, data = ("playback", what)
    if "::" in what:
        app, _, data = what.partition("::")
    for t in targets:
        ex.queue(t, app, data, new_uuid())
    return "+OK Message sent\n"


async def uuid_setvar(node: Core, args: str) -> str:
    parts = args.split(None, 2)
    if len(parts) < 2:
        return "-USAGE: <uuid> <var> [value]\n"
    ch = node.find(parts[0])
    if ch is None:
        return NO_CHANNEL
    if len(parts) > 2 and parts[2] not in ("", "undef", "_undef_"):
        ch.variables[parts[1]] = parts[2]
    else:
        ch.variables.pop(parts[1], None)
    return "+OK\n"


async def uuid_getvar(node: Core, args: str) -> str:
    w = args.split()
    if len(w) < 2:
        return "-USAGE: <uuid> <var>\n"
    ch = node.find(w[0])
    if ch is None:
        return NO_CHANNEL
    return ch.variables.get(w[1]) or "_undef_"


async def uuid_exists(node: Core, args: str) -> str:
    return "true" if node.find(args.split()[0] if args.split() else "") else "false"


async def uuid_answer(node: Core, args: str) -> str:
    ch = node.find(args.split()[0] if args.split() else "")
    if ch is None:
        return NO_CHANNEL
    node.answer(ch)
    return "+OK\n"


async def uuid_record(node: Core, args: str) -> str:
    w = args.split()
    if len(w) < 3:
        return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
    ch = node.find(w[0])
    if ch is None:
        return "-ERR Cannot locate session!\n"
    action, path = w[1], w[2]
    recordings = [p for p in ch.variables.get("_recordings", "").split("\n") if p]
    if action == "start":
        recordings.append(path)
        node.channel_event(
            ch,
            "RECORD_START",
            "switch_ivr_async.c",
            "record_callback",
            1302,
            bottom=[("Record-File-Path", path)],
        )
    elif action == "stop":
        stop = recordings if path == "all" else [p for p in recordings if p == path]
        if not stop:
            return "-ERR Cannot stop record session!\n"
        for p in stop:
            recordings.remove(p)
            node.channel_event(
                ch,
                "RECORD_STOP",
                "switch_ivr_async.c",
                "record_callback",
                1335,
                bottom=[("Record-File-Path", p)],
            )
    elif action not in ("pause", "resume", "mask", "unmask"):
        return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
    ch.variables["_recordings"] = "\n".join(recordings)
    if not recordings:
        ch.variables.pop("_recordings")
    return "+OK Success\n"


def _atoi(text: str) -> int:
    """C's atoi: the leading (signed) digits, 0 when there are none."""
    m = re.match(r"[+-]?\d+", text.strip())
    return int(m.group()) if m else 0


async def uuid_audio(node: Core, args: str) -> str:
    w = args.split()
    usage = "-USAGE: <uuid> [start [read|write] [mute|level <level>]|stop]\n"
    if len(w) < 2:
        return usage
    ch = node.find(w[0])
    if ch is None:
        return NO_CHANNEL
    # mod_commands' session_audio_function: only read or write (switch_ivr_session_audio
    # knows "both", the API does not); the level is atoi'd. A non-zero mute level
    # mutes (1 silence, >1 comfort noise at that level), 0 unmutes; "level"
    # changes the volume and leaves the mute as it is. stop removes it all.
    if w[1].lower() == "stop":
        ch.muted.clear()
        return "+OK\n"
    direction, what = (w[2].lower(), w[3].lower()) if len(w) >= 5 else ("", "")
    if w[1].lower() != "start" or direction not in ("read", "write"):
        return usage
    if what == "mute":
        ch.muted[direction] = _atoi(w[4]) != 0
    elif what != "level":
        return usage
    return "+OK\n"


async def uuid_write_png(node: Core, args: str) -> str:
    """mod_png's uuid_write_png. fssim channels carry no video, so a live one is refused."""
    w = _separate(args)[:4]
    if len(w) < 2 or (len(w) > 2 and w[2].lower() not in ("concat", "split", "write")):
        return "-USAGE: <uuid> <path> [concat | split <other_path>]\n"
    if node.find(w[0]) is None:
        return "-ERR Could not locate session.\n"
    return "-ERR Session does not have video.\n"


async def show(node: Core, args: str) -> str:
    w = args.lower().split()
    if not w or w[0] not in ("channels", "calls"):
        return "-USAGE: show channels|calls [as json]\n"
    rows = [
        c.show_row(node.hostname)
        for c in sorted(node.channels.values(), key=lambda c: c.created_us)
    ]
    if w[-2:] == ["as", "json"]:
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps(
            {"row_count": len(rows), "rows": rows}, separators=(",", ":"), ensure_ascii=False
        )
    lines = [",".join(SHOW_COLUMNS)]
    lines += [",".join(r[k] for k in SHOW_COLUMNS) for r in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


async def status(node: Core, args: str) -> str:
    up = time.time() - node.started
    n = len(node.channels)
    return (
        f"UP {uptime(up)}\n"
        f"FreeSWITCH (Version {VERSION_LINE}) is ready\n"
        f"{node.sessions_since_start} session(s) since startup\n"
        f"{n} session(s) - peak {node.peak}, last 5min {node.peak} \n"
        f"0 session(s) per Sec out of max 500, peak 0, last 5min 0 \n"
        "2000 session(s) max\n"
        "min idle cpu 0.00/98.00\n"
        "Current Stack Size/Max 240K/8192K\n"
    )


async def version(node: Core, args: str) -> str:
    return f"FreeSWITCH Version {VERSION} (git a88d069 2024-08-02 21:02:27Z 64bit)\n"


async def hupall(node: Core, args: str) -> str:
    w = args.split()
    cause = normalize(w[0]) if w else "MANAGER_REQUEST"
    var, val = (w[1], w[2]) if len(w) > 2 else ("", "")
    for ch in list(node.channels.values()):
        if not var or ch.variables.get(var) == val:
            node.hangup(ch, cause)
    if var:
        return f"+OK hangup all channels matching [{var}]=[{val}] with cause: {cause}\n"
    return f"+OK hangup all channels with cause {cause}\n"


async def reloadxml(node: Core, args: str) -> str:
    return "+OK [Success]\n"


async def reloadacl(node: Core, args: str) -> str:
    return "+OK acl reloaded\n"


def _row(name: str, kind: str, data: str, state: str) -> str:
    return f"{name:>25}\t{kind}\t  {data:>40}\t{state}\n"


async def sofia(node: Core, args: str) -> str:
    w = args.split()
    if not w:
        return "-ERR Usage: sofia help\n"
    if w[0] == "status" and len(w) == 1:
        sep = "=" * 97 + "\n"
        out = _row("Name", "   Type", "Data", "State") + sep
        out += _row("127.0.0.1", "  alias", "internal", "ALIASED")
        for name, url in node.profiles.items():
            calls = sum(1 for c in node.channels.values() if c.name.startswith(f"sofia/{name}/"))
            out += _row(name, "profile", url, f"RUNNING ({calls})")
            for gw in node.gateways.values():
                if gw.profile == name:
                    out += _row(
                        f"{name}::{gw.name}", "gateway", f"sip:{gw.username}@{gw.realm}", gw.state
                    )
        return out + sep + f"{len(node.profiles)} profile 1 alias\n"
    if w[0] == "xmlstatus" and len(w) >= 3 and w[1] == "gateway":
        found = node.gateways.get(w[2])
        return _gateway_xml(node, found) if found else "Invalid Gateway!\n"
    if w[0] == "profile" and len(w) >= 3:
        return _sofia_profile(node, w[1], w[2], w[3] if len(w) > 3 else "")
    return "-ERR Usage: sofia help\n"


def _sofia_profile(node: Core, profile: str, action: str, gw_name: str) -> str:
    if profile not in node.profiles:
        return f"Invalid Profile [{profile}]"
    if action == "killgw":
        if not gw_name:
            return "-ERR missing gw name\n"
        if gw_name == "_all_":
            for name in [n for n, g in node.gateways.items() if g.profile == profile]:
                node.killed_gateways[name] = node.gateways.pop(name)
            return "+OK every gateway marked for deletion.\n"
        gw = node.gateways.get(gw_name)
        if gw is None:
            return "-ERR no such gateway.\n"
        node.killed_gateways[gw_name] = node.gateways.pop(gw_name)
        return "+OK gateway marked for deletion.\n"
    if action == "startgw":
        if gw_name not in node.gateways:
            old = node.killed_gateways.pop(gw_name, None)
            if old is not None:
                # It comes back on the profile asked for: FreeSWITCH reads the
                # gateway from that profile's section of sofia.conf.
                node.gateways[gw_name] = Gateway(
                    gw_name,
                    profile=profile,
                    realm=old.realm,
                    username=old.username,
                    behaviour=old.behaviour,
                )
        return f"Reload XML [Success]\n+OK start gateway {gw_name} complete\n"
    if action in ("register", "unregister"):
        gw = node.gateways.get(gw_name)
        if gw is None:
            return "Invalid gateway!\n"
        if action == "register":
            node.set_gateway(gw_name, "TRYING")
            node.set_gateway(gw_name, "REGED")
        else:
            node.set_gateway(gw_name, "UNREGED")
        return "+OK\n"
    return "-ERR Usage: sofia help\n"


def _gateway_xml(node: Core, gw: Gateway) -> str:
    uptime = int(time.time() * 1_000_000) - gw.started_us
    fields = [
        ("name", gw.name),
        ("profile", gw.profile),
        ("scheme", "Digest"),
        ("realm", gw.realm),
        ("username", gw.username),
        ("password", "yes"),
        ("from", f"&lt;sip:{gw.username}@{gw.realm}&gt;"),
        ("contact", f"&lt;sip:gw+{gw.name}@127.0.0.1:5060;transport=udp;gw={gw.name}&gt;"),
        ("exten", gw.username),
        ("to", f"sip:{gw.username}@{gw.realm}"),
        ("proxy", f"sip:{gw.realm}"),
        ("context", "default"),
        ("expires", "3600"),
        ("freq", "3600"),
        ("ping", "0"),
        ("pingfreq", "0"),
        ("pingmin", "0"),
        ("pingcount", "0"),
        ("pingmax", "0"),
        ("pingtime", "0.00"),
        ("pinging", "0"),
        ("state", gw.state),
        ("status", gw.status),
        ("uptime-usec", str(uptime)),
        ("calls-in", str(gw.calls_in)),
        ("calls-out", str(gw.calls_out)),
        ("failed-calls-in", str(gw.failed_in)),
        ("failed-calls-out", str(gw.failed_out)),
    ]
    body = "".join(f"    <{k}>{v}</{k}>\n" for k, v in fields)
    return f'<?xml version="1.0" encoding="ISO-8859-1"?>\n  <gateway>\n{body}  </gateway>\n'


# conference_api_sub_commands: the member commands fssim knows and their syntax lines.
_MEMBER_SYNTAX = {
    "kick": "<[member_id|all|last|non_moderator]> [<optional sound file>]",
    "hup": "<[member_id|all|last|non_moderator]>",
    "mute": "<[member_id|all]|last|non_moderator> [<quiet>]",
    "unmute": "<[member_id|all]|last|non_moderator> [<quiet>]",
    "deaf": "<[member_id|all]|last|non_moderator>",
    "undeaf": "<[member_id|all]|last|non_moderator>",
}
_PLAY_SYNTAX = "play <file_path> [async|<member_id> [nomux]]"


async def conference(node: Core, args: str) -> str:
    """mod_conference's API (conference_api.c): json_list, mute/unmute, deaf/undeaf, kick,
    hup and play, with 1.10's ``+OK``/``-ERR`` replies."""
    argv = _separate(args)
    if not argv:
        argv = ["help"]
    conf = node.conferences.get(argv[0])
    if conf is None:
        if argv[0].lower() == "json_list":
            confs = list(node.conferences.values())
            return _json_list(confs, compact=len(argv) == 2 and argv[1] == "compact")
        return f"-ERR Conference {argv[0]} not found\n"
    if len(argv) < 2:
        return "Conference command, not specified.\nTry 'help'\n"
    cmd = argv[1].lower()
    if cmd == "json_list":
        return _json_list([conf], compact=len(argv) == 3 and argv[2] == "compact")
    if cmd == "play":
        return _conference_play(conf, argv)
    if cmd not in _MEMBER_SYNTAX:
        return f"-ERR Conference command '{argv[1]}' not found.\n"
    # CONF_API_SUB_MEMBER_TARGET: a member id, all, last, non_moderator or var=value.
    which = argv[2] if len(argv) > 2 else ""
    data = argv[3] if len(argv) > 3 else ""
    member_id = _atoi(which)
    if member_id:
        selected = [m for m in conf.members if m.id == member_id]
        if not selected:
            return f"-ERR Non-Existant ID {member_id}\n"
    elif which.lower() in ("all", "non_moderator"):
        selected = list(conf.members)  # fssim has no moderators
    elif which.lower() == "last":
        selected = [max(conf.members, key=lambda m: m.id)] if conf.members else []
    elif "=" in which:
        var, _, val = which.partition("=")
        selected = [m for m in conf.members if m.channel.variables.get(var) == val][:1]
        if not selected:
            return "-ERR Non-Existant member\n"
    else:
        return f"{cmd} {_MEMBER_SYNTAX[cmd]}"
    out = ""
    for m in selected:
        out += _member_command(node, conf, m, cmd, data)
    return out


def _member_command(node: Core, conf: Conference, m: Member, cmd: str, data: str) -> str:
    if cmd in ("mute", "unmute"):
        m.can_speak = cmd == "unmute"
    elif cmd in ("deaf", "undeaf"):
        m.can_hear = cmd == "undeaf"
    else:  # kick, hup: the member leaves the conference
        if m in conf.members:
            conf.members.remove(m)
        m.channel.wake()
        if cmd == "hup":
            node.hangup(m.channel, "NORMAL_CLEARING")
        return f"+OK {'kicked' if cmd == 'kick' else 'hup'} {m.id}\n"
    return f"+OK {cmd} {m.id}\n"


def _conference_play(conf: Conference, argv: list[str]) -> str:
    argc = len(argv)
    if (argc == 4 and argv[3].lower() == "async") or (argc == 5 and argv[4].lower() == "async"):
        argc -= 1
    if argc == 3:
        for m in conf.members:
            m.channel.played.append(argv[2])
        return f"+OK (play) Playing file {argv[2]}\n"
    if argc >= 4:
        member_id = _atoi(argv[3])
        member = next((m for m in conf.members if m.id == member_id), None)
        if member is None:
            return f"-ERR Member: {member_id} not found.\n"
        member.channel.played.append(argv[2])
        return f"+OK (play) Playing file {argv[2]} to member {member_id}\n"
    return _PLAY_SYNTAX


def _json_list(confs: list[Conference], *, compact: bool) -> str:
    """conference_jlist for each conference; cJSON_Print unless ``compact``."""
    now = int(time.time())
    out: list[cjson.Value] = []
    for conf in confs:
        members: list[cjson.Value] = []
        for m in conf.members:
            p = m.channel.profile
            members.append(
                {
                    "type": "caller",
                    "id": m.id,
                    "flags": {
                        "can_hear": m.can_hear,
                        "can_see": True,
                        "can_speak": m.can_speak,
                        "hold": False,
                        "mute_detect": False,
                        "talking": False,
                        "has_video": False,
                        "video_bridge": False,
                        "has_floor": False,
                        "is_moderator": False,
                        "end_conference": False,
                    },
                    "uuid": m.channel.uuid,
                    "caller_id_name": p.caller_id_name,
                    "caller_id_number": p.caller_id_number,
                    "join_time": now - int(m.joined),
                    "last_talking": 0,
                    "energy": m.energy,
                    "volume_in": 0,
                    "volume_out": 0,
                    "output-volume": 0,
                    "input-volume": 0,
                }
            )
        out.append(
            {
                "conference_name": conf.name,
                "member_count": len(conf.members),
                "ghost_count": 0,
                "rate": 8000,
                "run_time": now - int(conf.started),
                "conference_uuid": conf.uuid,
                "canvas_count": 0,
                "max_bw_in": 0,
                "force_bw_in": 0,
                "video_floor_packets": 0,
                "locked": False,
                "destruct": False,
                "wait_mod": False,
                "audio_always": False,
                "running": True,
                "answered": conf.answered,
                "enforce_min": True,  # min is 1, reached by the first member
                "bridge_to": False,
                "dynamic": True,
                "exit_sound": True,
                "enter_sound": True,
                "recording": False,
                "video_bridge": False,
                "video_floor_only": False,
                "video_rfc4579": False,
                "variables": {},
                "members": members,
            }
        )
    return cjson.dumps(out, formatted=not compact)


async def db(node: Core, args: str) -> str:
    """mod_db's ``db`` API, as ``${db(...)}`` runs it (dialplan.db_api)."""
    from switchyard.fssim.dialplan import db_api

    return db_api(node, args)


def _bound(ex: Executor, command: Callable[[Executor, str], Awaitable[str]]) -> Handler:
    """A command that needs the executor, as the core calls it (with itself)."""

    async def handler(node: Core, args: str) -> str:
        return await command(ex, args)

    return handler


def install(node: Core, ex: Executor) -> None:
    node.api_handlers.update(
        {
            "originate": _bound(ex, originate),
            "uuid_kill": uuid_kill,
            "uuid_bridge": uuid_bridge,
            "uuid_transfer": _bound(ex, uuid_transfer),
            "uuid_broadcast": _bound(ex, uuid_broadcast),
            "uuid_setvar": uuid_setvar,
            "uuid_getvar": uuid_getvar,
            "uuid_exists": uuid_exists,
            "uuid_answer": uuid_answer,
            "uuid_record": uuid_record,
            "uuid_audio": uuid_audio,
            "uuid_write_png": uuid_write_png,
            "show": show,
            "status": status,
            "version": version,
            "hupall": hupall,
            "reloadxml": reloadxml,
            "reloadacl": reloadacl,
            "sofia": sofia,
            "conference": conference,
            "db": db,
        }
    )
