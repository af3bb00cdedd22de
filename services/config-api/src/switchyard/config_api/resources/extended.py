"""Number translation, device provisions, sensors (extn_alarms) and IP blacklist."""

from __future__ import annotations

import ipaddress
from typing import Any

import msgspec
from litestar import Request, delete, get, post
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, handlers, insert_row, require_object
from switchyard.config_api.framework.imports import each_row, rows_of, translate
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import Col, Filter, PathId, Referrer, Resource, is_id
from switchyard.config_api.framework.tx import write
from switchyard.config_api.framework.wire import plain, render
from switchyard.shared.fsvalues import NUMBER
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Created, Ok
from switchyard.shared.http.errors import bad_request, not_found
from switchyard.shared.http.paging import fetch_page, parse_paging

# --- number translation ----------------------------------------------------------------

NUMBER_TRANSLATION = Resource(
    name="number_translation",
    table="number_translations",
    id_wire="str",
    pin="str",
    cols=(
        Col("name", required=True),
        Col("description"),
        Col("type", required=True, choices=("exact", "prefix")),
    ),
    filters=(Filter("name", "name", "like"), Filter("type", "type")),
    referrers=(
        Referrer(
            "routes",
            "SELECT name FROM routes WHERE dnc LIKE '%prefix_nts_' || $1::bigint::text || '/%' "
            "OR sdnc LIKE '%prefix_nts_' || $1::bigint::text || '/%' ORDER BY id",
        ),
    ),
)
NTS = children.Child(
    parent=NUMBER_TRANSLATION,
    res=Resource(
        name="number_translation",
        table="number_translation_numbers",
        id_wire="str",
        pin="str",
        # What a dnc/sdnc s/prefix_nts_<id>/ makes of a number: a NUMBER.
        cols=(
            Col("original_number", required=True, rule=NUMBER),
            Col("nts_number", required=True, rule=NUMBER),
        ),
    ),
    fk="table_id",
)
_nts_struct = struct_for(NTS.res)
N = "/api/number_translation/{pid:int}"
_NTS_SORT = ["id", "original_number", "nts_number"]


@get(
    f"{N}/numbers",
    operation_id="list_translation_numbers",
    opt=oa.doc(
        reply=oa.obj(
            "TranslationNumbers",
            required=["nts_numbers", "number_translation_info"],
            nts_numbers=oa.list_page(
                oa.obj(
                    required=["id", "original_number", "nts_number", "created_at", "updated_at"],
                    id=oa.STR,
                    original_number=oa.STR,
                    nts_number=oa.STR,
                    created_at=oa.TIMESTAMP,
                    updated_at=oa.TIMESTAMP,
                    deleted_at=oa.TIMESTAMP,
                )
            ),
            number_translation_info=oa.array_of(
                oa.obj(
                    required=["name", "description", "type"],
                    name=oa.STR,
                    description=oa.STR,
                    type=oa.STR,
                )
            ),
        ),
        query=oa.paging_params(_NTS_SORT, _NTS_SORT[1:]),
    ),
)
async def list_numbers(
    pid: PathId, request: Request[Any, Any, Any], runtime: AppRuntime
) -> dict[str, Any]:
    table = await runtime.pool.fetchrow(
        "SELECT name, description, type FROM number_translations WHERE id = $1", pid
    )
    if table is None:
        raise not_found()
    paging = parse_paging(
        request.query_params,
        sortable=_NTS_SORT,
        searchable=_NTS_SORT[1:],
    )
    page = await fetch_page(
        runtime.pool,
        select="SELECT id, original_number, nts_number, created_at, updated_at "
        "FROM number_translation_numbers",
        where=["table_id = $1"],
        args=[pid],
        paging=paging,
        default_sort="id",
    )
    page.data = [plain(r, wire="str") for r in page.data]
    return {"nts_numbers": msgspec.to_builtins(page), "number_translation_info": [dict(table)]}


