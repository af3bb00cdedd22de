"""A client generated from the OpenAPI document, as an integrator makes one
(openapi-python-client), drives create, read, update, list and delete of
every configuration resource against the real config-api, and a webhook
subscription, a media upload and an originate (call-control on an fssim
node) against the services that serve them.

The client is generated from the whole app's ``/schema/openapi.json`` once
per run, so a document it cannot read (a union it refuses, a model name twice)
or describes wrongly (a body it cannot type, a reply it cannot parse) fails
here before it fails an integrator. Every call goes through the client's
typed functions with its typed bodies, and each resource is checked the way
a user would notice: the read shows what was written, the update shows, the
list holds it, and once deleted it is a 404.

``test_every_configuration_resource_is_driven`` keeps the list honest: a
create config-api's document gains (a new resource or child) fails it until
it is driven here or named in ``NOT_DRIVEN`` with the reason.
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.service import service as event_relay
from switchyard.fssim import Node
from switchyard.media.service import service as media
from switchyard.shared.runner import create_app
from switchyard.shared.service import discover
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving, wav
from tests.conftest import served_stack

PACKAGE = "switchyard_generated_client"
Row = dict[str, Any]


# --- the resources -------------------------------------------------------------------


@dataclass(frozen=True)
class Top:
    """A resource with ``create_/get_/update_/list_/delete_<op>``."""

    op: str
    body: Row  # what a create writes (and a read shows back)
    change: Row  # what an update writes (and a read shows back)
    # Body fields that name another resource: field -> (that resource's op,
    # "id" or "key" of it), made first.
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    toggle: str = ""  # the 0/1 column an update {"action":"toggle"} flips

    @property
    def id(self) -> str:
        return self.op

    @property
    def ops(self) -> set[str]:
        return {f"{verb}_{self.op}" for verb in ("create", "get", "update", "list", "delete")}


@dataclass(frozen=True)
class Child:
    """Rows of a parent row (``pid``): created, listed, edited and deleted
    under it; ``get`` where the API reads one alone; every ``delete`` path
    the document lists (the first deletes, the others then answer 404)."""

    parent: str  # the parent's Top.op
    create: str
    list_: str
    update: str
    delete: tuple[str, ...]
    body: Row
    change: Row
    get: str = ""
    needs: tuple[str, ...] = ()  # Top ops whose row the body names, made first
    toggle: str = ""  # the 0/1 column an update {"action":"toggle"} flips
    # The rows in a list's reply, the row in a get's.
    rows: Callable[[Any], list[Row]] = lambda reply: list(reply)
    one: Callable[[Any], Row] = lambda reply: dict(reply)

    @property
    def id(self) -> str:
        return self.create

    @property
    def ops(self) -> set[str]:
        return {self.create, self.list_, self.update, *self.delete} | ({self.get} - {""})


TOPS = [
    Top(
        "contexts",
        {"name": "gen-ctx", "domain": "gen.example"},
        {"name": "ctx2"},
        toggle="hotline_enabled",
    ),
    Top(
        "extensions",
        {"extn": "8801", "name": "Gen"},
        {"name": "changed"},
        refs={"context": ("contexts", "key")},
        toggle="disabled",
    ),
    Top(
        "routes",
        {
            "name": "gen-route",
            "prefix": "88",
            "max_length": 4,
            "dest_type": "FS_DEST_SYSTEM",
            "body": "echo",
        },
        {"description": "changed", "max_length": 5},
        refs={"context": ("contexts", "key")},
        toggle="disabled",
    ),
    Top(
        "gateways",
        {"name": "gen-gw", "realm": "gw.example", "username": "u1"},
        {"description": "changed", "realm": "gw2.example"},
        toggle="disabled",
    ),
    Top(
        "blacklists",
        {"name": "gen-bl", "list_type": 0, "limit_user_type": 1},
        {"description": "changed", "limit_user_type": 2},
    ),
    Top(
        "callcenter_queues",
        {"name": "gen-queue", "strategy": "longest-idle-agent"},
        {"description": "changed", "strategy": "ring-all"},
        toggle="disabled",
    ),
    Top("ivrs", {"name": "gen-menu", "timeout": 5000}, {"description": "changed"}),
    Top(
        "func_code",
        {"func_code": "*72", "func_type": "FS_DEST_FUNC_CALL_FORWARDING"},
        {"description": "changed", "func_code": "*73"},
        toggle="disabled",
    ),
    Top("blocks", {"name": "gen-block", "lua": "-- hi"}, {"description": "changed"}),
    Top(
        "hotlines",
        {"numbers": "1", "line_number": "8802"},
        {"description": "changed", "numbers": "2"},
    ),
    Top("trunks", {"name": "gen-trunk"}, {"description": "changed"}),
    Top("trunk_groups", {"name": "gen-tg"}, {"description": "changed"}),
    Top(
        "route_codes",
        {"code": "0755"},
        {"description": "changed"},
        refs={"tg_id": ("trunk_groups", "id")},
    ),
    Top(
        "dods",
        {"line_number": "88001234", "type": "GATEWAY"},
        {"line_number": "88001235"},
        refs={"extn": ("extensions", "extn"), "ref_id": ("gateways", "id")},
    ),
    Top(
        "number_translation",
        {"name": "gen-nt", "type": "exact"},
        {"description": "changed", "type": "prefix"},
    ),
    Top(
        "device_provisions",
        {"name": "gen-phone", "mac": "00:11:22:33:44:55", "extn": "8801"},
        {"name": "changed"},
    ),
    Top("extn_alarms", {"name": "gen-alarm"}, {"description": "changed"}),
]

CHILDREN = [
    Child(
        "routes",
        "create_route_param",
        "list_route_params",
        "update_route_param",
        ("delete_route_param", "delete_route_param_plural"),
        {"k": "set", "v": "effective_caller_id_name=Gen"},
        {"v": "effective_caller_id_name=Changed"},
        toggle="disabled",
    ),
    Child(
        "gateways",
        "create_gateway_params",
        "list_gateway_params",
        "update_gateway_params",
        ("delete_gateway_params", "delete_gateway_params_1"),
        {"k": "expire-seconds", "v": "600"},
        {"v": "900"},
        toggle="disabled",
    ),
    Child(
        "gateways",
        "create_gateway_variables",
        "list_gateway_variables",
        "update_gateway_variables",
        ("delete_gateway_variables", "delete_gateway_variables_1"),
        {"k": "gen_var", "v": "one", "direction": 2},
        {"v": "two"},
        toggle="disabled",
    ),
    Child(
        "blacklists",
        "create_blacklist_numbers",
        "list_blacklist_numbers",
        "update_blacklist_numbers",
        ("delete_blacklist_numbers",),
        {"k": "spam", "v": "13800000000"},
        {"v": "13900000000"},
        toggle="disabled",
    ),
    Child(
        "callcenter_queues",
        "create_callcenter_queue_members",
        "list_callcenter_queue_members",
        "update_callcenter_queue_members",
        ("delete_callcenter_queue_members",),
        {"extn": "8801", "penalty": 1},
        {"penalty": 2},
        needs=("extensions",),  # a member is an extension
        toggle="disabled",
    ),
    Child(
        "ivrs",
        "create_ivr_actions",
        "list_ivr_actions",
        "update_ivr_actions",
        ("delete_ivr_actions",),
        {"digits": "1", "action": "IVR_EXTENSION", "args": "8801"},
        {"digits": "2"},
        get="get_ivr_action",
        one=lambda reply: reply[0],  # an array of one (XSwitch's shape)
    ),
    Child(
        "number_translation",
        "create_translation_numbers",
        "list_translation_numbers",
        "update_translation_numbers",
        ("delete_translation_numbers",),
        {"original_number": "8801", "nts_number": "8802"},
        {"nts_number": "8803"},
        rows=lambda reply: reply["nts_numbers"]["data"],
    ),
]

# The odd-shaped ones, each driven by its own function below.
OWN = {
    "time_rules": {
        "create_time_rules",
        "list_route_time_rules",
        "update_time_rules",
        "delete_time_rule",
    },
    "time_templates": {
        "create_time_templates",
        "get_time_template",
        "update_time_template",
        "list_time_templates",
        "delete_time_templates",
    },
    "template_entries": {
        "create_template_entries",
        "get_time_template",
        "update_template_entries",
        "delete_template_entry",
    },
    "sensor_devices": {"import_sensor_devices", "list_sensor_devices", "delete_sensor_device"},
    "iptables": {"add_iptables_rule", "list_iptables", "clean_iptables_rule"},
    "coocenter_blacklist": {
        "CoocenterApiBlacklistCreateCreate",
        "CoocenterApiBlacklistIndexIndex",
        "CoocenterApiBlacklistDeleteRemove",
    },
}

# POST operations of config-api that are not a configuration resource's
# create, with why.
NOT_DRIVEN = {
    "ApiSessionsLogin": "a login, not configuration",
    "upload_routes": "the bulk form of create_routes",
    "import_blacklists": "the spreadsheet form of create_blacklists and their numbers",
    "import_blacklist_numbers": "the bulk form of create_blacklist_numbers",
    "import_trunks": "the bulk form of create_trunks",
    "import_dods": "the bulk form of create_dods",
    "import_translation_numbers": "the bulk form of create_translation_numbers",
    "import_device_provisions": "the bulk form of create_device_provisions",
}


# --- the client ----------------------------------------------------------------------


def _document(services: list[Any]) -> dict[str, Any]:
    # The document does not depend on the settings: no database is reached.
    app = create_app(Settings(), services)
    doc: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(app.openapi_schema.to_schema()))
    return doc


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    """The client package, generated once from the whole app's document."""
    tmp = tmp_path_factory.mktemp("generated-client")
    document = tmp / "openapi.json"
    document.write_bytes(msgspec.json.encode(_document(list(discover().values()))))
    out = tmp / "client"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _typed(module: types.ModuleType, data: Any) -> Any:
    """``data`` as the operation's typed body: its model (or a list of its
    item model); a body the client types as plain values is passed as is."""
    hint = typing.get_type_hints(module._get_kwargs)["body"]
    options = (
        typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType)
        else (hint,)
    )
    for option in options:
        if isinstance(data, list) and typing.get_origin(option) is list:
            (item,) = typing.get_args(option)
            if hasattr(item, "from_dict"):
                return [item.from_dict(row) for row in data]
            return data
        if isinstance(data, dict) and hasattr(option, "from_dict"):
            # The model this body is: it declares every field the body has (not
            # kept aside as additional properties) and writes the body back whole.
            try:
                typed = option.from_dict(data)
            except (KeyError, TypeError, ValueError):
                continue
            if not getattr(typed, "additional_properties", {}) and typed.to_dict() == data:
                return typed
    raise AssertionError(f"{module.__name__}: the client has no type for {data!r} ({hint})")


