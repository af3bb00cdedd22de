"""Configuration reads answered from memory until the configuration changes.

An authenticated ``GET`` of one resource and the row count of a list page
were a Postgres round trip each on every request: the API's hot reads ran
at a third of the app's own rate, and counting 100k routes for every page
at a twentieth (issue 12; figures in docs/benchmarks.md). Configuration is
read far more often than it is written, so a replica keeps what it read —
a rendered row, a list's total — until the configuration changes.

"Changes" is every way a replica learns of a write (``changed``):

- its own writes, after the commit and before the client gets its answer,
  so a client reading from the replica it wrote through always sees its
  write;
- another replica's, when its ``sy.config.changed`` notice arrives (the
  outbox publishes it just after the commit);
- any write whose notice was lost: the ``config_version`` poll (0.5 s)
  finds it.

So a read on another replica reflects a write as soon as its notice
arrives, and at the latest within the poll interval: the promise the
routing answers already keep (docs/config-api.md). Every change drops
everything; a configuration write is rare next to reads, and one
generation counter cannot be wrong about which rows a change touched
(a route's detail, for instance, holds its children).

A read that began before a change must not store what it read after it:
``generation`` is taken before the query and the value kept only if no
change came in between.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

# Rendered rows and counts kept at most; past it the cache starts again
# (a dict of rows is small: ~1-2 KB each, so a few MB at the limit).
LIMIT = 4096


class ReadCache:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.generation = 0
        self._rows: dict[Hashable, dict[str, Any]] = {}
        self._counts: dict[Hashable, int] = {}

    def changed(self) -> None:
        """The configuration changed somewhere: forget everything read."""
        self.generation += 1
        self._rows.clear()
        self._counts.clear()

    def row(self, key: Hashable) -> dict[str, Any] | None:
        """A copy of the rendered row (handlers add keys to what they return)."""
        found = self._rows.get(key)
        return None if found is None else dict(found)

    def keep_row(self, key: Hashable, generation: int, row: dict[str, Any]) -> None:
        if generation == self.generation:
            if len(self._rows) >= self.limit:
                self._rows.clear()
            self._rows[key] = dict(row)

    def count(self, key: Hashable) -> int | None:
        return self._counts.get(key)

    def keep_count(self, key: Hashable, generation: int, total: int) -> None:
        if generation == self.generation:
            if len(self._counts) >= self.limit:
                self._counts.clear()
            self._counts[key] = total
