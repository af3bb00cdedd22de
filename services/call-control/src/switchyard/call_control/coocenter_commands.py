"""The ESL lines of coocenter's node commands, checked by the shared rules where
they are written (the owner runs them; whoever sent them)."""

from __future__ import annotations

from switchyard.call_control.node_commands import CallcenterConfig, Transfer
from switchyard.shared.fsvalues import EXTENSION, NAME, UUID, callcenter_config_args


def coocenter_line(cmd: CallcenterConfig | Transfer) -> str:
    """The API line for ``cmd``; UnsafeValue when a value breaks its rule."""
    if isinstance(cmd, CallcenterConfig):
        return f"callcenter_config {callcenter_config_args('args', cmd.args)}"
    UUID.check("uuid", cmd.uuid)
    EXTENSION.check("dest", cmd.dest)
    NAME.check("context", cmd.context)
    return f"uuid_transfer {cmd.uuid} {cmd.dest} XML {cmd.context}"
