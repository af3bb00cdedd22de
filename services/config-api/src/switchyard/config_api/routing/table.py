"""Route selection for one context, compiled for lookups on the call path.

The rule (docs/architecture.md, Routing rules; XUI's SQL): routes of the
context, not disabled, whose ``prefix`` starts the number and whose
``max_length`` is at least its length; the first by ``max_length``
ascending, then prefix length descending, then id.

Routes are bucketed by exact prefix; each bucket is sorted by
``(max_length, id)``. A lookup probes the len(N)+1 prefixes of N and, in each
bucket, bisects to the first route long enough, so it costs
O(len(N) · log bucket) whatever the number of routes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from switchyard.config_api.routing.model import Route


def rank(route: Route) -> tuple[int, int, int]:
    return (route.max_length, -len(route.prefix), route.id)


class ContextTable:
    """Immutable once built; safe to share between tasks and threads."""

    __slots__ = ("_buckets", "_disabled", "_lengths", "_size", "disabled_count")

    def __init__(self, routes: Iterable[Route]) -> None:
        buckets: dict[str, list[Route]] = {}
        disabled: dict[str, list[Route]] = {}
        for route in routes:
            target = disabled if route.disabled else buckets
            target.setdefault(route.prefix, []).append(route)
        self._buckets: dict[str, tuple[Route, ...]] = {}
        self._lengths: dict[str, tuple[int, ...]] = {}
        for prefix, group in buckets.items():
            group.sort(key=lambda r: (r.max_length, r.id))
            self._buckets[prefix] = tuple(group)
            self._lengths[prefix] = tuple(r.max_length for r in group)
        self._disabled = {p: tuple(sorted(g, key=rank)) for p, g in disabled.items()}
        self._size = sum(len(g) for g in buckets.values())
        self.disabled_count = sum(len(g) for g in disabled.values())

    def patched(self, gone: Iterable[Route], added: Iterable[Route]) -> ContextTable:
        """This table without the routes ``gone`` (as they were, by id) and
        with ``added``: only the buckets of their prefixes are sorted again,
        the others are shared with this table (both are immutable)."""
        gone, added = list(gone), list(added)
        ids = {r.id for r in gone}
        prefixes = {r.prefix for r in gone} | {r.prefix for r in added}
        out = ContextTable(())
        out._buckets, out._lengths = dict(self._buckets), dict(self._lengths)
        out._disabled = dict(self._disabled)
        out._size, out.disabled_count = self._size, self.disabled_count
        for prefix in prefixes:
            was_on, was_off = self._buckets.get(prefix, ()), self._disabled.get(prefix, ())
            kept = [r for r in (*was_on, *was_off) if r.id not in ids]
            kept.extend(r for r in added if r.prefix == prefix)
            part = ContextTable(kept)  # every route of it has this prefix
            out._buckets.pop(prefix, None)
            out._lengths.pop(prefix, None)
            out._disabled.pop(prefix, None)
            out._buckets.update(part._buckets)
            out._lengths.update(part._lengths)
            out._disabled.update(part._disabled)
            out._size += part._size - len(was_on)
            out.disabled_count += part.disabled_count - len(was_off)
        return out

    def __len__(self) -> int:
        """The routes that may be selected (the disabled ones are ``disabled_count``)."""
        return self._size

    def select(self, number: str) -> Route | None:
        """The route a call to ``number`` takes, or None."""
        size = len(number)
        best: Route | None = None
        best_rank: tuple[int, int, int] | None = None
        buckets, lengths = self._buckets, self._lengths
        for end in range(size, -1, -1):
            prefix = number[:end]
            bucket = buckets.get(prefix)
            if bucket is None:
                continue
            i = bisect_left(lengths[prefix], size)
            if i == len(bucket):
                continue
            route = bucket[i]
            r = (route.max_length, -end, route.id)
            if best_rank is None or r < best_rank:
                best, best_rank = route, r
        return best

    def candidates(self, number: str) -> list[Route]:
        """Every route whose prefix starts ``number`` (disabled and too short
        ones included), in rank order: what an explanation lists."""
        found: list[Route] = []
        for end in range(len(number), -1, -1):
            prefix = number[:end]
            found.extend(self._buckets.get(prefix, ()))
            found.extend(self._disabled.get(prefix, ()))
        found.sort(key=rank)
        return found


def select_linear(routes: Iterable[Route], context: str, number: str) -> Route | None:
    """The same rule as a plain scan (XUI's SQL, with the ``disabled`` column
    it lacked): the benchmark's baseline. The tests compare the table with
    XUI's SQL itself, run by SQLite, not with this (it shares ``rank``)."""
    matching = [
        r
        for r in routes
        if r.context == context
        and not r.disabled
        and number.startswith(r.prefix)
        and len(number) <= r.max_length
    ]
    return min(matching, key=rank, default=None)
