"""``switchyard webhook-listen``: a local endpoint that prints each delivery it verifies.

It creates nothing: it prints the request that subscribes it (with a secret
it made up, or the one given with ``--secret``), then checks every delivery's
Standard Webhooks signature with that secret and prints one line per event.
A delivery that fails the check is answered 401 and shown as rejected.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import signal
import sys
from typing import Any, TextIO

from switchyard.shared import webhooks
from switchyard.shared.settings import Settings
from switchyard.shared.webhook_receiver import Answer, Received, Receiver


def register(sub: Any) -> None:
    """Entry point of the ``switchyard.commands`` group."""
    p: argparse.ArgumentParser = sub.add_parser(
        "webhook-listen", help="print the webhook deliveries this port receives, verified"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--secret",
        default="",
        help="the subscription's whsec_… secret (default: a new one, shown in the printed request)",
    )
    p.add_argument("--api", default="", help="the API's URL for the printed request")
    p.set_defaults(func=cmd_webhook_listen)


def cmd_webhook_listen(settings: Settings, args: argparse.Namespace) -> None:
    secret = args.secret or webhooks.new_secret()
    try:
        webhooks.secret_key(secret)
    except ValueError as exc:
        sys.exit(f"--secret {exc}")
    api = args.api or f"http://127.0.0.1:{settings.http_port}"
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(listen(args.host, args.port, secret, api, given=bool(args.secret)))


def describe(body: bytes) -> str:
    """One line about a delivery's body: the event and the call it belongs to."""
    try:
        event = json.loads(body)
    except ValueError:
        return f"{len(body)} bytes, not JSON"
    if not isinstance(event, dict):
        return "JSON, not an object"
    if "type" in event and "Event-Name" not in event:  # ping, webhook.*
        return f"{event['type']} {json.dumps(event.get('data', {}), ensure_ascii=False)}"
    name = str(event.get("Event-Name", "?"))
    if name == "CUSTOM":
        name = str(event.get("Event-Subclass", name))
    parts = [name]
    for label, key in (
        ("state", "Answer-State"),
        ("cause", "Hangup-Cause"),
        ("call", "Unique-ID"),
        ("from", "Caller-Caller-ID-Number"),
        ("to", "Caller-Destination-Number"),
    ):
        if event.get(key):
            parts.append(f"{label}={event[key]}")
    return " ".join(parts)


class Printer:
    """Answers deliveries: 204 when the signature holds, 401 otherwise; prints each."""

    def __init__(self, secret: str, out: TextIO) -> None:
        self.secret = secret
        self.out = out
        self.verified = 0

    def __call__(self, got: Received) -> Answer:
        try:
            msg_id = webhooks.verify(self.secret, got.body, got.headers)
        except (webhooks.SignatureError, ValueError) as exc:
            print(f"rejected  {got.path}: {exc}", file=self.out, flush=True)
            return Answer(401)
        self.verified += 1
        print(f"verified  {msg_id}  {describe(got.body)}", file=self.out, flush=True)
        return Answer(204)


async def listen(
    host: str, port: int, secret: str, api: str, *, given: bool, out: TextIO = sys.stdout
) -> None:
    rx = Receiver(Printer(secret, out), keep=False)
    url = await rx.start(host, port)
    print(f"Listening on {url}/ for webhook deliveries.", file=out)
    body = json.dumps({"url": url + "/", "secret": secret, "description": "webhook-listen"})
    if given:
        print("Deliveries are verified with the secret given.", file=out)
    else:
        print("Subscribe it (once; a new secret is made each start):", file=out)
        print(
            f"  curl -H 'X-XTRA-AUTH-ID: <token>' -H 'Content-Type: application/json' \\\n"
            f"       -d {shlex.quote(body)} {api}/api/webhooks",
            file=out,
        )
        print(
            "  (or pass an existing subscription's secret with --secret; "
            f"GET {api}/api/webhooks/<id>/secret shows it)",
            file=out,
        )
    out.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await rx.stop()
