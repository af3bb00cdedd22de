"""media's TTS instruments (docs/observability.md): vendor calls by outcome, cache hits."""

from __future__ import annotations

from switchyard.shared.metrics import Metrics

VENDORS = ("baidu", "ali", "huawei")


class TtsMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.vendor_calls = metrics.counter(
            "tts_vendor_calls",
            "Requests to a TTS vendor (one per piece of a long text), by vendor and outcome "
            "(ok, error)",
            ("vendor", "outcome"),
        )
        self.requests = metrics.counter(
            "tts_requests",
            "TTS requests answered with audio, by vendor and whether the cache had it "
            "(cache=hit: no vendor call)",
            ("vendor", "cache"),
        )
        for vendor in VENDORS:
            for outcome in ("ok", "error"):
                self.vendor_calls.labels(vendor, outcome)
            for cache in ("hit", "miss"):
                self.requests.labels(vendor, cache)
