"""mod_png's API: uuid_write_png (fssim's channels carry no video)."""

from __future__ import annotations

from switchyard.fssim.argv import separate
from switchyard.fssim.core import ApiHandler, Core


async def uuid_write_png(node: Core, args: str) -> str:
    """mod_png's uuid_write_png. fssim channels carry no video, so a live one is refused."""
    w = separate(args)[:4]
    if len(w) < 2 or (len(w) > 2 and w[2].lower() not in ("concat", "split", "write")):
        return "-USAGE: <uuid> <path> [concat | split <other_path>]\n"
    if node.find(w[0]) is None:
        return "-ERR Could not locate session.\n"
    return "-ERR Session does not have video.\n"


COMMANDS: dict[str, ApiHandler] = {"uuid_write_png": uuid_write_png}
