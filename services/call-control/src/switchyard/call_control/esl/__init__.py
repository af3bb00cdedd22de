"""call-control's asyncio ESL client (see docs/esl.md)."""

from switchyard.call_control.esl.client import EslClient, parse_esl_url
from switchyard.call_control.esl.connection import EslConnection
from switchyard.call_control.esl.errors import (
    AuthFailed,
    CommandError,
    CommandTimeout,
    ConnectionLost,
    EslError,
)
from switchyard.call_control.esl.frames import EslEvent, Reply, parse_json, parse_plain

__all__ = [
    "AuthFailed",
    "CommandError",
    "CommandTimeout",
    "ConnectionLost",
    "EslClient",
    "EslConnection",
    "EslError",
    "EslEvent",
    "Reply",
    "parse_esl_url",
    "parse_json",
    "parse_plain",
]
