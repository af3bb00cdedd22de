"""An immutable map of row ids that a change copies only in part.

A reload after a write among 100k routes must not copy (and then free) a
100k-entry dict for every route map it keeps: on the shared 2-core machine
each such copy and free cost milliseconds on the loop that answers
FreeSWITCH's /fs/xml fetches (issue 12). Ids are kept in shards of 1,024
consecutive ids; ``patched`` copies the outer dict and the shards a change
touches, and shares the rest with the map it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

V = TypeVar("V")

_SHIFT = 10


class IdMap(Mapping[int, V]):
    __slots__ = ("_len", "_shards")

    def __init__(self, items: Iterable[tuple[int, V]] = ()) -> None:
        shards: dict[int, dict[int, V]] = {}
        for key, value in items:
            shards.setdefault(key >> _SHIFT, {})[key] = value
        self._shards = shards
        self._len = sum(len(s) for s in shards.values())

    def __getitem__(self, key: int) -> V:
        return self._shards[key >> _SHIFT][key]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int):
            return False
        shard = self._shards.get(key >> _SHIFT)
        return shard is not None and key in shard

    def __iter__(self) -> Iterator[int]:
        for shard in self._shards.values():
            yield from shard

    def __len__(self) -> int:
        return self._len

    def patched(self, removed: Iterable[int], added: Iterable[tuple[int, V]]) -> IdMap[V]:
        """This map without ``removed`` and with ``added`` (added wins)."""
        shards = dict(self._shards)
        copied: set[int] = set()
        size = self._len

        def shard(key: int) -> dict[int, V]:
            s = key >> _SHIFT
            if s not in copied:
                shards[s] = dict(shards.get(s, ()))
                copied.add(s)
            return shards[s]

        for key in removed:
            part = shard(key)
            if key in part:
                del part[key]
                size -= 1
        for key, value in added:
            part = shard(key)
            size += key not in part
            part[key] = value
        for s in copied:
            if not shards[s]:
                del shards[s]
        out: IdMap[V] = IdMap()
        out._shards, out._len = shards, size
        return out
