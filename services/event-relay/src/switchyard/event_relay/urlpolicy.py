"""Where webhooks may go: no SSRF into loopback, private, link-local or metadata addresses.

A URL is checked when a subscription is written and again before every
delivery, after DNS resolution; the request then goes to the address that
was checked (the Host header and TLS SNI keep the name), so a name that
resolves to a public address at the check and a private one at connect
time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

RESOLVE_TTL = 2.0  # seconds a resolution is reused: about "at each delivery" at any rate


class Refused(ValueError):
    pass


def parse_allow(text: str) -> tuple[Network, ...]:
    """``SWITCHYARD_WEBHOOK_ALLOW_PRIVATE``; ValueError naming a bad entry."""
    out = []
    for item in (p.strip() for p in text.split(",")):
        if item:
            out.append(ipaddress.ip_network(item, strict=False))
    return tuple(out)


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``address``, name ``host``."""

    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def connect_url(self) -> str:
        addr = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{addr}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def check_syntax(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path+query) of an http(s) URL; Refused otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unmatched "[": "Invalid IPv6 URL"
        raise Refused("is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("must be an http or https URL")
    if not parts.hostname:
        raise Refused("has no host")
    if parts.username or parts.password:
        raise Refused("must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("has a bad port") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def allowed(address: Address, allow: tuple[Network, ...]) -> bool:
    if any(address in net for net in allow):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # is_global is false for loopback, private, link-local (169.254.169.254,
    # the cloud metadata address), shared (100.64/10), reserved and unspecified.
    return address.is_global and not address.is_multicast


class Policy:
    def __init__(self, allow: tuple[Network, ...]) -> None:
        self.allow = allow
        self._cache: dict[tuple[str, int], tuple[float, list[str]]] = {}
        # A URL's verdict, kept as long as the resolution it rests on: parsing
        # and checking again cost a tenth of a millisecond per delivery.
        self._checked: dict[str, tuple[float, Target]] = {}

    async def _resolve(self, host: str, port: int) -> list[str]:
        now = time.monotonic()
        hit = self._cache.get((host, port))
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise Refused(f"host {host} does not resolve ({exc.strerror or exc})") from None
        except UnicodeError:
            # A name IDNA cannot encode (control or unassigned characters) was a 500.
            raise Refused(f"host {host!r} is not a valid host name") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._cache[(host, port)] = (now + RESOLVE_TTL, addresses)
        return addresses

    async def check(self, url: str) -> Target:
        now = time.monotonic()
        hit = self._checked.get(url)
        if hit is not None and hit[0] > now:
            return hit[1]
        target = await self._check(url)
        if len(self._checked) > 10_000:  # URLs of deleted subscriptions
            self._checked.clear()
        self._checked[url] = (now + RESOLVE_TTL, target)
        return target

    async def _check(self, url: str) -> Target:
        scheme, host, port, path = check_syntax(url)
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        addresses = [str(literal)] if literal is not None else await self._resolve(host, port)
        # Every address the name has must pass: a client may be steered to any.
        for a in addresses:
            if not allowed(ipaddress.ip_address(a.split("%", 1)[0]), self.allow):
                raise Refused(
                    f"{host} is {a}, a private, loopback or link-local address "
                    "(SWITCHYARD_WEBHOOK_ALLOW_PRIVATE admits such networks)"
                )
        return Target(scheme, host, port, addresses[0], path)
