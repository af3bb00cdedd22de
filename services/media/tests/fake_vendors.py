"""Baidu, Ali and Huawei TTS as real local HTTP servers, answering as each
vendor documents (../shared/reference/webhooks-and-tts-vendors.md): token
flows, audio content types, JSON errors, token expiry.

Magic words in the text make a vendor fail: ``ERR:<code>`` answers that
error code. ``revoke()`` invalidates every issued token, as expiry would.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import msgspec
from granian.constants import Interfaces
from granian.server.embed import Server
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from switchyard.media.audio import wav_bytes
from switchyard.media.tts.ali import sign
from switchyard.shared.embedded import free_port
from switchyard.shared.settings import Settings

BAIDU_AK, BAIDU_SK = "baidu-ak", "baidu-sk"
ALI_ID, ALI_SECRET, ALI_APPKEY = "ali-id", "ali-secret", "ali-appkey"
HW_USER, HW_PASSWORD, HW_DOMAIN, HW_PROJECT_ID = "hw-user", "hw-pass", "hw-domain", "p0123"
# One MPEG-1 layer III frame header (128 kbit/s, 16 kHz is MPEG-2: FF F3), 16 kHz mono.
MP3_FRAME = b"\xff\xf3\x94\xc4" + b"\x00" * 284


def pcm_for(text: str, rate: int) -> bytes:
    """100 ms of silence per character: the audio's length tells the text's."""
    return b"\x00\x00" * (rate // 10) * len(text)


def _error_code(text: str) -> str | None:
    if "ERR:" in text:
        return text.split("ERR:", 1)[1].split()[0]
    return None


@dataclass
class Vendors:
    tokens: set[str] = field(default_factory=set)
    token_fetches: dict[str, int] = field(
        default_factory=lambda: {"baidu": 0, "ali": 0, "huawei": 0}
    )
    texts: dict[str, list[str]] = field(
        default_factory=lambda: {"baidu": [], "ali": [], "huawei": []}
    )
    base: str = ""

    def revoke(self) -> None:
        self.tokens.clear()

    def _issue(self, vendor: str) -> str:
        self.token_fetches[vendor] += 1
        token = secrets.token_hex(8)
        self.tokens.add(token)
        return token

    def app(self) -> Litestar:
        v = self

        @post("/oauth/2.0/token", status_code=200)
        async def baidu_token(request: Request[Any, Any, Any]) -> Response[Any]:
            q = request.query_params
            if q.get("client_id") != BAIDU_AK or q.get("client_secret") != BAIDU_SK:
                return Response(
                    {"error": "invalid_client", "error_description": "unknown client id"},
                    status_code=401,
                )
            return Response(
                {
                    "access_token": v._issue("baidu"),
                    "expires_in": 2592000,
                    "scope": "audio_voice_assistant_get audio_tts_post",
                }
            )

        @post("/text2audio", status_code=200)
        async def baidu_tts(request: Request[Any, Any, Any]) -> Response[Any]:
            form = dict(parse_qsl((await request.body()).decode()))
            text = unquote(form.get("tex", ""))  # the client encodes it once more
            if form.get("tok") not in v.tokens:
                return _baidu_err(502, "access token invalid or no longer valid")
            # The limit is documented in GBK bytes; a character GBK lacks (an
            # emoji) is counted as one here, not a crash answered 500.
            if len(text.encode("gbk", "replace")) >= 1024:
                return _baidu_err(513, "text too long")
            if code := _error_code(text):
                return _baidu_err(int(code), "vendor says no")
            v.texts["baidu"].append(text)
            aue = form.get("aue", "3")
            if aue == "3":
                return Response(MP3_FRAME * len(text), media_type="audio/mp3")
            if aue == "5":
                return Response(
                    pcm_for(text, 8000), media_type="audio/basic;codec=pcm;rate=8000;channel=1"
                )
            return Response(wav_bytes(pcm_for(text, 16000), 16000), media_type="audio/wav")

        @get("/", status_code=200)
        async def ali_token(request: Request[Any, Any, Any]) -> Response[Any]:
            q = dict(request.query_params)
            signature = q.pop("Signature", "")
            if q.get("AccessKeyId") != ALI_ID:
                return Response(
                    {
                        "Code": "InvalidAccessKeyId.NotFound",
                        "Message": "Specified access key is not found.",
                    },
                    status_code=404,
                )
            if q.get("Action") != "CreateToken" or signature != sign(q, ALI_SECRET):
                return Response(
                    {
                        "Code": "SignatureDoesNotMatch",
                        "Message": "Specified signature is not matched.",
                    },
                    status_code=400,
                )
            return Response(
                {
                    "NlsRequestId": secrets.token_hex(8),
                    "RequestId": secrets.token_hex(8),
                    "ErrMsg": "",
                    "Token": {"Id": v._issue("ali"), "ExpireTime": int(time.time()) + 86400},
                }
            )

        @post("/stream/v1/tts", status_code=200)
        async def ali_tts(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await request.json()
            text = body.get("text", "")
            headers = {"X-NLS-RequestId": secrets.token_hex(8)}
            if body.get("token") not in v.tokens or body.get("appkey") != ALI_APPKEY:
                return _ali_err(40000001, "Gateway:ACCESS_DENIED:The token is invalid!", headers)
            if code := _error_code(text):
                return _ali_err(int(code), "Meta:TOO_MANY_REQUESTS:Too many requests!", headers)
            v.texts["ali"].append(text)
            text = text[:300]  # longer is silently cut, as documented
            rate = int(body.get("sample_rate", 16000))
            if body.get("format") == "mp3":
                return Response(MP3_FRAME * len(text), media_type="audio/mpeg", headers=headers)
            return Response(
                wav_bytes(pcm_for(text, rate), rate), media_type="audio/mpeg", headers=headers
            )

        @post("/v3/auth/tokens", status_code=201)
        async def huawei_token(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await request.json()
            user = body["auth"]["identity"]["password"]["user"]
            if (user["name"], user["password"], user["domain"]["name"]) != (
                HW_USER,
                HW_PASSWORD,
                HW_DOMAIN,
            ):
                return Response(
                    {
                        "error": {
                            "code": 401,
                            "message": "The username or password is wrong.",
                            "title": "Unauthorized",
                        }
                    },
                    status_code=401,
                )
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=24)
            return Response(
                {
                    "token": {
                        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                        "project": {
                            "id": HW_PROJECT_ID,
                            "name": body["auth"]["scope"]["project"]["name"],
                        },
                    }
                },
                status_code=201,
                headers={"X-Subject-Token": v._issue("huawei")},
            )

        @post("/v1/{project_id:str}/tts", status_code=200)
        async def huawei_tts(
            project_id: FromPath[str], request: Request[Any, Any, Any]
        ) -> Response[Any]:
            body = await request.json()
            text, config = body.get("text", ""), body.get("config", {})
            if request.headers.get("x-auth-token") not in v.tokens or project_id != HW_PROJECT_ID:
                return Response(
                    {
                        "error_code": "APIG.0301",
                        "error_msg": "Incorrect IAM authentication information: token expires",
                        "request_id": secrets.token_hex(8),
                    },
                    status_code=401,
                )
            if len(text) > 500 or _error_code(text):
                return Response(
                    {"error_code": "SIS.0032", "error_msg": "'text' is invalid"}, status_code=400
                )
            v.texts["huawei"].append(text)
            rate = int(config.get("sample_rate", "8000"))
            audio = (
                MP3_FRAME * len(text)
                if config.get("audio_format") == "mp3"
                else wav_bytes(pcm_for(text, rate), rate)
            )
            return Response(
                {
                    "trace_id": secrets.token_hex(8),
                    "result": {"data": base64.b64encode(audio).decode()},
                }
            )

        return Litestar([baidu_token, baidu_tts, ali_token, ali_tts, huawei_token, huawei_tts])


def _baidu_err(code: int, msg: str) -> Response[Any]:
    return Response({"err_no": code, "err_msg": msg, "sn": secrets.token_hex(8), "idx": 1})


def _ali_err(code: int, message: str, headers: dict[str, str]) -> Response[Any]:
    return Response(
        {"task_id": secrets.token_hex(16), "result": "", "status": code, "message": message},
        status_code=400 if code != 40000001 else 401,
        headers=headers,
    )


def vendor_settings(settings: Settings, base: str) -> Settings:
    """``settings`` with every vendor's credentials and URLs pointing at ``base``."""
    return msgspec.structs.replace(
        settings,
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
    )


@contextlib.asynccontextmanager
async def vendor_servers() -> AsyncIterator[Vendors]:
    vendors = Vendors()
    port = free_port()
    server = Server(
        vendors.app(), address="127.0.0.1", port=port, interface=Interfaces.ASGI, log_enabled=False
    )
    task = asyncio.create_task(server.serve())
    vendors.base = f"http://127.0.0.1:{port}"
    import httpx

    async with httpx.AsyncClient() as probe, asyncio.timeout(30):
        while True:
            with contextlib.suppress(httpx.HTTPError):
                await probe.get(vendors.base + "/nothing")
                break
            await asyncio.sleep(0.02)
    try:
        yield vendors
    finally:
        server.stop()
        async with asyncio.timeout(10):
            await task
