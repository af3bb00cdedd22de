"""How FreeSWITCH reads command arguments: switch_separate_string and C's atoi."""

from __future__ import annotations

import re


def separate(text: str) -> list[str]:
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


def atoi(text: str | None) -> int:
    """C's atoi: leading blanks, a sign, digits; anything else is 0."""
    m = re.match(r"\s*([+-]?\d+)", text or "")
    return int(m.group(1)) if m else 0
