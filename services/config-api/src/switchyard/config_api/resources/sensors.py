"""Sensors (/api/extn_alarms) and the devices whose alarm each one answers."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, handlers
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import Col, Filter, PathId, Resource
from switchyard.config_api.framework.spreadsheets import each_row, rows_of
from switchyard.config_api.framework.wire import plain
from switchyard.config_api.state import ConfigApi
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import not_found
from switchyard.shared.http.paging import fetch_page, parse_paging

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
    pid: PathId, request: Request[Any, Any, Any], config: ConfigApi
) -> Ok:
    rows = rows_of(await body_of(request), "data")
    async with config.write() as tx:
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
async def delete_sensor_device(item_id: PathId, config: ConfigApi) -> Ok:
    async with config.write() as tx:
        sensor = await tx.conn.fetchval(
            "DELETE FROM extn_alarm_devices WHERE id = $1 RETURNING extn_alarms_id", item_id
        )
        if sensor is None:
            raise not_found()
        tx.changed("extn_alarms", "update", sensor)
    return Ok(data="{}")


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        *handlers(SENSORS),
        list_sensor_devices,
        import_sensor_devices,
        delete_sensor_device,
    ]
