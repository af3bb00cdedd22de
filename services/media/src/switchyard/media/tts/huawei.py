"""Huawei Cloud SIS TTS: an IAM password token (``X-Subject-Token``), then
``/v1/{project_id}/tts`` answering base64 audio in JSON.

Failure is ``{error_code, error_msg}``; ``APIG.0301`` (401) is an expired or
invalid token.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import httpx

from switchyard.media.tts.vendor import (
    Params,
    TokenExpired,
    TokenVendor,
    VendorError,
    json_object,
    with_token,
)
from switchyard.shared.settings import Settings

NAME = "huawei"
DEFAULT_VOICE = "chinese_xiaoyan_common"


class Huawei(TokenVendor):
    name = NAME
    REQUIRED = (
        ("SWITCHYARD_HUAWEI_USER", "huawei_user"),
        ("SWITCHYARD_HUAWEI_PASSWORD", "huawei_password"),
        ("SWITCHYARD_HUAWEI_DOMAIN", "huawei_domain"),
    )
    LIMIT = 500  # characters
    RANGES = ((-500, 500), (-500, 500), (0, 100))

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        super().__init__(settings, http)
        self.project_id = ""

    async def _token(self) -> tuple[str, float]:
        s = self.settings
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": s.huawei_user,
                            "password": s.huawei_password,
                            "domain": {"name": s.huawei_domain},
                        }
                    },
                },
                "scope": {"project": {"name": s.huawei_project or s.huawei_region}},
            }
        }
        r = await self.http.post(s.huawei_iam_url.format(region=s.huawei_region), json=body)
        token = r.headers.get("x-subject-token")
        answer = json_object(r)
        if r.status_code >= 300 or not token:
            error = answer.get("error")
            error = error if isinstance(error, dict) else {}
            raise VendorError(
                NAME,
                str(error.get("code", r.status_code)),
                str(error.get("message", "no X-Subject-Token in the IAM answer")),
                502,
            )
        info = answer.get("token")
        info = info if isinstance(info, dict) else {}
        project = info.get("project")
        if isinstance(project, dict) and project.get("id"):
            self.project_id = str(project["id"])
        expires = dt.datetime.fromisoformat(str(info.get("expires_at", "")).replace("Z", "+00:00"))
        return token, expires.timestamp()

    async def synthesize(self, text: str, params: Params) -> bytes:
        s = self.settings

        async def call(token: str) -> bytes:
            config: dict[str, object] = {
                "audio_format": params.format,
                "sample_rate": str(params.sample_rate),
                "property": params.voice or DEFAULT_VOICE,
                **params.options("speed", "pitch", "volume"),
            }
            url = s.huawei_tts_url.format(region=s.huawei_region, project_id=self.project_id)
            r = await self.http.post(
                url, json={"text": text, "config": config}, headers={"X-Auth-Token": token}
            )
            answer = json_object(r)
            result = answer.get("result")
            if r.status_code == 200 and isinstance(result, dict) and "data" in result:
                try:
                    return base64.b64decode(str(result["data"]), validate=True)
                except binascii.Error:
                    raise VendorError(NAME, "bad_audio", "audio is not base64", 502) from None
            code = str(answer.get("error_code", r.status_code))
            if code == "APIG.0301":
                raise TokenExpired
            status = 400 if r.status_code == 400 else 429 if r.status_code == 429 else 502
            raise VendorError(NAME, code, str(answer.get("error_msg", r.text[:200])), status)

        return await with_token(self.tokens, call)
