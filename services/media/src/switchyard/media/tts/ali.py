"""Alibaba Cloud NLS TTS: a ``CreateToken`` POP RPC call (HMAC-SHA1 signed),
then the RESTful ``stream/v1/tts``.

Success is an ``audio/*`` body; failure JSON ``{task_id, result, status,
message}``. status 40000001 is an authentication failure (token expired).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from urllib.parse import quote

from switchyard.media.tts.vendor import (
    Params,
    TokenVendor,
    VendorError,
    audio_or_error,
    json_object,
    with_token,
)

NAME = "ali"
_STATUS = {40000002: 400, 40000003: 400, 40000004: 400, 40000005: 429, 40000010: 402}


def _pct(value: str) -> str:
    return quote(value, safe="-_.~")


def sign(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """The POP RPC signature of ``params`` (RFC 3986 canonical query)."""
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_pct('/')}&{_pct(canonical)}"
    digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class Ali(TokenVendor):
    name = NAME
    REQUIRED = (
        ("SWITCHYARD_ALI_ACCESS_KEY_ID", "ali_access_key_id"),
        ("SWITCHYARD_ALI_ACCESS_KEY_SECRET", "ali_access_key_secret"),
        ("SWITCHYARD_ALI_APPKEY", "ali_appkey"),
    )
    LIMIT = 300  # characters; longer text is silently cut by the vendor
    RANGES = ((-500, 500), (-500, 500), (0, 100))

    async def _token(self) -> tuple[str, float]:
        params = {
            "AccessKeyId": self.settings.ali_access_key_id,
            "Action": "CreateToken",
            "Version": "2019-02-28",
            "Format": "JSON",
            "RegionId": "cn-shanghai",
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": str(uuid.uuid4()),
        }
        params["Signature"] = sign(params, self.settings.ali_access_key_secret)
        r = await self.http.get(self.settings.ali_token_url, params=params)
        body = json_object(r)
        token = body.get("Token")
        if not isinstance(token, dict) or "Id" not in token:
            raise VendorError(
                NAME,
                str(body.get("Code", r.status_code)),
                str(body.get("Message", "no Token in the CreateToken answer")),
                502,
            )
        return str(token["Id"]), float(token.get("ExpireTime", 0))

    async def synthesize(self, text: str, params: Params) -> bytes:
        async def call(token: str) -> bytes:
            body: dict[str, object] = {
                "appkey": self.settings.ali_appkey,
                "token": token,
                "text": text,
                "format": params.format,
                "sample_rate": params.sample_rate,
            }
            if params.voice:
                body["voice"] = params.voice
            body.update(params.options("speech_rate", "pitch_rate", "volume"))
            r = await self.http.post(self.settings.ali_tts_url, json=body)
            return audio_or_error(
                r,
                NAME,
                code_key="status",
                message_key="message",
                expired=40000001,
                statuses=_STATUS,
            )

        return await with_token(self.tokens, call)