def _plain(parsed: Any) -> Any:
    if isinstance(parsed, list):
        return [_plain(x) for x in parsed]
    return parsed.to_dict() if hasattr(parsed, "to_dict") else parsed


@dataclass
class Api:
    client: Any
    tags: dict[str, str]  # operation -> its module's tag
    called: set[str] = field(default_factory=set)

    async def call(
        self, op: str, *path: int | str, body: Any = None, typed: Any = None, **query: Any
    ) -> Any:
        """The response of ``op`` through the generated function: ``body`` as
        its typed body, or ``typed`` built by the caller."""
        module = importlib.import_module(f"{PACKAGE}.api.{self.tags[op]}.{op}")
        if body is not None:
            query["body"] = _typed(module, body)
        elif typed is not None:
            query["body"] = typed
        self.called.add(op)
        return await module.asyncio_detailed(*path, client=self.client, **query)

    async def ok(self, op: str, *path: int | str, body: Any = None, **query: Any) -> Any:
        """What ``op`` answered, parsed by the client into its model, as plain data."""
        response = await self.call(op, *path, body=body, **query)
        assert response.status_code == 200, (op, response.status_code, response.content)
        # The client read the reply into the 200's model (a reply its model
        # does not fit raises, one it does not declare is None).
        assert response.parsed is not None, (op, response.content)
        return _plain(response.parsed)

    async def missing(self, op: str, *path: int | str, body: Any = None) -> None:
        response = await self.call(op, *path, body=body)
        assert response.status_code == 404, (op, response.status_code, response.content)


