"""The config-api service as the runner sees it."""

from __future__ import annotations

from switchyard.shared.service import Service

service = Service(name="config-api")
