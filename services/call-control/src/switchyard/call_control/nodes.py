"""The FreeSWITCH nodes call-control serves, from ``SWITCHYARD_FS_NODES``.

Format: comma-separated ``name=esl://password@host:port``. The password is
kept out of ``repr`` so a node never leaks it into a log line.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import msgspec

from switchyard.shared.settings import Settings

# A node's name: a subject token and a KV key, so a DNS label at most.
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class NodeConfig(msgspec.Struct, frozen=True):
    name: str
    host: str
    port: int
    password: str = msgspec.field(default="ClueCon")

    def __repr__(self) -> str:
        return f"NodeConfig(name={self.name!r}, host={self.host!r}, port={self.port})"


def parse_nodes(text: str) -> list[NodeConfig]:
    nodes: list[NodeConfig] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        if not sep or not NAME.fullmatch(name):
            raise ValueError(f"SWITCHYARD_FS_NODES: {item.split('=')[0]!r} is not name=esl://…")
        parts = urlsplit(url)
        if parts.scheme != "esl" or not parts.hostname:
            raise ValueError(f"SWITCHYARD_FS_NODES: node {name} needs esl://password@host:port")
        password = unquote(parts.password or parts.username or "ClueCon")
        nodes.append(NodeConfig(name, parts.hostname, parts.port or 8021, password))
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise ValueError("SWITCHYARD_FS_NODES: node names must be unique")
    return nodes


def configured_nodes(settings: Settings) -> list[str]:
    return [n.name for n in parse_nodes(settings.fs_nodes)]
