"""How the far end of a simulated leg behaves: answer, reject, or stay silent."""

from __future__ import annotations

from typing import Literal

import msgspec


class Behaviour(msgspec.Struct, frozen=True, kw_only=True):
    """What a user, gateway or SIP URI does when called.

    ``answer``: ring for ``ring_seconds`` (with early media first when
    ``early_media``) and answer. ``reject``: ring for ``ring_seconds`` and
    refuse with ``cause`` (USER_BUSY by default). ``silent``: ring and never
    answer, so the originator's timeout decides (NO_ANSWER).
    """

    mode: Literal["answer", "reject", "silent"] = "answer"
    ring_seconds: float = 0.0
    early_media: bool = False
    cause: str = "USER_BUSY"


ANSWER = Behaviour()
