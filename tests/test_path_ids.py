"""A path id beyond Postgres' bigint is the client's error (400 naming the
parameter) in every service, never a driver overflow answered 500 (the
fuzzer's `PUT /api/gateways/187600623355367030784/control`)."""

from __future__ import annotations

import pytest

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.service import service as event_relay
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

HUGE = "187600623355367030784"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"/api/gateways/{HUGE}/control?action=start"),
        ("GET", f"/api/webhooks/{HUGE}"),
        ("DELETE", f"/api/webhooks/{HUGE}"),
        ("GET", f"/api/routes/{HUGE}"),
    ],
)
async def test_an_id_past_bigint_is_a_400_naming_it(
    settings: Settings, api_token: str, method: str, path: str
) -> None:
    app = create_app(settings, [config_api, call_control, event_relay])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as client:
        resp = await client.request(method, path)
        assert resp.status_code == 400, resp.text
        assert "_id" in resp.text  # gateway_id, webhook_id, item_id
        ok = await client.request(method, path.replace(HUGE, "9223372036854775807"))
        assert ok.status_code == 404, ok.text