def _shows(row: Row, written: Row, what: str) -> None:
    """``row`` holds each written value (numbers may come back as text)."""
    for name, value in written.items():
        assert name in row, (what, name, row)
        assert str(row[name]) == str(value), (what, name, row[name], value)


# --- driving them --------------------------------------------------------------------


# The rows a scenario made, by their resource's op, so references can name them.
Made = dict[str, Row]


async def _create_top(api: Api, top: Top, made: Made) -> tuple[int, Row]:
    body = dict(top.body)
    for name, (other, attr) in top.refs.items():
        if other not in made:
            await _create_top(api, _top(other), made)
        body[name] = made[other][attr]
    created = await api.ok(f"create_{top.op}", body=body)
    data = created["data"]
    item_id = int(data["id"] if isinstance(data, dict) else data)
    row = await api.ok(f"get_{top.op}", item_id)
    made[top.op] = row
    return item_id, body


def _top(op: str) -> Top:
    return next(t for t in TOPS if t.op == op)


async def drive_top(api: Api, top: Top, made: Made) -> None:
    item_id, body = await _create_top(api, top, made)
    row = made[top.op]
    assert int(row["id"]) == item_id
    _shows(row, body, f"{top.op}: read after create")

    await api.ok(f"update_{top.op}", item_id, body=top.change)
    row = await api.ok(f"get_{top.op}", item_id)
    _shows(row, top.change, f"{top.op}: read after update")
    if top.toggle:
        await api.ok(f"update_{top.op}", item_id, body={"action": "toggle"})
        flipped = await api.ok(f"get_{top.op}", item_id)
        assert int(flipped[top.toggle]) == 1 - int(row[top.toggle]), (top.op, flipped)

    listed = await api.ok(f"list_{top.op}", per_page=10000)
    mine = [r for r in listed["data"] if int(r["id"]) == item_id]
    assert len(mine) == 1, (top.op, listed)
    _shows(mine[0], {**body, **top.change}, f"{top.op}: listed")

    await api.ok(f"delete_{top.op}", item_id)
    await api.missing(f"get_{top.op}", item_id)
    await api.missing(f"delete_{top.op}", item_id)


