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

from .fake_vendors import (
    ALI_APPKEY,
    ALI_ID,
    ALI_SECRET,
    BAIDU_AK,
    BAIDU_SK,
    HW_DOMAIN,
    HW_PASSWORD,
    HW_USER,
    Vendors,
    vendor_servers,
)


@pytest_asyncio.fixture
async def vendors() -> AsyncIterator[Vendors]:
    async with vendor_servers() as v:
        yield v


def media_settings(settings: Settings, tmp_path: Path, base: str, **extra: object) -> Settings:
    return msgspec.structs.replace(
        settings,
        media_dir=str(tmp_path / "media"),
        baidu_api_key=BAIDU_AK,
        baidu_secret_key=BAIDU_SK,
        baidu_token_url=f"{base}/oauth/2.0/token",
        baidu_tts_url=f"{base}/text2audio",
        ali_access_key_id=ALI_ID,
        ali_access_key_secret=ALI_SECRET,
        ali_appkey=ALI_APPKEY,
        ali_token_url=f"{base}/",
        ali_tts_url=f"{base}/stream/v1/tts",
        huawei_user=HW_USER,
        huawei_password=HW_PASSWORD,
        huawei_domain=HW_DOMAIN,
        huawei_iam_url=base + "/v3/auth/tokens",
        huawei_tts_url=base + "/v1/{project_id}/tts",
        **extra,
    )


@pytest_asyncio.fixture
async def client(
    settings: Settings, tmp_path: Path, vendors: Vendors, api_token: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(media_settings(settings, tmp_path, vendors.base), [service])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        c.app_state = app.state  # type: ignore[attr-defined]
        yield c
