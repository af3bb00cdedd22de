"""mod_hash's key/value store (``db_hash``), as its ``hash`` app and API use it.

Entries are kept under ``<realm>_<key>`` (mod_hash joins them with ``_``),
so ``hash insert/a_b/c/v`` and ``hash insert/a/b_c/v`` name one entry, as
in FreeSWITCH. The store lives in ``Core.hash_db`` and, like FreeSWITCH's,
only as long as the node runs.
"""

from __future__ import annotations

import logging

from switchyard.fssim.core import Core

log = logging.getLogger("switchyard.fssim.hashdb")

APP_USAGE = "[insert|insert_ifempty|delete|delete_ifmatch]/<realm>/<key>/<val>"
API_USAGE = "insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]"


def _split(data: str) -> list[str]:
    # switch_separate_string on '/' into at most four parts: the value keeps its slashes.
    return data.split("/", 3) if data else []


def hash_app(node: Core, data: str) -> None:
    """The ``hash`` application (hash_function): changes the store, answers nothing."""
    argv = _split(data)
    op = argv[0].lower() if argv else ""
    if len(argv) < 3 or not argv[0]:
        log.warning("USAGE: hash %s", APP_USAGE)
        return
    key = f"{argv[1]}_{argv[2]}"
    store = node.hash_db
    if op in ("insert", "insert_ifempty", "delete_ifmatch") and len(argv) < 4:
        log.warning("USAGE: hash %s", APP_USAGE)
    elif op == "insert":
        store[key] = argv[3]
    elif op == "insert_ifempty":
        store.setdefault(key, argv[3])
    elif op == "delete":
        store.pop(key, None)
    elif op == "delete_ifmatch":
        if store.get(key) == argv[3]:
            del store[key]
    else:
        log.warning("USAGE: hash %s", APP_USAGE)


def hash_api(node: Core, args: str) -> str:
    """The ``hash`` API (hash_api_function) and ``${hash(...)}``: its replies as written."""
    argv = _split(args)
    op = argv[0].lower() if argv else ""
    usage = f"-ERR Usage: hash {API_USAGE}\n"
    if len(argv) < 3 or not argv[0]:
        return usage
    key = f"{argv[1]}_{argv[2]}"
    store = node.hash_db
    if op in ("insert", "insert_ifempty", "delete_ifmatch") and len(argv) < 4:
        return usage
    if op == "insert":
        store[key] = argv[3]
        return "+OK\n"
    if op == "insert_ifempty":
        if key in store:
            return "-ERR key already exists\n"
        store[key] = argv[3]
        return "+OK\n"
    if op == "delete":
        return "+OK\n" if store.pop(key, None) is not None else "-ERR Not found\n"
    if op == "delete_ifmatch":
        if key not in store:
            return "-ERR Not found\n"
        if store[key] != argv[3]:
            return "-ERR Doesn't match\n"
        del store[key]
        return "+OK\n"
    if op == "select":
        return store.get(key, "")
    return usage
