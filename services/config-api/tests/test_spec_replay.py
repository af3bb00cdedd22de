# ruff: noqa: E501  (the spec's curl bodies, kept byte for byte on one line each)
"""Every config-api curl example of the two XSwitch REST spec files, replayed.

Issue 4: each ``curl`` of xswitch-rest-call-management.zh.md and
xswitch-rest-extended.zh.md whose endpoint config-api owns (spec/endpoints.md;
not /api/channels, gateway control and list1, trunk_groups/status, media,
TTS) is sent as curl would send it: the same method, the path with its ids
replaced by rows of a small seeded world, the ``-d`` body byte for byte and
the content type curl puts on it (``application/x-www-form-urlencoded``
when the example gives no ``-H "Content-Type: application/json"``). The
answer must be a 200 and hold every key the spec's answer shows, with the
same nesting; where the spec's own lists show rows, the world makes them
non-empty so the row keys are checked too.

The examples are copied here (CI runs from a clone without ../shared).
``test_table_is_the_specs_curls`` checks the copy against the spec files
when they are present: same examples, methods, bodies and content types.

Deviations (``Example.deviation`` says why), all deliberate:
- cm:2065 ``PUT /api/number_translation/$id/$nts_id`` with ``{"k","v"}``:
  a 400 naming ``body``. That body is the blacklist list's (the same curl two
  sections earlier); a translation number has original_number/nts_number
  (the section's own Body) and no k/v. Success would change nothing.
- cm:1718 and cm:1748 (trunk groups): the curls' URLs are /api/trunks and
  /api/trunks/1, a typo for the section's /api/trunk_groups. Replayed as
  written (a trunk is created/updated; the trunks' answer) and again at the
  documented path with the trunk groups' answer (``…/fixed``).
- ext:870 ``/api/check/clean-file``: the keys of the spec's answer, but
  code 200 "Not Running" (no Switchyard worker cleans files; docs/config-api.md).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from .conftest import Api

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"  # what curl -d sends without -H Content-Type

# --- answer shapes: the keys the spec's answers show -------------------------------------


@dataclass(frozen=True)
class Obj:
    """A JSON object holding at least ``keys``; ``nested`` values checked too."""

    keys: frozenset[str]
    nested: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Arr:
    """A JSON array; with ``item``, non-empty (the world seeds rows) and every item checked."""

    item: Any = None


Shape = Obj | Arr | type


def obj(*keys: str, **nested: Shape) -> Obj:
    return Obj(frozenset(keys) | frozenset(nested), nested)


def extend(base: Obj, *keys: str, **nested: Shape) -> Obj:
    return Obj(base.keys | frozenset(keys) | frozenset(nested), {**base.nested, **nested})


def arr(item: Shape | None = None) -> Arr:
    return Arr(item)


def page(item: Shape) -> Obj:
    return obj("page", "rowCount", "pageCount", data=arr(item))


def ok(data: Shape) -> Obj:
    """``{"code","message","data"}``; a scalar ``data`` is type-checked (int, str, bool)."""
    return obj("code", "message", data=data)


EMPTY = arr()
ERROR = obj("code", "message", "data")
STAMPS = ("created_at", "updated_at", "deleted_at")

DICT = obj("id", "realm", "k", "v", "d", "o", *STAMPS)
ROUTE = obj(
    "id", "name", "description", "prefix", "max_length", "context", "dnc", "sdnc",
    "dest_type", "dest_uuid", "body", "auto_record", "bill_rate", "blacklist",
    "proxy_media", "route_type", "media_codec", "disabled", "cid_number", *STAMPS,
)  # fmt: skip
ROUTE_CREATED = extend(ROUTE, "outdest_type")
ROUTE_CHECKED = extend(ROUTE, "outdest_type", "outdest_uuid", "outbody", "work_time")
PARAM = obj("id", "realm", "k", "v", "ref_id", "disabled", "o", *STAMPS)
TIME_RULE = obj("id", "route_id", "time_recurrence", "dest_type", "dest_uuid", "body", *STAMPS)
TEMPLATE = obj("id", "name", "description", *STAMPS)
TEMPLATE_DETAIL = extend(TEMPLATE, time_recurrences=arr(obj("id", "time_recurrence")))
CONTEXT = obj("id", "name", "key", "hotline_enabled", "domain", "description", *STAMPS)
ROUTE_CODE = obj("id", "code", "description", "tg_id")
IVR = obj(
    "id", "name", "key", "description", "greet_long", "greet_short", "invalid_sound",
    "exit_sound", "transfer_sound", "timeout", "max_failures", "max_timeouts",
    "exec_on_max_failures", "exec_on_max_timeouts", "confirm_key", "confirm_macro",
    "confirm_attempts", "tts_engine", "tts_voice", "digit_len", "inter_digit_timeout",
    "pin", "pin_file", "bad_pin_file", *STAMPS,
)  # fmt: skip
IVR_LISTED = extend(IVR, "count_actions")
IVR_ACTION = obj("id", "ivr_menu_id", "digits", "action", "match_prefix", "args", "body", *STAMPS)
FUNC_CODE = obj("id", "func_code", "func_type", "description", "disabled", *STAMPS)
GATEWAY = obj(
    "id", "name", "realm", "username", "password", "profile_id", "register", "description",
    *STAMPS,
)  # fmt: skip
GATEWAY_PARAM = obj("id", "realm", "k", "v", "ref_id", "disabled", *STAMPS)
GATEWAY_VARIABLE = obj("id", "gateway_id", "k", "v", "disabled", "direction", *STAMPS)
GATEWAY_DETAIL = extend(GATEWAY, params=arr(GATEWAY_PARAM), variables=arr(GATEWAY_VARIABLE))
BLACKLIST = obj("id", "name", "description", "list_type", "limit_user_type", *STAMPS)
BLACKLIST_NUMBER = obj("id", "realm", "k", "v", "ref_id", "disabled", *STAMPS)
BLACKLIST_IMPORTED = obj("id", "name", "list_type", "limit_user_type", "description")
BLOCK = obj("id", "name", "description", "xml", "js", "lua", "ver", "ivr_menu_id", *STAMPS)
TRUNK = obj(
    "id", "name", "description", "type", "protocol", "local_addr", "remote_addr", "source",
    "register", "enabled", "media_codec", "params", *STAMPS,
)  # fmt: skip
TRUNK_DETAIL = extend(TRUNK, trunk_groups=EMPTY)
TRUNK_GROUP = obj("id", "name", "description", "strategy", "params", *STAMPS)
TRUNK_GROUP_DETAIL = extend(TRUNK_GROUP, route_codes=EMPTY)
HOTLINE = obj("id", "line_number", "numbers", "description", "type", "ref_id", *STAMPS)
DOD = obj("id", "extn_id", "extn", "line_number", "type", "ref_id", "name", *STAMPS)
IPTABLES_RULE = obj("chain", "rule_spec")
NUMBER_TRANSLATION = obj("id", "name", "description", "type", *STAMPS)
TRANSLATION_NUMBERS = obj(
    nts_numbers=page(obj("id", "original_number", "nts_number", *STAMPS)),
    number_translation_info=arr(obj("name", "description", "type")),
)
DEVICE = obj("id", "name", "vendor", "mac", "extn", "type", *STAMPS)
SENSOR = obj(
    "id", "name", "caller_number", "call_duration", "extn_id", "description", "action",
    "data", *STAMPS,
)  # fmt: skip
SENSOR_DETAIL = SENSOR
SENSOR_DEVICE = obj(
    "id", "extn_alarms_id", "device_id", "device_name", "event_name", "event_time",
    "call_uuid", "status", *STAMPS,
)  # fmt: skip


def conforms(shape: Shape, value: Any, where: str = "$") -> None:
    if isinstance(shape, Obj):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        missing = sorted(shape.keys - set(value))
        assert not missing, f"{where}: missing {missing} in {sorted(value)}"
        for key, inner in shape.nested.items():
            conforms(inner, value[key], f"{where}.{key}")
    elif isinstance(shape, Arr):
        assert isinstance(value, list), f"{where}: expected an array, got {value!r}"
        if shape.item is not None:
            assert value, f"{where}: empty, the world seeds rows here"
            for i, item in enumerate(value):
                conforms(shape.item, item, f"{where}[{i}]")
    elif shape is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r}"
    else:
        assert isinstance(value, shape), f"{where}: expected {shape.__name__}, got {value!r}"


# --- the examples ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    ref: str  # cm:<line> of xswitch-rest-call-management.zh.md, ext:<line> of …-extended
    method: str
    path: str  # {name}: an id of the seeded world (WORLD_IDS)
    body: str | None  # the -d text, byte for byte
    content_type: str | None  # what curl sends: JSON with -H, else FORM when there is a body
    reply: Shape
    status: int = 200
    field: str = ""  # a refusal names this field
    deviation: str = ""  # why the replay differs from the spec's example
    spec_path: str = ""  # the curl's own URL when it is a typo replayed at the documented path
    first: str = ""  # an example replayed before this one (create before delete)

    @property
    def url(self) -> str:
        return self.path.format(**WORLD_IDS)


TYPO = "the curl's URL is a typo for the section's /api/trunk_groups"

# fmt: off
EXAMPLES: list[Example] = [
    Example("cm:55", "GET", "/api/dicts?realm=DEST", None, None, arr(DICT)),
    Example("cm:87", "POST", "/api/routes", r'{"name": "IVR test","prefix": "1","max_length": "11", "context": "context-1","dest_type": "FS_DEST_IVR","dest_uuid": "1"}', JSON, ok(ROUTE_CREATED)),
    Example("cm:112", "DELETE", "/api/routes/{route}", None, None, ok(str)),
    Example("cm:134", "PUT", "/api/routes/{route}", r'{"auto_record":"1","context":"context-1","description":"test dialplan","dest_type":"FS_DEST_CONFERENCE","dest_uuid":"2","max_length":"10","name": "test","prefix": "32432","route_type": "4"}', JSON, ok(str)),
    Example("cm:163", "PUT", "/api/routes", r'{"auto_record":"1","media_codec": ["PCMU","PCMA"],"route" : ["1","2"]}', JSON, obj("code", "message", data=EMPTY)),
    Example("cm:176", "GET", "/api/routes", None, None, page(ROUTE)),
    Example("cm:179", "GET", "/api/routes/{route}", None, None, ROUTE),
    Example("cm:194", "GET", "/api/routes/{route}/params", None, None, arr(PARAM)),
    Example("cm:209", "GET", "/api/routes?destNumber=1001&context=context-1", None, None, page(ROUTE_CHECKED)),
    Example("cm:226", "POST", "/api/routes/{route}/params", r'{"k": "set","v": "a=2222"}', JSON, ok(int)),
    Example("cm:241", "PUT", "/api/routes/{route}/params", r'{"k": "set","v": "a=3333"}', JSON, ok(PARAM)),
    Example("cm:258", "DELETE", "/api/routes/{route}/param/{route_param}", None, None, ok(int)),
    Example("cm:267", "GET", "/api/time_recurrence/route/{route}", None, None, ok(arr(TIME_RULE))),
    Example("cm:286", "POST", "/api/time_recurrence", r'{"dest_type": "FS_DEST_USER","dest_uuid": "","route_id": "24","time_recurrence":"20220502T000000|PT59M59.696S|daily||1|MO"}', JSON, arr(obj("id"))),
    Example("cm:307", "PUT", "/api/time_recurrence", r'{"dest_type":"FS_DEST_USER","dest_uuid":"","route_id":"24","time_recurrence":"20220502T000000|PT1H59M59S|daily||1|MO","id":"5"}', JSON, arr(obj("id"))),
    Example("cm:317", "DELETE", "/api/time_recurrence/{time_rule}", None, None, obj("id")),
    Example("cm:327", "DELETE", "/api/time_recurrence/route/{route}", None, None, obj("id")),
    Example("cm:340", "GET", "/api/time_recurrence/templates?perPage=100", None, None, ok(page(TEMPLATE))),
    Example("cm:353", "POST", "/api/time_recurrence/templates", r'[{"name":"template_11","description" : "desc 1"}]', JSON, ok(arr(TEMPLATE))),
    Example("cm:384", "PUT", "/api/time_recurrence/templates", r'[{"id":3,"name":"tempalte_333","description":"desc333"}]', JSON, ok(arr(obj("id")))),
    Example("cm:421", "GET", "/api/time_recurrence/templates/{template}", None, None, ok(TEMPLATE_DETAIL)),
    Example("cm:462", "GET", "/api/contexts", None, None, page(CONTEXT)),
    Example("cm:472", "GET", "/api/contexts/1", None, None, CONTEXT),
    Example("cm:482", "POST", "/api/contexts", r'{"name": "test","description": "测试"}', JSON, ok(int)),
    Example("cm:493", "PUT", "/api/contexts/{context}", r'{"description": "For Internal Call","hotline_enabled": "1"}', JSON, ok(str)),
    Example("cm:504", "DELETE", "/api/contexts/{context}", None, None, ok(str)),
    Example("cm:518", "GET", "/api/route_codes?perPage=10&page=1", None, None, page(ROUTE_CODE)),
    Example("cm:534", "PUT", "/api/route_codes/{route_code}", r'{"code":"testcode","description": "test","tg_id":"1"}', JSON, ok(str)),
    Example("cm:548", "DELETE", "/api/route_codes", None, None, ok(str)),
    Example("cm:563", "POST", "/api/route_codes", r'{"code":"code1","description": "desc1","tg_id":"1"}', JSON, ok(str)),
    Example("cm:605", "GET", "/api/ivrs", None, None, page(IVR_LISTED)),
    Example("cm:616", "GET", "/api/ivrs/{ivr}", None, None, IVR),
    Example("cm:652", "GET", "/api/ivrs/{ivr}/actions", None, None, arr(IVR_ACTION)),
    Example("cm:663", "GET", "/api/ivrs/{ivr}/actions/{ivr_action}", None, None, arr(IVR_ACTION)),
    Example("cm:674", "POST", "/api/ivrs", r'{"name":"welcome"}', FORM, ok(int)),
    Example("cm:691", "PUT", "/api/ivrs/{ivr}", r'{"greet_long":"{\"media_id\":217,\"media_path\":\"/usr/local/freeswitch/storage/upload/upload-20230318103616-6bb13245-325f-499e-8e79-4b90b1abf4e5.wav\",\"media_type\":\"UPLOAD\"}"}', FORM, ok(str)),
    Example("cm:704", "PUT", "/api/ivrs/{ivr}", r'{"greet_short":"{\"media_id\":255,\"media_path\":\"/usr/local/freeswitch/storage/upload/upload-20240708170248-01909194-d3bd-707f-92ad-4d98445a36a3.wav\",\"media_type\":\"UPLOAD\"}"}', FORM, ok(str)),
    Example("cm:717", "PUT", "/api/ivrs/{ivr}", r'{"invalid_sound":"{\"media_id\":255,\"media_path\":\"/usr/local/freeswitch/storage/upload/upload-20240708170248-01909194-d3bd-707f-92ad-4d98445a36a3.wav\",\"media_type\":\"UPLOAD\"}"}', FORM, ok(str)),
    Example("cm:730", "PUT", "/api/ivrs/{ivr}", r'{"exit_sound":"{\"media_id\":255,\"media_path\":\"/usr/local/freeswitch/storage/upload/upload-20240708170248-01909194-d3bd-707f-92ad-4d98445a36a3.wav\",\"media_type\":\"UPLOAD\"}"}', FORM, ok(str)),
    Example("cm:743", "PUT", "/api/ivrs/{ivr}", r'{"transfer_sound":"{\"media_id\":255,\"media_path\":\"/usr/local/freeswitch/storage/upload/upload-20240708170248-01909194-d3bd-707f-92ad-4d98445a36a3.wav\",\"media_type\":\"UPLOAD\"}"}', FORM, ok(str)),
    Example("cm:754", "POST", "/api/ivrs/{ivr}/actions", r'{"digits": "333","match_prefix": "0","action": "IVR_QUEUE","args": "5","ivr_menu_id": "5"}', FORM, ok(int)),
    Example("cm:769", "PUT", "/api/ivrs/{ivr}/actions/{ivr_action}", r'{"digits": "0","match_prefix": "0","action": "IVR_PLAY","args": 257,"id": 24}', FORM, ok(str)),
    Example("cm:780", "DELETE", "/api/ivrs/{ivr_unused}", None, None, ok(str)),
    Example("cm:791", "DELETE", "/api/ivrs/{ivr_unused}/actions/{ivr_unused_action}", None, None, ok(str)),
    Example("cm:810", "GET", "/api/time_recurrence/templates", None, None, ok(page(TEMPLATE))),
    Example("cm:814", "GET", "/api/time_recurrence/templates/{template}", None, None, ok(TEMPLATE_DETAIL)),
    Example("cm:831", "POST", "/api/time_recurrence/templates", r'{"name": "test","description":"test"}', JSON, ok(arr(TEMPLATE))),
    Example("cm:846", "PUT", "/api/time_recurrence/templates", r'{"name":"test","description": "test","id":"1"}', JSON, ok(arr(obj("id")))),
    Example("cm:895", "DELETE", "/api/time_recurrence/templates/time_recurrences/{template_entry}", None, None, ok(obj("id"))),
    Example("cm:941", "POST", "/api/func_code", r'{"func_code": "*123", "func_type": "FS_DEST_FUNC_CALL_FORWARDING", "description": "test"}', JSON, ok(int)),
    Example("cm:956", "GET", "/api/func_code", None, None, page(FUNC_CODE)),
    Example("cm:961", "GET", "/api/func_code/{func_code}", None, None, FUNC_CODE),
    Example("cm:993", "PUT", "/api/func_code/{func_code}", r'{"action":"toggle"}', JSON, ok(str)),
    Example("cm:993#2", "PUT", "/api/func_code/{func_code}", r'{"func_code": "*1234", "func_type": "FS_DEST_MCASTS", "description": "test1"}', JSON, ok(str)),
    Example("cm:1002", "DELETE", "/api/func_code/{func_code}", None, None, ok(str)),
    Example("cm:1032", "POST", "/api/gateways", r'{"realm":"192.168.1.100:7000","name":"test","username":"1001","password":"$VeryGoodPassw0rd"}', JSON, ok(int)),
    Example("cm:1054", "POST", "/api/gateways/{gateway}/params", r'{"k": "auth-username","v": "cluecon","disabled": "0"}', JSON, ok(int)),
    Example("cm:1077", "POST", "/api/gateways/{gateway}/variables", r'{"k": "test","v": "xyt","disabled": "0","direction":"inbound"}', JSON, ok(int)),
    Example("cm:1090", "DELETE", "/api/gateways/{gateway}", None, None, ok(str)),
    Example("cm:1106", "DELETE", "/api/gateways/{gateway}/param/{gateway_param}", None, None, ok(int)),
    Example("cm:1122", "DELETE", "/api/gateways/{gateway}/variable/{gateway_variable}", None, None, ok(int)),
    Example("cm:1152", "PUT", "/api/gateways/{gateway}", r'{"realm":"192.168.1.100:7000","username":"1005","password":"$VeryGoodPassw0rd"}', JSON, ok(str)),
    Example("cm:1178", "PUT", "/api/gateways/{gateway}/params/{gateway_param}", r'{"k": "auth-username","v": "clueconn"}', JSON, ok(GATEWAY_PARAM)),
    Example("cm:1203", "PUT", "/api/gateways/{gateway}/variables/{gateway_variable}", r'{"k": "test_var","v": "xui"}', JSON, ok(GATEWAY_VARIABLE)),
    Example("cm:1214", "GET", "/api/gateways", None, None, page(GATEWAY)),
    Example("cm:1218", "GET", "/api/gateways/{gateway}", None, None, GATEWAY_DETAIL),
    Example("cm:1241", "GET", "/api/gateways/params/{gateway}", None, None, arr(GATEWAY_PARAM)),
    Example("cm:1250", "GET", "/api/gateways/variables/{gateway}", None, None, arr(GATEWAY_VARIABLE)),
    Example("cm:1334", "GET", "/api/blacklists", None, None, page(BLACKLIST)),
    Example("cm:1335", "GET", "/api/blacklists/{blacklist}", None, None, BLACKLIST),
    Example("cm:1349", "POST", "/api/blacklists", r'{"name": "test","description":"test","limit_user_type": "1","list_type": "1"}', JSON, ok(int)),
    Example("cm:1363", "POST", "/api/blacklists/{blacklist}/lists", r'{"k": "test","v":"test"}', JSON, ok(int)),
    Example("cm:1380", "POST", "/api/blacklists/{blacklist}/import", r'{"data":[{"k": "lili","v": "1008"},{"k": "lisi","v": "1009"},{"k": "1012","v": "1012"}]}', JSON, ok(arr(BLACKLIST_NUMBER))),
    Example("cm:1397", "POST", "/api/blacklists/import", r'{"lists":[{"名称":"import_1","名单类型":1,"限制用户类型":1,"号码名称":"hello","起始号码":"123"},{"名称":"import_1","名单类型":1,"限制用户类型":1,"号码名称":"hello1","起始号码":"12345"}]}', JSON, ok(arr(BLACKLIST_IMPORTED))),
    Example("cm:1415", "PUT", "/api/blacklists/{blacklist}", r'{"name":"test","description": "test","id":"1"}', JSON, ok(str)),
    Example("cm:1435", "PUT", "/api/blacklists/{blacklist}/lists/{blacklist_number}", r'{"k":"test","v": "1008"}', JSON, ok(str)),
    Example("cm:1460", "PUT", "/api/blacklists/{blacklist}/multimodify", r'{"data":[{"k": "lili","v": "1001"},{"k": "xiaoyang","v": "1003"}]}', JSON, ok(BLACKLIST_NUMBER)),
    Example("cm:1475", "DELETE", "/api/blacklists/{blacklist}", None, None, ok(str)),
    Example("cm:1490", "DELETE", "/api/blacklists/{blacklist}/lists/{blacklist_number}", None, None, ok(str)),
    Example("cm:1509", "GET", "/api/blocks", None, None, page(BLOCK)),
    Example("cm:1510", "GET", "/api/blocks/{block}", None, None, BLOCK),
    Example("cm:1526", "POST", "/api/blocks", r'{"name": "test","description":"test"}', JSON, ok(int)),
    Example("cm:1541", "PUT", "/api/blocks/{block}", r'{"name":"test","description": "test"}', JSON, ok(str)),
    Example("cm:1554", "DELETE", "/api/blocks/{block}", None, None, ok(str)),
    Example("cm:1585", "GET", "/api/trunks", None, None, page(TRUNK)),
    Example("cm:1593", "GET", "/api/trunks/{trunk}", None, None, TRUNK_DETAIL),
    Example("cm:1607", "POST", "/api/trunks", r'{"name": "test","type":"INOUT","protocol":"UDP","description":"test","remote_addr":"sip:192.168.1.100:8081","local_addr":"sip:192.168.1.200:8081"}', JSON, ok(str)),
    Example("cm:1620", "DELETE", "/api/trunks/{trunk}", None, None, ok(str)),
    Example("cm:1637", "PUT", "/api/trunks/{trunk}", r'{"name":"trunk_111","description":"12355","local_addr":"5.5.5.5","remote_addr":"1.2.3.4","type":"INOUT","protocol":"UDP"}', JSON, ok(str)),
    Example("cm:1650", "POST", "/api/trunks/import", r'{"trunks":[{"中继名称":"trunk_import","描述":"import desc","类型":"INOUT","本地地址":"","远端地址":"1.2.3.4:9999","协议":"UDP","是否注册":"f","呼叫源":"code:from","是否启用":"t","参数":"{}"}]}', JSON, ok(arr(TRUNK))),
    Example("cm:1671", "GET", "/api/trunk_groups", None, None, page(TRUNK_GROUP)),
    Example("cm:1680", "GET", "/api/trunk_groups/{trunk_group}", None, None, TRUNK_GROUP_DETAIL),
    Example("cm:1718", "POST", "/api/trunks", r'{ "name": "t_group9", "description": "desc", "strategy": "RR" }', JSON, ok(str),
            deviation=f"{TYPO}: as written it creates a trunk named t_group9, answered as trunks are"),
    Example("cm:1718/fixed", "POST", "/api/trunk_groups", r'{ "name": "t_group9", "description": "desc", "strategy": "RR" }', JSON, ok(str),
            spec_path="/api/trunks", deviation=f"{TYPO}: replayed where the section documents it"),
    Example("cm:1731", "DELETE", "/api/trunk_groups/{trunk_group}", None, None, ok(str)),
    Example("cm:1748", "PUT", "/api/trunks/{trunk}", r'{ "name": "trunk goup2", "description": "gggggggggggggggggg", "strategy": "WEIGHT", "id": "22" }', JSON, ok(str),
            deviation=f"{TYPO}: as written it renames trunk 1, answered as trunks are, not with a bare id"),
    Example("cm:1748/fixed", "PUT", "/api/trunk_groups/{trunk_group}", r'{ "name": "trunk goup2", "description": "gggggggggggggggggg", "strategy": "WEIGHT", "id": "22" }', JSON, obj("id"),
            spec_path="/api/trunks/{trunk}", deviation=f"{TYPO}: replayed where the section documents it"),
    Example("cm:1771", "GET", "/api/hotlines", None, None, page(HOTLINE)),
    Example("cm:1772", "GET", "/api/hotlines?numbers=1001", None, None, page(HOTLINE)),
    Example("cm:1773", "GET", "/api/hotlines/{hotline}", None, None, HOTLINE),
    Example("cm:1789", "POST", "/api/hotlines", r'{"numbers": "1005","line_number": "6553998"}', JSON, ok(int)),
    Example("cm:1804", "PUT", "/api/hotlines/{hotline}", r'{"numbers": "1009", "line_number": "6553998"}', JSON, ok(str)),
    Example("cm:1817", "DELETE", "/api/hotlines/{hotline}", None, None, ok(str)),
    Example("cm:1844", "GET", "/api/dods", None, None, page(DOD)),
    Example("cm:1845", "GET", "/api/dods?page=1&perPage=10&line_number=12345", None, None, page(DOD)),
    Example("cm:1846", "GET", "/api/dods/{dod}", None, None, DOD),
    Example("cm:1862", "POST", "/api/dods", r'{"type": "GATEWAY","extn": "1005","line_number": "6553998","name": "example" }', JSON, ok(int)),
    Example("cm:1877", "POST", "/api/dods/import", r'{"dods":[{"分机": "1001","线路号码": "12345688","资源类型": "GATEWAY","资源名": "example"},{"分机": "1000","线路号码": "56799999","资源类型": "GATEWAY","资源名": "example"}]}', JSON, ok(arr(DOD))),
    Example("cm:1892", "PUT", "/api/dods/{dod}", r'{"name": "gw2"}', JSON, ok(str)),
    Example("cm:1901", "DELETE", "/api/dods/{dod}", None, None, ok(str)),
    Example("cm:1920", "GET", "/api/iptables", None, None, ok(arr(IPTABLES_RULE))),
    Example("cm:1936", "POST", "/api/iptables/add_rule", r'{"target_ip": "1.1.21.12","target_name": "test","target_port": "21345","target_protocol": "udp"}', JSON, ok(bool)),
    Example("cm:1948", "POST", "/api/iptables/clean_drop_rule", r'{"target_ip": "1.1.21.12","target_name": "test","target_port": "21345","target_protocol": "udp"}', JSON, ok(bool), first="cm:1936"),
    Example("cm:1972", "GET", "/api/number_translation", None, None, page(NUMBER_TRANSLATION)),
    Example("cm:1983", "GET", "/api/number_translation/{number_translation}/numbers", None, None, TRANSLATION_NUMBERS),
    Example("cm:1997", "POST", "/api/number_translation", r'{"name": "test","type":"exact"}', JSON, ok(int)),
    Example("cm:2011", "POST", "/api/number_translation/{number_translation}/numbers", r'{"original_number": "10001","nts_number": "901001"}', JSON, ok(int)),
    Example("cm:2025", "POST", "/api/number_translation/{number_translation}/import", r'[{"nts_number": "10001","original_number": "901001"},{"nts_number": "1002","original_number": "811002"}]', JSON, ok(int)),
    Example("cm:2045", "PUT", "/api/number_translation/{number_translation}", r'{"name":"test","description": "test","id":"1"}', JSON, ok(str)),
    Example("cm:2065", "PUT", "/api/number_translation/{number_translation}/{translation_number}", r'{"k":"test","v": "1008"}', JSON, ERROR, status=400, field="body",
            deviation="the body is the blacklist list's k/v (the same curl two sections up); a translation "
            "number has original_number/nts_number (the section's Body), no k/v: nothing to update, so a 400 "
            "rather than a success that changes nothing"),
    Example("cm:2080", "DELETE", "/api/number_translation/{number_translation}", None, None, ok(str)),
    Example("cm:2095", "DELETE", "/api/number_translation/{number_translation}/{translation_number}", None, None, ok(str)),
    Example("ext:34", "GET", "/api/device_provisions", None, None, page(DEVICE)),
    Example("ext:60", "POST", "/api/device_provisions", r'{"extn": "[{\"extn\":\"1007|demo.xswitch.cn\"}]","name": "kf1","vendor": "huawei","mac":"000B7461582D"}', JSON, ok(str)),
    Example("ext:138", "POST", "/api/device_provisions", r'{"data":[{"extn": "1031","mac": "00a859f6c74i","vendor": "xyt", "name": "lili"},{"extn": "1032","mac": "0a859f6c74o","vendor": "xyt", "name": "zhangsan"},{"extn": "1031","mac": "00a859f6c74p","vendor": "xyt", "name": "lisi"}]}', JSON, ok(arr(DEVICE))),
    Example("ext:152", "PUT", "/api/device_provisions/{device}", r'{"extn": "1006", "id": 1}', JSON, ok(str)),
    Example("ext:173", "DELETE", "/api/device_provisions/{device}", None, None, ok(str)),
    Example("ext:503", "GET", "/api/extn_alarms?perPage=500&page=1", None, None, page(SENSOR)),
    Example("ext:540", "GET", "/api/extn_alarms?perPage=500&page=1&name=154564", None, None, page(SENSOR)),
    Example("ext:572", "POST", "/api/extn_alarms", r'{"name": "新增传感器数据001","caller_number": "1000","call_duration": "100","extn_id": 2,"description": "测试新增传感器数据接口","action": "playback","data": 209}', JSON, ok(int)),
    Example("ext:596", "DELETE", "/api/extn_alarms/{sensor}", None, None, ok(str)),
    Example("ext:630", "GET", "/api/extn_alarms/{sensor}", None, None, SENSOR_DETAIL),
    Example("ext:680", "GET", "/api/extn_alarms/{sensor}/alarms?page=1&perPage=500", None, None, page(SENSOR_DEVICE)),
    Example("ext:710", "PUT", "/api/extn_alarms/{sensor}", r'{"name": "修改名字001","caller_number": "12412","call_duration": "1214","extn_id": 3,"action": "playback"}', JSON, ok(str)),
    Example("ext:763", "POST", "/api/extn_alarms/{sensor}/import", r'{"data": [{"device_id": "010","device_name": "传感器设备010"},{"device_id": "011","device_name": "传感器设备011"}]}', JSON, ok(str)),
    Example("ext:787", "DELETE", "/api/extn_alarms/alarm/{sensor_device}", None, None, ok(str)),
    Example("ext:870", "GET", "/api/check/clean-file", None, None, obj("msg", "code"),
            deviation='the keys of the spec\'s answer; code 200 "Not Running": no Switchyard worker cleans files'),
]
# fmt: on
BY_REF = {e.ref: e for e in EXAMPLES}

# --- the world the examples act on ----------------------------------------------------------

# Ids the paths use. Bodies keep the spec's own ids (route_id "24", template 3,
# time rule "5", trunk group "1", extensions 2 and 3, routes "1" and "2", IVR
# "1"…), so the world has rows with exactly those ids.
WORLD_IDS = {
    "route": 24, "route_param": 1, "time_rule": 5, "template": 3, "template_entry": 1,
    "context": 4, "route_code": 1, "ivr": 1, "ivr_action": 1, "ivr_unused": 2,
    "ivr_unused_action": 2, "func_code": 1, "gateway": 3, "gateway_param": 1,
    "gateway_variable": 1, "blacklist": 1, "blacklist_number": 1, "block": 1, "trunk": 1,
    "trunk_group": 2, "hotline": 1, "dod": 1, "number_translation": 1,
    "translation_number": 1, "device": 1, "sensor": 1, "sensor_device": 1,
}  # fmt: skip

MEDIA = '{"media_id":130,"media_path":"$${sound_prefix}/ivr/ivr-generic_greeting.wav","media_type":"SYSTEM"}'
WORLD_SQL = """
INSERT INTO contexts (id, name, key, description) VALUES (4, '销售部', 'context-4', '(示例)销售部发起的呼叫');
INSERT INTO extensions (id, extn) VALUES (1, '1000'), (2, '1001'), (3, '1002'), (4, '1005');
INSERT INTO gateways (id, name, realm, username, register) VALUES
    (1, 'example', 'example.com', 'admin', 'no'), (2, 'gw2', '', '', 'no'), (3, 'gw3', 'example.org', 'gw3', 'yes');
