"""Reading mod_sofia's answers: gateways, their profiles and states."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class GatewayRow:
    profile: str
    name: str
    state: str


@dataclass(frozen=True)
class SofiaStatus:
    profiles: tuple[str, ...]
    gateways: tuple[GatewayRow, ...]

    def profile_of(self, gateway: str) -> str | None:
        return next((g.profile for g in self.gateways if g.name == gateway), None)


def parse_sofia_status(text: str) -> SofiaStatus:
    """``sofia status``: tab-separated Name, Type, Data, State rows between rulers."""
    profiles: list[str] = []
    gateways: list[GatewayRow] = []
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("\t")]
        if len(cols) < 4:
            continue
        name, kind, _, state = cols[:4]
        if kind == "profile":
            profiles.append(name)
        elif kind == "gateway" and "::" in name:
            profile, gw = name.split("::", 1)
            gateways.append(GatewayRow(profile, gw, state))
    return SofiaStatus(tuple(profiles), tuple(gateways))


def parse_gateway_xml(text: str) -> dict[str, str] | None:
    """``sofia xmlstatus gateway <gw>``: the gateway's fields, or None if unknown."""
    start = text.find("<gateway>")
    if start < 0:
        return None
    try:
        root = ET.fromstring(text[start:])  # noqa: S314 - trusted FreeSWITCH output
    except ET.ParseError:
        return None
    return {child.tag: (child.text or "") for child in root}
