"""Device provisions (/api/device_provisions): phones by MAC, one by one or
imported from a spreadsheet."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, handlers, insert_row
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import Col, Filter, Resource
from switchyard.config_api.framework.spreadsheets import each_row, rows_of, translate
from switchyard.config_api.framework.wire import render
from switchyard.config_api.state import ConfigApi, ConfigApiState
from switchyard.shared.http.envelope import Ok

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


async def _import_devices(config: ConfigApiState, data: Any, key: str) -> Ok:
    """All rows or none, answered with the created devices."""
    rows = rows_of(data, key)
    async with config.write() as tx:

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
async def create_device(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    """One device; the spec's batch-create curl posts ``{"data":[…]}`` here, which
    is taken like the import (all rows or none)."""
    data = await body_of(request)
    if isinstance(data, list) or (isinstance(data, dict) and "data" in data):
        return await _import_devices(config, data, "data")
    values = with_defaults(DEVICES, decode(DEVICES, _device_struct, data))
    async with config.write() as tx:
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
async def import_devices(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    data = await body_of(request)
    key = "data" if isinstance(data, dict) and "data" in data else "devices"
    return await _import_devices(config, data, key)


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        *handlers(DEVICES),
        create_device,
        import_devices,
    ]
