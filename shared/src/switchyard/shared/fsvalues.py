"""What a value may hold before it reaches FreeSWITCH, by where it goes.

Every value Switchyard writes into something FreeSWITCH parses (a dial
string, an originate line, a channel variable, an application and its data,
a dialplan or directory document) is checked here, by the rule for the place
it goes. config-api applies the rules at its input (a 400 naming the field);
call-control and the dialplan builder apply them again where they write the
value, so a row stored before a rule existed is skipped, never passed on.

Why these characters (FreeSWITCH 1.10 source):

- ``{`` … ``}`` and ``[`` … ``]`` carry channel variables in a dial string;
  switch_event_create_brackets ends the block at the first closing bracket,
  quotes or not. A value holding ``}`` ends the block and the rest becomes
  a new endpoint and new variables (``execute_on_answer=…``).
- ``${api(args)}`` in application data and most variable values runs an API
  command when the data is expanded (core flag ``api-expansion``, on by
  default): ``${system(…)}`` is a shell on the FreeSWITCH host. ``$${name}``
  is expanded textually by the XML preprocessor, in every document
  mod_xml_curl fetches too. ``{`` being refused, neither can appear.
- ``'`` quotes an argument of the originate line; CR/LF end an ESL command;
  ``<``/``>`` have no use in any of these values.
- Some applications run code (``system``, ``lua``, ``python``…) and some
  channel variables name an application or API to run later
  (``execute_on_answer``, ``api_hangup_hook``…): an application a user
  names must be on an allowlist, a variable a user names must not be one
  of those.

Patterns are matched in full (``fullmatch``): ``$`` in a ``match`` pattern
also accepts a trailing newline.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass


class UnsafeValue(ValueError):
    """A value that breaks its rule: ``field`` names it as the client sent it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Rule:
    """A value's whole text must match ``pattern``; ``reason`` says what it may hold."""

    pattern: re.Pattern[str]
    reason: str

    def ok(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None

    def check(self, field: str, value: str) -> str:
        if self.pattern.fullmatch(value) is None:
            raise UnsafeValue(field, self.reason)
        return value


def _rule(pattern: str, reason: str) -> Rule:
    return Rule(re.compile(pattern), reason)


# What FreeSWITCH reads as syntax in a value, plus what no value needs:
# C0 controls (CR/LF end an ESL command), DEL, quotes and backslash.
_SYNTAX = "{}\\[\\]<>'\"\\\\\\x00-\\x1f\\x7f"

# A dialled number or SIP user part: it follows user/, sofia/gateway/<gw>/ …
# (no @: the caller must not choose the host).
NUMBER = _rule(
    r"[0-9A-Za-z*#+._-]{1,64}",
    "may hold 1-64 digits, letters and * # + . _ - only",
)
# A NUMBER that is also a word of an API command or application line
# (uuid_transfer's and transfer's destination, coocenter's extensions): not
# starting with -, which uuid_transfer and transfer read as -bleg/-both.
EXTENSION = _rule(
    r"(?!-)[0-9A-Za-z*#+._-]{1,64}",
    "may hold 1-64 digits, letters and * # + . _ - only, not starting with -",
)
# A gateway, SIP profile, context, node or variable-free identifier.
NAME = _rule(r"[A-Za-z0-9_.-]{1,64}", "may hold 1-64 letters, digits and _ . - only")
# A label spliced into application data (IVR menu, queue, conference room,
# distributor): letters of any script, digits, _ . -
LABEL = _rule(r"[\w.-]{1,128}", "may hold 1-128 letters, digits and _ . - only")
# A host name or IPv4 address, optionally with a port.
HOST = _rule(
    r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?",
    "must be a host name or IPv4 address, optionally with :port",
)
# A channel variable's name.
VARIABLE = _rule(
    r"[A-Za-z_][A-Za-z0-9_]{0,63}",
    "must be a variable name (letters, digits, _; not starting with a digit)",
)
# Free text FreeSWITCH stores or shows (caller names, variable values, TTS
# text): any script, no syntax.
TEXT = _rule(
    f"[^{_SYNTAX}]{{0,256}}",
    "must not hold { } [ ] < > quotes, backslashes or control characters (max 256)",
)
# Application data written by a user (route params, system lines, originate
# args): as TEXT, longer.
APP_DATA = _rule(
    f"[^{_SYNTAX}]{{0,1024}}",
    "must not hold { } [ ] < > quotes, backslashes or control characters (max 1024)",
)
# A file FreeSWITCH plays or runs: a path, no scheme (no ``:``), no spaces
# (``lua`` splits its data at spaces), not ``~`` (mod_lua runs ``~…`` as code).
_NO_UP = r"(?!(?:.*/)?\.\.(?:/|$))"  # no ".." segment
PATH = _rule(
    rf"(?!~){_NO_UP}[\w./+-]{{1,512}}",
    "must be a file path (letters, digits, / . _ + -; no spaces, no scheme, no ..)",
)
# A script ``lua`` runs: relative to FreeSWITCH's script_dir, which the
# operator owns. Never an absolute path (uploads land in the media store,
# and an uploaded script must not run) and never "..".
SCRIPT = _rule(
    rf"(?![~/]){_NO_UP}[\w./+-]{{1,256}}",
    "must be a script path relative to FreeSWITCH's script_dir "
    "(letters, digits, / . _ + -; not absolute, no ..)",
)
# A media file FreeSWITCH fetches over HTTP through mod_http_cache (the media
# service's object-store mode, docs/media.md): one scheme, a host, an
# optional port and a path of plain characters. Nothing FreeSWITCH expands
# (``$``, ``{``), no space (the end of an argument), no query (``?``, ``&``:
# the cache names its file after the URL's end, and the extension must be
# the file's), no ``%`` (no escapes to decode into any of those).
_SOUND_URL = (
    r"http_cache://https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?"
    rf"/{_NO_UP}[A-Za-z0-9._/-]{{1,512}}"
)
# A sound FreeSWITCH plays (IVR sounds, playback): a PATH, optionally after
# a ``$${name}`` of the node's vars.xml (the XML preprocessor's plain
# variable, e.g. ``$${sound_prefix}``), a tone/silence stream, or a
# mod_http_cache URL.
# The $${…} a sound may start with are FreeSWITCH's directory variables
# (vars.xml); any other would put a global variable (a password, say) where
# FreeSWITCH logs it.
SOUND = _rule(
    r"(?!~)(?:\$\$\{(?:sounds_dir|sound_prefix|recordings_dir|storage_dir|base_dir)\})?"
    rf"{_NO_UP}[\w./+-]{{1,512}}"
    r"|(?:tone_stream|silence_stream)://[\w%(),;=.+-]{1,256}"
    f"|{_SOUND_URL}",
    "must be a file path (letters, digits, / . _ + -; optionally after $${sounds_dir}, "
    "$${sound_prefix}, $${recordings_dir}, $${storage_dir} or $${base_dir}), "
    "a tone_stream:// / silence_stream://, or http_cache://http(s)://host[:port]/path "
    "(path: letters, digits, / . _ -; no ..)",
)
# A SIP peer's address (trunk remote address): a HOST, optionally sip:/sips:.
PEER = _rule(
    r"(?:sips?:)?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?",
    "must be a host name or IPv4 address, optionally with sip: and :port",
)
# Gateway params (sofia.conf) whose value is a SIP peer's address, and the
# words that make a param a credential.
_PEER_PARAMS = frozenset({"realm", "proxy", "outbound-proxy", "register-proxy", "from-domain"})
_SECRET_WORDS = ("password", "secret")


def gateway_param_rule(name: str) -> Rule:
    """The rule for the value of the gateway param ``name`` (config-api's
    input and the sofia.conf it serves must agree)."""
    if name in _PEER_PARAMS:
        return PEER
    if any(w in name.lower() for w in _SECRET_WORDS):
        return SECRET
    return TEXT


# A sofia.conf param name (gateway params).
PARAM = _rule(r"[A-Za-z0-9_-]{1,64}", "may hold 1-64 letters, digits, _ and - only")
# Codec names for absolute_codec_string (PCMU, opus@48000h@20i), comma separated.
CODECS = _rule(
    r"[A-Za-z0-9_.@-]{1,64}(?: *, *[A-Za-z0-9_.@-]{1,64}){0,31}",
    "must be codec names (letters, digits, _ . @ -) separated by commas",
)
# A secret FreeSWITCH reads (SIP password): anything printable, but no ``${``
# and no ``$${`` (expanded by FreeSWITCH).
SECRET = _rule(
    r"(?!.*\$\{)[^\x00-\x1f\x7f]{1,128}",
    "must be 1-128 printable characters without ${",
)
# Text FreeSWITCH expands but that Switchyard shows as it is (a number
# transformation's spec in ``set dnc=…``): no ``${`` (nor ``$${``), one line.
NO_EXPANSION = _rule(
    r"(?!.*\$\{)[^\x00-\x1f\x7f]{0,1024}", "must not hold ${ or control characters"
)
# An application name (checked against the allowlist as well).
APP_NAME = _rule(r"[a-z][a-z0-9_]{0,63}", "must be an application name (a-z, 0-9, _)")
# A channel uuid.
UUID = _rule(r"[0-9A-Za-z-]{1,64}", "must be a channel uuid")
# A hangup cause (NORMAL_CLEARING …).
CAUSE = _rule(r"[A-Z_]{1,64}", "must be a FreeSWITCH hangup cause (A-Z and _)")

# Channel variables whose value FreeSWITCH runs later as an application or an
# API command (execute_on_*, api_on_*, api_hangup_hook, exec_after_bridge_app,
# bridge_pre_execute_*, record_post_process_exec_*, session_in_hangup_hook …),
# or that send the call to an extension, dialplan or endpoint of their own
# (transfer_after_bridge, force_transfer_dialplan, fifo_orbit_dialplan,
# conference_auto_outcall_*), where the inline dialplan runs applications.
_EXECUTING = re.compile(r"exec|api|hook|transfer|dialplan|outcall", re.IGNORECASE)
# The inline dialplan turns its data into applications (``transfer
# system:id inline``, ``loopback/x/default/inline``): no data a user writes
# may name it.
_INLINE = re.compile(r"(?<![A-Za-z0-9_])inline(?![A-Za-z0-9_])", re.IGNORECASE)


def check_no_inline(field: str, data: str) -> str:
    if _INLINE.search(data):
        raise UnsafeValue(field, "must not name the inline dialplan")
    return data


def check_variable_name(field: str, name: str) -> str:
    VARIABLE.check(field, name)
    if _EXECUTING.search(name):
        raise UnsafeValue(field, f"{name!r} names an application or API to run; not allowed")
    return name


# Applications a user may name (route params, system destinations, IVR
# entries, originate). Extend with SWITCHYARD_FS_APPLICATIONS.
DEFAULT_APPLICATIONS = frozenset(
    {
        "answer", "att_xfer", "bridge", "callcenter", "conference",
        "db", "deflect", "displace_session", "echo", "eavesdrop", "endless_playback",
        "export", "fifo", "gentones", "hangup", "hash", "info", "intercept", "ivr",
        "log", "park", "play_and_get_digits", "playback", "pre_answer", "read",
        "record", "record_session", "redirect", "respond", "ring_ready", "say",
        "sched_hangup", "sched_transfer", "send_display", "send_dtmf", "set",
        "set_user", "sleep", "speak", "start_dtmf", "stop_dtmf", "stop_record_session",
        "three_way", "transfer", "unset", "valet_park", "voicemail", "wait_for_answer",
        "wait_for_silence",
    }
)  # fmt: skip
# Applications that run a shell, an interpreter, or hand the call to another
# host or URL: refused even when configured.
REFUSED_APPLICATIONS = frozenset(
    {
        "bgsystem", "system", "spawn", "lua", "luarun", "python", "pyrun", "perl",
        "perlrun", "javascript", "js", "jsrun", "v8", "java", "managed", "mono",
        "socket", "curl", "eval", "expand", "set_global", "multiset", "event",
        "enable_heartbeat", "erlang", "erlang_sendmsg", "ruby", "tcl",
        # runs an API command or application when a digit is pressed
        "bind_digit_action", "bind_meta_app", "execute_extension", "limit_execute",
        "limit_hash_execute", "group", "sched_broadcast", "phrase",
    }
)  # fmt: skip
# Applications whose data is ``name=value``: the name must not be an
# executing variable.
_SETTERS = frozenset({"set", "export", "unset"})
# Applications whose data is a dial string.
_DIALLERS = frozenset({"bridge", "att_xfer"})


def _check_transfer(field: str, words: list[str]) -> None:
    """``<extension> [XML [<context>]]``: another dialplan (inline above all)
    would read the extension as applications."""
    if not 1 <= len(words) <= 3:
        raise UnsafeValue(field, "must be <extension> [XML [<context>]]")
    NUMBER.check(field, words[0])
    if len(words) > 1 and words[1] != "XML":
        raise UnsafeValue(field, "the dialplan must be XML")
    if len(words) > 2:
        NAME.check(field, words[2])


def check_app_data(field: str, app: str, data: str) -> str:
    """``data`` of a user-named ``app``: plain text (APP_DATA), never naming
    the inline dialplan, and in the shape the application reads where that
    shape can reach other applications (transfers, dial strings, setters)."""
    APP_DATA.check(field, data)
    check_no_inline(field, data)
    words = data.split()
    if app in _SETTERS:
        check_variable_name(field, data.partition("=")[0].strip())
    elif app == "transfer":
        _check_transfer(field, words[1:] if words[:1] in (["-bleg"], ["-both"]) else words)
    elif app == "sched_transfer":
        if not words or not re.fullmatch(r"\+?[0-9]{1,9}", words[0]):
            raise UnsafeValue(field, "must be [+]<seconds> <extension> [XML [<context>]]")
        _check_transfer(field, words[1:])
    elif app in _DIALLERS:
        check_dial_string(field, data)
    elif app == "conference" and data.lower().startswith("bridge:"):
        raise UnsafeValue(field, "a conference may not dial out (bridge:)")
    return data


# --- the same rules as JSON-schema patterns (the OpenAPI document) ---------------
# check_app_data by application, for the documents of the handlers that take
# an application and its data: each pattern takes exactly the data the
# function takes (tests/test_fsvalues_schema.py holds them to it).


def _ci(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


_PLAIN = f"[^{_SYNTAX}]"
# No word "inline", any case (check_no_inline); the rest of each pattern has no newline.
_NOT_INLINE = f"(?!(?:.*[^A-Za-z0-9_])?{_ci('inline')}(?:[^A-Za-z0-9_].*)?$)"
_WITHIN = f"(?={_PLAIN}{{0,1024}}$)"  # APP_DATA's length
_NUMBER_WORD = "[0-9A-Za-z*#+._-]{1,64}"
_TRANSFER_TAIL = f"{_NUMBER_WORD}(?: +XML(?: +[A-Za-z0-9_.-]{{1,64}})?)? *"
_EXECUTING_NAME = "|".join(
    _ci(w) for w in ("exec", "api", "hook", "transfer", "dialplan", "outcall")
)
_ENDPOINT_WORD = (
    f"(?!{_ci('loopback/')})[A-Za-z0-9_.@:/*#+=;-]{{1,256}}"
    "|loopback/[A-Za-z0-9*#+._-]{1,64}(?:/[A-Za-z0-9_.-]{1,64}(?:/XML)?)?"
)
APP_DATA_PATTERNS: dict[str, str] = {
    # Any application not named below.
    "": f"^{_NOT_INLINE}{_PLAIN}{{0,1024}}$",
    "transfer": f"^{_WITHIN}{_NOT_INLINE} *(?:-bleg +|-both +)?{_TRANSFER_TAIL}$",
    "sched_transfer": f"^{_WITHIN}{_NOT_INLINE} *\\+?[0-9]{{1,9}} +{_TRANSFER_TAIL}$",
    "setter": (
        f"^{_WITHIN}{_NOT_INLINE} *(?![A-Za-z0-9_]*(?:{_EXECUTING_NAME}))"
        f"[A-Za-z_][A-Za-z0-9_]{{0,63}} *(?:={_PLAIN}*)?$"
    ),
    "dialler": (f"^{_WITHIN}{_NOT_INLINE}(?:{_ENDPOINT_WORD})(?:[|,](?:{_ENDPOINT_WORD}))*$"),
    "conference": f"^{_NOT_INLINE}(?!{_ci('bridge:')}){_PLAIN}{{0,1024}}$",
}


def app_data_pattern(app: str) -> str:
    """The JSON-schema pattern of the data ``check_app_data`` takes for ``app``."""
    if app in _SETTERS:
        return APP_DATA_PATTERNS["setter"]
    if app in _DIALLERS:
        return APP_DATA_PATTERNS["dialler"]
    return APP_DATA_PATTERNS.get(app, APP_DATA_PATTERNS[""])


@dataclass(frozen=True)
class Applications:
    """The applications a user may name; ``extra`` comes from configuration."""

    allowed: frozenset[str] = DEFAULT_APPLICATIONS

    @classmethod
    def with_extra(cls, extra: Iterable[str]) -> Applications:
        names = {n.strip() for n in extra if n.strip()}
        bad = sorted(n for n in names if n in REFUSED_APPLICATIONS or not APP_NAME.ok(n))
        if bad:
            raise ValueError(f"applications that may not be allowed: {', '.join(bad)}")
        return cls(DEFAULT_APPLICATIONS | names)

    @classmethod
    def from_setting(cls, text: str) -> Applications:
        return cls.with_extra(text.split(","))

    def check(self, field: str, name: str) -> str:
        APP_NAME.check(field, name)
        if name not in self.allowed or name in REFUSED_APPLICATIONS:
            raise UnsafeValue(field, f"application {name!r} is not allowed")
        return name

    def check_action(self, field: str, app: str, data: str) -> tuple[str, str]:
        """A user-written ``app`` with its ``data`` (route param, system line)."""
        self.check(f"{field}.app" if field else "app", app)
        check_app_data(f"{field}.data" if field else "data", app, data)
        return app, data

    def check_line(self, field: str, line: str) -> tuple[str, str]:
        """An ``app data`` line a user wrote (``FS_DEST_SYSTEM`` body lines,
        ``IVR_SYSTEM``, an IVR's ``exec-on-max-*``): the first word is the
        application."""
        app, _, data = line.strip().partition(" ")
        return self.check_action(field, app, data.strip())


APPLICATIONS = Applications()


@functools.cache
def fs_applications(setting: str) -> Applications:
    """The allowlist SWITCHYARD_FS_APPLICATIONS (extra names, comma separated) makes."""
    return Applications.from_setting(setting)


# --- API commands --------------------------------------------------------------

# API commands a node's owner runs for a bus command (gateway and channel
# control, status); /cli adds its own.
DEFAULT_API_COMMANDS = frozenset(
    {
        "status", "version", "show", "sofia", "reloadxml", "reloadacl", "uuid_kill",
        "uuid_audio", "uuid_record", "uuid_write_png", "uuid_exists", "uuid_dump",
        "uuid_getvar", "conference", "callcenter_config", "hupall",
    }
)  # fmt: skip
# API commands that run a shell or an interpreter, run other commands or
# applications (so could reach those), or read the directory's secrets:
# refused whoever asks, over ESL as over the bus, even when allowed.
REFUSED_API_COMMANDS = frozenset(
    {
        "system", "bg_system", "bgsystem", "spawn", "spawn_stream", "lua", "luarun",
        "python", "pyrun", "perl", "perlrun", "jsrun", "jsapi", "js", "v8run", "java",
        "managed", "mono", "expand", "eval", "bgapi", "sched_api", "xml_wrap",
        "erlang", "ruby", "tcl", "load", "unload", "reload", "bg_fsctl", "fsctl",
        "shutdown", "console_complete", "uuid_setvar", "uuid_setvar_multi",
        "uuid_broadcast", "uuid_transfer", "uuid_exists_execute", "sched_broadcast",
        "db_cache", "global_setvar", "json", "originate", "uuid_dual_transfer",
        "user_data", "xml_locate", "global_getvar", "sched_transfer", "sched_hangup",
        "uuid_bridge", "uuid_phone_event", "group_call", "msleep",
    }
)  # fmt: skip
_API_COMMAND = _rule(r"[a-z][a-z0-9_]{0,63}", "must be an API command name (a-z, 0-9, _)")
# An API command's arguments: plain words, no ${ (expanded by some commands).
API_ARGS = _rule(
    f"[^{_SYNTAX}$]{{0,1024}}",
    "must not hold { } [ ] < > $ quotes, backslashes or control characters (max 1024)",
)


def check_api_command(
    field: str, command: str, args: str, allowed: frozenset[str] = DEFAULT_API_COMMANDS
) -> tuple[str, str]:
    """An API command sent to a node (gateway control, channel control, /cli)."""
    _API_COMMAND.check(field, command)
    if command not in allowed or command in REFUSED_API_COMMANDS:
        raise UnsafeValue(field, f"API command {command!r} is not allowed")
    API_ARGS.check(f"{field} arguments", args)
    check_no_inline(f"{field} arguments", args)
    return command, args


# --- dial strings --------------------------------------------------------------

# One endpoint: user/…, sofia/…, loopback/… (no spaces, brackets, quotes or $).
_ENDPOINT = re.compile(r"[A-Za-z0-9_.@:/*#+=;-]{1,256}")
_LEG = re.compile(r"(?:\[([^\[\]{}]*)\])?(.*)", re.DOTALL)
_LOOPBACK = re.compile(r"loopback/[A-Za-z0-9*#+._-]{1,64}(?:/[A-Za-z0-9_.-]{1,64}(?:/XML)?)?")


def check_dial_string(field: str, dial: str) -> str:
    """A bridge/originate target Switchyard built: ``leg|leg`` or ``leg,leg``,
    each an endpoint with an optional ``[var=value,…]`` of its own, where
    every name is a plain non-executing variable and every value plain text
    without ``,`` (the separator)."""
    if not dial or len(dial) > 2048:
        raise UnsafeValue(field, "must be a dial string of 1-2048 characters")
    for leg in re.split(r"[|,](?![^\[]*\])", dial):
        m = _LEG.fullmatch(leg)
        assert m is not None  # the pattern matches any text
        if m[1] is not None:
            for pair in m[1].split(","):
                name, eq, value = pair.partition("=")
                if not eq:
                    raise UnsafeValue(field, f"leg variable {pair!r} is not name=value")
                check_variable_name(field, name)
                if not TEXT.ok(value) or "$" in value:
                    raise UnsafeValue(field, f"leg variable {name} {TEXT.reason}")
        if _ENDPOINT.fullmatch(m[2]) is None:
            raise UnsafeValue(field, f"{m[2]!r} is not a dial string endpoint")
        # loopback/<extension>/<context>/<dialplan>: routed by the XML dialplan
        # only (inline would read the extension as applications).
        if m[2].lower().startswith("loopback/") and _LOOPBACK.fullmatch(m[2]) is None:
            raise UnsafeValue(field, f"{m[2]!r}: loopback/<number>[/<context>[/XML]] only")
    check_no_inline(field, dial)
    return dial


# --- mod_callcenter ------------------------------------------------------------

# callcenter_config's targets and actions Switchyard sends (coocenter's agent
# login, pause and queue reads).
CALLCENTER_ACTIONS = frozenset(
    {
        ("agent", "add"), ("agent", "del"), ("agent", "set"), ("agent", "get"),
        ("agent", "list"), ("tier", "add"), ("tier", "del"), ("tier", "set"),
        ("tier", "list"), ("queue", "list"), ("queue", "count"), ("queue", "load"),
        ("queue", "reload"), ("agent", "reload"), ("tier", "reload"),
    }
)  # fmt: skip
# Values with a blank mod_callcenter knows; callcenter_config splits its
# arguments at blanks and groups single-quoted words, so these go quoted.
CALLCENTER_PHRASES = frozenset(
    {"On Break", "Logged Out", "Available (On Demand)", "In a queue call", "No Answer",
     "Active Inbound"}
)  # fmt: skip
# One word of a callcenter_config line: a queue or agent (<name>@<domain>), a
# key, a number, a status, or an agent contact (user/<ext>@<domain>).
CALLCENTER_WORD = _rule(
    r"[A-Za-z0-9_.@/:+-]{1,128}",
    "may hold 1-128 letters, digits and _ . @ / : + - only",
)

# A queue as coocenter names it: ``<queue>@default`` must be one such word
# (ASCII, at most 128), and no command word starts with - (an option).
CALLCENTER_QUEUE = _rule(
    r"(?!-)[A-Za-z0-9_.-]{1,64}",
    "may hold 1-64 letters, digits and _ . - only, not starting with -",
)

# An extension as a coocenter agent: ``<extension>@default`` is a
# callcenter_config word too, which takes no * or # (EXTENSION does).
CALLCENTER_AGENT = _rule(
    r"(?!-)[0-9A-Za-z+._-]{1,64}",
    "may hold 1-64 digits, letters and + . _ - only, not starting with -",
)


def callcenter_config_args(field: str, words: Iterable[str]) -> str:
    """The arguments of a ``callcenter_config`` line, each word checked, the
    known phrases with a blank single-quoted (``'On Break'``)."""
    out = list(words)
    if len(out) < 2 or (out[0], out[1]) not in CALLCENTER_ACTIONS:
        raise UnsafeValue(field, "is not a callcenter_config action Switchyard sends")
    quoted = []
    for word in out:
        if word in CALLCENTER_PHRASES:
            quoted.append(f"'{word}'")
        else:
            quoted.append(CALLCENTER_WORD.check(field, word))
    return " ".join(quoted)