INSERT INTO gateway_params (id, gateway_id, k, v) VALUES (1, 3, 'auth-username', 'cluecon');
INSERT INTO gateway_variables (id, gateway_id, k, v) VALUES (1, 3, 'test_var', 'xui');
INSERT INTO ivrs (id, name, key, description, greet_long, digit_len) VALUES
    (1, 'IVR示例1', 'ivr-1', '欢迎致电,请直拨分机号,查号请拨0', '$MEDIA', 4),
    (2, 'IVR示例2', 'ivr-2', '', '', 1);
INSERT INTO ivr_actions (id, ivr_menu_id, digits, action, args, body) VALUES
    (1, 1, '0', 'IVR_PLAY', 'tone_stream://%(1000,0,640)', 'BEEP'), (2, 2, '1', 'IVR_BACK', '', '');
INSERT INTO blocks (id, name, description) VALUES (1, 'example2', '办公常用IVR示例');
INSERT INTO trunks (id, name, remote_addr, local_addr, source) VALUES (1, 'trunk_a', '1.2.3.4', '5.5.5.5', 'context-2');
INSERT INTO trunk_groups (id, name) VALUES (1, 'avaya'), (2, 'Media-Server');
INSERT INTO route_codes (id, code, tg_id, description) VALUES (1, 'code00', 1, 'des00');
INSERT INTO blacklists (id, name, list_type, limit_user_type) VALUES (1, 'bai', 1, 0);
INSERT INTO blacklist_numbers (id, blacklist_id, k, v) VALUES (1, 1, 'lili', '1008'), (2, 1, 'xiaoyang', '1003');
INSERT INTO routes (id, name, description, prefix, max_length, context, dest_type, dest_uuid, body) VALUES
    (1, 'User', '本地分机', '1', 12, 'context-1', 'FS_DEST_USER', '', ''),
    (2, 'IVR', '', '6000', 4, 'context-1', 'FS_DEST_IVR', '1', 'IVR示例1'),
    (24, 'qing', '', '78900', 12, 'context-1', 'FS_DEST_GATEWAY', '1', 'example');
