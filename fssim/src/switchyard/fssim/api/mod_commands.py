"""mod_commands' API: originate, the uuid_* commands, show, status, hupall, … with its replies."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable

from switchyard.fssim.argv import atoi, separate
from switchyard.fssim.causes import normalize
from switchyard.fssim.core import VERSION, VERSION_LINE, ApiHandler, Core, new_uuid, uptime
from switchyard.fssim.executor import Executor
from switchyard.fssim.originate import dial

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


def _originate_tokens(args: str) -> list[str]:
    # As mod_commands: the whole line splits on blanks first, quotes removed,
    # so a {…} value with a space must be quoted and its commas escaped "\,"
    # (freeswitch-observed section 7).
    return separate(args.strip())


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
    if action == "start":
        node.record_start(ch, path)
    elif action == "stop":
        stop = list(ch.recordings) if path == "all" else [p for p in ch.recordings if p == path]
        if not stop:
            return "-ERR Cannot stop record session!\n"
        for p in stop:
            node.record_stop(ch, p, "success-maxtime")
    elif action not in ("pause", "resume", "mask", "unmask"):
        return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
    return "+OK Success\n"


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
        ch.muted[direction] = atoi(w[4]) != 0
    elif what != "level":
        return usage
    return "+OK\n"


REGISTRATION_COLUMNS = (
    "reg_user",
    "realm",
    "token",
    "url",
    "expires",
    "network_ip",
    "network_port",
    "network_proto",
    "hostname",
    "metadata",
)
SHOW_USAGE = "-USAGE: show channels|calls|registrations [as json|xml|delim <c>]\n"


async def show(node: Core, args: str) -> str:
    """mod_commands' show_function over the core DB (one SQL batch behind, coredb.py)."""
    w = args.split()
    what = w[0].lower() if w else ""
    columns: tuple[str, ...]
    if what in ("channels", "calls"):
        rows, columns = node.channel_table.rows(), SHOW_COLUMNS
    elif what == "registrations":
        rows, columns = node.registration_table.rows(), REGISTRATION_COLUMNS
    else:
        return SHOW_USAGE
    fmt = w[2].lower() if len(w) > 2 and w[1].lower() == "as" else "delim"
    if fmt == "json":
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps(
            {"row_count": len(rows), "rows": rows}, separators=(",", ":"), ensure_ascii=False
        )
    if fmt == "xml":
        return _show_xml(rows, columns)
    if fmt not in ("delim", "csv"):
        return f"-ERR Cannot find format {w[2]}\n"
    # show_callback: the column names before the first row only, then each row.
    delim = w[3] if len(w) > 3 and w[1].lower() == "as" else ","
    out = ""
    if rows:
        out = delim.join(columns) + "\n"
        out += "".join(delim.join(r[k] for k in columns) + "\n" for r in rows)
    return out + f"\n{len(rows)} total.\n"


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _show_xml(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """show_as_xml_callback's tree as switch_xml_toxml prints it: two-space
    indents, every closing tag on its line's end, a newline after each."""
    if not rows:
        return '<result row_count="0"/>\n'
    out = f'<result row_count="{len(rows)}">\n'
    for i, row in enumerate(rows, 1):
        out += f'  <row row_id="{i}">\n'
        out += "".join(f"    <{k}>{_xml_text(row[k])}</{k}>\n" for k in columns)
        out += "  </row>\n"
    return out + "</result>\n"


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


COMMANDS: dict[str, ApiHandler] = {
    "uuid_kill": uuid_kill,
    "uuid_bridge": uuid_bridge,
    "uuid_setvar": uuid_setvar,
    "uuid_getvar": uuid_getvar,
    "uuid_exists": uuid_exists,
    "uuid_answer": uuid_answer,
    "uuid_record": uuid_record,
    "uuid_audio": uuid_audio,
    "show": show,
    "status": status,
    "version": version,
    "hupall": hupall,
    "reloadxml": reloadxml,
    "reloadacl": reloadacl,
}
# The ones that start or queue work on a channel: bound to the executor at install.
CALL_COMMANDS: dict[str, Callable[[Executor, str], Awaitable[str]]] = {
    "originate": originate,
    "uuid_transfer": uuid_transfer,
    "uuid_broadcast": uuid_broadcast,
}
