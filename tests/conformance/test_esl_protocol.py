"""Connection-level ESL: greeting, auth, replies before auth, command replies, exit."""

from __future__ import annotations

import asyncio
import uuid

from tests.conformance.conftest import TIMEOUT, RawEsl, Target, body_of, sample

NOTICE = (
    b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
    b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
)


async def _closed(raw: RawEsl) -> bool:
    return await asyncio.wait_for(raw.reader.read(1), TIMEOUT) == b""


async def test_commands_before_auth_are_refused_and_the_connection_stays_usable(
    target: Target,
) -> None:
    raw = await RawEsl.connect(target, auth=False)
    for cmd in ("api status", "event plain ALL", "bogus"):
        assert (
            await raw.reply(cmd)
            == b"Content-Type: command/reply\nReply-Text: -ERR command not found\n\n"
        )
    assert await raw.reply(f"auth {target.password}") == (
        b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
    )
    assert (
        body_of(await raw.reply("api uuid_exists 00000000-0000-0000-0000-000000000000")) == b"false"
    )
    await raw.close()


async def test_wrong_password_gets_err_invalid_a_notice_and_a_close(target: Target) -> None:
    raw = await RawEsl.connect(target, auth=False)
    assert await raw.reply("auth not-the-password") == (
        b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n"
    )
    assert await raw.frame() == NOTICE
    assert await _closed(raw)


async def test_exit_says_bye_then_the_disconnect_notice_then_closes(raw: RawEsl) -> None:
    assert await raw.reply("exit") == b"Content-Type: command/reply\nReply-Text: +OK bye\n\n"
    assert await raw.frame() == NOTICE
    assert await _closed(raw)


async def test_unknown_command_and_unknown_api_match_the_captured_bytes(raw: RawEsl) -> None:
    assert await raw.reply("bogus_command") == sample("esl/cmd_unknown.txt")
    assert await raw.reply("api nosuchcommand") == sample("esl/api_unknown.txt")


async def test_bgapi_uses_the_clients_job_uuid_and_replies_before_the_job_event(
    raw: RawEsl,
) -> None:
    job = str(uuid.uuid4())
    await raw.reply("event plain BACKGROUND_JOB")
    reply = await raw.reply(f"bgapi uuid_exists {uuid.uuid4()}\nJob-UUID: {job}")
    expected = f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n"
    assert reply == expected.encode()
    frames = await raw.events_until(lambda f: job.encode() in f)
    assert body_of(frames[-1]).endswith(b"Content-Length: 5\n\nfalse")
    # Same shape as the captured reply, with a server-chosen uuid this time.
    captured = sample("esl/bgapi_originate.txt").split(b"\n")
    mine = (await raw.reply("bgapi uuid_exists x")).split(b"\n")
    assert [line.split(b":")[0] for line in mine] == [line.split(b":")[0] for line in captured]


async def test_event_command_replies(raw: RawEsl) -> None:
    ok = b"Content-Type: command/reply\nReply-Text: +OK event listener enabled %s\n\n"
    assert await raw.reply("event plain CHANNEL_CREATE") == ok % b"plain"
    assert await raw.reply("event json HEARTBEAT") == ok % b"json"
    assert await raw.reply("event xml CHANNEL_ANSWER") == ok % b"xml"
    # The format word alone, or only unknown names: no keywords.
    none = b"Content-Type: command/reply\nReply-Text: -ERR no keywords supplied\n\n"
    assert await raw.reply("event plain") == none
    assert await raw.reply("event plain NOT_AN_EVENT") == none
    assert await raw.reply("event plain not_an_event channel_destroy") == ok % b"plain"
    assert await raw.reply("nixevent CHANNEL_CREATE") == (
        b"Content-Type: command/reply\nReply-Text: +OK events nixed\n\n"
    )
    assert await raw.reply("noevents") == (
        b"Content-Type: command/reply\nReply-Text: +OK no longer listening for events\n\n"
    )
    assert await raw.reply("noevents") == (
        b"Content-Type: command/reply\nReply-Text: -ERR not listening for events\n\n"
    )


