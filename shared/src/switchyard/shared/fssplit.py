"""Splitting FreeSWITCH argument text at a separator that stands outside
quotes and brackets: how a dial string's ``{vars}``, its legs (``,`` and
``|``) and an originate's arguments come apart.

fssim splits as FreeSWITCH does (a backslash escapes, ``{}`` and ``[]``
nest); call-control splits what it is about to send more strictly (``()``
nests too, so ``${api(a,b)}`` stays one piece to be checked whole, and an
unclosed quote or bracket is refused).
"""

from __future__ import annotations

_CLOSERS = {"{": "}", "[": "]", "(": ")"}


def split_outside(
    text: str, sep: str, *, brackets: str = "{[(", escapes: bool = False
) -> tuple[list[str], bool]:
    """``text`` cut at each ``sep`` outside quotes and the ``brackets`` pairs
    (a backslash keeps the next character from counting when ``escapes``):
    the parts, empty ones included, and whether every quote and bracket
    closed."""
    closers = "".join(_CLOSERS[b] for b in brackets)
    parts: list[str] = []
    cur: list[str] = []
    depth, quote, escaped = 0, "", False
    for c in text:
        if escaped:
            escaped = False
        elif escapes and c == "\\":
            escaped = True
        elif quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in brackets:
            depth += 1
        elif c in closers:
            depth -= 1
        elif c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    parts.append("".join(cur))
    return parts, not quote and depth == 0
