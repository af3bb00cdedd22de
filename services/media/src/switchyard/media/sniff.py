"""What a file is, read from its first bytes: never from its name or the
client's Content-Type, which anyone can set to anything."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    ext: str
    mime: str


WAV = Kind("wav", "audio/wav")
MP3 = Kind("mp3", "audio/mpeg")
# Text files are only told apart by their name; these are the ones kept as
# themselves (scripts, lists), any other text is stored as .txt.
TEXT_EXTS = {
    "lua": "text/x-lua",
    "js": "text/javascript",
    "csv": "text/csv",
    "xml": "application/xml",
    "json": "application/json",
    "txt": "text/plain",
}


def sniff(head: bytes, original_name: str = "") -> Kind | None:
    """The kind of a file starting with ``head`` (at least 64 bytes when the
    file has them); None for content the service does not store."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return MP3
    if head[:4] == b"OggS":
        return Kind("ogg", "audio/ogg")
    if head[:4] == b"fLaC":
        return Kind("flac", "audio/flac")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"M4A"):
            return Kind("m4a", "audio/mp4")
        return Kind("mp4", "video/mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return Kind("webm", "video/webm")
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return Kind("png", "image/png")
    if head[:3] == b"\xff\xd8\xff":
        return Kind("jpg", "image/jpeg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Kind("gif", "image/gif")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Kind("tif", "image/tiff")  # faxes
    if head[:5] == b"%PDF-":
        return Kind("pdf", "application/pdf")
    if _is_text(head):
        ext = original_name.rpartition(".")[2].lower() if "." in original_name else ""
        ext = ext if ext in TEXT_EXTS else "txt"
        return Kind(ext, TEXT_EXTS[ext])
    return None


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


MIME_BY_EXT = {
    "wav": WAV.mime,
    "mp3": MP3.mime,
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "tif": "image/tiff",
    "pdf": "application/pdf",
    **TEXT_EXTS,
}
