"""The IP blacklist (/api/iptables): addresses FreeSWITCH's ACL refuses
(acl.conf ``sy-blacklist``; call-control runs ``reloadacl`` on the notice)."""

from __future__ import annotations

import ipaddress
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, require_object
from switchyard.config_api.framework.spec import is_id
from switchyard.config_api.state import ConfigApi
from switchyard.shared.http.body import convert
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import bad_request, not_found


class IpRule(msgspec.Struct):
    target_ip: str
    target_name: str = ""
    target_port: int | str = 0
    target_protocol: str = "all"


_IP_RULE: oa.Schema = {
    **oa.of_type(IpRule),
    "description": "target_port: 1-65535, 0, '' or 'all'; target_protocol: tcp, udp or all",
}


def _rule(data: Any) -> tuple[str, str, int, str]:
    rule = convert(require_object(data), IpRule)
    try:
        net = ipaddress.ip_network(rule.target_ip.strip(), strict=False)
    except ValueError:
        raise bad_request("target_ip", f"not an IP address: {rule.target_ip!r}") from None
    port_raw = str(rule.target_port).strip().lower()
    port = 0 if port_raw in ("", "all", "0") else int(port_raw) if is_id(port_raw) else -1
    if not 0 <= port <= 65535:
        raise bad_request(
            "target_port", f"must be a port 1-65535 or empty, got {rule.target_port!r}"
        )
    proto = (rule.target_protocol or "all").lower()
    if proto not in ("tcp", "udp", "all"):
        raise bad_request("target_protocol", "must be tcp, udp or all")
    # The name travels into an iptables comment: keep it to a safe alphabet.
    name = rule.target_name.strip()
    if any(not (c.isalnum() or c in "-_.@ ") for c in name) or len(name) > 64:
        raise bad_request("target_name", "letters, digits, '-', '_', '.', '@' and spaces only")
    return str(net), name, port, proto


def rule_spec(ip: str, name: str, port: int, proto: str) -> str:
    parts = ["INPUT", "-s", ip if "/" in ip else f"{ip}/32"]
    if proto != "all":
        parts += ["-p", proto, "-m", proto]
        if port:
            parts += ["--dport", str(port)]
    if name:
        parts += ["-m", "comment", "--comment", name]
    return " ".join([*parts, "-j", "DROP"])


@get(
    "/api/iptables",
    operation_id="list_iptables",
    opt=oa.doc(
        reply=oa.envelope(
            oa.array_of(oa.obj(required=["chain", "rule_spec"], chain=oa.STR, rule_spec=oa.STR))
        ),
        query=[oa.query_param("ip", oa.STR, "rules whose address starts with this")],
    ),
)
async def list_iptables(request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    ip = request.query_params.get("ip")
    rows = await runtime.pool.fetch(
        "SELECT * FROM iptables_rules "
        "WHERE ($1::text IS NULL OR target_ip LIKE $1 || '%') ORDER BY id",
        ip or None,
    )
    data = [
        {
            "chain": "-A",
            "rule_spec": rule_spec(
                r["target_ip"], r["target_name"], r["target_port"], r["target_protocol"]
            ),
        }
        for r in rows
    ]
    return Ok(data=data)


@post(
    "/api/iptables/add_rule",
    status_code=200,
    operation_id="add_iptables_rule",
    opt=oa.doc(body=_IP_RULE, reply=oa.envelope({"type": "boolean"})),
)
async def add_rule(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    ip, name, port, proto = _rule(await body_of(request))
    async with config.write() as tx:
        rid = await tx.conn.fetchval(
            "INSERT INTO iptables_rules (target_ip, target_name, target_port, target_protocol) "
            "VALUES ($1, $2, $3, $4) RETURNING id",
            ip,
            name,
            port,
            proto,
        )
        tx.changed("iptables", "create", rid)
    return Ok(data=True)


@post(
    "/api/iptables/clean_drop_rule",
    status_code=200,
    operation_id="clean_iptables_rule",
    opt=oa.doc(body=_IP_RULE, reply=oa.envelope({"type": "boolean"})),
)
async def clean_rule(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    ip, _, port, proto = _rule(await body_of(request))
    async with config.write() as tx:
        rid = await tx.conn.fetchval(
            "DELETE FROM iptables_rules WHERE target_ip = $1 AND target_port = $2 "
            "AND target_protocol = $3 RETURNING id",
            ip,
            port,
            proto,
        )
        if rid is None:
            raise not_found()
        tx.changed("iptables", "delete", rid)
    return Ok(data=True)


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        list_iptables,
        add_rule,
        clean_rule,
    ]
