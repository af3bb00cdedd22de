"""Playing a file to a channel (switch_ivr_play_file) and what DTMF does meanwhile.

No audio exists: a file "plays" for ``Core.playback_seconds`` (or N ms for
``silence_stream://N``), fires PLAYBACK_START/PLAYBACK_STOP, and is recorded
in ``Channel.played`` so a test can tell what a caller heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

from switchyard.fssim.channel import Channel
from switchyard.fssim.core import Core

# How DTMF arriving during the file is handled, after switch_input_args_t:
# none: args NULL, digits stay queued; collect: args.buf, the first digit is
# read and stops the file; break: args.buflen without a buffer, a digit stops
# the file but stays queued; terminators: the playback app's on_dtmf callback,
# every digit is read and one of ``playback_terminators`` (default ``*``) stops it.
DtmfMode = Literal["none", "collect", "break", "terminators"]


def file_seconds(node: Core, path: str) -> float:
    if path.startswith("silence_stream://"):
        with contextlib.suppress(ValueError):
            return int(path.split("://", 1)[1].split(",")[0]) / 1000
    return node.playback_seconds


async def play_file(node: Core, ch: Channel, path: str, mode: DtmfMode) -> tuple[bool, str]:
    """Play ``path``; (played to the end, the digit read when ``mode`` is collect)."""
    node.pre_answer(ch)  # switch_ivr_play_file pre-answers before anything else
    node.channel_event(
        ch,
        "PLAYBACK_START",
        "switch_ivr_play_say.c",
        "switch_ivr_play_file",
        1566,
        bottom=[("Playback-File-Path", path)],
    )
    ch.played.append(path)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + file_seconds(node, path)
    reads, ch.reads_dtmf = ch.reads_dtmf, ch.reads_dtmf or mode != "none"
    finished, digit = True, ""
    try:
        while (left := deadline - loop.time()) > 0:
            if mode == "none":
                if not await ch.pause(left):
                    finished = False
                    break
                continue
            if not await ch.wait_dtmf(left):
                if ch.interrupted:
                    finished = False
                    break
                continue
            if mode == "break":
                finished = False
                break
            got = node.read_dtmf(ch) or ""
            if mode == "collect":
                finished, digit = False, got
                break
            if got and got in _terminators(ch):
                ch.variables["playback_terminator_used"] = got
                finished = False
                break
    finally:
        ch.reads_dtmf = reads
    if ch.is_up:
        node.channel_event(
            ch,
            "PLAYBACK_STOP",
            "switch_ivr_play_say.c",
            "switch_ivr_play_file",
            2082,
            bottom=[
                ("Playback-File-Path", path),
                ("Playback-Status", "done" if finished else "break"),
            ],
        )
    return finished, digit


def _terminators(ch: Channel) -> str:
    value = ch.variables.get("playback_terminators", "*")
    return "" if value.lower() == "none" else value
