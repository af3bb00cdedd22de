"""The API commands, one module per FreeSWITCH module that provides them.

:func:`install` loads them into a node's core (``Core.api_handlers``), which
runs them for ESL's ``api``/``bgapi`` (``Core.api``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from switchyard.fssim.api import (
    mod_callcenter,
    mod_commands,
    mod_conference,
    mod_db,
    mod_hash,
    mod_png,
    mod_sofia,
)
from switchyard.fssim.core import ApiHandler, Core
from switchyard.fssim.executor import Executor


def _bound(ex: Executor, command: Callable[[Executor, str], Awaitable[str]]) -> ApiHandler:
    """A command that needs the executor, as the core calls it (with itself)."""

    async def handler(node: Core, args: str) -> str:
        return await command(ex, args)

    return handler


def install(node: Core, ex: Executor) -> None:
    node.api_handlers.update(mod_commands.COMMANDS)
    for calls in (mod_commands.CALL_COMMANDS, mod_callcenter.CALL_COMMANDS):
        node.api_handlers.update({n: _bound(ex, c) for n, c in calls.items()})
    for module in (mod_sofia, mod_conference, mod_db, mod_hash, mod_png):
        node.api_handlers.update(module.COMMANDS)
