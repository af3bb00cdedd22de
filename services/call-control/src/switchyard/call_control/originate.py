"""Build FreeSWITCH ``originate`` command lines from validated pieces.

The line travels inside an ESL packet, so a CR or LF in any value would let a
caller append ESL commands of its own: every value is checked here, and
values are single-quoted so that spaces and commas stay inside them.
"""

from __future__ import annotations

import re

from switchyard.call_control.protocol import App, Originate

# Characters FreeSWITCH's argument splitter and variable parser treat specially.
_FORBIDDEN = re.compile(r"[\r\n\0'\\]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTEXT = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Separators for an inline dialplan, chosen so none occurs in the arguments.
_INLINE_SEPARATORS = ",;|~^"


class UnsafeValue(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_value(field: str, value: str) -> str:
    if _FORBIDDEN.search(value):
        raise UnsafeValue(field, "must not contain quotes, backslashes or line breaks")
    return value


def check_name(field: str, value: str) -> str:
    if not _NAME.match(value):
        raise UnsafeValue(field, f"{value!r} is not a valid name")
    return value


def channel_variables(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    body = ",".join(f"{check_name('variable', k)}='{check_value(k, v)}'" for k, v in pairs)
    return "{" + body + "}"


def _inline(apps: tuple[App, ...]) -> str:
    joined = "".join(a.args for a in apps)
    sep = next((s for s in _INLINE_SEPARATORS if s not in joined), None)
    if sep is None:
        raise UnsafeValue("apps", "arguments use every inline separator (,;|~^)")
    steps = sep.join(f"{a.app}:{a.args}" if a.args else a.app for a in apps)
    prefix = "" if sep == "," else f"^^{sep}"
    return f"'{prefix}{steps}' inline"


def routed(app: App, context: str) -> App:
    """A ``transfer`` that names no context, made to route in ``context`` (XML dialplan).

    The transfer app takes ``[-bleg|-both] <extension> [<dialplan> [<context>]]``
    and fills what is missing from the leg's caller profile
    (switch_ivr_session_transfer): an originated leg's profile names no
    context, so ``transfer 1000`` would route in ``default``, and inside an
    inline dialplan it would keep the dialplan ``inline``. XSwitch's spec
    example (``app=transfer&args=186…``) means "route it as a call from this
    PBX would be", so the missing words are written out.
    """
    if app.app != "transfer" or not context:
        return app
    words = app.args.split()
    flags = words[:1] if words[:1] in (["-bleg"], ["-both"]) else []
    rest = words[len(flags) :]
    if len(rest) == 1:
        rest += ["XML", context]
    elif len(rest) == 2:
        rest.append(context)
    else:
        return app
    return App(app.app, " ".join(flags + rest))


def originate_line(cmd: Originate) -> str:
    """The argument of ``originate`` (what follows the word ``originate``).

    With a context the line ends in ``XML <context>`` (``inline <context>``
    for several apps): the new leg's dialplan and context, which its
    ``transfer`` falls back on. FreeSWITCH applies them to an inline
    dialplan's leg (switch_ivr_session_transfer); for the ``&app()`` form it
    ignores them, so a one-word ``transfer`` is also spelled out (``routed``).
    """
    pairs: tuple[tuple[str, str], ...] = (
        ("origination_uuid", cmd.uuid),
        ("originate_timeout", str(cmd.timeout)),
    )
    if cmd.ignore_early_media:
        pairs += (("ignore_early_media", "true"),)
    endpoint = channel_variables(pairs + cmd.variables) + check_value("dial", cmd.dial)
    if " " in cmd.dial:
        raise UnsafeValue("dial", "must not contain spaces")
    if cmd.context and not _CONTEXT.match(cmd.context):
        raise UnsafeValue("context", f"{cmd.context!r} is not a dialplan context name")
    for app in cmd.apps:
        check_name("app", app.app)
        check_value("args", app.args)
    apps = tuple(routed(a, cmd.context) for a in cmd.apps)
    where = f" XML {cmd.context}" if cmd.context else ""
    if not apps:
        return f"{endpoint} &park(){where}"
    if len(apps) == 1:
        app = apps[0]
        return f"{endpoint} '&{app.app}({app.args})'{where}"
    context = f" {cmd.context}" if cmd.context else ""
    return f"{endpoint} {_inline(apps)}{context}"
