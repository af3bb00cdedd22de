"""The ``ivr`` app: its ivr.conf fetch through mod_xml_curl, and the menu it runs.

The first test runs on a real FreeSWITCH too; its mod_xml_curl binding must
then serve the configuration section as well as the dialplan
(``bindings="dialplan|configuration"``, see docs/fssim.md). The one
document served answers both fetches: a dialplan section routing 7770 to
the menu and a configuration section holding ``ivr.conf``. The others key
digits through the simulator's control interface (``Node.send_dtmf``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from switchyard.call_control.esl import EslClient, EslEvent
from switchyard.fssim.channel import Channel
from switchyard.shared.testing import eventually
from tests.conformance.conftest import REAL, TIMEOUT, Target
from tests.conformance.test_xml_curl import DialplanServer, _form

MENU = "sy_conformance_menu"


def _document(actions: str, menus: str, number: str = "7770", prelude: str = "") -> str:
    return (
        '<document type="freeswitch/xml">'
        '<section name="dialplan"><context name="default">'
        f'<extension name="menu"><condition field="destination_number" expression="^{number}$">'
        f'<action application="answer"/>{prelude}<action application="ivr" data="{MENU}"/>'
        "</condition></extension>"
        f'<extension name="after"><condition field="destination_number" expression="^4242$">'
        f"{actions}</condition></extension>"
        "</context></section>"
        '<section name="configuration"><configuration name="ivr.conf"><menus>'
        f"{menus}</menus></configuration></section></document>"
    )


class Events:
    def __init__(self) -> None:
        self.items: list[EslEvent] = []
        self.changed = asyncio.Event()

    def __call__(self, e: EslEvent) -> None:
        self.items.append(e)
        self.changed.set()

    async def wait(self, pred: Callable[[EslEvent], bool]) -> EslEvent:
        async def loop() -> EslEvent:
            while True:
                for e in self.items:
                    if pred(e):
                        return e
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(loop(), TIMEOUT)


@pytest_asyncio.fixture
async def server(target: Target) -> AsyncIterator[DialplanServer]:
    server = DialplanServer()
    if REAL:
        listen = os.environ.get("FS_XML_CURL_LISTEN")
        if not listen:
            pytest.skip("FS_XML_CURL_LISTEN is not set")
        host, _, port = listen.rpartition(":")
        srv = await asyncio.start_server(server.handle, host, int(port))
    else:
        srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        target.sim.xml_curl_url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/fs/xml"
    try:
        yield server
    finally:
        srv.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(srv.wait_closed(), 2)


@pytest_asyncio.fixture
async def events(target: Target) -> AsyncIterator[Events]:
    got = Events()
    c = EslClient(
        target.host,
        target.port,
        target.password,
        on_event=got,
        events=("PLAYBACK_START", "CHANNEL_EXECUTE_COMPLETE", "DTMF"),
    )
    await c.start(wait=TIMEOUT)
    yield got
    await c.close()


async def _call(client: EslClient, number: str = "7770") -> tuple[str, str]:
    """A loopback call into the menu: (A leg, B leg -- the one running ``ivr``)."""
    out = await client.api(f"originate loopback/{number}/default &park")
    assert out.startswith("+OK "), out
    a_leg = out[4:].strip()
    return a_leg, await client.api(f"uuid_getvar {a_leg} other_loopback_leg_uuid")


def _ivr_done(leg: str) -> Callable[[EslEvent], bool]:
    return lambda e: (
        e.name == "CHANNEL_EXECUTE_COMPLETE"
        and e.get("Application") == "ivr"
        and e.unique_id == leg
    )


async def test_the_menu_is_fetched_as_ivr_conf_with_its_name_and_greets_the_caller(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = _document(
        '<action application="park"/>',
        f'<menu name="{MENU}" greet-long="silence_stream://100" timeout="200"'
        ' max-failures="1" max-timeouts="1"><entry action="menu-exit" digits="9"/></menu>',
    )
    a_leg, b_leg = await _call(client)
    try:
        done = await events.wait(_ivr_done(b_leg))
        configs = [_form(r.body) for r in server.requests if b"section=configuration" in r.body]
        assert len(configs) == 1
        form = configs[0]
        keys = [k for k, _ in form]
        # switch_xml_open_cfg's five fields, the REQUEST_PARAMS event's 13
        # standard headers, Menu-Name, then the channel's data.
        assert keys[:5] == ["hostname", "section", "tag_name", "key_name", "key_value"]
        assert keys[5] == "Event-Name" and keys[17] == "Event-Sequence"
        assert keys[18:20] == ["Menu-Name", "Channel-State"]
        fields = dict(form)
        assert (fields["section"], fields["tag_name"], fields["key_name"]) == (
            "configuration",
            "configuration",
            "name",
        )
        assert fields["key_value"] == "ivr.conf"
        assert fields["Menu-Name"] == MENU
        assert fields["Event-Name"] == "REQUEST_PARAMS"
        assert fields["Event-Calling-File"] == "mod_dptools.c"
        assert fields["Event-Calling-Function"] == "ivr_application_function"
        assert fields["Unique-ID"] == b_leg
        assert fields["Channel-State"] == "CS_EXECUTE"
        assert fields["Caller-Destination-Number"] == "7770"
        assert fields["variable_current_application"] == "ivr"
        greeting = next(
            e for e in events.items if e.name == "PLAYBACK_START" and e.unique_id == b_leg
        )
        assert greeting.get("Playback-File-Path") == "silence_stream://100"
        # Nobody keyed anything: one timeout is the menu's limit.
        assert done.get("variable_ivr_menu_status") == "timeout"
    finally:
        await client.api(f"uuid_kill {a_leg}")


async def test_a_menu_that_is_not_in_the_document_does_nothing(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = _document(
        "", '<menu name="another" greet-long="silence_stream://100"></menu>'
    )
    # The B leg answers, its ivr finds no menu and its dialplan ends, usually
    # within originate's 20 ms pass, so originate sees an answered leg already
    # gone and fails with its cause (freeswitch-observed section 9: 6 of 6).
    # That is a race in FreeSWITCH as in fssim: on a loaded machine the
    # dialplan fetch can outlast the pass and originate answers +OK. What this
    # test is about is the menu, below.
    out = await client.api("originate loopback/7770/default &park")
    assert out == "-ERR NORMAL_CLEARING\n" or out.startswith("+OK "), out
    b_name = "loopback/7770-b"
    done = await events.wait(
        lambda e: (
            e.name == "CHANNEL_EXECUTE_COMPLETE"
            and e.get("Application") == "ivr"
            and e.get("Channel-Name") == b_name
        )
    )
    assert done.get("Application-Response") == "_none_"
    assert "variable_ivr_menu_status" not in done.headers
    assert not [
        e for e in events.items if e.name == "PLAYBACK_START" and e.get("Channel-Name") == b_name
    ]


# --- simulator-only: digits keyed through the control interface -------------------------


async def _until(check: Callable[[], bool]) -> None:
    # Channel.played has no event of its own to wait on.
    await eventually(check, TIMEOUT)


def _leg(target: Target, uuid: str) -> Channel:
    ch = target.sim.channels.get(uuid)
    assert ch is not None
    return ch


@pytest.mark.fssim_only
async def test_a_digit_runs_its_entry_and_fires_a_dtmf_event(
    target: Target, server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = _document(
        '<action application="set" data="sy_landed=${sy_choice}"/><action application="park"/>',
        f'<menu name="{MENU}" greet-long="ivr/welcome.wav" timeout="2000">'
        '<entry action="menu-exec-app" digits="1" param="set sy_choice=one"/>'
        '<entry action="menu-exec-app" digits="1" param="transfer 4242 XML default"/>'
        '<entry action="menu-exec-app" digits="2" param="set sy_choice=two"/></menu>',
    )
    a_leg, b_leg = await _call(client)
    b = _leg(target, b_leg)
    await _until(lambda: b.played == ["ivr/welcome.wav"])
    assert target.sim.send_dtmf(b_leg, "1")
    dtmf = await events.wait(lambda e: e.name == "DTMF" and e.unique_id == b_leg)
    assert (dtmf.get("DTMF-Digit"), dtmf.get("DTMF-Source")) == ("1", "RTP")
    # Every entry bound to "1" ran, in order; the transfer routed the call anew.
    await _until(lambda: b.parked)
    assert b.profile.destination_number == "4242"
    assert b.variables["sy_landed"] == "one"
    await client.api(f"uuid_kill {a_leg}")


@pytest.mark.fssim_only
async def test_invalid_digits_play_the_invalid_sound_until_max_failures(
    target: Target, server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = _document(
        "",
        f'<menu name="{MENU}" greet-long="ivr/welcome.wav" greet-short="ivr/again.wav"'
        ' invalid-sound="ivr/invalid.wav" exit-sound="ivr/bye.wav" timeout="2000"'
        ' max-failures="2" exec-on-max-failures="set sy_gave_up=yes">'
        '<entry action="menu-exit" digits="9"/></menu>',
    )
    a_leg, b_leg = await _call(client)
    b = _leg(target, b_leg)
    await _until(lambda: len(b.played) == 1)
    target.sim.send_dtmf(b_leg, "7")
    await _until(lambda: len(b.played) == 3)
    target.sim.send_dtmf(b_leg, "7")
    done = await events.wait(_ivr_done(b_leg))
    assert b.played == [
        "ivr/welcome.wav",
        "ivr/invalid.wav",
        "ivr/again.wav",
        "ivr/invalid.wav",
        "ivr/bye.wav",
    ]
    assert done.get("variable_ivr_menu_status") == "failure"
    assert done.get("variable_sy_gave_up") == "yes"
    with contextlib.suppress(Exception):
        await client.api(f"uuid_kill {a_leg}")


@pytest.mark.fssim_only
async def test_sub_menus_come_from_the_same_document_and_go_back(
    target: Target, server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = _document(
        "",
        f'<menu name="{MENU}" greet-long="main.wav" exit-sound="bye.wav" timeout="2000">'
        '<entry action="menu-sub" digits="2" param="sy_sub"/>'
        '<entry action="menu-exit" digits="9"/></menu>'
        '<menu name="sy_sub" greet-long="sub.wav" timeout="2000" digit-len="3">'
        '<entry action="menu-exec-app" digits="/^(1[0-9]{2})$/" param="set sy_ext=$1"/>'
        '<entry action="menu-back" digits="*"/></menu>',
    )
    a_leg, b_leg = await _call(client)
    b = _leg(target, b_leg)
    for keys, heard in (("2", 1), ("123", 2), ("*#", 3), ("9", 4)):
        await _until(lambda heard=heard: len(b.played) == heard)
        target.sim.send_dtmf(b_leg, keys)
    await events.wait(_ivr_done(b_leg))
    assert b.played == ["main.wav", "sub.wav", "sub.wav", "main.wav", "bye.wav"]
    assert b.variables.get("sy_ext") == "123"
    fetched = [r for r in server.requests if b"section=configuration" in r.body]
    assert len(fetched) == 1
    with contextlib.suppress(Exception):
        await client.api(f"uuid_kill {a_leg}")


@pytest.mark.fssim_only
async def test_digits_keyed_before_the_menu_wait_for_it(
    target: Target, server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = _document(
        "",
        f'<menu name="{MENU}" greet-long="ivr/welcome.wav" timeout="2000">'
        '<entry action="menu-exec-app" digits="3" param="set sy_early=yes"/>'
        '<entry action="menu-exit" digits="9"/></menu>',
        prelude='<action application="sleep" data="300"/>',
    )
    a_leg, b_leg = await _call(client)
    b = _leg(target, b_leg)
    # Keyed while the dialplan sleeps: nothing reads them yet, so nothing is lost.
    assert target.sim.send_dtmf(b_leg, "39")
    done = await events.wait(_ivr_done(b_leg))
    assert done.get("variable_sy_early") == "yes"
    # The first queued digit cut the greeting short; the second left the menu.
    assert b.played == ["ivr/welcome.wav", "ivr/welcome.wav"]
    digits = [e.get("DTMF-Digit") for e in events.items if e.name == "DTMF"]
    assert digits == ["3", "9"]
    with contextlib.suppress(Exception):
        await client.api(f"uuid_kill {a_leg}")