@post(
    f"{N}/import",
    status_code=200,
    operation_id="import_translation_numbers",
    opt=oa.doc(
        body=oa.rows_body("data", oa.input_schema(NTS.res, create=True)),
        reply=oa.envelope(oa.INT),
    ),
)
async def import_numbers(pid: PathId, request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    rows = rows_of(await body_of(request), "data")
    async with write(runtime, request) as tx:
        await children.parent_exists(tx.conn, NTS, pid)

        async def one(i: int, row: Any) -> None:
            values = with_defaults(NTS.res, decode(NTS.res, _nts_struct, row))
            await children.add_values(tx, NTS, pid, values)

        await each_row("data", rows, one)
    return Ok(data=pid)


# --- device provisions -------------------------------------------------------------------

DEVICES = Resource(
    name="device_provisions",
    table="device_provisions",
    cols=(
        Col("name", required=True),
        Col("vendor"),
        Col("mac", required=True),
        Col("extn", "json"),
        Col("type"),
    ),
    filters=(Filter("name", "name", "like"), Filter("mac", "mac"), Filter("vendor", "vendor")),
    create_reply="id_str",
    ops=frozenset({"list", "get", "update", "delete"}),  # create: create_device below
)
_device_struct = struct_for(DEVICES)
DEVICE_EXCEL = {"名称": "name", "分机号": "extn", "供应商": "vendor", "MAC": "mac", "类型": "type"}
_DEVICE_ROWS = {
    **oa.input_schema(DEVICES, create=False),
    "description": "English keys or the spreadsheet's: " + ", ".join(DEVICE_EXCEL),
}
_DEVICES_OUT = oa.envelope(oa.array_of(oa.output_schema(DEVICES)))


async def _import_devices(
    request: Request[Any, Any, Any], runtime: AppRuntime, data: Any, key: str
) -> Ok:
    """All rows or none, answered with the created devices."""
    rows = rows_of(data, key)
    async with write(runtime, request) as tx:

        async def one(i: int, raw: Any) -> dict[str, Any]:
            row = translate(raw, DEVICE_EXCEL, f"{key}[{i}]")
            values = with_defaults(DEVICES, decode(DEVICES, _device_struct, row))
            return render(DEVICES, await insert_row(tx, DEVICES, values))

        created = await each_row(key, rows, one)
    return Ok(data=created)


@post(
    "/api/device_provisions",
    status_code=200,
    operation_id="create_device_provisions",
    summary="Create a device provision, or several from {'data': [...]}",
    opt=oa.doc(
        body={
            "anyOf": [
                oa.input_schema(DEVICES, create=True),
                oa.rows_body("data", _DEVICE_ROWS),
            ]
        },
        reply={
            "anyOf": [oa.envelope(oa.STR, "Created"), _DEVICES_OUT],
            "description": "data: the new id, or the created devices for a batch",
        },
    ),
)
async def create_device(request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    """One device; the spec's batch-create curl posts ``{"data":[…]}`` here, which
    is taken like the import (all rows or none)."""
    data = await body_of(request)
    if isinstance(data, list) or (isinstance(data, dict) and "data" in data):
        return await _import_devices(request, runtime, data, "data")
    values = with_defaults(DEVICES, decode(DEVICES, _device_struct, data))
    async with write(runtime, request) as tx:
        row = await insert_row(tx, DEVICES, values)
    return Ok(data=str(row["id"]))


@post(
    "/api/device_provisions/import",
    status_code=200,
    operation_id="import_device_provisions",
    opt=oa.doc(
        body=oa.rows_body(
            "devices",
            {**_DEVICE_ROWS, "description": _DEVICE_ROWS["description"] + "; {'data': [...]} too"},
        ),
        reply=_DEVICES_OUT,
    ),
)
async def import_devices(request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    data = await body_of(request)
    key = "data" if isinstance(data, dict) and "data" in data else "devices"
    return await _import_devices(request, runtime, data, key)


# --- sensors (extn_alarms) ------------------------------------------------------------------

SENSORS = Resource(
    name="extn_alarms",
    table="extn_alarms",
    id_wire="num",
    pin="str",
    cols=(
        Col("name", required=True),
        Col("caller_number"),
        Col("call_duration"),
        Col("extn_id", "int", default=None),
        Col("description"),
        Col("action", default="playback"),
        Col("data", "json", wire="media"),
    ),
    filters=(Filter("name", "name", "like"),),
)
SENSOR_DEVICES = children.Child(
    parent=SENSORS,
    res=Resource(
        name="extn_alarms",
        table="extn_alarm_devices",
        id_wire="str",
        pin="str",
        cols=(Col("device_id", required=True), Col("device_name")),
    ),
    fk="extn_alarms_id",
)
_sensor_device_struct = struct_for(SENSOR_DEVICES.res)
_SENSOR_SORT = ["id", "device_id", "device_name", "status"]


@get(
    "/api/extn_alarms/{pid:int}/alarms",
    operation_id="list_sensor_devices",
    opt=oa.doc(
        reply=oa.list_page(
            oa.obj(
                "SensorDevice",
                required=["id", "extn_alarms_id", "device_id", "device_name", "created_at"],
                id=oa.STR,
                extn_alarms_id=oa.STR,
                device_id=oa.STR,
                device_name=oa.STR,
                created_at=oa.TIMESTAMP,
                updated_at=oa.TIMESTAMP,
                deleted_at=oa.TIMESTAMP,
            )
        ),
        query=oa.paging_params(_SENSOR_SORT, _SENSOR_SORT[1:3]),
    ),
)
async def list_sensor_devices(
    pid: PathId, request: Request[Any, Any, Any], runtime: AppRuntime
) -> Any:
    await children.parent_exists(runtime.pool, SENSOR_DEVICES, pid)
    paging = parse_paging(
        request.query_params,
        sortable=_SENSOR_SORT,
        searchable=_SENSOR_SORT[1:3],
    )
    page = await fetch_page(
        runtime.pool,
        select="SELECT * FROM extn_alarm_devices",
        where=["extn_alarms_id = $1"],
        args=[pid],
        paging=paging,
    )
    page.data = [plain(r, wire="str") for r in page.data]
    return page


@post(
    "/api/extn_alarms/{pid:int}/import",
    status_code=200,
    operation_id="import_sensor_devices",
    opt=oa.doc(
        body=oa.rows_body("data", oa.input_schema(SENSOR_DEVICES.res, create=True)),
        reply=oa.envelope({"type": "string", "const": "{}"}),
    ),
)
async def import_sensor_devices(
    pid: PathId, request: Request[Any, Any, Any], runtime: AppRuntime
) -> Ok:
    rows = rows_of(await body_of(request), "data")
    async with write(runtime, request) as tx:
        await children.parent_exists(tx.conn, SENSOR_DEVICES, pid)

        async def one(i: int, row: Any) -> None:
            values = with_defaults(
                SENSOR_DEVICES.res, decode(SENSOR_DEVICES.res, _sensor_device_struct, row)
            )
            await children.add_values(tx, SENSOR_DEVICES, pid, values)

        await each_row("data", rows, one)
    return Ok(data="{}")


@delete(
    "/api/extn_alarms/alarm/{item_id:int}",
    status_code=200,
    operation_id="delete_sensor_device",
    opt=oa.doc(reply=oa.envelope({"type": "string", "const": "{}"})),
)
async def delete_sensor_device(
    item_id: PathId, request: Request[Any, Any, Any], runtime: AppRuntime
) -> Ok:
    async with write(runtime, request) as tx:
        sensor = await tx.conn.fetchval(
            "DELETE FROM extn_alarm_devices WHERE id = $1 RETURNING extn_alarms_id", item_id
        )
        if sensor is None:
            raise not_found()
        tx.changed("extn_alarms", "update", sensor)
    return Ok(data="{}")


# --- IP blacklist (iptables) ---------------------------------------------------------------


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
    from switchyard.shared.http.body import convert

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
async def add_rule(request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    ip, name, port, proto = _rule(await body_of(request))
    async with write(runtime, request) as tx:
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
async def clean_rule(request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    ip, _, port, proto = _rule(await body_of(request))
    async with write(runtime, request) as tx:
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
        *handlers(NUMBER_TRANSLATION),
        list_numbers,
        *children.child_handlers(
            NTS,
            "translation_numbers",
            create_path=f"{N}/numbers",
            update_path=f"{N}/{{cid:int}}",
            delete_paths=(f"{N}/{{cid:int}}",),
            update_reply="id_str",
            delete_reply="id_str",
        ),
        import_numbers,
        *handlers(DEVICES),
        create_device,
        import_devices,
        *handlers(SENSORS),
        list_sensor_devices,
        import_sensor_devices,
        delete_sensor_device,
        list_iptables,
        add_rule,
        clean_rule,
    ]


__all__ = ["Created"]
