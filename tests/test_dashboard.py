"""deploy/grafana/switchyard.json queries only metrics, and labels, the services export."""

from __future__ import annotations

import json
import re
from pathlib import Path

from switchyard.call_control.metrics import CallControlMetrics
from switchyard.config_api.fsxml.metrics import FsXmlMetrics
from switchyard.event_relay.metrics import EventRelayMetrics
from switchyard.media.tts.metrics import TtsMetrics
from switchyard.shared.http.tracing import HttpMetrics
from switchyard.shared.metrics import JetStreamMetrics, Metrics

DASHBOARD = Path(__file__).parent.parent / "deploy" / "grafana" / "switchyard.json"
# What Prometheus adds to every series (scrape target) or a histogram to its buckets.
ADDED = {"instance", "job", "pod", "namespace", "le"}
NAME = re.compile(r"\bswitchyard_[a-z_]+")
# A metric name with its {selector}, and every "by (labels)".
SELECTOR = re.compile(r"(switchyard_[a-z_]+)\{([^}]*)\}")
BY = re.compile(r"\bby \(([^)]*)\)")


def exported() -> dict[str, set[str]]:
    """Every sample name the services' instruments expose, with its label names.

    The same classes each service registers on its app's registry (the
    served /metrics is checked against traffic in test_metrics.py)."""
    metrics = Metrics()
    bundles = (
        HttpMetrics,
        FsXmlMetrics,
        CallControlMetrics,
        EventRelayMetrics,
        JetStreamMetrics,
        TtsMetrics,
    )
    for bundle in bundles:
        metrics.bundle(bundle)
    names: dict[str, set[str]] = {}
    for family in metrics.registry.collect():
        labels = set(family.samples[0].labels) if family.samples else set()
        suffixes = {
            "counter": ["_total"],
            "histogram": ["_bucket", "_count", "_sum"],
        }.get(family.type, [""])
        for suffix in suffixes:
            names[family.name + suffix] = labels
    # Labelled families with no child yet list no samples: their labels from the instrument.
    for collector in list(metrics.registry._collector_to_names):
        for name in metrics.registry._collector_to_names[collector]:
            if name in names:
                names[name] |= set(getattr(collector, "_labelnames", ()))
    return names


def queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def test_every_queried_metric_and_label_is_exported() -> None:
    names = exported()
    used: set[str] = set()
    for expr in queries():
        found = NAME.findall(expr)
        assert found, expr
        for name in found:
            assert name in names, f"{name} is not exported ({expr})"
            used.add(name)
        for name, selector in SELECTOR.findall(expr):
            for label in re.findall(r"(\w+)\s*=~?", selector):
                assert label in names[name], f"{name} has no label {label}"
        for group in BY.findall(expr):
            for label in (x.strip() for x in group.split(",")):
                assert label in ADDED or any(label in names[n] for n in found), (label, expr)
    # Every family the services export has a panel.
    families = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in names}
    shown = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in used}
    assert families - shown == set()
