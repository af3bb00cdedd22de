"""The media service as the runner sees it."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide

from switchyard.media import fetch_http, files_http, tts_http, upload_http
from switchyard.media.state import Media, media_lifespan
from switchyard.shared.service import Service

NAME = "media"


async def _media(state: State) -> Media:
    media: Media = state[NAME]
    return media


async def ready(media: Media | None) -> str | None:
    return "starting" if media is None else None


router = Router(
    path="/",
    route_handlers=[
        *files_http.route_handlers,
        *upload_http.route_handlers,
        *tts_http.route_handlers,
        *fetch_http.route_handlers,
    ],
    dependencies={"media": Provide(_media)},
)

service = Service(name=NAME, route_handlers=[router], lifespan=media_lifespan, ready=ready)
