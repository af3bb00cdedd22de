"""mod_cti's ``cti_originate`` (FreeSWITCH's ``originate`` syntax), parsed and rebuilt.

A /cli client writes the whole originate line (docs/call-control.md, /cli):
``{vars}<dial string> <&app(args) | extension [XML [context]] | 'app:args,…'
inline> [cid_name] [cid_number] [timeout]``. Passing that text on would let
it run anything FreeSWITCH can (``{execute_on_answer=system …}``,
``&lua(…)``, ``'system:…' inline``), so it is parsed into its pieces, every
piece is checked by the shared rules (``switchyard.shared.fsvalues``), and
the line FreeSWITCH receives is written anew from the checked pieces: what
FreeSWITCH parses is what was checked, not what the client's quoting meant.

Beyond the shared rules, the click-to-call recording recipe of the spec is
allowed, and only it (``RECORDING_VARIABLES``): ``execute_on_answer`` and
``execute_on_answer_<name>`` holding ``record_session <path>`` or
``set``/``export <variable>=<path>``, where a path may use the expansions
the recipe uses (``EXPANSIONS``: ``$${recordings_dir}``, ``${uuid}``,
``${strftime(%Y-%m-%d)}`` …) and nothing else FreeSWITCH would expand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from switchyard.call_control.originate import quoted_block
from switchyard.shared.fssplit import split_outside
from switchyard.shared.fsvalues import (
    CODECS,
    NAME,
    NUMBER,
    PATH,
    SOUND,
    TEXT,
    Applications,
    UnsafeValue,
    check_app_data,
    check_dial_string,
    check_variable_name,
)

# The expansions a recording path or a ringback may hold: FreeSWITCH's
# directory and tone variables (vars.xml; never an arbitrary global, which
# could be a password), the channel's own uuid/caller/record_filename, and
# ``strftime`` with a date format only (the one API the recipe calls). A
# leading backslash defers the expansion to the bridged leg, as the recipe does.
EXPANSIONS = re.compile(
    r"\$\$\{(?:recordings_dir|sounds_dir|sound_prefix|storage_dir|base_dir"
    r"|(?:us|uk|fr|rs|cn|bong|hk|de|it|jp)-ring|hold_music)\}"
    r"|\\?\$\{(?:uuid|caller_id_number|destination_number|record_filename)\}"
    r"|\\?\$\{strftime\(%[A-Za-z](?:[-_:./ ]?%[A-Za-z]){0,8}\)\}"
)
# Variables of the recording recipe whose value FreeSWITCH runs as an
# application on answer: the app must be one of these, its data a path.
RECORDING_VARIABLES = re.compile(r"execute_on_answer(?:_[A-Za-z0-9_]{1,48})?")
RECORDING_APPS = frozenset({"record_session", "set", "export"})
# SIP header variables carry a header name (with -); ``nolocal:`` is
# FreeSWITCH's "only for the bridged leg" prefix (export_vars).
_SIP_HEADER = re.compile(r"sip_(?:h|rh|ph|bh)_[A-Za-z][A-Za-z0-9-]{0,63}")
_TIMEOUT = re.compile(r"[0-9]{1,4}")


def _unexpanded(value: str) -> str:
    """``value`` with the allowed expansions replaced by a plain word."""
    return EXPANSIONS.sub("x", value)


def check_path(field_name: str, value: str) -> str:
    """A file path that may use the allowed expansions (a recording, a ringback)."""
    plain = _unexpanded(value)
    if "$" in plain or not (PATH.ok(plain) or SOUND.ok(plain)):
        raise UnsafeValue(
            field_name, f"{PATH.reason}; expansions: $${{recordings_dir}}, ${{uuid}}…"
        )
    return value


_PLAIN_AROUND = re.compile(r"[\w./+:= -]*")


def check_value(field_name: str, value: str) -> str:
    """A variable's value: plain text (TEXT); with an allowed expansion, only
    path characters around it (split_block says why)."""
    plain = _unexpanded(value)
    if plain != value and not _PLAIN_AROUND.fullmatch(plain):
        raise UnsafeValue(field_name, "around an expansion only letters, digits and / . _ + - :")
    if "$" in plain or not TEXT.ok(plain):
        raise UnsafeValue(field_name, f"{TEXT.reason}; no $ except the allowed expansions")
    return value


def _check_recording(field_name: str, value: str, applications: Applications) -> None:
    app, _, data = value.strip().partition(" ")
    if app not in RECORDING_APPS:
        raise UnsafeValue(
            field_name, "may only run record_session <path> or set/export <var>=<path>"
        )
    applications.check(field_name, app)
    data = data.strip()
    if app == "record_session":
        check_path(field_name, data)
        return
    name, eq, path = data.partition("=")
    if not eq:
        raise UnsafeValue(field_name, f"{app} needs <variable>=<value>")
    check_variable_name(field_name, name)
    check_path(field_name, path)


def check_variable(name: str, value: str, applications: Applications) -> tuple[str, str]:
    where = f"variable {name}"
    if RECORDING_VARIABLES.fullmatch(name):
        _check_recording(where, value, applications)
        return name, value
    bare = name.removeprefix("nolocal:")
    # transfer_ringback is a sound, not a transfer: the one "transfer" name allowed.
    if bare != "transfer_ringback" and not _SIP_HEADER.fullmatch(bare):
        check_variable_name(where, bare)
    if name == "absolute_codec_string":
        CODECS.check(where, value)
    elif name in ("transfer_ringback", "ringback"):
        check_path(where, value)
    else:
        check_value(where, value)
    return name, value


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside quotes, ``{}``, ``[]`` and ``()``."""
    parts, closed = split_outside(text, sep)
    if not closed:
        raise UnsafeValue("arg", "unbalanced quotes or brackets")
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _block_end(text: str) -> int:
    depth, quote = 0, ""
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    raise UnsafeValue("arg", "a { block is not closed")


