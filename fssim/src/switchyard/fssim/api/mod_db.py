"""mod_db's API: ``db insert|delete|select|exists/<realm>/<key>[/<value>]``."""

from __future__ import annotations

from switchyard.fssim import db
from switchyard.fssim.core import ApiHandler, Core


async def db_command(node: Core, args: str) -> str:
    """The same store and replies as ``${db(...)}`` (db.db_api)."""
    return db.db_api(node, args)


COMMANDS: dict[str, ApiHandler] = {"db": db_command}