INSERT INTO route_params (id, route_id, k, v) VALUES (1, 24, 'set', 'effective_caller_id_number=1xxx');
INSERT INTO route_time_recurrences (id, route_id, time_recurrence, dest_type, dest_uuid, body) VALUES
    (5, 24, '20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR', 'FS_DEST_IVR', '1', 'IVR示例1');
INSERT INTO time_templates (id, name) VALUES (1, '示例一'), (2, '示例二'), (3, '示例三');
INSERT INTO time_template_recurrences (id, template_id, time_recurrence) VALUES
    (1, 3, '20211231T000000|PT47H59M59S|yearly||1|');
INSERT INTO func_codes (id, func_code, func_type, description) VALUES (1, '*79', 'FS_DEST_MCASTS', '组播');
INSERT INTO hotlines (id, line_number, numbers) VALUES (1, '6753997', '1001');
INSERT INTO dods (id, extn_id, extn, line_number, type, ref_id, name) VALUES (1, 3, '1002', '12345', 'GATEWAY', 1, 'example');
INSERT INTO iptables_rules (id, target_ip, target_name, target_port, target_protocol) VALUES
    (1, '1.1.1.12/32', 'test', 2345, 'udp');
INSERT INTO number_translations (id, name, type) VALUES (1, 'test2', 'exact');
INSERT INTO number_translation_numbers (id, table_id, original_number, nts_number) VALUES (1, 1, '1001', '91001');
INSERT INTO device_provisions (id, name, vendor, mac, extn) VALUES (1, 'kf1', 'huawei', '000B7461582D', '1007@demo.xswitch.cn');
INSERT INTO extn_alarms (id, name, caller_number, call_duration, extn_id, data) VALUES
    (1, '154564', '12412', '1214', 3, '$MEDIA');
