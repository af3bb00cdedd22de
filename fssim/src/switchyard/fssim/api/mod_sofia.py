"""mod_sofia's API: ``sofia status``, ``sofia xmlstatus``, ``sofia profile …``, ``sofia_contact``.

Registrations are the core's (``Core.registrations``, registrations.py);
the layouts are mod_sofia.c's (cmd_status, cmd_xml_status,
show_reg_callback[_xml], sofia_contact_function).
"""

from __future__ import annotations

import time

from switchyard.fssim.core import ApiHandler, Core, Gateway
from switchyard.fssim.event import url_encode
from switchyard.fssim.registrations import Registration

LINE = "=" * 97
XML_HEAD = '<?xml version="1.0" encoding="ISO-8859-1"?>'


def _row(name: str, kind: str, data: str, state: str) -> str:
    return f"{name:>25}\t{kind}\t  {data:>40}\t{state}\n"


async def sofia(node: Core, args: str) -> str:
    w = args.split()
    if not w:
        return "-ERR Usage: sofia help\n"
    if w[0] == "status" and len(w) == 1:
        sep = "=" * 97 + "\n"
        out = _row("Name", "   Type", "Data", "State") + sep
        out += _row("127.0.0.1", "  alias", "internal", "ALIASED")
        for name, url in node.profiles.items():
            calls = sum(1 for c in node.channels.values() if c.name.startswith(f"sofia/{name}/"))
            out += _row(name, "profile", url, f"RUNNING ({calls})")
            for gw in node.gateways.values():
                if gw.profile == name:
                    out += _row(
                        f"{name}::{gw.name}", "gateway", f"sip:{gw.username}@{gw.realm}", gw.state
                    )
        return out + sep + f"{len(node.profiles)} profile 1 alias\n"
    if w[0] == "xmlstatus" and len(w) >= 3 and w[1] == "gateway":
        found = node.gateways.get(w[2])
        return _gateway_xml(node, found) if found else "Invalid Gateway!\n"
    if w[0] in ("status", "xmlstatus") and len(w) >= 4 and w[1] == "profile":
        profile = _profile(node, w[2])
        if profile is None:
            return "Invalid Profile!\n"
        regs = _select(node, profile, w[3], w[4] if len(w) > 4 else "")
        if regs is not None:
            return _reg_xml(node, regs) if w[0] == "xmlstatus" else _reg_text(node, regs)
    if w[0] == "profile" and len(w) >= 3:
        return _sofia_profile(node, w[1], w[2], w[3] if len(w) > 3 else "")
    return "-ERR Usage: sofia help\n"


def _profile(node: Core, name: str) -> str | None:
    """sofia_glue_find_profile: a profile by name or by one of its aliases."""
    if name in node.profiles:
        return name
    return ALIASES.get(name)


def _select(node: Core, profile: str, what: str, arg: str) -> list[Registration] | None:
    """The sip_registrations rows ``reg [<contact part>]`` or ``user <[user@]host>``
    select; None for anything else (the profile's own status, not simulated)."""
    regs = [r for r in node.registrations.values() if r.profile == profile]
    if what == "reg":
        return [r for r in regs if arg.lower() in r.contact.lower()]
    if what == "user" and arg:
        user, at, host = arg.rpartition("@")
        if not at:
            user, host = "", arg
        return [r for r in regs if (not user or r.user == user) and (not host or r.host == host)]
    if what == "pres" and arg:
        return []  # presence_hosts is empty on the stock profile
    return None


def _status(reg: Registration) -> tuple[str, int]:
    """EXP(...) and EXPSECS(...): the expiry as local time, and seconds left."""
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(reg.expires_at)),
        reg.expires_at - int(time.time()),
    )


def _reg_text(node: Core, regs: list[Registration]) -> str:
    out = f"\nRegistrations:\n{LINE}\n"
    for r in regs:
        exp, secs = _status(r)
        out += (
            f"Call-ID:    \t{r.call_id}\n"
            f"User:       \t{r.user}@{r.host}\n"
            f"Contact:    \t{r.contact}\n"
            f"Agent:      \t{r.user_agent}\n"
            f"Status:     \t{r.status}({r.rpid}) EXP({exp}) EXPSECS({secs})\n"
            f"Ping-Status:\t{r.ping_status}\n"
            f"Ping-Time:\t{r.ping_ms:0.2f}\n"
            f"Host:       \t{node.hostname}\n"
            f"IP:         \t{r.network_ip}\n"
            f"Port:       \t{r.network_port}\n"
            f"Auth-User:  \t{r.username}\n"
            f"Auth-Realm: \t{r.realm}\n"
            f"MWI-Account:\t{r.user}@{r.host}\n\n"
        )
    return out + f"Total items returned: {len(regs)}\n{LINE}\n"


def _amp(value: str) -> str:
    """switch_amp_encode."""
    for raw, ent in (
        ("&", "&amp;"),
        ('"', "&quot;"),
        ("'", "&apos;"),
        ("<", "&lt;"),
        (">", "&gt;"),
    ):
        value = value.replace(raw, ent)
    return value


def _reg_xml(node: Core, regs: list[Registration]) -> str:
    out = f"{XML_HEAD}\n<profile>\n  <registrations>\n"
    for r in regs:
        exp, secs = _status(r)
        fields = (
            ("call-id", r.call_id),
            ("user", f"{r.user}@{r.host}"),
            ("contact", _amp(r.contact)),
            ("agent", _amp(r.user_agent)),
            ("status", f"{r.status}({r.rpid}) exp({exp}) expsecs({secs})"),
            ("ping-status", r.ping_status),
            ("ping-time", f"{r.ping_ms:0.2f}"),
            ("host", node.hostname),
            ("network-ip", r.network_ip),
            ("network-port", str(r.network_port)),
            ("sip-auth-user", url_encode(r.username)),
            ("sip-auth-realm", r.realm),
            ("mwi-account", f"{r.user}@{r.host}"),
        )
        out += "    <registration>\n"
        out += "".join(f"        <{k}>{v}</{k}>\n" for k, v in fields)
        out += "    </registration>\n"
    return out + "  </registrations>\n</profile>\n"


