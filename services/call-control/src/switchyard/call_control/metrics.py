"""call-control's Prometheus instruments (docs/observability.md).

Per node: ESL connections made, whether one is up, events read and each
command's round trip by ESL verb; per replica: the nodes it owns. The ESL
event path is measured in the benchmarks: an event costs one increment of
a child bound when the node's agent starts.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Histogram

from switchyard.shared.metrics import Metrics, known

# The first word of what the client sends; our code writes every line, but a
# label is bounded all the same.
VERBS = frozenset(
    {"api", "bgapi", "sendmsg", "event", "filter", "nixevent", "linger", "nolinger", "exit"}
)


class CallControlMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.esl_connected = metrics.gauge(
            "esl_connected", "1 while this replica holds an ESL connection to the node", ("node",)
        )
        self.esl_connections = metrics.counter(
            "esl_connections",
            "ESL connections made to the node (the first and every reconnection)",
            ("node",),
        )
        self.esl_events = metrics.counter(
            "esl_events", "Events read from the node's ESL connection", ("node",)
        )
        self.esl_command_duration = metrics.histogram(
            "esl_command_duration_seconds",
            "ESL command round trip (reply or background job result), by node and verb",
            ("node", "command"),
        )
        self.owned_nodes = metrics.gauge(
            "owned_nodes", "FreeSWITCH nodes this call-control replica owns now"
        )

    def node(self, name: str, connected: Callable[[], bool]) -> NodeMetrics:
        self.esl_connected.labels(name).set_function(lambda: float(connected()))
        return NodeMetrics(self, name)


class NodeMetrics:
    """One node's children, bound once."""

    def __init__(self, parent: CallControlMetrics, node: str) -> None:
        self.events: Counter = parent.esl_events.labels(node)
        self.connections: Counter = parent.esl_connections.labels(node)
        self._duration = parent.esl_command_duration
        self._node = node
        self._commands: dict[str, Histogram] = {}

    def command(self, verb: str, seconds: float) -> None:
        verb = known(verb, VERBS)
        child = self._commands.get(verb)
        if child is None:
            child = self._commands[verb] = self._duration.labels(self._node, verb)
        child.observe(seconds)
