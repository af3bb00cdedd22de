"""fsvalues.SOUND's URL form: the media service's mod_http_cache URLs and nothing else."""

from __future__ import annotations

import pytest

from switchyard.shared.fsvalues import PATH, SOUND


@pytest.mark.parametrize(
    "url",
    [
        "http_cache://http://media:8081/fs/media/ab12/upload/upload-20260101000000-x.wav",
        "http_cache://https://media.example.com/fs/media/ab12/upload/tts.mp3",
        "http_cache://http://10.0.0.5/a.wav",
    ],
)
def test_media_urls_are_sounds_not_paths(url: str) -> None:
    assert SOUND.ok(url)
    assert not PATH.ok(url)  # lua never runs a URL


@pytest.mark.parametrize(
    "url",
    [
        "http://media/a.wav",  # FreeSWITCH plays only through the cache
        "http_cache://ftp://media/a.wav",
        "http_cache://http://media/a.wav?sig=1",  # no query
        "http_cache://http://media/a b.wav",
        "http_cache://http://media/${system(id)}.wav",
        "http_cache://http://media/$${base_dir}/a.wav",
        "http_cache://http://media/%7Bx%7D.wav",
        "http_cache://http://media/{a}.wav",
        "http_cache://http://media/[a].wav",
        "http_cache://http://media/<a>.wav",
        "http_cache://http://media/a'.wav",
        'http_cache://http://media/a".wav',
        "http_cache://http://media/a\\b.wav",
        "http_cache://http://media/a.wav\n",
        "http_cache://http://user:pw@media/a.wav",
        "http_cache://http://-media/a.wav",
        "http_cache://http://media",
        "http_cache://http://media/",
        "http_cache://http://media/a.wav!/b.wav",
        "http_cache://http://media/a,b.wav",
        "http_cache://http://media/fs/../../etc/passwd",
        "http_cache://http://media/..",
    ],
)
def test_anything_else_in_a_url_is_refused(url: str) -> None:
    assert not SOUND.ok(url)