async def drive_child(api: Api, child: Child, made: Made) -> None:
    parent = _top(child.parent)
    pid, _ = await _create_top(api, parent, made)
    for other in child.needs:
        await _create_top(api, _top(other), made)

    created = await api.ok(child.create, pid, body=child.body)
    cid = int(created["data"])
    listed = child.rows(await api.ok(child.list_, pid))
    mine = [r for r in listed if int(r["id"]) == cid]
    assert len(mine) == 1, (child.create, listed)
    _shows(mine[0], child.body, f"{child.create}: listed")
    if child.get:
        _shows(child.one(await api.ok(child.get, pid, cid)), child.body, f"{child.get}: read")

    await api.ok(child.update, pid, cid, body=child.change)
    listed = child.rows(await api.ok(child.list_, pid))
    mine = [r for r in listed if int(r["id"]) == cid]
    _shows(mine[0], {**child.body, **child.change}, f"{child.update}: listed after")
    if child.toggle:
        await api.ok(child.update, pid, cid, body={"action": "toggle"})
        flipped = [r for r in child.rows(await api.ok(child.list_, pid)) if int(r["id"]) == cid]
        assert int(flipped[0][child.toggle]) == 1 - int(mine[0][child.toggle]), flipped
    if child.get:
        _shows(
            child.one(await api.ok(child.get, pid, cid)),
            child.change,
            f"{child.get}: read after update",
        )

    first, *others = child.delete
    await api.ok(first, pid, cid)
    assert cid not in [int(r["id"]) for r in child.rows(await api.ok(child.list_, pid))], (
        child.create
    )
    for op in (first, *others):
        await api.missing(op, pid, cid)
    await api.missing(child.update, pid, cid, body=child.change)
    if child.get:
        await api.missing(child.get, pid, cid)


