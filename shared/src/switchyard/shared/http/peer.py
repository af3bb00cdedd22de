"""Who is on the other end of a request: client IP, TLS, the host it asked for.

The socket peer is the truth; the ``X-Forwarded-*`` headers are believed
only when that peer is one of ``SWITCHYARD_TRUSTED_PROXIES`` (IPs or CIDRs),
since anyone else can write them.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from litestar.types import Scope

from switchyard.shared.settings import SettingsError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def parse_networks(spec: str, name: str = "SWITCHYARD_TRUSTED_PROXIES") -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` -> networks; a bad entry names the variable ``name``."""
    nets: list[Network] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(f"{name}: {item!r} is not an IP address or network") from None
    return tuple(nets)


def address_in(ip: str, nets: tuple[Network, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    return any(addr in net for net in nets)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _trusted_nets(scope: Scope) -> tuple[Network, ...]:
    app = scope.get("app")
    runtime = getattr(getattr(app, "state", None), "runtime", None) if app else None
    settings: Any = getattr(runtime, "settings", None)
    spec = getattr(settings, "trusted_proxies", "") if settings is not None else ""
    return parse_networks(spec) if spec else ()


def peer_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def via_trusted_proxy(scope: Scope) -> bool:
    nets = _trusted_nets(scope)
    return bool(nets) and address_in(peer_ip(scope), nets)


def client_ip(scope: Scope) -> str:
    """The socket peer, or the nearest untrusted X-Forwarded-For hop behind trusted proxies."""
    peer = peer_ip(scope)
    if not via_trusted_proxy(scope):
        return peer
    nets = _trusted_nets(scope)
    hops = [h.strip() for h in _header(scope, b"x-forwarded-for").split(",") if h.strip()]
    for hop in reversed(hops):
        if not address_in(hop, nets):
            return hop
    return hops[0] if hops else peer


def is_https(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    if via_trusted_proxy(scope):
        proto = _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
        return proto == "https"
    return False


def request_host(scope: Scope) -> str:
    """The host[:port] the client addressed: Host, or X-Forwarded-Host from a trusted proxy."""
    if via_trusted_proxy(scope) and (forwarded := _header(scope, b"x-forwarded-host")):
        return forwarded.split(",")[0].strip()
    return _header(scope, b"host")
