"""Media files over real HTTP: upload and download MB/s beside a plain file
copy on the same disk, small-file downloads/s beside a constant handler, and
the latency of a TTS request answered from the cache beside a constant
handler of the same app (wrk, when installed: ``apt-get install -y wrk``).

A child process serves the media service with granian (one worker) plus a
Litestar handler answering a constant body as long as the small file, one
answering ``n`` bytes for the TTS comparison, and a stand-in Baidu (token
and text2audio) that the first TTS request fills the cache from.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import msgspec

from benchmarks.harness import Context, _spawn, report_latency, scratch_database, service_env
from benchmarks.wrk import Req, combined, wrk
from switchyard.shared import accounts
from switchyard.shared.embedded import free_port

SERVER = r"""
import asyncio, sys
from granian.constants import Interfaces
import uvloop
from granian.server.embed import Server
from litestar import Response, get, post
from switchyard.media.service import service
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings

BODY = b"\0" * int(sys.argv[2])

@get("/bench/const", opt={"exclude_from_auth": True}, media_type="audio/wav")
async def const() -> Response[bytes]:
    return Response(BODY, media_type="audio/wav")

@post("/bench/const", opt={"exclude_from_auth": True, "oplog": False}, status_code=200)
async def const_n(n: int) -> Response[bytes]:
    return Response(b"x" * n, media_type="application/json")

@post("/bench/baidu/token", opt={"exclude_from_auth": True, "oplog": False}, status_code=200)
async def baidu_token() -> dict[str, object]:
    return {"access_token": "bench", "expires_in": 2592000}

@post("/bench/baidu/tts", opt={"exclude_from_auth": True, "oplog": False}, status_code=200)
async def baidu_tts() -> Response[bytes]:
    return Response(b"\xff\xf3\x48\xc4" + bytes(2000), media_type="audio/mp3")

bench = Service(name="bench", route_handlers=[const, const_n, baidu_token, baidu_tts])
app = create_app(Settings.from_env(), [service, bench])
uvloop.run(Server(app, address="127.0.0.1", port=int(sys.argv[1]),
                   interface=Interfaces.ASGI, log_enabled=False).serve())
