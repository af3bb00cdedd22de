"""What FreeSWITCH's directory and configuration fetches are answered from:
extensions with their SIP passwords, gateways with params and variables,
IVR menus with their actions, and the IP blacklist. Read with the routing
snapshot (loader.py), kept in memory, never written."""

from __future__ import annotations

import msgspec


class DirUser(msgspec.Struct, frozen=True):
    id: int
    extn: str
    password: str = ""
    context: str = "context-1"
    domain: str = ""  # "" serves every domain FreeSWITCH asks about
    name: str = ""
    cid_name: str = ""
    cid_number: str = ""
    disabled: bool = False


class GatewayVar(msgspec.Struct, frozen=True):
    k: str
    v: str
    direction: int = 0  # 0 both, 1 inbound, 2 outbound


class GatewayConf(msgspec.Struct, frozen=True):
    id: int
    name: str
    realm: str = ""
    username: str = ""
    password: str = ""
    profile: str = ""
    register: str = "yes"
    disabled: bool = False
    params: tuple[tuple[str, str], ...] = ()
    variables: tuple[GatewayVar, ...] = ()


class IvrEntry(msgspec.Struct, frozen=True):
    id: int
    digits: str
    action: str
    match_prefix: bool = False
    args: str = ""
    body: str = ""


class IvrMenu(msgspec.Struct, frozen=True):
    id: int
    name: str
    key: str = ""
    greet_long: str = ""
    greet_short: str = ""
    invalid_sound: str = ""
    exit_sound: str = ""
    transfer_sound: str = ""
    timeout: int = 15000
    max_failures: int = 3
    max_timeouts: int = 4
    exec_on_max_failures: str = ""
    exec_on_max_timeouts: str = ""
    confirm_key: str = ""
    confirm_macro: str = ""
    confirm_attempts: str = ""
    tts_engine: str = ""
    tts_voice: str = ""
    digit_len: int = 1
    inter_digit_timeout: int = 3000
    pin: str = ""
    pin_file: str = ""
    bad_pin_file: str = ""
    entries: tuple[IvrEntry, ...] = ()


class CcMember(msgspec.Struct, frozen=True):
    """A call-center queue member: an extension answering the queue (agent + tier)."""

    extn: str
    penalty: int = 0
    position: int = 1


class CcQueue(msgspec.Struct, frozen=True):
    """A call-center queue (/api/callcenter_queues) as callcenter.conf serves it."""

    id: int
    name: str
    strategy: str = "longest-idle-agent"
    moh_sound: str = ""
    max_wait_time: int = 0
    max_wait_time_with_no_agent: int = 0
    max_wait_time_with_no_agent_time_reached: int = 5
    agent_timeout: int = 20
    members: tuple[CcMember, ...] = ()


class FsConfig(msgspec.Struct, frozen=True):
    domain: str = "$${domain}"
    users: tuple[DirUser, ...] = ()
    gateways: tuple[GatewayConf, ...] = ()
    ivrs: tuple[IvrMenu, ...] = ()
    # Context ids to keys, for IVR_ROUTE actions (args = context id).
    context_keys: tuple[tuple[int, str], ...] = ()
    # The IP blacklist (iptables rules) as CIDRs, each once.
    denied: tuple[str, ...] = ()
    # Enabled call-center queues with their enabled members (callcenter.conf).
    queues: tuple[CcQueue, ...] = ()
