"""The console's typed numbers (htmx's ``HX-Prompt``) by the rule of where they
go: a transfer's destination is uuid_transfer's word and an eavesdropper's
extension is dialled, so neither may start with ``-`` (uuid_transfer reads
``-both``/``-bleg`` as its flag) or hold FreeSWITCH syntax; the answer is a
400 naming the field before any channel is looked up."""

from __future__ import annotations

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.shared.settings import Settings
from tests.conftest import served_stack

UUID = "7f4c0f7e-0000-4000-8000-000000000001"


TYPED = ("-both", "-bleg", "1000 XML x", "${system(id)}", "1}0")


async def test_a_typed_number_is_checked_before_anything_is_asked(
    settings: Settings, api_token: str
) -> None:
    async with served_stack(settings, api_token, [config_api, call_control]) as stack:
        for typed in TYPED:
            for action, field in (("transfer", "number"), ("eavesdrop/listen", "extension")):
                r = await stack.api.post(
                    f"/console/calls/{UUID}/{action}", headers={"HX-Prompt": typed}
                )
                assert r.status_code == 400, (action, typed, r.text)
                assert r.json()["data"]["field"] == field, r.text
