"""mod_sofia's API: ``sofia status``, ``sofia xmlstatus gateway``, ``sofia profile …``."""

from __future__ import annotations

import time

from switchyard.fssim.core import ApiHandler, Core, Gateway


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
    if w[0] == "profile" and len(w) >= 3:
        return _sofia_profile(node, w[1], w[2], w[3] if len(w) > 3 else "")
    return "-ERR Usage: sofia help\n"


def _sofia_profile(node: Core, profile: str, action: str, gw_name: str) -> str:
    if profile not in node.profiles:
        return f"Invalid Profile [{profile}]"
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


COMMANDS: dict[str, ApiHandler] = {"sofia": sofia}
