"""coocenter's API with no WEBKEY: open, as its spec says, and said at start.

Without ``SWITCHYARD_COOCENTER_WEBKEY`` anyone who reaches ``/coocenter-api``
(the generated Ingress routes it) may ring any extension and dial any routed
number (click-number), listen to any call (extenSpy), hang up or transfer
calls, log agents out, edit the blacklist and download recordings. The spec
wants it open then, so each service serving those paths warns at start,
naming the setting and what is open, and says nothing when it is set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import msgspec
import pytest

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.media.service import service as media
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    # On the module's own logger: the runner replaces the root logger's handlers.
    lines, logger = _Lines(), logging.getLogger("switchyard.shared.http.coocenter")
    logger.addHandler(lines)
    try:
        yield lines.lines
    finally:
        logger.removeHandler(lines)


async def _start(settings: Settings, service: Service) -> None:
    async with serving(create_app(settings, [service])):
        pass


@pytest.mark.parametrize(
    ("service", "what"),
    [
        (call_control, "click-number"),
        (config_api, "blacklist"),
        (media, "recordings"),
    ],
)
async def test_an_open_coocenter_api_is_said_at_start(
    settings: Settings, warnings: list[str], service: Service, what: str
) -> None:
    await _start(settings, service)
    (line,) = [w for w in warnings if "SWITCHYARD_COOCENTER_WEBKEY" in w]
    assert "/coocenter-api" in line and what in line
    warnings.clear()
    await _start(msgspec.structs.replace(settings, coocenter_webkey="k"), service)
    assert [w for w in warnings if "SWITCHYARD_COOCENTER_WEBKEY" in w] == []
