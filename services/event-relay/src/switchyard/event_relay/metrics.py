"""event-relay's Prometheus instruments (docs/observability.md).

No label names a subscription: their number is the users' to choose, and a
dashboard wants totals; the attempt log (``GET /api/webhooks/{id}/attempts``)
has the detail per subscription.
"""

from __future__ import annotations

from collections.abc import Callable

from switchyard.shared.metrics import Metrics


class EventRelayMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.deliveries = metrics.counter(
            "webhook_deliveries", "Webhook deliveries the endpoint accepted (2xx)"
        )
        self.retries = metrics.counter(
            "webhook_retries", "Webhook attempts that failed and are tried again later"
        )
        self.failures = metrics.counter(
            "webhook_failures",
            "Webhook deliveries given up (retries exhausted, 410 Gone, subscription gone)",
        )
        self.attempt_duration = metrics.histogram(
            "webhook_attempt_duration_seconds", "Time one webhook POST took, answered or not"
        )
        self.disabled = metrics.gauge(
            "webhook_disabled_subscriptions", "Webhook subscriptions disabled now"
        )

    def count_disabled(self, read: Callable[[], float]) -> None:
        self.disabled.set_function(read)
