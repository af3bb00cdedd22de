"""Build FreeSWITCH ``originate`` command lines from validated pieces.

The line travels inside an ESL packet and FreeSWITCH parses it as a dial
string, channel variables and an application: every piece is checked here
against the shared rules (``switchyard.shared.fsvalues``) even though the
HTTP handler checked the request, so a command that arrives over the bus
from anywhere else is held to the same rules. Values are single-quoted so
that spaces and commas stay inside them.
"""

from __future__ import annotations

from switchyard.call_control.node_commands import App, Originate
from switchyard.shared.fsvalues import (
    APPLICATIONS,
    NAME,
    TEXT,
    Applications,
    UnsafeValue,
    check_app_data,
    check_dial_string,
    check_variable_name,
)

# Separators for an inline dialplan, chosen so none occurs in the arguments.
_INLINE_SEPARATORS = ",;|~^"


def channel_variables(pairs: tuple[tuple[str, str], ...]) -> str:
    """The ``{name='value',…}`` block. The originate API removes the quotes
    when it splits its arguments on spaces, then splits the block on ``,``
    (freeswitch-observed section 7): a comma in a value is written ``\\,``,
    or ``a,execute_on_answer=…`` would become a second variable."""
    if not pairs:
        return ""
    for k, v in pairs:
        check_variable_name("variable", k)
        TEXT.check(k, v)
    return quoted_block(pairs)


def quoted_block(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """``{name='value',…}`` of checked pairs, a comma in a value written ``\\,``."""
    return "{" + ",".join(f"{k}='{v.replace(',', chr(92) + ',')}'" for k, v in pairs) + "}"


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


def originate_line(cmd: Originate, applications: Applications = APPLICATIONS) -> str:
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
    endpoint = channel_variables(pairs + cmd.variables) + check_dial_string("dial", cmd.dial)
    if cmd.context:
        NAME.check("context", cmd.context)
    for app in cmd.apps:
        applications.check("app", app.app)
        check_app_data("args", app.app, app.args)
    apps = tuple(routed(a, cmd.context) for a in cmd.apps)
    where = f" XML {cmd.context}" if cmd.context else ""
    if not apps:
        return f"{endpoint} &park(){where}"
    # The &app(args) form ends the arguments at their first ")"
    # (mod_commands originate): such arguments go inline, where it is no syntax.
    if len(apps) == 1 and ")" not in apps[0].args:
        app = apps[0]
        return f"{endpoint} '&{app.app}({app.args})'{where}"
    context = f" {cmd.context}" if cmd.context else ""
    return f"{endpoint} {_inline(apps)}{context}"
