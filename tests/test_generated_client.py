"""A client generated from the OpenAPI document, as an integrator makes one
(openapi-python-client), drives create, read, update, list and delete of the
configuration resources against the real config-api.

The client is generated from the served ``/schema/openapi.json`` on every
run, so a document it cannot read (a union it refuses, a model name twice)
fails here before it fails an integrator.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from switchyard.config_api.service import service as config_api
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

PACKAGE = "switchyard_generated_client"

# tag (the client's module), operation suffix, a create body, an update body,
# and a field the update changes as read back.
RESOURCES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    ("contexts", "contexts", {"name": "gen-ctx"}, {"description": "changed"}, "description"),
    ("extensions", "extensions", {"extn": "8801"}, {"name": "changed"}, "name"),
    (
        "gateways",
        "gateways",
        {"name": "gen-gw", "realm": "gw.example"},
        {"description": "changed"},
        "description",
    ),
    (
        "blacklists",
        "blacklists",
        {"name": "gen-bl", "list_type": 0, "limit_user_type": 1},
        {"description": "changed"},
        "description",
    ),
    ("blocks", "blocks", {"name": "gen-block"}, {"description": "changed"}, "description"),
    (
        "hotlines",
        "hotlines",
        {"numbers": "1", "line_number": "8802"},
        {"description": "changed"},
        "description",
    ),
    ("ivrs", "ivrs", {"name": "gen-menu"}, {"description": "changed"}, "description"),
    (
        "number_translation",
        "number_translation",
        {"name": "gen-nt", "type": "exact"},
        {"description": "changed"},
        "description",
    ),
    (
        "queues",
        "callcenter_queues",
        {"name": "gen-queue"},
        {"description": "changed"},
        "description",
    ),
    ("trunks", "trunk_groups", {"name": "gen-tg"}, {"description": "changed"}, "description"),
]


@pytest.fixture
def generated(tmp_path: Path, settings: Settings) -> Iterator[Any]:
    """The client package, generated from the app's document into ``tmp_path``."""
    app = create_app(settings, [config_api])
    document = tmp_path / "openapi.json"
    document.write_bytes(msgspec.json.encode(app.openapi_schema.to_schema()))
    out = tmp_path / "client"
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


def _op(tag: str, name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


async def test_crud_of_the_configuration_resources_through_a_generated_client(
    generated: Any, settings: Settings, api_token: str
) -> None:
    client_module = importlib.import_module(f"{PACKAGE}.client")
    app = create_app(settings, [config_api])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as http:
        client = client_module.AuthenticatedClient(
            base_url="http://testserver",
            token=api_token,
            prefix="",
            auth_header_name="X-XTRA-AUTH-ID",
        )
        client.set_async_httpx_client(http)
        for tag, op, create_body, update_body, changed in RESOURCES:
            create = _op(tag, f"create_{op}")
            model = typing.get_type_hints(create._get_kwargs)["body"]
            made = await create.asyncio_detailed(client=client, body=model.from_dict(create_body))
            assert made.status_code == 200, (op, made.content)
            item_id = int(made.parsed.data)

            got = await _op(tag, f"get_{op}").asyncio_detailed(item_id, client=client)
            assert got.status_code == 200, (op, got.content)
            assert int(got.parsed.id) == item_id

            edit = _op(tag, f"update_{op}")
            edited = await edit.asyncio_detailed(item_id, client=client, body=update_body)
            assert edited.status_code == 200, (op, edited.content)
            again = await _op(tag, f"get_{op}").asyncio_detailed(item_id, client=client)
            assert again.parsed.to_dict()[changed] == update_body[changed], op

            listed = await _op(tag, f"list_{op}").asyncio_detailed(client=client, per_page=10000)
            assert listed.status_code == 200, (op, listed.content)
            assert item_id in [int(row.id) for row in listed.parsed.data], op

            gone = await _op(tag, f"delete_{op}").asyncio_detailed(item_id, client=client)
            assert gone.status_code == 200, (op, gone.content)
            missing = await _op(tag, f"get_{op}").asyncio_detailed(item_id, client=client)
            assert missing.status_code == 404, op
