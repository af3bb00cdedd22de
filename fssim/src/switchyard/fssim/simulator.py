"""Several simulated FreeSWITCH nodes in one process, each on its own ESL port."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from switchyard.fssim.node import Node


class Simulator:
    def __init__(self) -> None:
        self.nodes: list[Node] = []

    async def add_node(
        self, name: str | None = None, *, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> Node:
        node = Node(name or f"fssim{len(self.nodes) + 1}", **options)
        await node.start(host, port)
        self.nodes.append(node)
        return node

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def fs_nodes(self) -> str:
        """The nodes as ``SWITCHYARD_FS_NODES`` spells them."""
        return ",".join(f"{n.name}={n.esl_url}" for n in self.nodes)

    async def stop(self) -> None:
        for node in self.nodes:
            await node.stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
