"""Drive greenswitch (gevent) against an ESL server, in its own process, and print JSON.

Run as ``python greenswitch_probe.py HOST PORT PASSWORD``. gevent never shares
a process with the asyncio test loop; every step is bounded by gevent.Timeout.
"""

from __future__ import annotations

import json
import sys

import gevent
import greenswitch

STEP = 5


def main() -> None:
    host, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fs = greenswitch.InboundESL(host=host, port=port, password=password)
    with gevent.Timeout(STEP):
        fs.connect()
    events: list[dict[str, str]] = []
    done = gevent.event.Event()

    def on_event(event: object) -> None:
        headers = dict(event.headers)  # type: ignore[attr-defined]
        events.append(headers)
        if headers.get("Event-Name") == "CHANNEL_DESTROY":
            done.set()

    for name in ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_DESTROY", "BACKGROUND_JOB"):
        fs.register_handle(name, on_event)
    out: dict[str, object] = {}
    with gevent.Timeout(STEP):
        out["event"] = fs.send(
            "event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_DESTROY BACKGROUND_JOB"
        ).data
        out["status"] = fs.send("api status").data
        out["bgapi"] = fs.send("bgapi originate loopback/9999 &park").data
    with gevent.Timeout(STEP):
        while not any(e.get("Event-Name") == "BACKGROUND_JOB" for e in events):
            gevent.sleep(0.01)
    job = next(e for e in events if e.get("Event-Name") == "BACKGROUND_JOB")
    out["job"] = job
    a_leg = job.get("Content-Length", "").split("+OK ")[-1].strip()
    with gevent.Timeout(STEP):
        out["kill"] = fs.send(f"api uuid_kill {a_leg}").data
        done.wait()
    out["a_leg"] = a_leg
    out["events"] = [
        {k: e.get(k, "") for k in ("Event-Name", "Unique-ID", "Channel-Name")} for e in events
    ]
    print(json.dumps(out))
    fs.stop()


if __name__ == "__main__":
    main()