INSERT INTO extn_alarm_devices (id, extn_alarms_id, device_id, device_name) VALUES
    (1, 1, '001', '传感器设备001'), (2, 1, '002', '传感器设备002');
"""
WORLD_SQL = WORLD_SQL.replace("$MEDIA", MEDIA)
_SEEDED = re.findall(r"INSERT INTO (\w+)", WORLD_SQL)


@pytest_asyncio.fixture
async def world(db: asyncpg.Pool) -> AsyncIterator[None]:
    """The rows the examples name, with the spec's ids; sequences continue after them."""
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(WORLD_SQL)
        for table in _SEEDED:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
            )
        # Written behind config-api's back: move the version on so its routing
        # replica reloads (the route check reads it).
        await conn.execute("UPDATE config_version SET version = version + 1")
    yield


async def replay(api: Api, example: Example) -> Any:
    headers = dict(api.headers)
    if example.content_type is not None:
        headers["Content-Type"] = example.content_type
    content = None if example.body is None else example.body.encode()
    return await api.client.request(example.method, example.url, content=content, headers=headers)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.ref for e in EXAMPLES])
async def test_spec_curl_example(world: None, api: Api, example: Example) -> None:
    if example.first:
        before = await replay(api, BY_REF[example.first])
        assert before.status_code == 200, (example.first, before.text)
    r = await replay(api, example)
    assert r.status_code == example.status, (example.deviation, r.text)
    body = r.json()
    conforms(example.reply, body)
    if example.field:
        assert body["data"]["field"] == example.field, body


