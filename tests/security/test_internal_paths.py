"""Paths only FreeSWITCH or the cluster may reach are not in the public Ingress.

``GET /tts`` (mod_cti's prompt URL) turns a text into paid vendor audio for
anyone its allowlist admits; behind the Ingress every stranger arrives from
the ingress controller's address, which an allowlist of the cluster's pod
network admits too (docs/security.md). The nodes reach the media service
directly, so the generated Ingress leaves it out.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from switchyard.shared import ingress

INGRESS = Path(__file__).parents[2] / "deploy" / "k8s" / "base" / "ingress.yaml"


def _committed_rules() -> list[ingress.Rule]:
    doc = yaml.safe_load(INGRESS.read_text())
    return [
        ingress.Rule(p["path"], p["pathType"], p["backend"]["service"]["name"])
        for rule in doc["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]


def test_the_tts_fetch_path_is_not_routed_by_the_ingress() -> None:
    rules = _committed_rules()
    assert ingress.resolve(rules, "/tts") is None
    # The token-guarded ways to the same audio still are.
    assert ingress.resolve(rules, "/api/tts/url") == "media"
    assert ingress.resolve(rules, "/api/baidu/tts") == "media"


def test_a_route_marked_internal_is_left_out_of_the_generated_routes() -> None:
    from switchyard.shared.service import discover

    paths = {r.path for r in ingress.routes(list(discover().values()))}
    assert "/tts" not in paths
    assert "/api/tts/url" in paths
