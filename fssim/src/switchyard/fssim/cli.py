"""``switchyard fssim``: run simulated FreeSWITCH nodes until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

from switchyard.fssim.behaviour import Behaviour
from switchyard.fssim.simulator import Simulator
from switchyard.shared.settings import Settings

log = logging.getLogger("switchyard.fssim")
# The user name Switchyard's /fs/xml expects in gateway-credentials (docs/routing.md).
XML_CURL_USER = "freeswitch"


def register(sub: Any) -> None:
    """Entry point of the ``switchyard.commands`` group."""
    p: argparse.ArgumentParser = sub.add_parser("fssim", help="run the FreeSWITCH simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--esl-port", type=int, default=8021, help="first node's ESL port (0: any)")
    p.add_argument("--password", default="ClueCon")
    p.add_argument("--xml-curl-url", default=None, help="where dialplan fetches are POSTed")
    p.add_argument(
        "--xml-curl-credentials",
        default=None,
        help="user:pass sent as basic auth, like a binding's gateway-credentials "
        "(default: freeswitch:$SWITCHYARD_XML_CURL_SECRET when that is set)",
    )
    p.add_argument("--nodes", type=int, default=1, help="nodes, on consecutive ports")
    p.add_argument("--control-port", type=int, default=None, help="HTTP control port")
    p.add_argument("--users", default="1000-1019", help="registered users, e.g. 1000-1019")
    p.add_argument("--heartbeat", type=float, default=20.0, help="HEARTBEAT interval, seconds")
    p.add_argument("--ai-events", action="store_true", help="emit CUSTOM ai::channel-state")
    p.add_argument(
        "--journal",
        action="store_true",
        help="record events taken and commands sent per ESL connection "
        "(GET /nodes/<n>/journal on the control port; grows without bound)",
    )
    p.set_defaults(func=cmd_fssim)


def cmd_fssim(settings: Settings, args: argparse.Namespace) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        if args.xml_curl_credentials is None and settings.xml_curl_secret:
            args.xml_curl_credentials = f"{XML_CURL_USER}:{settings.xml_curl_secret}"
        asyncio.run(serve(args))


def _users(spec: str) -> list[str]:
    out: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            out += [str(n) for n in range(int(lo), int(hi) + 1)]
        elif part:
            out.append(part)
    return out


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Simulator() as sim:
        for i in range(args.nodes):
            port = args.esl_port + i if args.esl_port else 0
            name = "fssim" if args.nodes == 1 else f"fssim{i + 1}"
            node = await sim.add_node(
                name,
                host=args.host,
                port=port,
                password=args.password,
                xml_curl_url=args.xml_curl_url,
                xml_curl_credentials=args.xml_curl_credentials,
                heartbeat_seconds=args.heartbeat,
                ai_events=args.ai_events,
            )
            if args.journal:
                node.record()
            for ext in _users(args.users):
                node.register_user(ext, behaviour=Behaviour(ring_seconds=1.0))
            print(f"fssim node {name} ESL on {args.host}:{node.port}", flush=True)
        control = None
        if args.control_port is not None:
            from switchyard.fssim.control import ControlServer

            control = ControlServer(sim)
            cport = await control.start(args.host, args.control_port)
            print(f"fssim control on http://{args.host}:{cport}", flush=True)
        await stop.wait()
        if control is not None:
            await control.stop()