def split_block(text: str) -> tuple[list[tuple[str, str]], str]:
    """A leading ``{a=b,c='x y'}`` block and what follows it.

    The block ends at its matching ``}`` (the spec's recipes nest
    ``${uuid}`` in it). A FreeSWITCH that ended it at the first ``}`` would
    read the rest of such a value as the dial string: harmless, because a
    value holding an expansion holds path characters only (no ``,``/``|``
    that would start a leg; ``check_value``)."""
    if not text.startswith("{"):
        return [], text
    end = _block_end(text)
    pairs = []
    for item in split_top(text[1:end], ","):
        name, eq, value = item.partition("=")
        if not eq:
            raise UnsafeValue("arg", f"variable {item!r} is not name=value")
        pairs.append((name.strip(), _unquote(value)))
    return pairs, text[end + 1 :]


def tokens(line: str) -> list[str]:
    """The originate line split at blanks outside quotes and brackets; quotes kept."""
    return [t for t in split_top(line.strip(), " ") if t]


@dataclass
class Leg:
    """``{vars}dial``: a dial string with its variables, checked."""

    variables: list[tuple[str, str]]
    dial: str

    def text(self, *, quoted: bool = True) -> str:
        if not self.variables:
            return self.dial
        if not quoted:  # inside an inline list: one plain variable (parse_leg)
            return "{" + ",".join(f"{k}={v}" for k, v in self.variables) + "}" + self.dial
        # Quoted, commas escaped: the originate API splits the line at blanks
        # (dropping quotes) before it splits the block at unescaped commas.
        return quoted_block(self.variables) + self.dial


def parse_leg(text: str, applications: Applications, *, inline: bool = False) -> Leg:
    pairs, dial = split_block(_unquote(text))
    checked = [check_variable(k, v, applications) for k, v in pairs]
    if inline and len(checked) > 1:
        # The inline dialplan splits its list at every comma, braces or not.
        raise UnsafeValue("arg", "an inline bridge takes one {variable}; use [..] per leg")
    if inline and any(" " in v or "," in v for _, v in checked):
        raise UnsafeValue("arg", "an inline bridge's variable may not hold blanks or commas")
    check_dial_string("dial string", dial)
    return Leg(checked, dial)


@dataclass
class Step:
    app: str
    data: str = ""
    leg: Leg | None = None  # bridge's {vars}dial

    def data_text(self, *, quoted: bool = True) -> str:
        return self.leg.text(quoted=quoted) if self.leg is not None else self.data


def parse_step(app: str, data: str, applications: Applications, *, inline: bool) -> Step:
    applications.check("application", app)
    data = data.strip()
    if app in ("bridge", "att_xfer"):
        return Step(app, leg=parse_leg(data, applications, inline=inline))
    if app in ("set", "export"):
        name, eq, value = data.partition("=")
        if eq and EXPANSIONS.search(value):
            check_variable_name(f"{app} data", name.removeprefix("nolocal:"))
            check_path(f"{app} data", value)
            return Step(app, data)
    if app == "record_session":
        check_path("record_session data", data)
        return Step(app, data)
    if app in ("playback", "endless_playback"):
        check_playback("playback data", data)
        return Step(app, data)
    check_app_data(f"{app} data", app, data)
    return Step(app, data)


# An http:// file FreeSWITCH fetches (mod_http_cache / file_string): a host and
# a path with an optional query of plain characters, any script (the spec's
# tts?text=中文); nothing FreeSWITCH expands, no blank, no quote.
HTTP_FILE = re.compile(
    r"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?"
    r"/(?!(?:.*/)?\.\.(?:/|$))[\w./%=&?+-]{0,1024}"
)