async def drive_time_rules(api: Api, made: Made) -> None:
    route_id, _ = await _create_top(api, _top("routes"), made)
    rule = {
        "route_id": route_id,
        "time_recurrence": "20200101T080000|PT10H|daily",
        "dest_type": "FS_DEST_SYSTEM",
        "body": "echo",
    }
    created = await api.ok("create_time_rules", body=rule)
    (new,) = created
    rid = int(new["id"])
    shown = (await api.ok("list_route_time_rules", route_id))["data"]
    mine = [r for r in shown if int(r["id"]) == rid]
    assert len(mine) == 1, shown
    _shows(mine[0], rule, "time rule: listed")

    await api.ok(
        "update_time_rules", body=[{"id": rid, "time_recurrence": "20200101T090000|PT9H|daily"}]
    )
    mine = [
        r for r in (await api.ok("list_route_time_rules", route_id))["data"] if int(r["id"]) == rid
    ]
    _shows(
        mine[0], {"time_recurrence": "20200101T090000|PT9H|daily"}, "time rule: listed after update"
    )

    await api.ok("delete_time_rule", rid)
    assert rid not in [
        int(r["id"]) for r in (await api.ok("list_route_time_rules", route_id))["data"]
    ]
    await api.missing("delete_time_rule", rid)


async def _template(api: Api) -> int:
    created = await api.ok("create_time_templates", body={"name": "gen-hours", "description": "d"})
    (new,) = created["data"]
    return int(new["id"])


async def drive_time_templates(api: Api, made: Made) -> None:
    tid = await _template(api)
    _shows((await api.ok("get_time_template", tid))["data"], {"name": "gen-hours"}, "template")
    await api.ok("update_time_template", tid, body={"description": "changed"})
    row = (await api.ok("get_time_template", tid))["data"]
    _shows(row, {"name": "gen-hours", "description": "changed"}, "template after update")
    listed = (await api.ok("list_time_templates", per_page=10000))["data"]["data"]
    assert tid in [int(r["id"]) for r in listed], listed
    await api.ok("delete_time_templates", body=[tid])
    await api.missing("get_time_template", tid)
    await api.missing("update_time_template", tid, body={"description": "again"})


async def drive_template_entries(api: Api, made: Made) -> None:
    tid = await _template(api)
    entry = {"template_id": tid, "time_recurrence": "20200101T090000|PT8H|weekly||1|MO"}
    created = await api.ok("create_template_entries", body=entry)
    (new,) = created["data"]
    eid = int(new["id"])

    def entries(template: Row) -> list[Row]:
        return list(template["time_recurrences"])

    mine = [
        e for e in entries((await api.ok("get_time_template", tid))["data"]) if int(e["id"]) == eid
    ]
    assert len(mine) == 1
    # Read under its template, which it does not repeat.
    _shows(mine[0], {"time_recurrence": entry["time_recurrence"]}, "template entry: read")
    await api.ok(
        "update_template_entries",
        body=[{"id": eid, "time_recurrence": "20200101T080000|PT10H|weekly||1|MO"}],
    )
    mine = [
        e for e in entries((await api.ok("get_time_template", tid))["data"]) if int(e["id"]) == eid
    ]
    _shows(
        mine[0],
        {"time_recurrence": "20200101T080000|PT10H|weekly||1|MO"},
        "template entry: read after update",
    )
    await api.ok("delete_template_entry", eid)
    assert eid not in [
        int(e["id"]) for e in entries((await api.ok("get_time_template", tid))["data"])
    ]
    await api.missing("delete_template_entry", eid)


async def drive_sensor_devices(api: Api, made: Made) -> None:
    # XSwitch's API has no create of one device nor an update: its import is the create.
    pid, _ = await _create_top(api, _top("extn_alarms"), made)
    device = {"device_id": "gen-sensor-1", "device_name": "door"}
    await api.ok("import_sensor_devices", pid, body=[device])
    rows = (await api.ok("list_sensor_devices", pid, per_page=10000))["data"]
    mine = [r for r in rows if r["device_id"] == device["device_id"]]
    assert len(mine) == 1, rows
    _shows(mine[0], device, "sensor device: listed")
    did = int(mine[0]["id"])
    await api.ok("delete_sensor_device", did)
    rows = (await api.ok("list_sensor_devices", pid, per_page=10000))["data"]
    assert did not in [int(r["id"]) for r in rows]
    await api.missing("delete_sensor_device", did)