async def test_filter_replies(raw: RawEsl) -> None:
    assert await raw.reply("filter Unique-ID abc") == sample("esl/cmd_filter.txt")
    assert await raw.reply("filter Unique-ID") == (
        b"Content-Type: command/reply\nReply-Text: -ERR invalid syntax\n\n"
    )
    assert await raw.reply("filter delete Unique-ID abc") == (
        b"Content-Type: command/reply\nReply-Text: +OK filter deleted. [Unique-ID][abc]\n\n"
    )


async def test_session_commands_on_an_inbound_socket(raw: RawEsl) -> None:
    assert await raw.reply("linger") == (
        b"Content-Type: command/reply\nReply-Text: -ERR not controlling a session\n\n"
    )
    missing = str(uuid.uuid4())
    assert await raw.reply(f"sendmsg {missing}\ncall-command: hangup") == (
        f"Content-Type: command/reply\nReply-Text: -ERR invalid session id [{missing}]\n\n".encode()
    )
    assert await raw.reply(f"myevents {missing} plain") == (
        b"Content-Type: command/reply\nReply-Text: -ERR invalid uuid\n\n"
    )
    assert (
        await raw.reply("nolog") == b"Content-Type: command/reply\nReply-Text: -ERR not loging\n\n"
    )


async def test_sendevent_fires_a_custom_event_to_subscribers(raw: RawEsl, target: Target) -> None:
    listener = await RawEsl.connect(target)
    await listener.reply("event plain CUSTOM test::sim")
    reply = await raw.reply("sendevent CUSTOM\nEvent-Subclass: test::sim\nX-Note: hello world")
    assert reply.startswith(b"Content-Type: command/reply\nReply-Text: +OK ")
    event_uuid = reply.split(b"+OK ")[1].strip()
    frame = (await listener.events_until(lambda f: b"test%3A%3Asim" in f))[-1]
    payload = body_of(frame)
    assert b"X-Note: hello%20world\n" in payload
    assert b"Event-Name: CUSTOM\n" in payload
    assert b"Event-UUID: " + event_uuid in payload
    await listener.close()


async def test_myevents_ties_the_socket_to_the_channel(target: Target, client: object) -> None:
    from switchyard.call_control.esl import EslClient

    assert isinstance(client, EslClient)
    a_leg = (await client.api("originate loopback/9999 &park"))[4:].strip()
    raw = await RawEsl.connect(target)
    assert await raw.reply(f"myevents {a_leg} plain") == (
        b"Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n"
    )
    assert await raw.reply(f"myevents {a_leg} plain") == (
        b"Content-Type: command/reply\nReply-Text: -ERR aready enabled.\n\n"
    )
    assert await raw.reply("nolinger") == (
        b"Content-Type: command/reply\nReply-Text: +OK will not linger\n\n"
    )
    await client.api(f"uuid_kill {a_leg}")
    frames = await raw.events_until(lambda f: b"text/disconnect-notice" in f)
    events = frames[:-1]
    # The channel's hangup first; how many of its other hangup events get out
    # before the socket closes is a race; never CHANNEL_CALLSTATE (not on the
    # myevents list), never CHANNEL_DESTROY (fired only after the socket is
    # gone) (freeswitch-observed section 5).
    assert events and b"Event-Name: CHANNEL_HANGUP\n" in events[0]
    assert not [f for f in events if b"Event-Name: CHANNEL_DESTROY\n" in f]
    assert not [f for f in events if b"Event-Name: CHANNEL_CALLSTATE\n" in f]
    assert all(a_leg.encode() in f for f in frames)
    notice = frames[-1]
    assert f"Controlled-Session-UUID: {a_leg}\n".encode() in notice
    assert b"Content-Disposition: disconnect\n" in notice
    assert await _closed(raw)
