"""mod_hash's API: ``hash <op>/<realm>/<key>[/<value>]`` (insert, insert_ifempty, select,
delete, delete_ifmatch)."""

from __future__ import annotations

from switchyard.fssim import hashdb
from switchyard.fssim.core import ApiHandler, Core


async def hash_command(node: Core, args: str) -> str:
    """The same store and replies as ``${hash(...)}`` (hashdb.hash_api)."""
    return hashdb.hash_api(node, args)


COMMANDS: dict[str, ApiHandler] = {"hash": hash_command}