async def drive_iptables(api: Api, made: Made) -> None:
    # XSwitch's API reads the rules only as a list and has no update.
    rule = {
        "target_ip": "192.0.2.7",
        "target_name": "gen",
        "target_port": 5060,
        "target_protocol": "udp",
    }
    await api.ok("add_iptables_rule", body=rule)
    listed = (await api.ok("list_iptables", ip="192.0.2.7"))["data"]
    assert [r["rule_spec"] for r in listed] == [
        "INPUT -s 192.0.2.7/32 -p udp -m udp --dport 5060 -m comment --comment gen -j DROP"
    ], listed
    await api.ok("clean_iptables_rule", body=rule)
    assert (await api.ok("list_iptables", ip="192.0.2.7"))["data"] == []
    await api.missing("clean_iptables_rule", body=rule)


async def drive_coocenter_blacklist(api: Api, made: Made) -> None:
    # coocenter's own API on the black list named "coocenter": a form with the
    # number, the numbers listed, no update. Open here (no WEBKEY is set).
    number = {"number": "13700000001"}
    await api.ok("coocenter_api_blacklist_create_create", body=number)
    listed = (await api.ok("coocenter_api_blacklist_index_index"))["data"]
    assert listed == ["13700000001"], listed
    await api.ok("coocenter_api_blacklist_delete_remove", body=number)
    assert (await api.ok("coocenter_api_blacklist_index_index"))["data"] == []
    await api.missing("coocenter_api_blacklist_delete_remove", body=number)


OWN_DRIVERS = {
    "time_rules": drive_time_rules,
    "time_templates": drive_time_templates,
    "template_entries": drive_template_entries,
    "sensor_devices": drive_sensor_devices,
    "iptables": drive_iptables,
    "coocenter_blacklist": drive_coocenter_blacklist,
}
CASES: list[Top | Child | str] = [*TOPS, *CHILDREN, *OWN]


def _ops_of(case: Top | Child | str) -> set[str]:
    return OWN[case] if isinstance(case, str) else case.ops


def _function(operation_id: str) -> str:
    """The client's function (module) for an operation id, as the generator names it."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", operation_id).lower()


# --- the tests -----------------------------------------------------------------------


def test_every_configuration_resource_is_driven() -> None:
    """Every POST of config-api's document is a create (or add) driven here,
    or named in NOT_DRIVEN with the reason; every operation driven exists."""
    doc = _document([config_api])
    operations = {
        op["operationId"]: method
        for item in doc["paths"].values()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    driven = set().union(*(_ops_of(c) for c in CASES))
    posts = {op for op, method in operations.items() if method == "post"}
    assert posts - driven - set(NOT_DRIVEN) == set(), "a create no test drives"
    assert driven - set(operations) == set(), "driven operations the document lacks"
    assert set(NOT_DRIVEN) - posts == set(), "NOT_DRIVEN names a POST the document lacks"


def test_the_client_has_a_function_for_every_operation(generated: types.ModuleType) -> None:
    """The generator skips (with a warning only) what it cannot read: here
    nothing of the whole app's document is left out."""
    doc = _document(list(discover().values()))
    operations = [
        op for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)
    ]
    root = Path(str(generated.__file__)).parent / "api"
    functions = [m for m in root.glob("*/*.py") if m.name != "__init__.py"]
    assert len(functions) == len(operations)


def _api(generated: types.ModuleType, token: str, http: httpx.AsyncClient) -> Api:
    """The generated client over ``http``, authenticated with ``token``."""
    client = importlib.import_module(f"{PACKAGE}.client").AuthenticatedClient(
        base_url=str(http.base_url),
        token=token,
        prefix="",
        auth_header_name="X-XTRA-AUTH-ID",
    )
    client.set_async_httpx_client(http)
    root = Path(str(generated.__file__)).parent / "api"
    tags = {m.stem: tag.name for tag in root.iterdir() if tag.is_dir() for m in tag.glob("*.py")}
    return Api(client, tags)


