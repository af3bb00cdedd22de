"""Verified tokens kept in memory for a few seconds, dropped at once on revocation.

Looking every request's token up in Postgres was the largest cost of an
authenticated GET (issue 12: a round trip per request). A replica keeps
what Postgres said about a token, keyed by the token's SHA-256 (never the
token itself), for ``SWITCHYARD_TOKEN_CACHE_TTL`` seconds, and never past
the token's own expiry. What still reaches every replica quickly:

- a logout (``DELETE /api/sessions``) publishes ``Subjects.token_revoked``;
  every runner process drops that token id on the notice, milliseconds;
- anything else (``switchyard token revoke`` from a shell, a disabled user,
  a lost notice) takes effect on each replica when its entry ages out: at
  most the TTL.

Unknown and refused tokens are not cached: each costs its lookup, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from switchyard.shared.accounts import Principal, hash_token, lookup_token
from switchyard.shared.messages import TokenRevoked

# Beyond this many live entries the cache starts over: a bound on memory that
# costs one lookup per token afterwards, never a wrong answer.
MAX_ENTRIES = 50_000


class TokenCache:
    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[bytes, tuple[Principal, float]] = {}

    def get(self, digest: bytes) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, valid_until = entry
        if self._clock() >= valid_until:
            del self._entries[digest]
            return None
        return principal

    def put(self, digest: bytes, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl <= 0:
            return
        life = self.ttl
        if expires_at is not None:
            life = min(life, (expires_at - datetime.now(UTC)).total_seconds())
        if life <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (principal, self._clock() + life)

    def forget(self, token_id: int) -> None:
        """Drop every entry of this token (a revocation notice)."""
        for digest in [d for d, (p, _) in self._entries.items() if p.token_id == token_id]:
            del self._entries[digest]

    async def verify(self, pool: asyncpg.Pool, token: str) -> Principal | None:
        """The principal of ``token``: from memory when verified lately, else Postgres."""
        digest = hash_token(token)
        principal = self.get(digest)
        if principal is not None:
            return principal
        found = await lookup_token(pool, digest)
        if found is None:
            return None
        principal, expires_at = found
        self.put(digest, principal, expires_at)
        return principal

    async def on_notice(self, notice: TokenRevoked) -> None:
        """``Subjects.token_revoked``: a logout somewhere."""
        self.forget(notice.token_id)
