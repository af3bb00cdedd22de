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


def originate_line(cmd: Originate) -> str:
    """The argument of ``originate`` (what follows the word ``originate``)."""
    pairs: tuple[tuple[str, str], ...] = (
        ("origination_uuid", cmd.uuid),
        ("originate_timeout", str(cmd.timeout)),
    )
    if cmd.ignore_early_media:
        pairs += (("ignore_early_media", "true"),)
    endpoint = channel_variables(pairs + cmd.variables) + check_value("dial", cmd.dial)
    if " " in cmd.dial:
        raise UnsafeValue("dial", "must not contain spaces")
    for app in cmd.apps:
        check_name("app", app.app)
        check_value("args", app.args)
    if not cmd.apps:
        return f"{endpoint} &park()"
    if len(cmd.apps) == 1:
        app = cmd.apps[0]
        return f"{endpoint} '&{app.app}({app.args})'"
    return f"{endpoint} {_inline(cmd.apps)}"
