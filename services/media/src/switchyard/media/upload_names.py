"""Stored file names as the spec shows them: ``<prefix>-<YYYYmmddHHMMSS>-<uuid>.<ext>``.

Generated, never taken from a client: letters, digits and ``-``/``.`` only,
so every ``abs_path`` passes ``fsvalues.PATH`` and ``SOUND``.
"""

from __future__ import annotations

import datetime as dt
import uuid


def stored_name(prefix: str, ext: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"{prefix}-{now}-{uuid.uuid4()}.{ext}"
