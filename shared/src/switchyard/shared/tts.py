"""``Subjects.tts_request``: text to a file FreeSWITCH can play, served by media.

Other services (IVR prompts, /cli playback) ask here rather than calling a
vendor; the answer's ``path`` is the media file's ``abs_path``, which passes
``fsvalues.SOUND``. Failures come back as ``BusError``: ``invalid`` (bad
engine, parameters or text), ``unconfigured`` (the vendor has no
credentials), ``vendor`` (the vendor refused or failed; the message names
its code).
"""

from __future__ import annotations

import msgspec


class TtsRequest(msgspec.Struct, frozen=True, kw_only=True):
    engine: str  # baidu | ali | huawei
    text: str
    voice: str = ""
    speed: int | None = None  # in the vendor's own scale (docs/media.md)
    pitch: int | None = None
    volume: int | None = None
    format: str = "wav"  # wav | mp3
    sample_rate: int = 8000  # 8000 | 16000


class TtsReply(msgspec.Struct, frozen=True, kw_only=True):
    id: int  # the media file
    path: str  # what FreeSWITCH plays
    mime: str
    cached: bool
