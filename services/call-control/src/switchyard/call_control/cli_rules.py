"""Which commands mod_cti's ``/cli`` may run, and each one's arguments, checked.

Used twice with the same allowlist: by the HTTP handler (cli_http.py) and
again by the node's owner (agent.py) for every ``CliApi`` it receives,
whoever sent it. ``check_cli`` returns the command line to send, rebuilt
from the checked pieces where the command has a syntax of its own
(``originate``), never the client's text with unchecked parts.

Refused whatever the allowlist says (``REFUSED``): the shell and
interpreter commands and every command of ``fsvalues.REFUSED_API_COMMANDS``.
Three of those are what the spec is made of and pass only through their own
parser: ``bgapi`` (a wrapper: the inner command is checked as if sent
alone), ``originate``/``cti_originate`` (cti_originate.py) and
``uuid_broadcast`` (a uuid, a sound, a leg word).
"""

from __future__ import annotations

import functools
import re

from switchyard.call_control.cti_originate import canonical, check_playback
from switchyard.shared.fsvalues import (
    LABEL,
    REFUSED_API_COMMANDS,
    UUID,
    Applications,
    UnsafeValue,
    check_api_command,
    check_app_data,
)

# What the spec uses, plus read-only status commands.
DEFAULT_CLI_COMMANDS = frozenset(
    {
        "cti_originate", "originate", "uuid_broadcast", "conference", "uuid_kill",
        "show", "status", "sofia", "uuid_exists", "uuid_dump",
    }
)  # fmt: skip
# Commands with a parser here: exempt from REFUSED_API_COMMANDS, never from
# the allowlist.
_PARSED = frozenset({"cti_originate", "originate", "uuid_broadcast"})
REFUSED = (
    frozenset({"system", "bg_system", "spawn", "lua", "perl", "jsrun", "eval", "expand"})
    | REFUSED_API_COMMANDS
) - _PARSED
# Licensed mod_cti features with no stock FreeSWITCH equivalent.
UNSUPPORTED = {
    "cti_robot": "cti_robot (mod_cti's licensed call robot)",
    "uuid_cti_background": "uuid_cti_background (mod_cti's licensed background-sound mixer)",
}
_COMMAND = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CONFERENCE_VERBS = frozenset(
    {"json_list", "xml_list", "list", "mute", "unmute", "hup", "kick", "play", "deaf", "undeaf"}
)
_MEMBER = re.compile(r"all|last|non_moderator|[0-9]{1,9}")


class CliRefused(ValueError):
    """Why a /cli command does not run; the reply is ``-ERR <this>``."""


@functools.cache
def cli_commands(setting: str) -> frozenset[str]:
    """SWITCHYARD_CLI_COMMANDS (comma separated; empty: the default)."""
    names = frozenset(n.strip() for n in setting.split(",") if n.strip())
    return names or DEFAULT_CLI_COMMANDS


def check_cli(
    command: str, args: str, allowed: frozenset[str], applications: Applications
) -> tuple[str, str]:
    """``(command, args)`` as FreeSWITCH must receive it, or CliRefused."""
    if any(c in command + args for c in "\r\n\x00"):
        raise CliRefused("line breaks are not allowed in cmd or arg")
    if not _COMMAND.fullmatch(command):
        raise CliRefused(f"{command[:64]!r} is not a command name")
    for name, what in UNSUPPORTED.items():
        if command == name or re.search(rf"(?<![\w]){name}(?![\w])", args):
            raise CliRefused(f"{what} is not supported by Switchyard")
    if command in REFUSED:
        raise CliRefused(f"command {command!r} is refused (shell, interpreter or unchecked)")
    if command not in allowed:
        raise CliRefused(f"command {command!r} is not allowed")
    try:
        if command in ("cti_originate", "originate"):
            return "originate", canonical(args, applications)
        if command == "uuid_broadcast":
            return command, _broadcast(args, applications)
        if command == "conference":
            return command, _conference(args)
        if command == "sofia" and args.split()[:1] not in (["status"], ["xmlstatus"]):
            raise UnsafeValue("arg", "only sofia status / xmlstatus")
        return check_api_command("arg", command, args.strip(), allowed - REFUSED)
    except UnsafeValue as exc:
        raise CliRefused(str(exc)) from None


def split_bgapi(command: str, args: str) -> tuple[str, str, bool]:
    """``bgapi <cmd> <args>`` as ``(cmd, args, True)``; anything else unchanged."""
    if command != "bgapi":
        return command, args, False
    inner, _, rest = args.strip().partition(" ")
    return inner, rest.strip(), True


def _broadcast(args: str, applications: Applications) -> str:
    """``<uuid> <sound | app::args> [aleg|bleg|holdb|both]``."""
    words = args.split()
    if not 2 <= len(words) <= 3:
        raise UnsafeValue("arg", "uuid_broadcast takes <uuid> <file> [aleg|bleg|holdb|both]")
    UUID.check("uuid", words[0])
    what = words[1]
    if "::" in what:
        app, _, data = what.partition("::")
        applications.check("application", app)
        if app in ("playback", "endless_playback"):
            check_playback("file", data)
        else:
            check_app_data("application data", app, data)
    else:
        check_playback("file", what)
    if len(words) == 3 and words[2] not in ("aleg", "bleg", "holdb", "both"):
        raise UnsafeValue("arg", "the leg must be aleg, bleg, holdb or both")
    return " ".join(words)


def _conference(args: str) -> str:
    """``<room> json_list|xml_list|list`` or ``<room> <verb> [file] <member|all>``."""
    words = args.split()
    if len(words) < 2:
        raise UnsafeValue("arg", "conference takes <room> <command> …")
    LABEL.check("room", words[0])
    verb = words[1]
    if verb not in _CONFERENCE_VERBS:
        raise UnsafeValue("arg", f"conference {verb!r} is not allowed")
    rest = words[2:]
    if verb == "play":
        if not 1 <= len(rest) <= 2:
            raise UnsafeValue("arg", "conference play takes <file> [member|all|async]")
        check_playback("file", rest[0])
        if len(rest) == 2 and rest[1] != "async" and not _MEMBER.fullmatch(rest[1]):
            raise UnsafeValue("arg", "the member must be an id, all or async")
    elif verb in ("json_list", "xml_list", "list"):
        if rest and rest not in (["-count"], ["count"]) and not LABEL.ok(" ".join(rest)):
            raise UnsafeValue("arg", "list takes no arguments")
    elif len(rest) != 1 or not _MEMBER.fullmatch(rest[0]):
        raise UnsafeValue("arg", f"conference {verb} takes <member id|all|last>")
    return " ".join(words)
