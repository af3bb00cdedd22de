"""Prometheus metrics: one registry per app, served at ``/metrics`` (docs/observability.md).

prometheus_client, not OpenTelemetry's metrics SDK: on the paths the
benchmarks measure (``/fs/xml``, ESL event intake) an OTel ``Counter.add``
with attributes cost about 6 µs, a bound prometheus_client child's ``inc``
0.3 µs. So instruments are created once, per app, and hot paths hold their
labelled children (``bound``): an increment is then a lock and an add.

Labels never come from user input as it arrives: a route is its template
(never the path, which can hold a secret), a method or section outside the
known set is ``other``. Nothing here is module-global: the registry is the
app's, so several apps in one process (tests, ``up``) never share a series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
PREFIX = "switchyard_"
# Seconds: a /fs/xml answer takes well under a millisecond, an originate seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

B = TypeVar("B")


class Metrics:
    """The app's registry and the factories every service's instruments come from."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._bundles: dict[type[Any], Any] = {}

    def bundle(self, kind: Callable[[Metrics], B]) -> B:
        """The one ``kind(self)`` of this registry: a module's instruments,
        made on first use (a service's lifespan asks early, so they are
        listed from the first scrape) and shared after that."""
        found = self._bundles.get(kind)  # type: ignore[call-overload]
        if found is None:
            found = self._bundles[kind] = kind(self)  # type: ignore[index]
        return found  # type: ignore[no-any-return]

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        """``name`` without the prefix or ``_total``: ``http_requests``."""
        return Counter(PREFIX + name, doc, labels, registry=self.registry)

    def gauge(
        self,
        name: str,
        doc: str,
        labels: Sequence[str] = (),
        *,
        read: Callable[[], float] | None = None,
    ) -> Gauge:
        """With ``read``: a gauge computed when scraped (nothing to keep current)."""
        gauge = Gauge(PREFIX + name, doc, labels, registry=self.registry)
        if read is not None:
            gauge.set_function(read)
        return gauge

    def histogram(
        self,
        name: str,
        doc: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        return Histogram(PREFIX + name, doc, labels, registry=self.registry, buckets=buckets)

    def render(self) -> bytes:
        """The Prometheus text exposition of everything registered."""
        return generate_latest(self.registry)


class JetStreamMetrics:
    """Every durable consumer's lag (event-relay's, media's recordings,
    call-control's call records and after-call work), by consumer name."""

    def __init__(self, metrics: Metrics) -> None:
        self.consumer_pending = metrics.gauge(
            "jetstream_consumer_pending",
            "Messages in the stream not yet delivered to the consumer (its lag), as of the "
            "last fetch",
            ("consumer",),
        )


def known(value: str, allowed: frozenset[str], other: str = "other") -> str:
    """``value`` when it is one of ``allowed``, else ``other``: a bounded label."""
    return value if value in allowed else other
