"""Audio facts read from the files themselves (WAV headers, MP3 frame
headers) and the joins TTS needs; no external tool."""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class AudioInfo:
    duration_ms: int = 0
    sample_rate: int = 0
    channels: int = 0
    bit_rate: int = 0


@dataclass(frozen=True)
class Wav:
    channels: int
    sample_rate: int
    bits: int
    data_offset: int
    data_size: int


def parse_wav(head: bytes, file_size: int) -> Wav | None:
    """The format of a PCM WAV from its first bytes (the chunks before ``data``)."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt " and body + 16 <= len(head):
            _, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", head, body)
            fmt = (channels, rate, bits)
        elif cid == b"data" and fmt is not None:
            # Recorders write 0 or 0xFFFFFFFF while still writing: use the file.
            if size in (0, 0xFFFFFFFF) or body + size > file_size:
                size = max(0, file_size - body)
            return Wav(fmt[0], fmt[1], fmt[2], body, size)
        pos = body + size + (size & 1)
    return None


# MPEG-1 layer III bit rates (kbit/s) and sample rates by version.
_MP3_RATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2
    0: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2.5
}
_MP3_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _skip_id3(data: bytes) -> int:
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        return 10 + size
    return 0


def mp3_info(head: bytes, file_size: int) -> AudioInfo:
    """From the first frame header: assumes a constant bit rate (what TTS
    vendors send); a VBR file's duration is an estimate."""
    pos = _skip_id3(head)
    while pos + 4 <= len(head):
        if head[pos] == 0xFF and head[pos + 1] & 0xE0 == 0xE0:
            version = (head[pos + 1] >> 3) & 3
            layer = (head[pos + 1] >> 1) & 3
            rate_i = head[pos + 2] >> 4
            sr_i = (head[pos + 2] >> 2) & 3
            if version != 1 and layer == 1 and 0 < rate_i < 15 and sr_i < 3:
                kbps = _MP3_RATES[version][rate_i]
                sample_rate = _MP3_SAMPLE_RATES[version][sr_i]
                channels = 1 if (head[pos + 3] >> 6) == 3 else 2
                audio_bytes = file_size - pos
                return AudioInfo(audio_bytes * 8 // kbps, sample_rate, channels, kbps * 1000)
        pos += 1
    return AudioInfo()


def audio_info(ext: str, head: bytes, file_size: int) -> AudioInfo:
    if ext == "wav":
        wav = parse_wav(head, file_size)
        if wav is None or not wav.sample_rate or not wav.channels:
            return AudioInfo()
        byte_rate = wav.sample_rate * wav.channels * max(wav.bits, 8) // 8
        return AudioInfo(
            wav.data_size * 1000 // byte_rate, wav.sample_rate, wav.channels, byte_rate * 8
        )
    if ext == "mp3":
        return mp3_info(head, file_size)
    return AudioInfo()


def wav_bytes(pcm: bytes, sample_rate: int, channels: int = 1, bits: int = 16) -> bytes:
    """A canonical 44-byte-header PCM WAV around ``pcm``."""
    block = channels * bits // 8
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * block,
        block,
        bits,
        b"data",
        len(pcm),
    )
    return header + pcm


def join(parts: list[bytes], fmt: str) -> bytes:
    """Audio pieces of one format as one file: WAVs by their PCM (one header),
    MP3s frame after frame (later ID3 tags dropped), raw PCM as is."""
    if len(parts) == 1:
        return parts[0]
    if fmt == "wav":
        first = parse_wav(parts[0], len(parts[0]))
        if first is None:
            raise ValueError("not a WAV")
        pcm = []
        for part in parts:
            w = parse_wav(part, len(part))
            if w is None or (w.channels, w.sample_rate, w.bits) != (
                first.channels,
                first.sample_rate,
                first.bits,
            ):
                raise ValueError("WAV pieces differ in format")
            pcm.append(part[w.data_offset : w.data_offset + w.data_size])
        return wav_bytes(b"".join(pcm), first.sample_rate, first.channels, first.bits)
    if fmt == "mp3":
        return parts[0] + b"".join(p[_skip_id3(p) :] for p in parts[1:])
    return b"".join(parts)
