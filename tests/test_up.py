"""`switchyard up` and `switchyard run` as a user runs them: real processes, real ports."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import httpx
import psutil
import pytest

from switchyard.shared.embedded import free_port
from switchyard.shared.settings import Settings
from tests.conftest import SWITCHYARD, StartUp, Up, clean_env


def test_up_starts_everything_embedded_and_stops_clean(start_up: StartUp) -> None:
    up = start_up()
    token = up.token()
    up.wait_ready()
    services = {"config-api", "call-control", "event-relay", "media"}
    health = httpx.get(up.url + "/readyz").json()
    assert set(health["services"]) == services
    assert health["checks"] == {"postgres": "ok", "nats": "ok"}
    alive = httpx.get(up.url + "/healthz")
    assert alive.status_code == 200
    assert alive.json()["services"] == dict.fromkeys(services, "running")

    assert httpx.get(up.url + "/api/routes").status_code == 401
    r = httpx.get(up.url + "/api/routes", headers={"X-XTRA-AUTH-ID": token})
    assert r.status_code == 200
    page = r.json()
    assert {"page", "pageCount", "rowCount", "data"} <= page.keys()
    assert isinstance(page["data"], list) and page["data"], "the demo PBX has routes"
    up.stop_and_check_nothing_left()

    # Data is kept across restarts; the last run's printed token is retired.
    again = start_up()
    new_token = again.token()
    again.wait_ready()
    assert new_token != token
    assert "admin" not in again.credentials(), "admin is created only once"
    for old_or_new, status in ((token, 401), (new_token, 200)):
        r = httpx.get(again.url + "/api/routes", headers={"X-XTRA-AUTH-ID": old_or_new})
        assert r.status_code == status
    again.stop_and_check_nothing_left()


def test_up_uses_configured_postgres_and_nats(start_up: StartUp, settings: Settings) -> None:
    up = start_up(
        SWITCHYARD_DATABASE_URL=settings.database_url,
        SWITCHYARD_NATS_URL=settings.nats_url,
        SWITCHYARD_NATS_NAMESPACE=settings.nats_namespace,
    )
    token = up.token()
    up.wait_ready()
    assert (
        httpx.delete(
            up.url + "/api/sessions", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    # No embedded servers this time: only granian's worker is a child.
    names = {p.name() for p in up.descendants()}
    assert not any("postgres" in n or "nats" in n for n in names), names
    up.stop_and_check_nothing_left()


@pytest.mark.parametrize("service", ["config-api", "call-control", "event-relay", "media"])
def test_each_service_runs_alone(service: str, settings: Settings) -> None:
    port = free_port()
    env = clean_env(**{k: v for k, v in settings.to_env().items() if k != "SWITCHYARD_HTTP_PORT"})
    proc = subprocess.Popen(
        [*SWITCHYARD, "run", service, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        up = Up(proc, port)  # type: ignore[arg-type]
        up.wait_ready()
        health = httpx.get(up.url + "/readyz").json()
        assert list(health["services"]) == [service]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_run_refuses_an_unknown_service() -> None:
    r = subprocess.run(
        [*SWITCHYARD, "run", "nope"], capture_output=True, text=True, env=clean_env(), check=False
    )
    assert r.returncode != 0
    assert "unknown service nope" in r.stderr


def test_a_killed_up_leaves_no_worker_behind(start_up: StartUp) -> None:
    up = start_up()
    up.token()
    up.wait_ready()
    children = up.descendants()
    up.proc.send_signal(signal.SIGKILL)
    up.proc.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"orphans: {[(p.pid, p.name()) for p in alive]}"


def test_the_demo_call_to_1000_answers_and_its_events_reach_webhook_listen(
    start_up: StartUp,
) -> None:
    """The README's path: `up`, `webhook-listen`, the printed subscription, a call."""
    up = start_up()
    token = up.token()
    up.wait_ready()
    listen_port = free_port()
    listener = subprocess.Popen(
        [*SWITCHYARD, "webhook-listen", "--port", str(listen_port), "--api", up.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_env(),
    )
    lines: list[str] = []

    def read_until(pattern: str) -> re.Match[str]:
        assert listener.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = listener.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"never printed {pattern!r}:\n{''.join(lines)}")

    try:
        body = json.loads(read_until(r"-d '(\{.*\})'").group(1))
        auth = {"X-XTRA-AUTH-ID": token}
        r = httpx.post(up.url + "/api/webhooks", json=body, headers=auth)
        assert r.status_code == 200 and r.json()["code"] == 200, r.text
        # The relay's durable consumer starts from "now": wait until it has
        # one, then place the call.
        for _ in range(100):
            if httpx.post(
                up.url + f"/api/webhooks/{r.json()['data']}/test", headers=auth
            ).is_success:
                break
            time.sleep(0.2)
        read_until(r"verified .* ping")
        time.sleep(2)
        call = httpx.post(up.url + "/api/channels", data={"destNumber": "1000"}, headers=auth)
        assert call.status_code == 200 and call.json()["result"] == "ok", call.text
        uuid = call.json()["uuid"]
        read_until(rf"ai::channel-state state=answered call={uuid}")
        httpx.delete(up.url + f"/api/channels/{uuid}", headers=auth)
        read_until(rf"ai::channel-state state=hangup cause=\S+ call={uuid}")
    finally:
        listener.terminate()
        listener.wait(10)
    states = [m.group(1) for line in lines if (m := re.search(rf"state=(\w+) .*call={uuid}", line))]
    assert states[0] == "ringing" and states.index("answered") < states.index("hangup")
    assert not [line for line in lines if line.startswith("rejected")]
    up.stop_and_check_nothing_left()
