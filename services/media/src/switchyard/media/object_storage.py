"""Media bytes in a NATS JetStream Object Store, for a cluster where the media
service and FreeSWITCH are on different hosts (``SWITCHYARD_MEDIA_STORE=nats``).

Same keys and interface as ``LocalStorage``; ``abs_path`` of a key is the
signed mod_http_cache URL FreeSWITCH plays (shared/media_location.py), served
by ``fetch_http``. The object layout is nats-py's (``$O.<bucket>.C.<nuid>``
chunks, a rolled-up meta message under the name), so ``nats object`` tools
read what this writes; this module writes chunks itself so an upload is
streamed in as it arrives (nats-py's ``put`` wants a reader), and reads them
one request per chunk so a slow HTTP client never makes NATS buffer a whole
file for it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator

from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import BadRequestError, NotFoundError
from nats.js.object_store import (
    OBJ_CHUNKS_PRE_TEMPLATE,
    OBJ_DEFAULT_CHUNK_SIZE,
    OBJ_DIGEST_TEMPLATE,
    OBJ_META_PRE_TEMPLATE,
    OBJ_STREAM_TEMPLATE,
)
from nats.nuid import NUID

from switchyard.media.storage import AREAS, BadKey, Stat, Upload, check_key, put_via_upload
from switchyard.shared import media_location
from switchyard.shared.settings import Settings

CHUNK = OBJ_DEFAULT_CHUNK_SIZE
# The meta header holding the chunk index (a list of one string, as in Go's nats.Header).
SEQS_HEADER = "Switchyard-Chunk-Seqs"


def encode_runs(runs: list[list[int]]) -> str:
    return ",".join(f"{first}+{count}" for first, count in runs)


def chunk_seq(info: js_api.ObjectInfo, chunk: int) -> int | None:
    """The stream sequence of chunk ``chunk`` (0-based) from the meta's index,
    or None when the object has none (or it does not cover the chunk)."""
    values = (info.headers or {}).get(SEQS_HEADER) or []
    text = values[0] if isinstance(values, list) and values else values
    if not isinstance(text, str):
        return None
    left = chunk
    for run in text.split(","):
        first, _, count = run.partition("+")
        if not (first.isdigit() and count.isdigit()):
            return None
        if left < int(count):
            return int(first) + left
        left -= int(count)
    return None


class _ObjectUpload:
    def __init__(self, store: ObjectStorage) -> None:
        self._store = store
        self._nuid = store.nuid.next().decode()
        self._subject = OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=store.bucket, obj=self._nuid)
        self._pending = bytearray()
        self._sha = hashlib.sha256()
        self._head = b""
        self._chunks = 0
        self._runs: list[list[int]] = []
        self.size = 0

    async def write(self, chunk: bytes) -> None:
        if len(self._head) < 4096:
            self._head += chunk[: 4096 - len(self._head)]
        self.size += len(chunk)
        self._pending += chunk
        # Whole chunks only, so every chunk but the last is CHUNK bytes.
        while len(self._pending) >= CHUNK:
            await self._send(bytes(self._pending[:CHUNK]))
            del self._pending[:CHUNK]

    async def _send(self, payload: bytes) -> None:
        self._sha.update(payload)
        ack = await self._store.js.publish(self._subject, payload)
        self._chunks += 1
        if self._runs and self._runs[-1][0] + self._runs[-1][1] == ack.seq:
            self._runs[-1][1] += 1
        else:
            self._runs.append([ack.seq, 1])

    async def head(self, n: int) -> bytes:
        return self._head[:n]

    async def commit(self, key: str) -> None:
        check_key(key)
        if self._pending:
            await self._send(bytes(self._pending))
            self._pending.clear()
        info = js_api.ObjectInfo(
            name=key,
            bucket=self._store.bucket,
            nuid=self._nuid,
            size=self.size,
            chunks=self._chunks,
            mtime=dt.datetime.now(dt.UTC).isoformat(),
            digest=OBJ_DIGEST_TEMPLATE.format(
                digest=base64.urlsafe_b64encode(self._sha.digest()).decode()
            ),
            options=js_api.ObjectMetaOptions(max_chunk_size=CHUNK),
            headers={SEQS_HEADER: [encode_runs(self._runs)]} if self._runs else None,
        )
        old = await self._store.info(key)
        await self._store.js.publish(
            self._store.meta_subject(key),
            json.dumps(info.as_dict()).encode(),
            headers={js_api.Header.ROLLUP: "sub"},
        )
        if old is not None and old.nuid:
            await self._store.purge_chunks(old.nuid)

    async def abort(self) -> None:
        await self._store.purge_chunks(self._nuid)


class ObjectStorage:
    def __init__(self, js: JetStreamContext, bucket: str, settings: Settings) -> None:
        self.js = js
        self.bucket = bucket
        self.stream = OBJ_STREAM_TEMPLATE.format(bucket=bucket)
        self.settings = settings
        self.nuid = NUID()
        self._url_prefix = f"http_cache://{settings.media_url}{media_location.FETCH_PREFIX}/"

    @classmethod
    async def open(cls, js: JetStreamContext, bucket: str, settings: Settings) -> ObjectStorage:
        media_location.check(settings)
        # Idempotent: every replica asks for the same bucket.
        config = js_api.ObjectStoreConfig(bucket=bucket, replicas=settings.jetstream_replicas)
        try:
            await js.create_object_store(bucket, config)
        except BadRequestError as exc:
            # 10058: made before with other replicas; it stays as it is
            # (deploy/k8s/README.md says how to raise them).
            if exc.err_code != 10058:
                raise
        return cls(js, bucket, settings)

    def meta_subject(self, key: str) -> str:
        name = base64.urlsafe_b64encode(key.encode()).decode()
        return OBJ_META_PRE_TEMPLATE.format(bucket=self.bucket, obj=name)

    async def purge_chunks(self, nuid: str) -> None:
        subject = OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=self.bucket, obj=nuid)
        await self.js.purge_stream(self.stream, subject=subject)

    async def info(self, key: str) -> js_api.ObjectInfo | None:
        try:
            msg = await self.js.get_last_msg(self.stream, self.meta_subject(key))
        except NotFoundError:
            return None
        info = js_api.ObjectInfo.from_response(json.loads(msg.data or b"{}"))
        return None if info.deleted else info

    def abs_path(self, key: str) -> str:
        check_key(key)
        return media_location.fetch_url(self.settings, key)

    def dir_path(self, key: str) -> str:
        return self.abs_path(key).rpartition("/")[0]

    def key_of(self, abs_path: str) -> str | None:
        """The key of one of our URLs (a recording FreeSWITCH uploaded), if its
        signature holds."""
        if not abs_path.startswith(self._url_prefix):
            return None
        sig, _, key = abs_path.removeprefix(self._url_prefix).partition("/")
        try:
            check_key(key)
        except BadKey:
            return None
        if not media_location.verify_url(self.settings, key, sig):
            return None
        return key

    async def begin(self, area: str) -> Upload:
        if area not in AREAS:
            raise BadKey(f"no storage area {area!r}")
        return _ObjectUpload(self)

    async def put(self, key: str, data: bytes) -> None:
        await put_via_upload(self, key, data)

    async def stat(self, key: str) -> Stat | None:
        check_key(key)
        info = await self.info(key)
        if info is None:
            return None
        # The nuid changes with every write of the name: a validator as good as an mtime.
        tag = int.from_bytes(hashlib.sha256(info.nuid.encode()).digest()[:7], "big")
        return Stat(info.size or 0, tag)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive): one stream-get per chunk, so
        the HTTP client's pace is NATS's pace, from the chunk holding ``start``."""
        info = await self.info(key)
        if info is None or not info.size:
            return
        subject = OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=self.bucket, obj=info.nuid)
        size = (info.options.max_chunk_size if info.options else None) or CHUNK
        offset, seq = 0, 0
        first = start // size
        if first and (at := chunk_seq(info, first)) is not None:
            # next=True below: the chunk at exactly this sequence (it is on our subject).
            offset, seq = first * size, at - 1
        while offset < end:
            try:
                msg = await self.js.get_msg(self.stream, seq=seq + 1, subject=subject, next=True)
            except NotFoundError:
                return  # deleted while being read
            data = msg.data or b""
            seq = msg.seq or seq + 1
            if offset + len(data) > start:
                yield data[max(0, start - offset) : end - offset]
            offset += len(data)
            if len(data) < size:
                return

    async def delete(self, key: str) -> None:
        check_key(key)
        info = await self.info(key)
        if info is None:
            return
        gone = js_api.ObjectInfo(name=key, bucket=self.bucket, nuid=info.nuid, deleted=True)
        gone.size, gone.chunks, gone.digest, gone.mtime = 0, 0, "", ""
        with contextlib.suppress(NotFoundError):
            await self.js.publish(
                self.meta_subject(key),
                json.dumps(gone.as_dict()).encode(),
                headers={js_api.Header.ROLLUP: "sub"},
            )
        await self.purge_chunks(info.nuid)
