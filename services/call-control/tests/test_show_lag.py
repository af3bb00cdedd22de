"""EndedChannels: what a channel list hides after a hangup, and for how long."""

from __future__ import annotations

import time

import pytest

from switchyard.call_control.show_lag import EndedChannels


def test_a_hung_up_channel_is_remembered_for_keep_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    ended = EndedChannels(keep=10.0)
    ended.add("a")
    now[0] += 6
    ended.add("b")
    assert "a" in ended and "b" in ended
    now[0] += 5  # a: 11 s, b: 5 s
    assert "a" not in ended and "b" in ended
    ended.add("c")  # forgets what is too old
    assert list(ended._at) == ["b", "c"]


def test_a_second_hangup_of_a_channel_restarts_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    ended = EndedChannels(keep=10.0)
    ended.add("a")
    ended.add("b")
    now[0] += 8
    ended.add("a")  # CHANNEL_DESTROY after CHANNEL_HANGUP_COMPLETE
    now[0] += 4  # b: 12 s, a: 4 s since its last
    ended.add("c")
    assert "a" in ended and "b" not in ended
    assert list(ended._at) == ["a", "c"]


def test_a_new_channel_with_an_ended_uuid_is_not_hidden() -> None:
    ended = EndedChannels()
    ended.add("a")
    ended.discard("a")
    assert "a" not in ended
