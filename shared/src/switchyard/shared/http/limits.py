"""Login rate limits: per username and per client IP, kept in this process.

An attempt is counted as a failure from the moment it starts (``begin``) and
taken back only when the password was right (``succeeded``), so no number of
concurrent attempts gets past the limit, and a blocked attempt never reaches
the password check: past the limit even the right password is refused.

- Per username: ``user_failures`` failed logins within ``user_window``
  seconds lock the username for ``user_window`` seconds; each later lock
  (without a successful login in between) lasts twice as long as the one
  before, up to ``max_lockout``.
- Per client IP: ``ip_failures`` failed logins within ``ip_window`` seconds;
  further attempts wait until the oldest of them leaves the window.

The state is per process (per replica): with N replicas behind a balancer an
attacker gets up to N times the attempts. Idle entries are dropped; at most
``MAX_KEYS`` usernames and IPs each are tracked. A username that is locked or
has been locked (its lock doubles) is never dropped to make room, nor one
with recent failures while a clean one can go: otherwise a flood of made-up
usernames would wipe a lock. An attempt the IP limit refuses never creates a
username entry. When every tracked username is locked, a new one waits.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from switchyard.shared.settings import Settings

MAX_KEYS = 100_000
# How far from the least recently seen end a full table looks for an entry
# it may drop.
_EVICT_SCAN = 1_000


@dataclass
class _User:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    strikes: int = 0  # locks so far; each doubles the next one
    last: float = 0.0


@dataclass
class _Ip:
    failures: deque[float] = field(default_factory=deque)
    reported_until: float = 0.0
    last: float = 0.0


S = TypeVar("S", _User, _Ip)


@dataclass(frozen=True)
class Limited:
    """Refused: wait ``retry_after`` seconds; ``limit`` is ``"user"`` or ``"ip"``.

    ``first``: this refusal starts a block (worth an operation-log row; the
    refusals after it, until it ends, are not).
    """

    retry_after: int
    limit: str
    first: bool


class LoginLimiter:
    def __init__(
        self,
        *,
        user_failures: int = 5,
        user_window: float = 300,
        max_lockout: float = 3600,
        ip_failures: int = 20,
        ip_window: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_failures = max(1, user_failures)
        self.user_window = user_window
        self.max_lockout = max(max_lockout, user_window)
        self.ip_failures = max(1, ip_failures)
        self.ip_window = ip_window
        self.clock = clock
        self._users: OrderedDict[str, _User] = OrderedDict()
        self._ips: OrderedDict[str, _Ip] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimiter:
        return cls(
            user_failures=settings.login_user_failures,
            user_window=settings.login_user_window,
            max_lockout=settings.login_max_lockout,
            ip_failures=settings.login_ip_failures,
            ip_window=settings.login_ip_window,
        )

    @staticmethod
    def user_key(username: str) -> str:
        return username.strip().casefold()

    def begin(self, username: str, ip: str) -> Limited | None:
        """Count an attempt as failed already; None if it may go on, else why not."""
        now = self.clock()
        self._prune(now)
        ip_state = self._touch(self._ips, ip, _Ip, now)
        _expire(ip_state.failures, now - self.ip_window)
        if len(ip_state.failures) >= self.ip_failures:
            # Before the username is looked at: a refused attempt leaves no
            # username entry behind (they would crowd out real locks).
            return self._ip_limited(ip_state, now)
        user = self._user(self.user_key(username), now)
        if user is None:
            return Limited(_seconds(self.user_window), "user", first=False)
        _expire(user.failures, now - self.user_window)

        if user.locked_until > now:
            return Limited(_seconds(user.locked_until - now), "user", first=False)
        if len(user.failures) >= self.user_failures:
            lock = min(self.max_lockout, self.user_window * 2**user.strikes)
            user.strikes += 1
            user.locked_until = now + lock
            user.failures.clear()
            return Limited(_seconds(lock), "user", first=True)
        user.failures.append(now)
        ip_state.failures.append(now)
        return None

    def succeeded(self, username: str, ip: str) -> None:
        """The attempt ``begin`` let through had the right password."""
        self._users.pop(self.user_key(username), None)
        ip_state = self._ips.get(ip)
        if ip_state is not None and ip_state.failures:
            ip_state.failures.pop()

    def _ip_limited(self, ip_state: _Ip, now: float) -> Limited:
        wait = ip_state.failures[0] + self.ip_window - now
        first = ip_state.reported_until <= now
        ip_state.reported_until = now + wait
        return Limited(_seconds(wait), "ip", first=first)

    def _user(self, key: str, now: float) -> _User | None:
        """The username's entry; None when the table is full of locks."""
        user = self._users.get(key)
        if user is not None:
            self._users.move_to_end(key)
            user.last = now
            return user
        if len(self._users) >= MAX_KEYS and not self._drop_a_user(now):
            return None
        user = self._users[key] = _User(last=now)
        return user

    def _drop_a_user(self, now: float) -> bool:
        # A clean entry first (no failures left in the window, never locked),
        # else one that was never locked; a lock or its strikes never go.
        fallback = None
        for n, (key, user) in enumerate(self._users.items()):
            if n >= _EVICT_SCAN:
                break
            if user.strikes or user.locked_until > now:
                continue
            _expire(user.failures, now - self.user_window)
            if not user.failures:
                del self._users[key]
                return True
            fallback = fallback or key
        if fallback is None:
            return False
        del self._users[fallback]
        return True

    def _touch(self, table: OrderedDict[str, S], key: str, factory: type[S], now: float) -> S:
        state = table.get(key)
        if state is None:
            state = table[key] = factory()
            while len(table) > MAX_KEYS:
                table.popitem(last=False)
        else:
            table.move_to_end(key)
        state.last = now
        return state

    def _prune(self, now: float) -> None:
        # Least recently seen first: stop at the first entry still in use.
        idle = now - self.max_lockout - self.user_window
        while self._users:
            key, user = next(iter(self._users.items()))
            if user.last > idle or user.locked_until > now:
                break
            del self._users[key]
        while self._ips:
            key, ip_state = next(iter(self._ips.items()))
            if ip_state.last > now - self.ip_window:
                break
            del self._ips[key]


def _expire(stamps: deque[float], before: float) -> None:
    while stamps and stamps[0] <= before:
        stamps.popleft()


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
