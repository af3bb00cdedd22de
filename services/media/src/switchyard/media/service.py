"""The media service as the runner sees it."""

from __future__ import annotations

from typing import Any

from litestar import Router

from switchyard.media import (
    fetch_http,
    files_http,
    monitor_http,
    phrases_http,
    tts_http,
    upload_http,
)
from switchyard.media.state import Media, media_lifespan
from switchyard.shared.service import Service, Slot

NAME = "media"


async def ready(media: Media | None) -> str | None:
    return "starting" if media is None else None


def _handlers(media: Slot[Media]) -> list[Any]:
    # One router so every handler gets the ``media`` dependency (state.py).
    return [
        Router(
            path="/",
            route_handlers=[
                *files_http.route_handlers,
                *phrases_http.route_handlers,
                *upload_http.route_handlers,
                *tts_http.route_handlers,
                *fetch_http.route_handlers,
                *monitor_http.route_handlers,
            ],
            dependencies={"media": media.provide()},
        )
    ]


service = Service(name=NAME, route_handlers=_handlers, lifespan=media_lifespan, ready=ready)
