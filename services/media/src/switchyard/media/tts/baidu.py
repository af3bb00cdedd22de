"""Baidu TTS (REST): OAuth client-credentials token, then ``text2audio``.

Success is decided by an ``audio/*`` Content-Type; anything else is JSON
``{err_no, err_msg}`` whatever the HTTP status. err_no 502 is an invalid or
expired token.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from switchyard.media.audio import wav_bytes
from switchyard.media.tts.vendor import (
    Params,
    TokenVendor,
    VendorError,
    audio_or_error,
    json_object,
    with_token,
)

NAME = "baidu"
# err_no -> our status: bad input 400, limits 429, the rest a vendor failure.
_STATUS = {500: 400, 501: 400, 513: 400, 13: 429, 15: 429, 16: 429}
# aue: 3 mp3, 5 pcm 8 kHz, 6 wav 16 kHz (no 8 kHz wav: we wrap the pcm).
_AUE = {("mp3", 16000): "3", ("mp3", 8000): "3", ("wav", 8000): "5", ("wav", 16000): "6"}


class Baidu(TokenVendor):
    name = NAME
    REQUIRED = (
        ("SWITCHYARD_BAIDU_API_KEY", "baidu_api_key"),
        ("SWITCHYARD_BAIDU_SECRET_KEY", "baidu_secret_key"),
    )
    RANGES = ((0, 15), (0, 15), (0, 15))

    def fits(self, text: str) -> bool:
        # Under 1024 bytes in GBK; characters GBK lacks count as 4 (their escape).
        return len(text.encode("gbk", "backslashreplace")) < 1024

    async def _token(self) -> tuple[str, float]:
        r = await self.http.post(
            self.settings.baidu_token_url,
            params={
                "grant_type": "client_credentials",
                "client_id": self.settings.baidu_api_key,
                "client_secret": self.settings.baidu_secret_key,
            },
        )
        body = json_object(r)
        if "access_token" not in body:
            raise VendorError(
                NAME,
                str(body.get("error", r.status_code)),
                str(body.get("error_description", "no access_token in the token answer")),
                502,
            )
        return str(body["access_token"]), time.time() + float(str(body.get("expires_in", 2592000)))

    async def synthesize(self, text: str, params: Params) -> bytes:
        aue = _AUE[(params.format, params.sample_rate)]

        async def call(token: str) -> bytes:
            form = {
                # URL-encoded once here, then form-encoded again by httpx, as documented.
                "tex": quote(text, safe=""),
                "tok": token,
                "cuid": "switchyard",
                "ctp": "1",
                "lan": "zh",
                "aue": aue,
            }
            form.update({k: str(v) for k, v in params.options("spd", "pit", "vol").items()})
            if params.voice:
                form["per"] = params.voice
            r = await self.http.post(self.settings.baidu_tts_url, data=form)
            return audio_or_error(
                r, NAME, code_key="err_no", message_key="err_msg", expired=502, statuses=_STATUS
            )

        audio = await with_token(self.tokens, call)
        return wav_bytes(audio, 8000) if aue == "5" else audio
