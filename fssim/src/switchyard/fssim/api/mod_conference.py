"""mod_conference's API (conference_api.c): json_list and the member commands."""

from __future__ import annotations

import time

from switchyard.fssim import cjson
from switchyard.fssim.argv import atoi, separate
from switchyard.fssim.core import ApiHandler, Conference, Core, Member

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
    argv = separate(args)
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
    member_id = atoi(which)
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
        member_id = atoi(argv[3])
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
                        "has_floor": m.id == conf.floor,
                        "is_moderator": False,
                        "end_conference": False,
                        "mandatory_member_end_conference": False,
                        "pass_digits": False,
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


COMMANDS: dict[str, ApiHandler] = {"conference": conference}