# --- the table is the specs' curls ----------------------------------------------------------

SPEC_DIR = Path(__file__).resolve().parents[4] / "shared" / "spec"
SPEC_FILES = {
    "cm": "xswitch-rest-call-management.zh.md",
    "ext": "xswitch-rest-extended.zh.md",
}
# Paths other services own (spec/endpoints.md).
NOT_OURS = re.compile(
    r"^/api/(channels|gateways/list1|gateways/(\d+/)?control|trunk_groups/status"
    r"|media_files|upload|(baidu|ali|huawei)/tts)"
)


def spec_curls(tag: str) -> dict[str, tuple[str, str, str | None, str | None]]:
    """ref -> (method, path, body, content type) of every curl in one spec file."""
    lines = (SPEC_DIR / SPEC_FILES[tag]).read_text(encoding="utf-8").split("\n")
    out: dict[str, tuple[str, str, str | None, str | None]] = {}
    i = 0
    while i < len(lines):
        if re.search(r"(^|\s)curl -", lines[i]):
            ref, cmd = f"{tag}:{i + 1}", lines[i]
            while cmd.rstrip().endswith("\\") and i + 1 < len(lines):  # continued lines
                i += 1
                cmd = cmd.rstrip()[:-1] + " " + lines[i]
            for n, part in enumerate(re.split(r"(?=curl -)", cmd)[1:]):  # two on one line
                body = m.group(1) if (m := re.search(r"-d '([^']*)'", part)) else None
                verb = re.search(r"(?:^|\s)-X\s*([A-Z]+)", part)
                method = verb.group(1) if verb else ("POST" if body is not None else "GET")
                json_header = re.search(r"-H [\"']content-type: application/json", part, re.I)
                ctype = JSON if json_header else (FORM if body is not None else None)
                url = re.search(r"(?:https?://)?[\w.]+(?::\d+)?(/api/[^\"'\s]*)", part)
                if url and not NOT_OURS.match(url.group(1)):
                    out[ref if n == 0 else f"{ref}#{n + 1}"] = (method, url.group(1), body, ctype)
        i += 1
    return out


def test_table_is_the_specs_curls() -> None:
    if not SPEC_DIR.is_dir():
        pytest.skip(f"{SPEC_DIR} is not here (a clean clone): the table stands alone")
    curls = {**spec_curls("cm"), **spec_curls("ext")}
    replayed = {e.ref: e for e in EXAMPLES if not e.ref.endswith("/fixed")}
    assert sorted(replayed) == sorted(curls)
    for ref, (method, path, body, ctype) in curls.items():
        for e in (replayed[ref], BY_REF.get(f"{ref}/fixed")):
            if e is None:
                continue
            assert (e.method, e.body, e.content_type) == (method, body, ctype), ref
            own = e.spec_path or e.path
            pattern = re.escape(own).replace(r"\{", "{").replace(r"\}", "}")
            pattern = re.sub(r"\{\w+\}", r"\\d+", pattern)
            assert re.fullmatch(pattern, path), (ref, own, path)


def test_refs_are_unique_and_deviations_explained() -> None:
    assert len(BY_REF) == len(EXAMPLES)
    for e in EXAMPLES:
        if e.status != 200 or e.spec_path:
            assert e.deviation, e.ref
