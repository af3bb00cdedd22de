"""Users and API tokens. Passwords are scrypt-hashed; tokens are kept only as SHA-256.

A token is 32 random bytes (URL-safe base64): hashing it with SHA-256 is
enough, since nobody can guess a preimage of that much entropy; passwords
are low-entropy, so they get a slow, salted KDF.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: a logged-in user's session or a machine token."""

    token_id: int
    kind: str  # "session" | "api"
    name: str
    user_id: int | None = None
    username: str | None = None
    is_super: bool = False

    @property
    def operator(self) -> str:
        return self.username or f"token:{self.name}"


class TokenInfo(msgspec.Struct, frozen=True):
    id: int
    kind: str
    name: str
    username: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class User(msgspec.Struct, frozen=True):
    id: int
    username: str
    name: str
    extn: str
    is_super: bool


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    got = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
    )
    return hmac.compare_digest(got, expected)


# A hash to compare against when the user does not exist, so a wrong username
# costs as much time as a wrong password and usernames cannot be probed.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


async def create_user(
    conn: asyncpg.Pool | asyncpg.Connection,
    username: str,
    password: str,
    *,
    name: str = "",
    extn: str = "",
    is_super: bool = False,
) -> int:
    password_hash = await asyncio.to_thread(hash_password, password)
    user_id: int = await conn.fetchval(
        """INSERT INTO users (username, name, extn, password_hash, is_super)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        username,
        name,
        extn,
        password_hash,
        is_super,
    )
    return user_id


async def count_users(conn: asyncpg.Pool | asyncpg.Connection) -> int:
    n: int = await conn.fetchval("SELECT count(*) FROM users")
    return n


async def check_login(
    conn: asyncpg.Pool | asyncpg.Connection, username: str, password: str
) -> User | None:
    row = await conn.fetchrow(
        "SELECT id, username, name, extn, is_super, password_hash FROM users "
        "WHERE username = $1 AND NOT disabled",
        username,
    )
    stored = row["password_hash"] if row else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, stored)
    if not (ok and row):
        return None
    return User(row["id"], row["username"], row["name"], row["extn"], row["is_super"])


async def issue_token(
    conn: asyncpg.Pool | asyncpg.Connection,
    *,
    kind: str,
    name: str = "",
    user_id: int | None = None,
    ttl: timedelta | None = None,
) -> tuple[int, str, datetime | None]:
    """Create a token; return (id, the token in clear — shown once, expiry)."""
    token = new_token()
    expires = datetime.now(UTC) + ttl if ttl else None
    token_id: int = await conn.fetchval(
        """INSERT INTO api_tokens (token_hash, kind, name, user_id, expires_at)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        hash_token(token),
        kind,
        name,
        user_id,
        expires,
    )
    return token_id, token, expires


async def lookup_token(
    conn: asyncpg.Pool | asyncpg.Connection, digest: bytes
) -> tuple[Principal, datetime | None] | None:
    """The principal of a live token (by its SHA-256) and when it expires."""
    row = await conn.fetchrow(
        """SELECT t.id, t.kind, t.name, t.user_id, u.username, coalesce(u.is_super, false) AS sup,
                  t.expires_at,
                  t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS stale
             FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = $1
              AND t.revoked_at IS NULL
              AND (t.expires_at IS NULL OR t.expires_at > now())
              AND (u.id IS NULL OR NOT u.disabled)""",
        digest,
    )
    if row is None:
        return None
    if row["stale"]:
        # At most one write a minute per token: auth stays a read on the hot path.
        await conn.execute("UPDATE api_tokens SET last_used_at = now() WHERE id = $1", row["id"])
    principal = Principal(
        row["id"], row["kind"], row["name"], row["user_id"], row["username"], row["sup"]
    )
    return principal, row["expires_at"]


async def authenticate(conn: asyncpg.Pool | asyncpg.Connection, token: str) -> Principal | None:
    found = await lookup_token(conn, hash_token(token))
    return found[0] if found else None


async def revoke_token(conn: asyncpg.Pool | asyncpg.Connection, token_id: int) -> bool:
    status: str = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
    )
    return status.endswith(" 1")


async def list_tokens(conn: asyncpg.Pool | asyncpg.Connection) -> list[TokenInfo]:
    rows = await conn.fetch(
        """SELECT t.id, t.kind, t.name, u.username, t.created_at, t.expires_at,
                  t.revoked_at, t.last_used_at
             FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
            WHERE t.kind = 'api' ORDER BY t.id"""
    )
    return [TokenInfo(**dict(r)) for r in rows]
