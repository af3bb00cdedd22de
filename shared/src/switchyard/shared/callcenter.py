"""How coocenter's queues and agents are named in FreeSWITCH's mod_callcenter.

config-api serves callcenter.conf and routes calls into queues by these
names; call-control logs agents in and reads queues by them. A coocenter
queue ``630`` is the mod_callcenter queue ``630@default`` and extension
``800`` is the agent ``800@default`` (mod_callcenter's own ``<name>@<domain>``
convention, with one fixed domain so both services agree without asking
FreeSWITCH for its ``$${domain}``).
"""

from __future__ import annotations

DOMAIN = "default"


def queue_name(queue: str) -> str:
    return f"{queue}@{DOMAIN}"


def agent_name(extension: str) -> str:
    return f"{extension}@{DOMAIN}"


def short(name: str) -> str:
    """``630@default`` -> ``630``: the coocenter word for a queue or agent."""
    return name.partition("@")[0]