def check_sound(field_name: str, value: str) -> str:
    """One sound: a SOUND of the shared rules, or an http(s) file."""
    if (
        SOUND.ok(value)
        or HTTP_FILE.fullmatch(value)
        or HTTP_FILE.fullmatch(value.removeprefix("http_cache://"))
    ):
        return value
    raise UnsafeValue(field_name, f"{SOUND.reason}, or an http(s):// file")


def check_playback(field_name: str, value: str) -> str:
    """``file_string://a!b`` or one sound."""
    if value.startswith("file_string://"):
        for part in value.removeprefix("file_string://").split("!"):
            check_sound(field_name, part)
        return value
    return check_sound(field_name, value)


@dataclass
class OriginateLine:
    leg: Leg
    steps: list[Step] = field(default_factory=list)
    extension: str = ""
    dialplan: str = ""
    context: str = ""
    rest: list[str] = field(default_factory=list)  # cid_name, cid_number, timeout

    def text(self) -> str:
        head = self.leg.text()
        if self.extension:
            where = " ".join(w for w in (self.dialplan, self.context) if w)
            target = f"{self.extension} {where}".strip()
        elif self.dialplan == "inline":
            steps = ",".join(
                f"{s.app}:{s.data_text(quoted=False)}" if s.data_text() else s.app
                for s in self.steps
            )
            target = f"'{steps}' inline" + (f" {self.context}" if self.context else "")
        else:
            s = self.steps[0]
            # A leg's values carry their own quotes (the spec's &bridge({a='x y'}…)
            # form); other data is quoted whole, as originate.py does.
            app = f"&{s.app}({s.data_text()})"
            target = app if s.leg is not None else f"'{app}'"
            if self.context:
                target += f" XML {self.context}"
        return " ".join([head, target, *self.rest])


def parse_originate(line: str, applications: Applications) -> OriginateLine:
    """The checked pieces of an originate line (UnsafeValue names the first bad one)."""
    if any(c in line for c in "\r\n\x00"):
        raise UnsafeValue("arg", "must not hold line breaks")
    t = tokens(line)
    if len(t) < 2:
        raise UnsafeValue("arg", "originate needs <dial string> <&app(args)|extension>")
    leg = parse_leg(t[0], applications)
    target, rest = _unquote(t[1]), t[2:]
    out = OriginateLine(leg)
    if target.startswith("&"):
        m = re.fullmatch(r"&([a-z][a-z0-9_]*)(?:\((.*)\))?", target, re.DOTALL)
        if m is None:
            raise UnsafeValue("arg", "the application must be &name(args)")
        if ")" in (m[2] or ""):
            # originate ends &app( at the first ")": the rest would be lost.
            raise UnsafeValue("arg", "&app(args) arguments may not hold ); use the inline form")
        out.steps = [parse_step(m[1], m[2] or "", applications, inline=False)]
        if rest[:1] in (["XML"], ["inline"]) and len(rest) >= 2:
            NAME.check("context", rest[1])
            out.context, rest = rest[1], rest[2:]
        elif rest[:1] in (["XML"], ["inline"]):
            rest = rest[1:]
    elif rest[:1] == ["inline"]:
        out.dialplan = "inline"
        rest = rest[1:]
        for item in split_top(target, ","):
            app, _, data = item.partition(":")
            out.steps.append(parse_step(app.strip(), data, applications, inline=True))
        if rest and NAME.ok(rest[0]) and not _TIMEOUT.fullmatch(rest[0]):
            out.context, rest = rest[0], rest[1:]
    else:
        NUMBER.check("extension", target)
        out.extension = target
        if rest:
            if rest[0] != "XML":
                raise UnsafeValue("dialplan", "must be XML (or inline with an application list)")
            out.dialplan, rest = "XML", rest[1:]
        if rest:
            out.context, rest = NAME.check("context", rest[0]), rest[1:]
    if len(rest) > 3:
        raise UnsafeValue("arg", "too many arguments")
    labels = ("cid_name", "cid_number", "timeout")
    for label, word in zip(labels, rest, strict=False):
        word = _unquote(word)
        if label == "timeout":
            if not _TIMEOUT.fullmatch(word):
                raise UnsafeValue(label, "must be seconds")
        elif label == "cid_number" and word not in ("undef", "_undef_"):
            NUMBER.check(label, word)
        else:
            TEXT.check(label, word)
            if " " in word or "'" in word:
                raise UnsafeValue(label, "must be one word")
    out.rest = [_unquote(w) for w in rest]
    return out


def canonical(line: str, applications: Applications) -> str:
    return parse_originate(line, applications).text()