"""

BIG = 200 * 1024 * 1024
SMALL = 16 * 1024


def _wav(size: int) -> bytes:
    import struct

    pcm = b"\x01\x02" * ((size - 44) // 2)
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1,
                       1, 8000, 16000, 2, 16, b"data", len(pcm)) + pcm  # fmt: skip


def _wrk(url: str, headers: dict[str, str]) -> float:
    args = ["wrk", "-t2", "-c16", "-d10s", url]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


async def run(ctx: Context) -> None:
    async with scratch_database(ctx.pg_url) as db_url:
        conn = await asyncpg.connect(db_url)
        try:
            _, token, _ = await accounts.issue_token(conn, kind="api", name="bench")
        finally:
            await conn.close()
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            folder = Path(tmp)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = service_env(ctx, db_url, SWITCHYARD_MEDIA_DIR=str(folder / "media"),
                              SWITCHYARD_MEDIA_MAX_UPLOAD=str(BIG * 2),
                              SWITCHYARD_BAIDU_API_KEY="bench",
                              SWITCHYARD_BAIDU_SECRET_KEY=VENDOR_KEY,
                              SWITCHYARD_BAIDU_TOKEN_URL=f"{base}/bench/baidu/token",
                              SWITCHYARD_BAIDU_TTS_URL=f"{base}/bench/baidu/tts")  # fmt: skip
            server = _spawn([sys.executable, "-c", SERVER, str(port), str(SMALL)], env)
            headers = {"X-XTRA-AUTH-ID": token}
            try:
                async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as c:
                    for _ in range(600):
                        with contextlib.suppress(httpx.HTTPError):
                            if (await c.get("/readyz")).status_code == 200:
                                break
                        await asyncio.sleep(0.1)
                    await _measure(ctx, c, folder, base, headers)
            finally:
                server.terminate()
                server.wait(30)


async def _measure(
    ctx: Context, c: httpx.AsyncClient, folder: Path, base: str, headers: dict[str, str]
) -> None:
    source = folder / "big.wav"
    source.write_bytes(_wav(BIG))
    mb = BIG / 1e6
    start = time.perf_counter()
    shutil.copyfile(source, folder / "copy.wav")
    copy_s = time.perf_counter() - start
    os.unlink(folder / "copy.wav")

    boundary_holder = "bench" + secrets.token_hex(4)

    async def body() -> AsyncIterator[bytes]:
        yield (f'--{boundary_holder}\r\nContent-Disposition: form-data; name="file"; '
               f'filename="big.wav"\r\n\r\n').encode()  # fmt: skip
        with source.open("rb") as f:
            while block := f.read(1 << 20):
                yield block
        yield f"\r\n--{boundary_holder}--\r\n".encode()

    start = time.perf_counter()
    r = await c.post(
        "/api/upload",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary_holder}"},
    )
    up_s = time.perf_counter() - start
    r.raise_for_status()
    big_id = r.json()[0]["id"]
    ctx.report("upload 200 MB (streamed multipart)", mb / up_s, "MB/s",
               baseline=mb / copy_s, baseline_name="file copy")  # fmt: skip

    start = time.perf_counter()
    got = 0
    async with c.stream("GET", f"/api/media_files/{big_id}.wav") as resp:
        async for block in resp.aiter_raw(1 << 20):
            got += len(block)
    down_s = time.perf_counter() - start
    assert got == BIG
    ctx.report("download 200 MB", mb / down_s, "MB/s",
               baseline=mb / copy_s, baseline_name="file copy")  # fmt: skip

    small = (await c.post("/api/upload", files={"file": ("s.wav", _wav(SMALL))})).json()[0]
    if shutil.which("wrk") is None:
        print("  wrk not installed (apt-get install -y wrk): small-file rates skipped")
        return
    const = await asyncio.to_thread(_wrk, f"{base}/bench/const", {})
    ours = await asyncio.to_thread(_wrk, f"{base}/api/media_files/{small['id']}.wav", headers)
    ctx.report("download 16 KB file, wrk 16 connections", ours, "req/s",
               baseline=const, baseline_name="constant handler")  # fmt: skip
    await _tts_cached(ctx, c, base, headers)


# The stand-in vendor takes any credentials; a random one keeps secrets out of the source.
VENDOR_KEY = secrets.token_hex(8)
TTS_TEXT = "您好，欢迎致电，请按分机号。"
ROUNDS = 3


async def _tts_cached(
    ctx: Context, c: httpx.AsyncClient, base: str, headers: dict[str, str]
) -> None:
    """``POST /api/baidu/tts`` for a text already in the cache (the first request
    fills it through the stand-in vendor) against a constant POST of the same
    answer size in the same app; wrk -t1 -c16, rounds interleaved, medians."""
    body = msgspec.json.encode({"input": TTS_TEXT}).decode()
    first = await c.post(
        "/api/baidu/tts", content=body, headers={"Content-Type": "application/json"}
    )
    first.raise_for_status()
    again = await c.post(
        "/api/baidu/tts", content=body, headers={"Content-Type": "application/json"}
    )
    assert again.json()["id"] == first.json()["id"]  # answered from the cache
    size = len(again.content)
    hdrs = {**headers, "Content-Type": "application/json"}
    tts_req = [Req("POST", "/api/baidu/tts", body)]
    const_req = [Req("POST", f"/bench/const?n={size}", body)]
    ours, consts = [], []
    for _ in range(ROUNDS):
        ours.append(await wrk(base, tts_req, hdrs, seconds=4, connections=16))
        consts.append(await wrk(base, const_req, hdrs, seconds=4, connections=16))
    o, k = combined(ours), combined(consts)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  load average {load}; answer {size} bytes; constant handler "
          f"{k.rate:,.0f} req/s, p50 {k.p50:.1f} ms, p99 {k.p99:.1f} ms")  # fmt: skip
    ctx.report("cached TTS answer, wrk 16 connections", o.rate, "req/s",
               baseline=k.rate, baseline_name="constant handler")  # fmt: skip
    report_latency(ctx, "cached TTS answer", (o.p50, o.p99), (k.p50, k.p99))
