"""coocenter's WEBKEY digest: today's always, the neighbouring day's only near midnight."""

from __future__ import annotations

import datetime as dt
import hashlib

from switchyard.shared.coocenter_auth import authorized, digest, push_header

KEY = "asjdfjklkasdf"
TZ = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_digest_is_md5_of_webkey_and_the_date() -> None:
    assert digest(KEY, dt.date(2026, 12, 2)) == hashlib.md5(b"asjdfjklkasdf2026-12-02").hexdigest()  # noqa: S324


def test_todays_digest_passes_and_others_do_not() -> None:
    now = at("2026-12-02T12:00:00")
    assert authorized(KEY, digest(KEY, dt.date(2026, 12, 2)), now)
    assert authorized(KEY, digest(KEY, dt.date(2026, 12, 2)).upper(), now)
    assert not authorized(KEY, digest(KEY, dt.date(2026, 12, 1)), now)
    assert not authorized(KEY, digest(KEY, dt.date(2026, 12, 3)), now)
    assert not authorized(KEY, digest("other", dt.date(2026, 12, 2)), now)
    assert not authorized(KEY, None, now)
    assert not authorized(KEY, "", now)


def test_yesterdays_digest_passes_just_after_midnight_and_not_after_the_grace() -> None:
    yesterday = digest(KEY, dt.date(2026, 12, 1))
    assert authorized(KEY, yesterday, at("2026-12-02T00:04:59"))
    assert not authorized(KEY, yesterday, at("2026-12-02T00:05:01"))


def test_tomorrows_digest_passes_just_before_midnight_only() -> None:
    tomorrow = digest(KEY, dt.date(2026, 12, 3))
    assert authorized(KEY, tomorrow, at("2026-12-02T23:56:00"))
    assert not authorized(KEY, tomorrow, at("2026-12-02T23:54:00"))


def test_no_webkey_is_open_and_pushes_carry_no_header() -> None:
    assert authorized("", None, at("2026-12-02T12:00:00"))
    assert push_header("", at("2026-12-02T12:00:00")) == {}
    assert push_header(KEY, at("2026-12-02T12:00:00")) == {
        "Authorization": digest(KEY, dt.date(2026, 12, 2))
    }
