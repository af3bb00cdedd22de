"""A node's state and the channel state machine: what FreeSWITCH's core holds and does.

Identity, the event sequence, channels, users, gateways, conferences and
mod_db's store live here, with the transitions that fire FreeSWITCH's
events. Nothing here runs a dialplan or speaks a protocol: routing a channel,
looking up XML and running API commands go through hooks (``router``,
``xml_binding``, ``api_handlers``) that the layers above install, so this
module imports only the leaves.

The channel transitions fire the events FreeSWITCH fires, in its order
(observed on 1.10.12, freeswitch-observed sections 6 and 10): an outbound
leg goes OUTGOING, STATE(CS_INIT, number 1), CREATE (number 2), ORIGINATE,
STATE(CS_ROUTING), STATE(CS_CONSUME_MEDIA), PROGRESS, CALLSTATE(RINGING),
[PROGRESS_MEDIA, CALLSTATE(EARLY)], ANSWER, CALLSTATE(ACTIVE); an inbound
leg's CALLSTATE(RINGING) comes before its STATE(CS_ROUTING); a hangup goes
HANGUP, [UNPARK], [EXECUTE_COMPLETE], STATE(CS_HANGUP), CALLSTATE(HANGUP),
STATE(CS_REPORTING), HANGUP_COMPLETE, DESTROY, STATE(CS_DESTROY). PROGRESS,
PROGRESS_MEDIA and ANSWER carry the previous callstate, as FreeSWITCH's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Protocol

from switchyard.fssim.behaviour import ANSWER, Behaviour
from switchyard.fssim.causes import Q850
from switchyard.fssim.channel import CALLSTATE, VARIABLE_EVENTS, Channel, Profile, now_us
from switchyard.fssim.coredb import ChannelTable, RegistrationTable
from switchyard.fssim.event import Event
from switchyard.fssim.registrations import EXPIRES_LATE_MARGIN, Registration, contact_of

log = logging.getLogger("switchyard.fssim")

VERSION = "1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit"
VERSION_LINE = "1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit"
DTMF_DIGITS = frozenset("0123456789*#ABCD")
# conf/directory/default/*.xml of a stock FreeSWITCH: users 1000-1019.
STOCK_USERS = tuple(str(n) for n in range(1000, 1020))
# What a simulated phone says it is, unless told otherwise.
PHONE_USER_AGENT = "fssim-phone/1.0"


@dataclass
class Gateway:
    name: str
    profile: str = "internal"
    realm: str = "127.0.0.1:15999"
    username: str = "test"
    state: str = "NOREG"
    status: str = "UP"
    behaviour: Behaviour = ANSWER
    calls_in: int = 0
    calls_out: int = 0
    failed_in: int = 0
    failed_out: int = 0
    started_us: int = field(default_factory=now_us)


@dataclass
class Member:
    """A conference member (conference_member_t): its id and the flags json_list shows."""

    id: int
    channel: Channel
    joined: float = field(default_factory=time.time)
    can_speak: bool = True  # MFLAG_CAN_SPEAK: cleared by ``mute``
    can_hear: bool = True  # MFLAG_CAN_HEAR: cleared by ``deaf``
    energy: int = 100  # the stock "default" profile's energy-level


@dataclass
class Conference:
    """A conference (conference_obj_t). Members are listed newest first, as
    conference_member_add links each new one at the head of the list."""

    name: str
    uuid: str = field(default_factory=lambda: new_uuid())
    started: float = field(default_factory=time.time)
    members: list[Member] = field(default_factory=list)
    # CFLAG_ANSWERED: set by an inbound member at once and by the member output
    # loop once an outbound member's channel is answered (conference_loop.c).
    answered: bool = False
    # The floor holder's member id (0: nobody): the first to join takes it, and
    # it is nobody's once the holder leaves (floor-change New-ID none).
    floor: int = 0


def new_uuid() -> str:
    return str(uuidlib.uuid4())


class Listener(Protocol):
    """An event consumer (an ESL connection): what the core hands events and news to."""

    def offer(self, event: Event) -> None: ...

    def session_gone(self, uuid: str, channel_name: str) -> None: ...

    def abort(self) -> None: ...


class XmlBinding(Protocol):
    """A switch_xml_bind_search_function binding (mod_xml_curl's): a document or None,
    which means "try the next binding" (fssim has none but the static files)."""

    @property
    def bound(self) -> bool: ...

    async def fetch(
        self,
        section: str,
        params: Event,
        *,
        tag_name: str = "",
        key_name: str = "",
        key_value: str = "",
    ) -> str | None: ...


Router = Callable[[Channel], Awaitable[None]]
ApiHandler = Callable[["Core", str], Awaitable[str]]


class Core:
    """A FreeSWITCH node's state and its channels' state machine."""

    def __init__(
        self,
        name: str = "fssim",
        *,
        password: str = "ClueCon",  # noqa: S107 - FreeSWITCH's stock default
        hostname: str | None = None,
        xml_curl_url: str | None = None,
        xml_curl_credentials: str | None = None,
        heartbeat_seconds: float = 20.0,
        ai_events: bool = False,
        playback_seconds: float = 0.2,
        ipv4: str = "127.0.0.1",
        show_channels_lag: bool = True,
    ) -> None:
        self.name = name
        self.password = password
        self.hostname = hostname or name
        self.xml_curl_url = xml_curl_url
        # The binding's ``gateway-credentials`` (``user:pass``), sent as basic auth.
        self.xml_curl_credentials = xml_curl_credentials
        self.heartbeat_seconds = heartbeat_seconds
        self.ai_events = ai_events
        self.playback_seconds = playback_seconds
        self.ipv4 = ipv4
        self.core_uuid = new_uuid()
        self.sequence = 0
        self.started = time.time()
        self.sessions_since_start = 0
        self.peak = 0
        self.channels: dict[str, Channel] = {}
        # The core DB's channels table (``show channels``): it trails the channels
        # by one SQL batch unless ``show_channels_lag`` is turned off.
        self.channel_table = ChannelTable(self.hostname, lag=show_channels_lag)
        # The user directory (who exists: user/<x> of anyone else is SUBSCRIBER_ABSENT)
        # and mod_sofia's registrations (who can be reached: sip_registrations, by
        # Call-ID), with the core DB's registrations table behind them.
        self.directory: set[tuple[str, str]] = {(u, ipv4) for u in STOCK_USERS}
        self.registrations: dict[str, Registration] = {}
        self.registration_table = RegistrationTable(self.hostname, lag=show_channels_lag)
        self._expiries: dict[str, asyncio.TimerHandle] = {}  # Call-ID -> its sofia::expire
        # The profile's sip-expires-late-margin: how long past its Expires a phone
        # stays registered (a test may shorten it).
        self.expires_late_margin = EXPIRES_LATE_MARGIN
        self._phone_ports = 5060  # each new phone takes the next even port from 5062
        self.profiles = {"internal": "sip:mod_sofia@127.0.0.1:5060"}
        self.gateways: dict[str, Gateway] = {"example": Gateway("example")}
        self.killed_gateways: dict[str, Gateway] = {}
        self.remote_behaviour = ANSWER
        # Far-end behaviour per dialled number, for gateway and SIP URI legs.
        self.number_behaviours: dict[str, Behaviour] = {}
        self.conferences: dict[str, Conference] = {}
        self.member_ids = 0
        # mod_db's db_data table: (realm, key) -> value (`db` app and API, ${db(...)}).
        self.db: dict[tuple[str, str], str] = {}
        # mod_hash's db_hash: "<realm>_<key>" -> value (`hash` app and API, ${hash(...)}).
        self.hash_db: dict[str, str] = {}
        # State of loadable modules that live above the core (mod_callcenter's
        # queues, agents and tiers), by module name; each module keeps its own.
        self.modules: dict[str, object] = {}
        self.sessions: set[Listener] = set()
        self.xml_curl_requests: list[dict[str, str]] = []
        # The static dialplan (conf/dialplan/*.xml as one document) when not the
        # stock subset fssim knows; the conformance suite loads its files here.
        self.static_dialplan: str | None = None
        # ESL knobs a test may turn: FreeSWITCH's values by default.
        self.auth_timeout = 25.0
        self.max_queued_events = 100_000
        self.accept_connections = True  # False: the ACL refuses everyone
        self._tasks: set[asyncio.Task[object]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        # The hooks the layers above install (Node wires them).
        self.api_handlers: dict[str, ApiHandler] = {}  # the loaded API commands
        self.router: Router | None = None  # CS_ROUTING onwards for a new inbound channel
        self.xml_binding: XmlBinding | None = None  # where XML lookups go first
        self.load_modules()

    def load_modules(self) -> None:
        """What FreeSWITCH's module loader does once the core is up: install
        the hooks above. A bare core loads none (Node loads fssim's)."""

    # --- lifecycle ---------------------------------------------------------------

    def start_heartbeats(self) -> None:
        self._heartbeat = asyncio.create_task(self._heartbeats())

    @property
    def show_channels_lag(self) -> bool:
        """Whether ``show channels`` trails the channels by one SQL batch, as
        FreeSWITCH's does (the default)."""
        return self.channel_table.lag

    @show_channels_lag.setter
    def show_channels_lag(self, on: bool) -> None:
        # One SQL thread writes both tables: the switch is for the core DB.
        for table in (self.channel_table, self.registration_table):
            if not on:
                table.apply()
            table.lag = on

    def shutdown(self) -> None:
        """Every channel hung up (SYSTEM_SHUTDOWN), every task cancelled."""
        if self._heartbeat:
            self._heartbeat.cancel()
        for ch in list(self.channels.values()):
            self.hangup(ch, "SYSTEM_SHUTDOWN")
        self.channel_table.clear()
        for timer in self._expiries.values():
            timer.cancel()
        self._expiries.clear()
        for task in list(self._tasks):
            task.cancel()

    def reset(self) -> None:
        """What a restart leaves: no channels or conferences, a new Core-UUID and sequence."""
        for ch in list(self.channels.values()):
            ch.hungup.set()
            if ch.task:
                ch.task.cancel()
        self.channels.clear()
        self.channel_table.clear()
        self.conferences.clear()
        self.core_uuid = new_uuid()
        self.sequence = 0
        self.started = time.time()

    def spawn(self, coro: Awaitable[object]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("fssim task failed", exc_info=task.exception())

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            self.heartbeat()

    # --- control interface -----------------------------------------------------------

    def register_user(
        self,
        extension: str,
        domain: str = "",
        behaviour: Behaviour = ANSWER,
        *,
        network_ip: str = "",
        network_port: int = 0,
        user_agent: str = PHONE_USER_AGENT,
        expires: int = 3600,
    ) -> Registration:
        """A phone for ``extension``: the user is put in the directory and its phone
        registers (sofia::register); calls to ``user/<extension>`` reach it."""
        domain = domain or self.ipv4
        self.directory.add((extension, domain))
        return self.register_phone(
            extension,
            domain,
            behaviour=behaviour,
            network_ip=network_ip,
            network_port=network_port,
            user_agent=user_agent,
            expires=expires,
        )

    def unregister_user(self, extension: str, domain: str = "") -> bool:
        """The phone unregisters (REGISTER with Expires: 0, sofia::unregister); the user
        stays in the directory, so ``user/<extension>`` is USER_NOT_REGISTERED."""
        return self.drop_registrations(extension, domain, "sofia::unregister")

    def expire_user(self, extension: str, domain: str = "") -> bool:
        """The phone's registration runs out (or ``flush_inbound_reg``): sofia::expire."""
        return self.drop_registrations(extension, domain, "sofia::expire")

    # --- mod_sofia's registrations -------------------------------------------------------

    @property
    def users(self) -> dict[str, Registration]:
        """Registered users by extension (the first registration of each)."""
        out: dict[str, Registration] = {}
        for reg in self.registrations.values():
            out.setdefault(reg.user, reg)
        return out

    def find_registrations(
        self, user: str, host: str = "", profile: str = ""
    ) -> list[Registration]:
        """sip_registrations of ``user`` (any case) at ``host`` (any, when empty)."""
        return [
            r
            for r in self.registrations.values()
            if r.user.lower() == user.lower()
            and (not host or r.host == host)
            and (not profile or r.profile == profile)
        ]

    def register_phone(
        self,
        user: str,
        host: str,
        *,
        behaviour: Behaviour = ANSWER,
        network_ip: str = "",
        network_port: int = 0,
        user_agent: str = PHONE_USER_AGENT,
        expires: int = 3600,
        profile: str = "internal",
    ) -> Registration:
        """A REGISTER that authenticated: as the stock profile has no multiple
        registrations, it replaces the user's earlier one. The row goes to
        sip_registrations and the core DB, then sofia::register fires."""
        for old in self.find_registrations(user, host, profile):
            self.registrations.pop(old.call_id, None)
            timer = self._expiries.pop(old.call_id, None)
            if timer is not None:
                timer.cancel()
        if not network_port:
            self._phone_ports += 2
            network_port = self._phone_ports
        ip = network_ip or self.ipv4
        reg = Registration(
            user=user,
            host=host,
            call_id=secrets.token_hex(16),
            network_ip=ip,
            network_port=network_port,
            contact=contact_of(user, ip, network_port),
            exptime=expires,
            expires_at=int(time.time()) + expires + self.expires_late_margin,
            user_agent=user_agent,
            profile=profile,
            behaviour=behaviour,
        )
        # The phone's first REGISTER is challenged (pre_register), the second one
        # authenticates (register_attempt, auth-result SUCCESS), then it is stored.
        self.registration_event(reg, "sofia::pre_register")
        self.registration_event(reg, "sofia::register_attempt")
        self.registrations[reg.call_id] = reg
        self.registration_table.write(reg)
        self.registration_event(reg, "sofia::register")
        with contextlib.suppress(RuntimeError):  # no loop: nothing runs out
            self._expiries[reg.call_id] = asyncio.get_running_loop().call_later(
                max(reg.expires_at - time.time(), 0), self._expire, reg
            )
        return reg

    def _expire(self, reg: Registration) -> None:
        """The phone did not register again in time: sofia_reg_check_expire drops it."""
        self._expiries.pop(reg.call_id, None)
        if self.registrations.get(reg.call_id) is reg:
            self.drop_registrations(reg.user, reg.host, "sofia::expire")

    def drop_registrations(self, user: str, host: str, subclass: str) -> bool:
        """Remove ``user``'s registrations (at ``host``, or anywhere) with the event
        ``subclass`` says: sofia::unregister or sofia::expire."""
        gone = self.find_registrations(user, host)
        for reg in gone:
            self.registrations.pop(reg.call_id, None)
            timer = self._expiries.pop(reg.call_id, None)
            if timer is not None:
                timer.cancel()
            self.registration_table.write(reg, delete=True)
            if subclass == "sofia::unregister":
                self._presence_unregistered(reg, reg.rpid, reg.user_agent, source=True)
            self.registration_event(reg, subclass)
            if subclass == "sofia::expire":
                # sofia_reg_del_callback passes the status column as user-agent.
                self._presence_unregistered(reg, "away", reg.status, source=False)
        return bool(gone)

    def _presence_unregistered(
        self, reg: Registration, rpid: str, agent: str, *, source: bool
    ) -> None:
        """The PRESENCE_IN ``Unregistered`` mod_sofia fires beside an unregister
        (before sofia::unregister) and an expiry (after sofia::expire)."""
        function = "sofia_reg_handle_register_token" if source else "sofia_reg_del_callback"
        e = self.event("PRESENCE_IN", "sofia_reg.c", function, 0)
        e.add("proto", "sip")
        e.add("rpid", rpid)
        e.add("login", self.profiles.get(reg.profile, ""))
        e.add("user-agent", agent)
        e.add("from", f"{reg.user}@{reg.host}")
        e.add("status", "Unregistered")
        if source:
            e.add("presence-source", "register")
        e.add("event_type", "presence")
        self.fire(e)

    def set_ping(self, reg: Registration, ms: float, status: str = "Reachable") -> None:
        """An OPTIONS ping to the phone was answered after ``ms`` (status
        ``Reachable``) or not (``Unreachable``): sip_registrations' ping columns, then
        sofia::sip_user_state (sofia_reg_fire_custom_sip_user_state_event)."""
        reg.ping_time_us = int(ms * 1000)
        reg.ping_status = status
        ok = status == "Reachable"
        self._sofia_event(
            "sofia::sip_user_state",
            "sofia.c",
            "sofia_handle_sip_r_options",
            [
                ("sip_contact", reg.contact),
                ("profile-name", reg.profile),
                ("sip_user", reg.user),
                ("from-user", reg.user),
                ("from-host", reg.host),
                ("call-id", reg.call_id),
                ("Ping-Status", status),
                ("Status", "200" if ok else "408"),
                ("Phrase", "OK" if ok else "Request Timeout"),
            ],
        )

    def registration_event(self, reg: Registration, subclass: str) -> None:
        """sofia::pre_register / register_attempt / register / unregister
        (sofia_reg_handle_register_token) and sofia::expire (sofia_reg_del_callback),
        headers in sofia_reg.c's order."""
        function = "sofia_reg_handle_register_token"
        request = [
            ("profile-name", reg.profile),
            ("from-user", reg.user),
            ("from-host", reg.host),
            ("contact", reg.contact),
            ("call-id", reg.call_id),
            ("rpid", reg.rpid),
            ("status", reg.status),
            ("expires", str(reg.exptime)),
            ("to-user", reg.user),
            ("to-host", reg.host),
            ("network-ip", reg.network_ip),
            ("network-port", str(reg.network_port)),
        ]
        auth = [("username", reg.username), ("realm", reg.realm)]
        if subclass == "sofia::expire":
            function = "sofia_reg_del_callback"
            headers = [
                ("profile-name", reg.profile),
                ("call-id", reg.call_id),
                ("user", reg.user),
                ("host", reg.host),
                ("contact", reg.contact),
                ("expires", str(reg.expires_at)),
                ("user-agent", reg.user_agent),
                ("realm", reg.realm),
            ]
        elif subclass == "sofia::unregister":
            headers = [
                ("profile-name", reg.profile),
                ("username", reg.username),
                ("from-user", reg.user),
                ("from-host", reg.host),
                ("contact", reg.contact),
                ("call-id", reg.call_id),
                ("rpid", reg.rpid),
                ("realm", reg.realm),
                ("expires", "0"),
            ]
        elif subclass == "sofia::pre_register":
            headers = [*request, ("user-agent", reg.user_agent)]
        elif subclass == "sofia::register_attempt":
            headers = [
                *request,
                *auth,
                ("user-agent", reg.user_agent),
                ("auth-result", "SUCCESS"),
            ]
        else:  # register: presence-hosts after from-host
            headers = [
                *request[:3],
                ("presence-hosts", "n/a"),
                *request[3:],
                *auth,
                ("user-agent", reg.user_agent),
            ]
        self._sofia_event(subclass, "sofia_reg.c", function, headers)

    def _sofia_event(
        self, subclass: str, file: str, function: str, headers: list[tuple[str, str]]
    ) -> None:
        # The calling line was not captured: 0 says so rather than guess one.
        e = self.event("CUSTOM", file, function, 0, subclass=subclass)
        for name, value in headers:
            e.add(name, value)
        self.fire(e)

    def set_gateway(self, name: str, state: str | None = None, **kw: object) -> Gateway:
        gw = self.gateways.get(name) or Gateway(name)
        self.gateways[name] = gw
        for key, value in kw.items():
            setattr(gw, key, value)
        if state is not None and state != gw.state:
            gw.state = state
            gw.status = "DOWN" if state in ("FAILED", "FAIL_WAIT", "DOWN", "TIMEOUT") else "UP"
            self.gateway_state_event(gw)
        return gw

    def gateway_state_event(self, gw: Gateway, phrase: str = "") -> None:
        e = self.event(
            "CUSTOM",
            "sofia_reg.c",
            "sofia_reg_fire_custom_gateway_state_event",
            153,
            subclass="sofia::gateway_state",
        )
        e.add("Gateway", gw.name)
        e.add("State", gw.state)
        e.add("Ping-Status", gw.status)
        e.add("Phrase", phrase)
        e.add("Status", gw.status)
        self.fire(e)

    def inject_call(
        self,
        caller: str,
        destination: str,
        *,
        context: str = "public",
        caller_name: str = "",
        sip_headers: dict[str, str] | None = None,
        uuid: str | None = None,
    ) -> Channel:
        """A call arriving from a SIP phone or trunk; it runs the dialplan (mod_xml_curl first)."""
        uuid = uuid or new_uuid()
        profile = Profile(
            caller_id_name=caller_name or caller,
            caller_id_number=caller,
            orig_caller_id_name=caller_name or caller,
            orig_caller_id_number=caller,
            network_addr="127.0.0.1",
            ani=caller,
            destination_number=destination,
            source="mod_sofia",
            context=context,
            username=caller,
        )
        variables = {
            "direction": "inbound",
            "uuid": uuid,
            "session_id": "",
            "sip_from_user": caller,
            "sip_from_host": self.ipv4,
            "sip_to_user": destination,
            "sip_to_host": self.ipv4,
            "sip_req_user": destination,
            "sip_call_id": secrets.token_hex(12),
            "sip_network_ip": "127.0.0.1",
            "sip_network_port": "5062",
            "channel_name": f"sofia/internal/{caller}@{self.ipv4}",
        }
        for name, value in (sip_headers or {}).items():
            variables[f"sip_h_{name}"] = value
        ch = self.new_channel(
            f"sofia/internal/{caller}@{self.ipv4}",
            "inbound",
            profile,
            variables,
            uuid=uuid,
            codec=("PCMU", "8000", "64000"),
        )
        self.set_running_state(ch, "CS_INIT", next_state="CS_ROUTING")
        self.channel_event(
            ch, "CHANNEL_CREATE", "switch_core_state_machine.c", "switch_core_session_run", 626
        )
        assert self.router is not None, "no router installed"
        ch.task = self.spawn(self.router(ch))  # type: ignore[assignment]
        return ch

    def answer_leg(self, uuid: str) -> bool:
        ch = self.channels.get(uuid)
        if ch is None or not ch.is_up:
            return False
        self.answer(ch)
        return True

    def reject_leg(self, uuid: str, cause: str = "CALL_REJECTED") -> bool:
        ch = self.channels.get(uuid)
        if ch is None:
            return False
        self.hangup(ch, cause)
        return True

    def send_dtmf(self, uuid: str, digits: str, *, duration: int = 2000) -> bool:
        """The far end keys ``digits`` (RFC 2833) on a live channel; False when there is none.

        As in FreeSWITCH the digits queue on the channel and each fires a DTMF
        event when the channel reads it: at once when parked or bridged (those
        loops read DTMF as it comes), when an app that reads digits (``ivr``,
        ``playback``) takes them, or never (``sleep``, ``answer`` leave them
        queued for the next app). ``duration`` is in 8 kHz samples (2000 =
        250 ms) as FreeSWITCH reports it.
        """
        ch = self.find(uuid)
        if ch is None:
            return False
        for digit in digits:
            if digit.upper() in DTMF_DIGITS:
                ch.dtmf.append((digit.upper(), duration))
        if ch.reads_dtmf or not (ch.parked or ch.peer is not None):
            ch.dtmf_evt.set()
        else:
            while self.read_dtmf(ch) is not None:
                pass
        return True

    def read_dtmf(self, ch: Channel) -> str | None:
        """switch_channel_dequeue_dtmf: take the next queued digit and fire its DTMF event."""
        if not ch.dtmf:
            return None
        digit, duration = ch.dtmf.popleft()
        self.channel_event(
            ch,
            "DTMF",
            "switch_channel.c",
            "switch_channel_dequeue_dtmf",
            582,
            bottom=[
                ("DTMF-Digit", digit),
                ("DTMF-Duration", str(duration)),
                ("DTMF-Source", "RTP"),
            ],
        )
        return digit

    def bound_xml(self) -> XmlBinding | None:
        """The binding an XML lookup asks first, when one is bound; None: the static files."""
        binding = self.xml_binding
        return binding if binding is not None and binding.bound else None

    async def api(self, line: str) -> str:
        """switch_api_execute: run ``<cmd> <args>``; an unknown command is answered
        FreeSWITCH's way."""
        cmd, _, args = line.strip().partition(" ")
        handler = self.api_handlers.get(cmd.lower())
        if handler is None:
            return f"-ERR {cmd} Command not found!\n"
        out = await handler(self, args.strip())
        return out or "-ERR no reply\n"

    # --- events -------------------------------------------------------------------

    def event(self, name: str, file: str, function: str, line: int, *, subclass: str = "") -> Event:
        """A new event carrying FreeSWITCH's standard headers, in prep_for_delivery order."""
        self.sequence += 1
        now = time.time()
        e = Event()
        if subclass:
            e.headers.append(("Event-Subclass", subclass))
        h = e.headers
        h.append(("Event-Name", name))
        h.append(("Core-UUID", self.core_uuid))
        h.append(("FreeSWITCH-Hostname", self.hostname))
        h.append(("FreeSWITCH-Switchname", self.hostname))
        h.append(("FreeSWITCH-IPv4", self.ipv4))
        h.append(("FreeSWITCH-IPv6", "::1"))
        h.append(("Event-Date-Local", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))))
        h.append(("Event-Date-GMT", formatdate(now, usegmt=True)))
        h.append(("Event-Date-Timestamp", str(int(now * 1_000_000))))
        h.append(("Event-Calling-File", file))
        h.append(("Event-Calling-Function", function))
        h.append(("Event-Calling-Line-Number", str(line)))
        h.append(("Event-Sequence", str(self.sequence)))
        return e

    def fire(self, event: Event) -> None:
        for session in list(self.sessions):
            session.offer(event)

    def channel_event(
        self,
        ch: Channel,
        name: str,
        file: str,
        function: str,
        line: int,
        *,
        top: list[tuple[str, str]] | None = None,
        bottom: list[tuple[str, str]] | None = None,
        subclass: str = "",
    ) -> Event:
        e = self.event(name, file, function, line, subclass=subclass)
        for key, value in top or ():
            e.add(key, value)
        ch.add_basic_data(e, with_vars=name in VARIABLE_EVENTS)
        for key, value in bottom or ():
            e.add(key, value)
        self.fire(e)
        self.channel_table.write(ch)  # the core_db handler's SQL for this event
        return e

    def record_start(self, ch: Channel, path: str) -> None:
        """A recording media bug on ``ch``: RECORD_START, ``Record-File-Path`` last
        (freeswitch-observed section 12)."""
        ch.recordings[path] = time.monotonic()
        self.channel_event(
            ch,
            "RECORD_START",
            "switch_ivr_async.c",
            "record_callback",
            1302,
            bottom=[("Record-File-Path", path)],
        )

    def record_stop(self, ch: Channel, path: str, cause: str) -> None:
        """Close ``path``'s recording: the ``record_*`` variables, then RECORD_STOP with
        ``Record-File-Path`` and ``Record-Completion-Cause`` last (send_record_stop_event).
        The file is 16-bit mono WAV at the codec's rate (500 ms at 8 kHz: 4000 samples, 8044
        bytes); ``cause`` is ``success-maxtime`` for an API stop, ``success-silence`` on hangup."""
        started = ch.recordings.pop(path, None)
        if started is None:
            return
        ms = int((time.monotonic() - started) * 1000)
        samples = ms * int(ch.codec[1]) // 1000
        for key, value in (
            ("record_file_size", str(44 + samples * 2)),
            ("record_samples", str(samples)),
            ("record_seconds", str(ms // 1000)),
            ("record_ms", str(ms)),
            ("record_completion_cause", cause),
        ):
            ch.variables.pop(key, None)  # switch_channel_set_variable moves it to the end
            ch.variables[key] = value
        self.channel_event(
            ch,
            "RECORD_STOP",
            "switch_ivr_async.c",
            "send_record_stop_event",
            1207,
            bottom=[("Record-File-Path", path), ("Record-Completion-Cause", cause)],
        )

    def heartbeat(self) -> None:
        up = time.time() - self.started
        e = self.event("HEARTBEAT", "switch_core.c", "send_heartbeat", 95)
        e.add("Event-Info", "System Ready")
        e.add("Up-Time", uptime(up))
        e.add("FreeSWITCH-Version", VERSION)
        e.add("Uptime-msec", int(up * 1000))
        e.add("Session-Count", len(self.channels))
        e.add("Max-Sessions", 2000)
        e.add("Session-Per-Sec", 500)
        e.add("Session-Per-Sec-Last", 0)
        e.add("Session-Per-Sec-Max", 0)
        e.add("Session-Per-Sec-FiveMin", 0)
        e.add("Session-Since-Startup", self.sessions_since_start)
        e.add("Session-Peak-Max", self.peak)
        e.add("Session-Peak-FiveMin", self.peak)
        e.add("Idle-CPU", "98.000000")
        self.fire(e)

    def ai_state(self, ch: Channel) -> None:
        """CUSTOM ai::channel-state as XSwitch's mod_ai sends it (when enabled): on
        ring, media, answer and hangup, the channel's headers and variables, whose
        ``Answer-State`` (ringing, early, answered, hangup) says which; ``Hangup-Cause``
        on hangup (the spec's 通话事件通知 examples)."""
        if not self.ai_events:
            return
        e = self.event("CUSTOM", "mod_ai.c", "ai_channel_state", 1, subclass="ai::channel-state")
        ch.add_basic_data(e, with_vars=True)
        self.fire(e)

    # --- channel state machine ---------------------------------------------------------

    def new_channel(
        self,
        name: str,
        direction: str,
        profile: Profile,
        variables: dict[str, str],
        *,
        uuid: str | None = None,
        codec: tuple[str, str, str] = ("L16", "8000", "128000"),
    ) -> Channel:
        uuid = uuid or new_uuid()
        self.sessions_since_start += 1
        ch = Channel(uuid=uuid, name=name, direction=direction, profile=profile, codec=codec)
        ch.session_id = self.sessions_since_start
        ch.created_local = time.strftime("%Y-%m-%d %H:%M:%S")
        ch.initial = Profile(**vars(profile))
        ch.variables = {"direction": direction, "uuid": uuid}
        if direction == "outbound":
            ch.variables["is_outbound"] = "true"
        ch.variables["session_id"] = str(ch.session_id)
        ch.variables["channel_name"] = name
        ch.variables.update({k: v for k, v in variables.items() if v and k not in ch.variables})
        ch.variables["call_uuid"] = uuid
        self.channels[uuid] = ch
        self.peak = max(self.peak, len(self.channels))
        return ch

    def set_running_state(self, ch: Channel, state: str, *, next_state: str | None = None) -> None:
        """CHANNEL_STATE for ``state``; ``next_state`` is the state the channel is
        given after it (CS_INIT's event shows number 1, the CREATE after it 2)."""
        ch.running_state = state
        ch.state = state
        if state not in ("CS_NEW", "CS_INIT", "CS_HANGUP", "CS_REPORTING", "CS_DESTROY"):
            ch.shown_state = state
        if state == "CS_ROUTING" and ch.direction == "inbound":
            # An inbound leg rings as it starts routing, before its STATE event
            # (CALLSTATE RINGING, then STATE CS_ROUTING; freeswitch-observed 10a).
            self.set_callstate(ch, "RINGING")
        self.channel_event(
            ch,
            "CHANNEL_STATE",
            "switch_channel.c",
            "switch_channel_perform_set_running_state",
            2408,
        )
        if next_state:
            ch.state = next_state

    def set_callstate(self, ch: Channel, callstate: str) -> None:
        old = ch.callstate
        if old == callstate:
            return
        ch.callstate = callstate
        if callstate not in ("DOWN", "HANGUP"):
            ch.shown_callstate = callstate
        self.channel_event(
            ch,
            "CHANNEL_CALLSTATE",
            "switch_channel.c",
            "switch_channel_perform_set_callstate",
            301,
            top=[
                ("Original-Channel-Call-State", old),
                ("Channel-Call-State-Number", str(CALLSTATE[callstate])),
            ],
        )

    # A loopback leg's ring, early media and answer mark the other leg first
    # (the endpoint hears of it before the channel marks itself): PROGRESS a
    # comes before PROGRESS b, ANSWER a before ANSWER b (freeswitch-observed
    # section 10). Each leg is marked before the other is told, so the other
    # leg's turn does not come back.

    def ring(self, ch: Channel) -> None:
        if not ch.is_up or ch.time("progress"):
            return
        ch.times["progress"] = now_us()
        if ch.partner is not None:
            self.ring(ch.partner)
        self.channel_event(
            ch,
            "CHANNEL_PROGRESS",
            "switch_channel.c",
            "switch_channel_perform_mark_ring_ready_value",
            3507,
        )
        self.set_callstate(ch, "RINGING")
        self.ai_state(ch)

    def pre_answer(self, ch: Channel) -> None:
        if not ch.is_up or ch.answer_state in ("early", "answered"):
            return
        ch.times["progress_media"] = now_us()
        ch.answer_state = "early"
        if ch.direction == "outbound":
            ch.variables["endpoint_disposition"] = "EARLY MEDIA"  # originate's view of it
        if ch.partner is not None:
            self.pre_answer(ch.partner)
        self.channel_event(
            ch,
            "CHANNEL_PROGRESS_MEDIA",
            "switch_channel.c",
            "switch_channel_perform_mark_pre_answered",
            3587,
        )
        self.set_callstate(ch, "EARLY")
        ch.media_evt.set()
        self.ai_state(ch)

    def answer(self, ch: Channel) -> None:
        if not ch.is_up or ch.answer_state == "answered":
            return
        ch.times["answered"] = now_us()
        ch.answer_state = "answered"
        ch.variables["endpoint_disposition"] = "ANSWER"
        if ch.partner is not None:
            self.answer(ch.partner)
        self.channel_event(
            ch, "CHANNEL_ANSWER", "switch_channel.c", "switch_channel_perform_mark_answered", 3846
        )
        self.set_callstate(ch, "ACTIVE")
        ch.answered_evt.set()
        ch.media_evt.set()
        self.ai_state(ch)

    def bridge(self, a: Channel, b: Channel) -> None:
        a.peer, b.peer = b, a
        stamp = now_us()
        a.times["bridged"] = b.times["bridged"] = stamp
        a.variables["bridge_uuid"] = b.uuid
        b.variables["bridge_uuid"] = a.uuid
        a.variables["last_bridge_to"] = b.uuid
        b.variables["last_bridge_to"] = a.uuid
        self.channel_event(
            a,
            "CHANNEL_BRIDGE",
            "switch_ivr_bridge.c",
            "audio_bridge_on_exchange_media",
            0,
            top=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)],
        )

    def unbridge(self, a: Channel) -> None:
        b = a.peer
        if b is None:
            return
        self.channel_event(
            a,
            "CHANNEL_UNBRIDGE",
            "switch_ivr_bridge.c",
            "audio_bridge_thread",
            0,
            top=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)],
        )
        a.peer = None
        if b.peer is a:
            b.peer = None
        a.wake()
        b.wake()

    def sort_cid(self, ch: Channel) -> None:
        """switch_channel_sort_cid, run when a channel is given its extension: an
        outbound leg that has not been through it yet (CF_DIALPLAN) flips its caller id
        (switch_channel_flip_cid). The originated leg of ``originate <dial> &park``
        then shows the callee as caller (``Outbound Call``/the number) and the caller
        as callee, with CALL_UPDATE (freeswitch-observed sections 6 and 10, the
        CALL_UPDATE sample)."""
        if ch.direction != "outbound" or "channel_cid_flipped" in ch.variables:
            return
        p = ch.profile
        ch.variables["pre_transfer_caller_id_name"] = p.caller_id_name
        p.caller_id_name, p.callee_id_name = p.callee_id_name, p.caller_id_name
        ch.variables["pre_transfer_caller_id_number"] = p.caller_id_number
        p.caller_id_number, p.callee_id_number = p.callee_id_number, p.caller_id_number
        ch.variables["channel_cid_flipped"] = "yes"
        top = [("Direction", "RECV")]
        if ch.peer is not None:
            top.append(("Bridged-To", ch.peer.uuid))
        self.channel_event(
            ch, "CALL_UPDATE", "switch_channel.c", "switch_channel_flip_cid", 3277, top=top
        )

    def execute_event(
        self, ch: Channel, app: str, data: str, app_uuid: str, response: str | None = None
    ) -> None:
        bottom = [("Application", app), ("Application-Data", data)]
        if response is None:
            ch.variables["current_application"] = app
            if data:
                ch.variables["current_application_data"] = data
            ch.application, ch.application_data = app, data
            name, line = "CHANNEL_EXECUTE", 2944
        else:
            bottom.append(("Application-Response", response or "_none_"))
            name, line = "CHANNEL_EXECUTE_COMPLETE", 2967
        bottom.append(("Application-UUID", app_uuid))
        self.channel_event(
            ch, name, "switch_core_session.c", "switch_core_session_exec", line, bottom=bottom
        )

    def hangup(self, ch: Channel, cause: str = "NORMAL_CLEARING") -> None:
        """Hang ``ch`` up with ``cause`` and run it to CS_DESTROY, firing every event on the way."""
        if not ch.is_up:
            return
        stamp = now_us()
        ch.hangup_cause = cause
        ch.times["hangup"] = stamp
        ch.answer_state = "hangup"
        ch.state = "CS_HANGUP"
        ch.hungup.set()
        ch.wake()
        ch.variables["hangup_cause"] = cause
        ch.variables["hangup_cause_q850"] = str(Q850.get(cause, 16))
        self.channel_event(
            ch, "CHANNEL_HANGUP", "switch_channel.c", "switch_channel_perform_hangup", 3445
        )
        self.ai_state(ch)
        peer = ch.peer
        if peer is not None:
            self.unbridge(ch)
            if not peer.continue_after_bridge:
                self.hangup(peer, cause if cause != "ORIGINATOR_CANCEL" else "NORMAL_CLEARING")
        # Then, as 1.10.12 sends them (freeswitch-observed sections 6 and 10):
        # UNPARK and the running app's EXECUTE_COMPLETE, STATE(CS_HANGUP) still
        # showing the old callstate, CALLSTATE(HANGUP), STATE(CS_REPORTING),
        # HANGUP_COMPLETE, DESTROY, STATE(CS_DESTROY).
        if ch.parked:
            ch.parked = False
            self.channel_event(ch, "CHANNEL_UNPARK", "switch_ivr.c", "switch_ivr_park", 1213)
        if ch.application and ch.variables.get("_executing") == "1":
            ch.variables.pop("_executing", None)
            self.execute_event(
                ch,
                ch.application,
                ch.application_data,
                ch.variables.pop("_app_uuid", new_uuid()),
                response="_none_",
            )
        self.set_running_state(ch, "CS_HANGUP")
        # switch_core_session_hangup_state removes the media bugs: a recording still
        # running stops here, in CS_HANGUP (freeswitch-observed section 12).
        for path in list(ch.recordings):
            self.record_stop(ch, path, "success-silence")
        self.set_callstate(ch, "HANGUP")
        self.set_running_state(ch, "CS_REPORTING")
        self._cdr_variables(ch, stamp)
        self.channel_event(
            ch,
            "CHANNEL_HANGUP_COMPLETE",
            "switch_core_state_machine.c",
            "switch_core_session_reporting_state",
            943,
            top=[("Hangup-Cause", cause)],
        )
        ch.state = "CS_DESTROY"
        self.channel_event(
            ch,
            "CHANNEL_DESTROY",
            "switch_core_session.c",
            "switch_core_session_perform_destroy",
            1584,
        )
        self.set_running_state(ch, "CS_DESTROY")
        self.channels.pop(ch.uuid, None)
        for session in list(self.sessions):
            session.session_gone(ch.uuid, ch.name)
        self.leave_conference(ch)
        if ch.partner is not None and ch.partner.is_up:
            self.hangup(ch.partner, cause)
        if ch.task is not None and ch.task is not asyncio.current_task():
            ch.task.cancel()

    def leave_conference(self, ch: Channel) -> None:
        conf = self.conferences.get(ch.conference) if ch.conference else None
        if conf is not None:
            conf.members[:] = [m for m in conf.members if m.channel is not ch]
            if not any(m.id == conf.floor for m in conf.members):
                conf.floor = 0
            if not conf.members:
                self.conferences.pop(ch.conference, None)

    def _cdr_variables(self, ch: Channel, end: int) -> None:
        v = ch.variables
        start = ch.created_us
        answered = ch.time("answered")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start / 1e6))
        v["digits_dialed"] = "none"
        v["start_stamp"] = stamp
        v["profile_start_stamp"] = stamp
        if answered:
            v["answer_stamp"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(answered / 1e6))
        v["end_stamp"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(end / 1e6))
        v["start_epoch"] = str(start // 1_000_000)
        v["start_uepoch"] = str(start)
        v["answer_epoch"] = str(answered // 1_000_000)
        v["answer_uepoch"] = str(answered)
        v["bridge_epoch"] = str(ch.time("bridged") // 1_000_000)
        v["bridge_uepoch"] = str(ch.time("bridged"))
        v["progress_epoch"] = str(ch.time("progress") // 1_000_000)
        v["progress_uepoch"] = str(ch.time("progress"))
        v["progress_media_epoch"] = str(ch.time("progress_media") // 1_000_000)
        v["progress_media_uepoch"] = str(ch.time("progress_media"))
        v["end_epoch"] = str(end // 1_000_000)
        v["end_uepoch"] = str(end)
        v["caller_id"] = ch.profile.caller_id_number
        duration = (end - start) // 1_000_000
        billsec = (end - answered) // 1_000_000 if answered else 0
        v["duration"] = str(duration)
        v["billsec"] = str(billsec)
        v["answersec"] = str((answered - start) // 1_000_000 if answered else 0)
        v["waitsec"] = v["answersec"]
        for key in ("progress", "progress_media"):  # progresssec, progress_mediamsec, ...
            mark = ch.time(key)
            v[f"{key}sec"] = str((mark - start) // 1_000_000 if mark else 0)
            v[f"{key}msec"] = str((mark - start) // 1000 if mark else 0)
        v["mduration"] = str((end - start) // 1000)
        v["billmsec"] = str((end - answered) // 1000 if answered else 0)
        v["uduration"] = str(end - start)
        v["billusec"] = str(end - answered if answered else 0)

    def find(self, uuid: str) -> Channel | None:
        ch = self.channels.get(uuid.strip())
        return ch if ch is not None and ch.is_up else None

    def spawn_app_session(self, ch: Channel, body: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            with contextlib.suppress(asyncio.CancelledError):
                await body()

        ch.task = self.spawn(run())  # type: ignore[assignment]


def uptime(seconds: float) -> str:
    """FreeSWITCH's uptime phrase (heartbeats, ``status``)."""
    us = int(seconds * 1_000_000)
    s, us = divmod(us, 1_000_000)
    ms, us = divmod(us, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    d, h = divmod(h, 24)
    y, d = divmod(d, 365)
    return (
        f"{y} years, {d} days, {h} hours, {m} minutes, {s} seconds, "
        f"{ms} milliseconds, {us} microseconds"
    )
