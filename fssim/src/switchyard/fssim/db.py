"""mod_db's store (db_data, in ``Core.db``), as the ``db`` API and ``${db(...)}`` use it."""

from __future__ import annotations

from switchyard.fssim.core import Core


def db_api(node: Core, args: str) -> str:
    """mod_db's ``db`` API (db_api_function): ``insert/<realm>/<key>/<value>``,
    ``delete/<realm>/<key>``, ``select/<realm>/<key>`` (the value, or nothing),
    ``exists/<realm>/<key>`` (``true``/``false``); anything else ``!err!``."""
    argv = args.split("/", 3) if args else []
    op = argv[0].lower() if argv else ""
    if op == "insert" and len(argv) >= 4:
        node.db[(argv[1], argv[2])] = argv[3]
        return "+OK"
    if op == "delete" and len(argv) >= 2:
        node.db.pop((argv[1], argv[2] if len(argv) > 2 else ""), None)
        return "+OK"
    if op == "select" and len(argv) >= 3:
        return node.db.get((argv[1], argv[2]), "")
    if op == "exists" and len(argv) >= 3:
        return "true" if node.db.get((argv[1], argv[2]), "") else "false"
    return "!err!"
