"""Standard Webhooks signing: what event-relay signs and `switchyard webhook-listen` checks.

A delivery carries ``webhook-id`` (the same on every retry and replay),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, one per secret,
space separated (a rotated secret keeps signing beside the new one). A
secret is written ``whsec_<base64 of the key bytes>``. The reference
verifier is PyPI's ``standardwebhooks``; the tests check deliveries with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
TOLERANCE = 300  # seconds either way, as the reference verifier


class SignatureError(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("must start with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        raise ValueError("is not whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("must hold 24 to 64 bytes of key")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(keys: Iterable[bytes], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers (no signature header without a key)."""
    return Signer(keys).headers(msg_id, timestamp, body)


class Signer:
    """``headers`` for fixed keys, each key's HMAC set up once: what a relay
    holds per subscription. ``hmac.new`` per delivery redid the key schedule
    and built two hash objects each time; copying a keyed one and feeding it
    the prefix and the body (not their concatenation, a copy of the body)
    took 4.1 instead of 5.5 us for a 5 KB event (issue 14). ``headers``
    signs through one made for the call."""

    __slots__ = ("_macs",)

    def __init__(self, keys: Iterable[bytes]) -> None:
        self._macs = [hmac.new(k, digestmod=hashlib.sha256) for k in keys]

    def headers(self, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        out = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
        if self._macs:
            prefix = f"{msg_id}.{timestamp}.".encode()
            sigs = []
            for keyed in self._macs:
                mac = keyed.copy()
                mac.update(prefix)
                mac.update(body)
                sigs.append("v1," + base64.b64encode(mac.digest()).decode())
            out["webhook-signature"] = " ".join(sigs)
        return out


def verify(secret: str, body: bytes, received: Mapping[str, str], now: float | None = None) -> str:
    """The ``webhook-id`` of a delivery signed with ``secret``; SignatureError otherwise."""
    msg_id = received.get("webhook-id", "")
    stamp = received.get("webhook-timestamp", "")
    sigs = received.get("webhook-signature", "")
    if not msg_id or not stamp.isdigit() or not sigs:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE:
        raise SignatureError("timestamp outside the tolerance")
    expected = signature(secret_key(secret), msg_id, int(stamp), body)
    if not any(hmac.compare_digest(expected, s) for s in sigs.split()):
        raise SignatureError("no signature matches")
    return msg_id