@pytest.mark.parametrize("case", CASES, ids=[c if isinstance(c, str) else c.id for c in CASES])
async def test_crud_through_a_generated_client(
    case: Top | Child | str, generated: types.ModuleType, settings: Settings, api_token: str
) -> None:
    app = create_app(settings, [config_api])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as http:
        api = _api(generated, api_token, http)
        made: Made = {}
        if isinstance(case, Top):
            await drive_top(api, case, made)
        elif isinstance(case, Child):
            await drive_child(api, case, made)
        else:
            await OWN_DRIVERS[case](api, made)
        wanted = {_function(op) for op in _ops_of(case)}
        assert wanted <= api.called, wanted - api.called


# --- beyond configuration: a webhook subscription, a media upload, an originate ------


async def test_a_webhook_subscription_through_a_generated_client(
    generated: types.ModuleType, settings: Settings, api_token: str
) -> None:
    settings = msgspec.structs.replace(settings, webhook_allow_private="127.0.0.0/8")
    async with served_stack(settings, api_token, [event_relay]) as stack:
        api = _api(generated, api_token, stack.api)
        hook = {"url": "http://127.0.0.1:9/gen-hook", "description": "gen"}
        wid = int((await api.ok("api_webhooks_create", body=hook))["data"])
        _shows(await api.ok("api_webhooks_webhook_id_read", wid), hook, "webhook: read")

        await api.ok("api_webhooks_webhook_id_update", wid, body={"description": "changed"})
        row = await api.ok("api_webhooks_webhook_id_read", wid)
        _shows(row, {**hook, "description": "changed"}, "webhook: read after update")

        listed = (await api.ok("api_webhooks_list_webhooks"))["data"]
        assert [int(r["id"]) for r in listed if r["url"] == hook["url"]] == [wid], listed

        await api.ok("api_webhooks_webhook_id_remove", wid)
        await api.missing("api_webhooks_webhook_id_read", wid)
        await api.missing("api_webhooks_webhook_id_remove", wid)


async def test_a_media_upload_through_a_generated_client(
    generated: types.ModuleType, settings: Settings, api_token: str
) -> None:
    async with served_stack(settings, api_token, [media]) as stack:
        api = _api(generated, api_token, stack.api)
        upload = importlib.import_module(f"{PACKAGE}.api.media.api_upload_upload")
        form = typing.get_type_hints(upload._get_kwargs)["body"]
        file = importlib.import_module(f"{PACKAGE}.types").File
        sound = wav()
        body = form(
            file=[file(payload=io.BytesIO(sound), file_name="gen.wav", mime_type="audio/wav")]
        )
        (stored,) = await api.ok("api_upload_upload", typed=body)
        assert stored["name"] == "gen.wav", stored
        ref = str(stored["id"])

        row = await api.ok("api_media_files_ref_media_or_file", ref)
        assert row["name"] == "gen.wav" and int(row["file_size"]) == len(sound), row
        listed = (await api.ok("api_media_files_list_media"))["data"]
        assert ref in [str(r["id"]) for r in listed], listed

        await api.ok("api_media_files_ref_delete_media", ref)
        await api.missing("api_media_files_ref_media_or_file", ref)


def _phone_1000(node: Node) -> None:
    node.register_user("1000")


async def test_an_originate_through_a_generated_client(
    generated: types.ModuleType, settings: Settings, api_token: str
) -> None:
    async with served_stack(
        settings,
        api_token,
        [config_api, call_control],
        node_setup=_phone_1000,
    ) as stack:
        api = _api(generated, api_token, stack.api)
        placed = await api.ok("api_channels_originate", body={"destNumber": "1000"})
        assert placed["result"] == "ok" and placed["node"] == stack.node.name, placed
        uuid = placed["uuid"]
        channel = stack.node.find(uuid)
        assert channel is not None and channel.parked

        listed = await api.ok("api_channels_list_channels")
        assert uuid in [row["uuid"] for row in listed], listed

        hung = await api.ok("api_channels_hangup", uuid)
        assert hung == {"result": "ok", "uuid": uuid}, hung
        await eventually(lambda: stack.node.find(uuid) is None)
