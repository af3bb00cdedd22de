"""``switchyard ingress``: the Kubernetes Ingress, generated from the services' route tables.

Every replica answers only its own service's paths, so the Ingress must
split paths exactly as the code does. Written by hand it would drift as
routes are added; generated from the same ``Service`` objects the runner
serves, it cannot (a test compares deploy/k8s/base/ingress.yaml with it).

Rules use only the portable path types (``Exact``, ``Prefix``; the longest
match wins, ``Exact`` before ``Prefix`` on a tie). The service with the most
routes takes a ``Prefix`` on the first path element of each of its routes
and of the runner's public ones (``/api/sessions``, ``/schema``), never
``/``: the runner's probe and scrape paths (``/healthz``, ``/readyz``,
``/metrics``) stay unrouted, so they answer in-cluster only. Every other
service gets a ``Prefix`` on
the fixed part of each parametrised route and an ``Exact`` for each fixed
route, unless a shorter rule of its own already covers it. A parametrised
route whose ``Prefix`` would also catch another service's route cannot be
expressed this way (``/api/gateways/{id}/control`` under config-api's
``/api/gateways/{id}``); it is left out and listed as unroutable. A route
with a handler whose ``opt`` has ``INTERNAL`` is for callers inside the
cluster only (media's ``GET /tts``, fetched by FreeSWITCH) and is left out.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from switchyard.shared.service import Service, discover

NAME = "switchyard"
PORT = "http"
# A handler ``opt`` key: the route answers in-cluster callers only, never the Ingress.
INTERNAL = "ingress_internal"
_PARAM = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class Route:
    path: str  # Litestar's template: /api/routes/{item_id:int}
    service: str

    @property
    def fixed(self) -> str:
        """The part before the first parameter, without a trailing slash."""
        head = _PARAM.split(self.path, maxsplit=1)[0]
        return head.rstrip("/") or "/"

    @property
    def parametrised(self) -> bool:
        return bool(_PARAM.search(self.path))

    @property
    def sample(self) -> str:
        """A concrete path this route answers."""
        return _PARAM.sub(lambda m: "7" if ":int" in m.group(0) else "x7", self.path)


@dataclass(frozen=True)
class Rule:
    path: str
    path_type: str  # Exact | Prefix
    service: str

    def matches(self, path: str) -> bool:
        if self.path_type == "Exact":
            return path == self.path
        if self.path == "/":
            return True
        # Prefix matches whole path elements: /api/routes covers /api/routes/1, not /api/routesx.
        return path == self.path or path.startswith(self.path + "/")


@dataclass(frozen=True)
class Plan:
    rules: list[Rule]
    unroutable: list[Route]


def resolve(rules: Iterable[Rule], path: str) -> str | None:
    """The service an Ingress with ``rules`` sends ``path`` to (longest match, Exact first)."""
    best: tuple[int, int, str] | None = None
    for rule in rules:
        if rule.matches(path):
            rank = (len(rule.path), rule.path_type == "Exact", rule.service)
            if best is None or rank[:2] > best[:2]:
                best = rank
    return None if best is None else best[2]


def _first_element(path: str) -> str:
    return "/" + path.strip("/").split("/", 1)[0]


def public_common() -> list[str]:
    """The runner's own paths the Ingress routes (all but probes and scrapes)."""
    from switchyard.shared.runner import INTERNAL_PATHS, create_app
    from switchyard.shared.settings import Settings

    paths = {r.path for r in create_app(Settings(), []).routes}
    return sorted(p for p in paths if p not in INTERNAL_PATHS)


def _internal(route: Any) -> bool:
    """Whether a handler of a Litestar route is marked ``INTERNAL`` (an Ingress
    routes paths, not methods: the path's other handlers, such as the
    generated OPTIONS, stay in-cluster with it)."""
    handlers = getattr(route, "route_handlers", None) or [route.route_handler]
    return any(h.opt.get(INTERNAL) for h in handlers)


def routes(services: Sequence[Service]) -> list[Route]:
    """Every service's own paths (the runner's shared ones left out)."""
    # Imported here: building apps pulls in Litestar and the runner, which the
    # rest of the CLI does not need.
    from switchyard.shared.runner import create_app
    from switchyard.shared.settings import Settings

    settings = Settings()
    common = {r.path for r in create_app(settings, []).routes}
    found: list[Route] = []
    for service in services:
        paths = {
            r.path for r in create_app(settings, [service]).routes if not _internal(r)
        } - common
        found.extend(Route(p, service.name) for p in sorted(paths))
    return found


def plan(found: Sequence[Route], common: Sequence[str] = ()) -> Plan:
    """``common``: the runner's public paths, sent to the service with the most routes."""
    counts: dict[str, int] = {}
    for r in found:
        counts[r.service] = counts.get(r.service, 0) + 1
    default = max(sorted(counts), key=lambda s: counts[s])
    heads = {_first_element(r.path) for r in found if r.service == default}
    heads |= {_first_element(p) for p in common}
    rules = [Rule(h, "Prefix", default) for h in sorted(heads)]
    fixed = len(rules)
    unroutable: list[Route] = []
    others = [r for r in found if r.service != default]
    # Parametrised routes first: their Prefix rules cover most fixed routes too.
    for r in sorted(others, key=lambda r: (not r.parametrised, r.path)):
        if resolve(rules, r.sample) == r.service:
            continue
        if r.parametrised:
            rule = Rule(r.fixed, "Prefix", r.service)
            stolen = [o for o in found if o.service != r.service and rule.matches(o.sample)]
            if stolen or any(x.path == rule.path and x.path_type == "Prefix" for x in rules):
                unroutable.append(r)
                continue
        else:
            rule = Rule(r.path, "Exact", r.service)
        rules.append(rule)
    # A later rule may have made an earlier one redundant: drop each that no route needs.
    routed = [r for r in found if r not in unroutable]
    for rule in list(rules[fixed:]):
        rest = [x for x in rules if x is not rule]
        if all(resolve(rest, r.sample) == r.service for r in routed):
            rules = rest
    rules.sort(key=lambda x: (x.path, x.path_type))
    return Plan(rules, unroutable)


def render(p: Plan) -> str:
    lines = [
        "# Generated by `switchyard ingress` from the services' route tables: do not edit,",
        "# regenerate (`switchyard ingress > deploy/k8s/base/ingress.yaml`); a test compares.",
    ]
    for r in p.unroutable:
        lines.append(f"# Not routable by path ({r.service}): {r.path}")
    lines += [
        "apiVersion: networking.k8s.io/v1",
        "kind: Ingress",
        "metadata:",
        f"  name: {NAME}",
        "spec:",
        "  rules:",
        "    - http:",
        "        paths:",
    ]
    for rule in p.rules:
        lines += [
            f"          - path: {rule.path}",
            f"            pathType: {rule.path_type}",
            f"            backend: {{service: {{name: {rule.service}, port: {{name: {PORT}}}}}}}",
        ]
    return "\n".join(lines) + "\n"


def generate() -> str:
    return render(plan(routes(list(discover().values())), public_common()))


def register(sub: Any) -> None:
    """Entry point of the ``switchyard.commands`` group."""
    p: argparse.ArgumentParser = sub.add_parser(
        "ingress", help="print the Kubernetes Ingress made from the services' routes"
    )
    p.set_defaults(func=lambda _settings, _args: sys.stdout.write(generate()))
