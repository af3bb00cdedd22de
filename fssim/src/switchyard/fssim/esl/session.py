"""One inbound ESL connection, as mod_event_socket's listener serves it.

One task per connection handles packets strictly in order; events offered
by the node land in the same inbox, so they go out only between replies and
an ``api`` that blocks delays the events raised meanwhile until after its
``api/response`` -- what FreeSWITCH's listener thread does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from switchyard.fssim.causes import normalize
from switchyard.fssim.core import Core, new_uuid
from switchyard.fssim.esl.wire import (
    BYE,
    DISCONNECT_NOTICE,
    EVENT_NAMES,
    GREETING,
    KILLED_NOTICE,
    LOG_LEVELS,
    RESERVED_SUBCLASSES,
    RUDE_REJECTION,
    BadPacket,
    Packet,
    listener_copy,
    packet_headers,
    read_packet,
)
from switchyard.fssim.event import Event
from switchyard.fssim.executor import Executor
from switchyard.fssim.journal import Journal

log = logging.getLogger("switchyard.fssim.esl")

# mod_event_socket's per-listener queue (MES 36-37, 387-410).
MAX_LOST_EVENTS = 500


def _regex_matches(value: str, expression: str) -> bool:
    """switch_regex_perform with a ``/expr/flags`` expression (flags ``i`` and ``s``);
    without the closing slash, or when it does not compile, nothing matches."""
    body = expression[1:]
    if "/" not in body:
        return False
    pattern, _, opts = body.rpartition("/")
    flags = (re.IGNORECASE if "i" in opts else 0) | (re.DOTALL if "s" in opts else 0)
    try:
        return re.search(pattern, value, flags) is not None
    except re.error:
        return False


# The events ``myevents`` turns on (mod_event_socket.c, parse_command). No
# CHANNEL_CALLSTATE. CHANNEL_DESTROY is on the list but never arrives: the
# listener holds the session's read lock until it ends, so the channel is
# destroyed only after the socket is gone (freeswitch-observed section 5).
MYEVENTS = frozenset(
    {
        "CHANNEL_ANSWER",
        "CHANNEL_APPLICATION",
        "CHANNEL_BRIDGE",
        "CHANNEL_CREATE",
        "CHANNEL_DATA",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_ORIGINATE",
        "CHANNEL_OUTGOING",
        "CHANNEL_PARK",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_STATE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_UNPARK",
        "CHANNEL_UUID",
        "DETECTED_SPEECH",
        "DTMF",
        "NOTALK",
        "TALK",
    }
)


class EslSession:
    def __init__(
        self,
        node: Core,
        executor: Executor,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        journal: Journal | None = None,
    ) -> None:
        self.node = node
        # Who this connection is (``host:port``), for the journal's records.
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else ""
        self.opened = time.time()
        self.journal = journal
        self.executor = executor  # sendmsg's execute queues apps on it
        self.reader = reader
        self.writer = writer
        self.task: asyncio.Task[None] | None = None
        self.authed = False
        self.fmt = "plain"
        self.events: set[str] = set()
        self.subclasses: set[str] = set()
        self.all_events = False
        self.events_enabled = False  # LFLAG_EVENTS: set by event/nixevent, cleared by noevents
        self.filters: list[tuple[str, str]] = []
        self.myevents_uuid = ""
        self.log_level = -1
        self.inbox: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        self.closed = False
        self.queued = 0
        self.linger = 0  # seconds; -1: until exit
        self.lost = 0
        self.killed = False

    @property
    def listening(self) -> bool:
        return self.events_enabled or bool(self.myevents_uuid)

    # --- delivery -------------------------------------------------------------------

    def offer(self, event: Event) -> None:
        if not (self.authed and not self.closed and self.wants(event)):
            return
        if self.queued >= self.node.max_queued_events:
            # A reader that does not keep up loses events, then its listener.
            self.lost += 1
            if self.lost > MAX_LOST_EVENTS and not self.killed:
                self.killed = True
                self.inbox.put_nowait(("killed", None))
            return
        self.queued += 1
        self.inbox.put_nowait(("event", event))
        if self.journal is not None:
            self.journal.taken(event, self.peer)

    def wants(self, event: Event) -> bool:
        name = event.name
        if self.myevents_uuid:
            if name == "BACKGROUND_JOB":
                if event.get("Job-Owner-UUID") != self.myevents_uuid:
                    return False
            elif name not in MYEVENTS or event.get("Unique-ID") != self.myevents_uuid:
                return False
        elif name == "CUSTOM":
            sub = event.subclass
            if not (
                self.all_events or ("CUSTOM" in self.events and (not sub or sub in self.subclasses))
            ):
                return False
        elif not (self.all_events or name in self.events):
            return False
        return self._filters_pass(event)

    def _filters_pass(self, event: Event) -> bool:
        if not self.filters:
            return True
        send = False
        for name, value in self.filters:
            hval = event.get_ci(name)
            if hval is None:
                continue
            comp, pos = value, True
            while comp and comp[0] in "+- ":
                if comp[0] == "+":
                    pos = True
                elif comp[0] == "-":
                    pos = False
                comp = comp[1:]
            if send and pos:
                continue
            if not comp:
                continue
            if value.startswith("/"):  # the raw value: "-/x/" is compared as text
                matched = _regex_matches(hval, comp)
            else:
                matched = hval.lower() == comp.lower()
            if matched:
                if pos:
                    send = True
                else:
                    return False
        return send

    # --- connection -----------------------------------------------------------------------

    def abort(self) -> None:
        self.closed = True
        self.node.sessions.discard(self)
        with contextlib.suppress(Exception):
            self.writer.transport.abort()
        self.inbox.put_nowait(("eof", None))

    async def run(self) -> None:
        self.node.sessions.add(self)
        reader_task = asyncio.create_task(self._read())
        try:
            if not self.node.accept_connections:
                self.writer.write(RUDE_REJECTION)  # what the ACL check answers
                await self.writer.drain()
                return
            self.writer.write(GREETING)
            await self._process()
        except (ConnectionError, OSError):
            pass
        finally:
            reader_task.cancel()
            self.closed = True
            self.node.sessions.discard(self)
            with contextlib.suppress(Exception):
                self.writer.close()

    async def _read(self) -> None:
        first = True
        try:
            while True:
                if first:
                    try:
                        packet = await asyncio.wait_for(
                            read_packet(self.reader), self.node.auth_timeout
                        )
                    except TimeoutError:
                        self.inbox.put_nowait(("timeout", None))
                        return
                    first = False
                else:
                    packet = await read_packet(self.reader)
                if packet is None:
                    break
                self.inbox.put_nowait(("packet", packet))
        except (BadPacket, asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        self.inbox.put_nowait(("eof", None))

    async def _process(self) -> None:
        while True:
            kind, item = await self.inbox.get()
            if kind == "eof" or self.closed:
                return
            if kind in ("timeout", "killed"):
                self.writer.write(DISCONNECT_NOTICE if kind == "timeout" else KILLED_NOTICE)
                await self.writer.drain()
                return
            if kind == "session_gone":
                assert isinstance(item, tuple)
                gone_uuid, gone_name = item
                if not self._write_session_gone(str(gone_uuid), str(gone_name)):
                    await self.writer.drain()
                    return
                continue
            if kind == "event":
                assert isinstance(item, Event)
                self.queued -= 1
                self.writer.write(item.frame(self.fmt))
                if self.writer.transport.get_write_buffer_size() > 1 << 20:
                    await self.writer.drain()
                continue
            assert isinstance(item, Packet)
            if not await self._handle(item):
                await self.writer.drain()
                return

    def reply(self, text: str) -> None:
        self.writer.write(f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode())

    # --- commands -------------------------------------------------------------------------

    async def _handle(self, p: Packet) -> bool:
        """Answer one packet; False closes the connection."""
        cmd = p.command
        word, _, rest = cmd.partition(" ")
        word = word.lower()
        rest = rest.strip()
        if word in ("exit", "..."):
            self.reply("+OK bye")
            self.writer.write(DISCONNECT_NOTICE)
            return False
        if not self.authed:
            if word == "auth":
                if rest.split("\r")[0].split("\n")[0] == self.node.password:
                    self.authed = True
                    self.reply("+OK accepted")
                    return True
                self.reply("-ERR invalid")
                self.writer.write(DISCONNECT_NOTICE)
                return False
            if word == "userauth":
                self.reply("-ERR invalid")
                self.writer.write(DISCONNECT_NOTICE)
                return False
            self.reply("-ERR command not found")
            return True
        handler = getattr(self, f"_cmd_{word}", None)
        if self.journal is not None:
            self.journal.command(self.peer, self.opened, word, rest)
        if handler is None:
            self.reply("-ERR command not found")
            return True
        await handler(rest, p)
        return True

    def _api_event(self, line: str) -> None:
        cmd, _, args = line.partition(" ")
        e = self.node.event("API", "switch_loadable_module.c", "switch_api_execute", 2954)
        e.add("API-Command", cmd)
        e.add("API-Command-Argument", args.strip())
        self.node.fire(e)

    async def _cmd_api(self, rest: str, p: Packet) -> None:
        self._api_event(rest)
        out = (await self.node.api(rest)).encode()
        self.writer.write(b"Content-Type: api/response\nContent-Length: %d\n\n" % len(out) + out)

    async def _cmd_bgapi(self, rest: str, p: Packet) -> None:
        job = p.header("Job-UUID") or new_uuid()
        self.writer.write(
            b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: %s\nJob-UUID: %s\n\n"
            % (job.encode(), job.encode())
        )
        node = self.node

        async def run() -> None:
            self._api_event(rest)
            out = await node.api(rest)
            cmd, _, args = rest.partition(" ")
            e = node.event("BACKGROUND_JOB", "mod_event_socket.c", "api_exec", 1572)
            e.add("Job-UUID", job)
            e.add("Job-Command", cmd)
            e.add("Job-Command-Arg", args.strip())
            e.body = out
            node.fire(e)

        node.spawn(run())

    async def _cmd_event(self, rest: str, p: Packet) -> None:
        words = rest.split()
        if words and words[0].lower() in ("plain", "json", "xml"):
            self.fmt = words.pop(0).lower()
        custom = False
        added = False
        for w in words:
            if custom:
                self.subclasses.add(w)
                added = True
                continue
            name = w.upper()
            if name not in EVENT_NAMES:
                continue
            added = True
            if name == "ALL":
                self.all_events = True
                self.subclasses |= RESERVED_SUBCLASSES
            elif name == "CUSTOM":
                custom = True
                self.events.add("CUSTOM")
            else:
                self.events.add(name)
        if not added:
            self.reply("-ERR no keywords supplied")
            return
        self.events_enabled = True
        self.reply(f"+OK event listener enabled {self.fmt}")

    async def _cmd_nixevent(self, rest: str, p: Packet) -> None:
        # MES: after CUSTOM every word is a subclass to drop; CUSTOM itself stays on.
        # ALL clears every type (the subclass list stays); one type nixed while
        # ALL is on turns ALL into every single type (CUSTOM included) but that one.
        custom, keys = False, 0
        for w in rest.split():
            if custom:
                self.subclasses.discard(w)
                continue
            name = w.upper()
            if name not in EVENT_NAMES:
                continue
            keys += 1
            if name == "CUSTOM":
                custom = True
            elif name == "ALL":
                self.all_events = False
                self.events.clear()
            else:
                if self.all_events:
                    self.all_events = False
                    self.events = set(EVENT_NAMES) - {"ALL"}
                self.events.discard(name)
        if not keys:
            self.reply("-ERR no keywords supplied")
            return
        self.events_enabled = True
        self.reply("+OK events nixed")

    async def _cmd_noevents(self, rest: str, p: Packet) -> None:
        if not self.listening:
            self.reply("-ERR not listening for events")
            return
        self.all_events = self.events_enabled = False
        self.events.clear()
        self.subclasses.clear()
        self.myevents_uuid = ""
        # Events already queued are discarded with the listener's queue.
        kept = [i for i in self._drain() if i[0] != "event"]
        for item in kept:
            self.inbox.put_nowait(item)
        self.reply("+OK no longer listening for events")

    def _drain(self) -> list[tuple[str, object]]:
        items = []
        while not self.inbox.empty():
            items.append(self.inbox.get_nowait())
        return items

    async def _cmd_filter(self, rest: str, p: Packet) -> None:
        words = rest.split(None, 1)
        if words and words[0].lower() == "delete":
            args = words[1].split(None, 1) if len(words) > 1 else []
            if not args:
                self.reply("-ERR invalid syntax")
                return
            if args[0].lower() == "all":
                self.filters.clear()
                self.reply("+OK filter deleted. [all][]")
                return
            value = args[1] if len(args) > 1 else ""
            self.filters = [
                (h, v) for h, v in self.filters if not (h == args[0] and (not value or v == value))
            ]
            self.reply(f"+OK filter deleted. [{args[0]}][{value}]")
            return
        if words and words[0].lower() == "add":
            rest = words[1] if len(words) > 1 else ""
        header, _, value = rest.strip().partition(" ")
        value = value.strip()
        if not header or not value:
            self.reply("-ERR invalid syntax")
            return
        self.filters.append((header, value))
        self.reply(f"+OK filter added. [{header}]=[{value}]")

    async def _cmd_myevents(self, rest: str, p: Packet) -> None:
        words = rest.split()
        if self.myevents_uuid:
            self.reply("-ERR aready enabled.")
            return
        if not words or self.node.find(words[0]) is None:
            self.reply("-ERR invalid uuid")
            return
        if len(words) > 1 and words[1].lower() in ("plain", "json", "xml"):
            self.fmt = words[1].lower()
        self.myevents_uuid = words[0]
        self.reply("+OK Events Enabled")

    async def _cmd_log(self, rest: str, p: Packet) -> None:
        level = rest.strip() or "debug"
        n = LOG_LEVELS.get(level.lower(), int(level) if level.isdigit() else -1)
        if n < 0 or n > 7:
            self.reply("-ERR invalid log level")
            return
        self.log_level = n
        self.reply(f"+OK log level {level} [{n}]")

    async def _cmd_nolog(self, rest: str, p: Packet) -> None:
        if self.log_level < 0:
            self.reply("-ERR not loging")
            return
        self.log_level = -1
        self.reply("+OK no longer logging")

    async def _cmd_linger(self, rest: str, p: Packet) -> None:
        if not self.myevents_uuid:
            self.reply("-ERR not controlling a session")
            return
        secs = rest.strip()
        if secs.isdigit() and int(secs) > 0:
            self.linger = int(secs)
            self.reply(f"+OK will linger {secs} seconds")
        else:
            self.linger = -1  # until exit
            self.reply("+OK will linger")

    async def _cmd_nolinger(self, rest: str, p: Packet) -> None:
        if not self.myevents_uuid:
            self.reply("-ERR not controlling a session")
            return
        self.linger = 0
        self.reply("+OK will not linger")

    def session_gone(self, uuid: str, channel_name: str) -> None:
        """The channel this socket controls (myevents) was destroyed."""
        if self.myevents_uuid == uuid and not self.closed:
            self.inbox.put_nowait(("session_gone", (uuid, channel_name)))

    def _write_session_gone(self, uuid: str, channel_name: str) -> bool:
        """The notice FreeSWITCH sends when the controlled channel ends; False closes."""
        if self.linger:
            self.writer.write(
                f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {uuid}\n"
                f"Content-Disposition: linger\nChannel-Name: {channel_name}\n"
                f"Linger-Time: {self.linger if self.linger > 0 else -1}\n"
                "Content-Length: 0\n\n".encode()
            )
            if self.linger > 0:
                asyncio.get_running_loop().call_later(
                    self.linger, self.inbox.put_nowait, ("eof", None)
                )
            return True
        self.writer.write(
            f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {uuid}\n"
            f"Content-Disposition: disconnect\nContent-Length: {len(BYE)}\n\n".encode()
            + BYE
        )
        return False

    async def _cmd_sendmsg(self, rest: str, p: Packet) -> None:
        uuid = rest.strip() or (p.header("Unique-ID") or "")
        ch = self.node.find(uuid) if uuid else None
        if ch is None:
            self.reply(f"-ERR invalid session id [{uuid}]")
            return
        command = (p.header("call-command") or "").lower()
        if command == "execute":
            app = p.header("execute-app-name") or ""
            arg = p.header("execute-app-arg") or ""
            if p.body:
                arg = p.body.decode(errors="replace")
            loops = int(p.header("loops") or "1") if (p.header("loops") or "1").isdigit() else 1
            for _ in range(max(loops, 1)):
                self.executor.queue(ch, app, arg, p.header("Event-UUID") or new_uuid())
        elif command == "hangup":
            self.node.hangup(ch, normalize(p.header("hangup-cause") or "NORMAL_CLEARING"))
        self.reply("+OK")

    async def _cmd_sendevent(self, rest: str, p: Packet) -> None:
        name = (rest.split() or ["CUSTOM"])[0].upper()
        event_uuid = new_uuid()
        e = self.node.event(
            name if name in EVENT_NAMES else "CUSTOM", "mod_event_socket.c", "parse_command", 2275
        )
        standard = e.headers
        # read_packet keeps the command line itself as the first header.
        caller, arrays = packet_headers([("Command", p.command), *p.headers])
        caller, e.arrays = listener_copy(caller, arrays)
        caller = [(k, v) for k, v in caller if k.lower() not in ("event-name", "content-length")]
        subclass = next((v for k, v in caller if k.lower() == "event-subclass"), "")
        if subclass:
            caller = [(k, v) for k, v in caller if k.lower() != "event-subclass"]
            standard = [h for h in standard if h[0] != "Event-Subclass"]
            caller.insert(0, ("Event-Subclass", subclass))
        # The sender's headers come first; the standard ones are appended after them.
        e.headers = [*caller, ("Event-UUID", event_uuid), *standard]
        if p.body:
            e.body = p.body.decode(errors="replace")
        self.node.fire(e)
        self.reply(f"+OK {event_uuid}")
