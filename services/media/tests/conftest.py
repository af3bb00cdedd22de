"""The media service served by the real runner, with fake TTS vendors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest_asyncio

from switchyard.media.service import service
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

from .fake_vendors import Vendors, vendor_servers, vendor_settings


@pytest_asyncio.fixture
async def vendors() -> AsyncIterator[Vendors]:
    async with vendor_servers() as v:
        yield v


def media_settings(settings: Settings, tmp_path: Path, base: str, **extra: object) -> Settings:
    return msgspec.structs.replace(
        vendor_settings(settings, base), media_dir=str(tmp_path / "media"), **extra
    )


@pytest_asyncio.fixture
async def client(
    settings: Settings, tmp_path: Path, vendors: Vendors, api_token: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(media_settings(settings, tmp_path, vendors.base), [service])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        c.app_state = app.state  # type: ignore[attr-defined]
        yield c