async def sofia_contact(node: Core, args: str) -> str:
    """``sofia_contact [<profile>|*/]<user>[@<domain>][/<prefix>]``: the registered
    contacts as dial strings (``<prefix>sofia/<profile>/sip:<uri>``, comma-separated),
    or ``error/user_not_registered`` (also with no argument, as observed)."""
    data = args.strip()
    profile_name, slash, rest = data.partition("/")
    user = rest if slash else data
    if not slash:
        profile_name = ""
    domain, concat = "", ""
    if "@" in user:
        user, _, domain = user.partition("@")
        domain, _, concat = domain.partition("/")
    else:
        user, _, concat = user.partition("/")
    domain = domain or node.ipv4  # switch_core_get_domain
    profile = None
    if profile_name != "*":
        profile = _profile(node, profile_name) if profile_name else None
        profile = profile or _profile(node, domain)
    found = [
        r for r in node.find_registrations(user, domain) if profile is None or r.profile == profile
    ]
    if not user or not found:
        return "error/user_not_registered"
    contacts: list[str] = []
    for r in found:
        contact = f"{concat}{r.url}"
        if contact not in contacts:
            contacts.append(contact)
    return ",".join(contacts)


def _sofia_profile(node: Core, profile: str, action: str, gw_name: str) -> str:
    if profile not in node.profiles:
        return f"Invalid Profile [{profile}]"
    if action == "flush_inbound_reg":
        # sofia_reg_check_expire / sofia_reg_expire_call_id: sofia::expire for each.
        regs = [r for r in node.registrations.values() if r.profile == profile]
        if gw_name:
            user, at, host = gw_name.rpartition("@")
            regs = [
                r
                for r in regs
                if r.call_id == gw_name
                or (at and r.host == host and (not user or r.user == user))
                or (not at and r.host == gw_name)
            ]
        for r in regs:
            node.drop_registrations(r.user, r.host, "sofia::expire")
        if gw_name:
            return "+OK flushing all registrations matching specified call_id\n"
        return "+OK flushing all registrations\n"
    if action == "killgw":
        if not gw_name:
            return "-ERR missing gw name\n"
        if gw_name == "_all_":
            for name in [n for n, g in node.gateways.items() if g.profile == profile]:
                node.killed_gateways[name] = node.gateways.pop(name)
            return "+OK every gateway marked for deletion.\n"
        gw = node.gateways.get(gw_name)
        if gw is None:
            return "-ERR no such gateway.\n"
        node.killed_gateways[gw_name] = node.gateways.pop(gw_name)
        return "+OK gateway marked for deletion.\n"
    if action == "startgw":
        if gw_name not in node.gateways:
            old = node.killed_gateways.pop(gw_name, None)
            if old is not None:
                # It comes back on the profile asked for: FreeSWITCH reads the
                # gateway from that profile's section of sofia.conf.
                node.gateways[gw_name] = Gateway(
                    gw_name,
                    profile=profile,
                    realm=old.realm,
                    username=old.username,
                    behaviour=old.behaviour,
                )
        return f"Reload XML [Success]\n+OK start gateway {gw_name} complete\n"
    if action in ("register", "unregister"):
        gw = node.gateways.get(gw_name)
        if gw is None:
            return "Invalid gateway!\n"
        if action == "register":
            node.set_gateway(gw_name, "TRYING")
            node.set_gateway(gw_name, "REGED")
        else:
            node.set_gateway(gw_name, "UNREGED")
        return "+OK\n"
    return "-ERR Usage: sofia help\n"


def _gateway_xml(node: Core, gw: Gateway) -> str:
    uptime = int(time.time() * 1_000_000) - gw.started_us
    fields = [
        ("name", gw.name),
        ("profile", gw.profile),
        ("scheme", "Digest"),
        ("realm", gw.realm),
        ("username", gw.username),
        ("password", "yes"),
        ("from", f"&lt;sip:{gw.username}@{gw.realm}&gt;"),
        ("contact", f"&lt;sip:gw+{gw.name}@127.0.0.1:5060;transport=udp;gw={gw.name}&gt;"),
        ("exten", gw.username),
        ("to", f"sip:{gw.username}@{gw.realm}"),
        ("proxy", f"sip:{gw.realm}"),
        ("context", "default"),
        ("expires", "3600"),
        ("freq", "3600"),
        ("ping", "0"),
        ("pingfreq", "0"),
        ("pingmin", "0"),
        ("pingcount", "0"),
        ("pingmax", "0"),
        ("pingtime", "0.00"),
        ("pinging", "0"),
        ("state", gw.state),
        ("status", gw.status),
        ("uptime-usec", str(uptime)),
        ("calls-in", str(gw.calls_in)),
        ("calls-out", str(gw.calls_out)),
        ("failed-calls-in", str(gw.failed_in)),
        ("failed-calls-out", str(gw.failed_out)),
    ]
    body = "".join(f"    <{k}>{v}</{k}>\n" for k, v in fields)
    return f'<?xml version="1.0" encoding="ISO-8859-1"?>\n  <gateway>\n{body}  </gateway>\n'


# The stock profile's alias (``sofia status``: 127.0.0.1 ALIASED to internal).
ALIASES = {"127.0.0.1": "internal"}

COMMANDS: dict[str, ApiHandler] = {"sofia": sofia, "sofia_contact": sofia_contact}
