"""The directory and configuration documents FreeSWITCH fetches through
mod_xml_curl (freeswitch-wire.md section 3), built from an ``FsConfig`` in
memory. Every value goes through ``_attr`` (XML-escaped), so nothing an
operator typed can change a document's structure. ``None`` means "answer
FreeSWITCH's not-found document": it then tries its next binding and its
static files.

Escaping keeps the structure, not the meaning: FreeSWITCH expands
``${api(args)}`` in application data and most variable values, and its XML
preprocessor expands ``$${name}`` in every document it fetches. So every
stored value also passes its rule from ``switchyard.shared.fsvalues`` once,
when the index is built (each reload), and a value that breaks it is
skipped, never passed on: the user, gateway, menu or entry it belongs to is
left out (a sound attribute, a gateway variable, a caller name: just that
value), and the skip is listed in ``FsIndex.problems`` (logged once per
reload, never with the value of a secret). docs/routing.md, "What the
documents refuse".
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Mapping

import msgspec

from switchyard.config_api.framework.spec import is_id
from switchyard.config_api.fsxml.model import (
    CcQueue,
    DirUser,
    FsConfig,
    GatewayConf,
    IvrEntry,
    IvrMenu,
)
from switchyard.config_api.routing.xmldoc import _attr
from switchyard.shared.callcenter import agent_name, queue_name
from switchyard.shared.fsvalues import (
    APPLICATIONS,
    HOST,
    LABEL,
    NAME,
    NUMBER,
    PARAM,
    SCRIPT,
    SECRET,
    SOUND,
    TEXT,
    Applications,
    Rule,
    UnsafeValue,
    check_variable_name,
    gateway_param_rule,
)
from switchyard.shared.sofia_profiles import PROFILES, gateway_profile

log = logging.getLogger(__name__)

# The IP blacklist's ACL name (acl.conf), applied to the profiles below.
BLACKLIST_ACL = "sy-blacklist"
# The SIP domain's default (SWITCHYARD_SIP_DOMAIN): FreeSWITCH's own variable,
# the one $${…} a document carries on purpose.
DOMAIN_VARIABLE = "$${domain}"

_HEAD = '<document type="freeswitch/xml">'
_TAIL = "</document>"

# Characters TEXT lets through that _attr drops (XML 1.0 cannot carry them):
# a value holding one would not reach FreeSWITCH as it was stored.
_UNCARRIED = re.compile("[\ud800-\udfff\ufffe\uffff]")
# An IVR entry's digits: keys, or a /regex/ FreeSWITCH matches the keyed
# digits against (never expanded, but the preprocessor sees $${ anywhere).
_DIGITS = Rule(
    re.compile(rf"{NUMBER.pattern.pattern}|/(?!.*\$\{{)[^\x00-\x1f\x7f<>'\"]{{1,126}}/"),
    f"{NUMBER.reason}, or a /regex/ without ${{, quotes, < > or control characters",
)
# An ACL node's cidr before ipaddress reads it (no scope ids, no spaces).
_CIDR = re.compile(r"[0-9A-Fa-f:.]{2,45}(?:/[0-9]{1,3})?")
# Gateway params whose value is a SIP peer's address; params whose name holds
# one of _SECRETS are secrets (as config-api's input reads them).


class FsProblem(msgspec.Struct, frozen=True):
    """A stored value a document refused, and what was left out for it.

    ``resource``: extension, gateway, ivr, iptables or setting; ``id`` the
    row's id (0 when the row has none); ``field`` the column (for an IVR
    entry ``actions[<id>].<column>``); ``message`` the rule and what was left
    out. Never the value of a secret."""

    resource: str
    id: int
    field: str
    message: str


def _text(value: str) -> bool:
    return TEXT.ok(value) and _UNCARRIED.search(value) is None


def _config(name: str, body: str) -> str:
    return (
        f'{_HEAD}<section name="configuration" description="Switchyard">'
        f'<configuration name="{_attr(name)}" description="Switchyard">{body}</configuration>'
        f"</section>{_TAIL}"
    )


def _params(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...], tag: str = "param") -> str:
    return "".join(f'<{tag} name="{_attr(k)}" value="{_attr(v)}"/>' for k, v in pairs)


class FsIndex:
    """An ``FsConfig`` checked and indexed for the request path; immutable
    once built. Holds only values that passed their rules; ``problems``
    lists the rest."""

    def __init__(self, fs: FsConfig, applications: Applications = APPLICATIONS) -> None:
        self.fs = fs
        self.applications = applications
        self.problems: list[FsProblem] = []
        self.domain = self._sip_domain(fs.domain)
        self.users: dict[str, list[DirUser]] = {}
        for u in fs.users:
            safe = None if u.disabled else self._safe_user(u)
            if safe is not None:
                self.users.setdefault(safe.extn, []).append(safe)
        self.contexts: dict[int, str] = dict(fs.context_keys)
        self.gateways: dict[str, list[GatewayConf]] = {p: [] for p in PROFILES}
        for g in fs.gateways:
            safe_gw = None if g.disabled else self._safe_gateway(g)
            if safe_gw is not None:
                self.gateways[gateway_profile(safe_gw.profile)].append(safe_gw)
        named = [m for m in fs.ivrs if self._ok("ivr", m.id, "name", LABEL, m.name, "menu")]
        self.menus: dict[str, IvrMenu] = {m.name: m for m in named}
        self.menus_by_id: dict[int, IvrMenu] = {m.id: m for m in named}
        # Each menu's <menu> element and the menus its IVR_SUB entries reach.
        self._menu_xml: dict[int, str] = {}
        self._subs: dict[int, list[IvrMenu]] = {}
        for m in named:
            self._menu_xml[m.id] = self._build_menu(m)
        self.denied = self._cidrs(fs.denied)
        self.queues = {queue_name(q.name): q for q in fs.queues if self._safe_queue(q)}
        self._callcenter_xml = self._build_callcenter()
        # Built once per reload (live.build): each refusal is logged once.
        for p in self.problems:
            log.warning("%s %s: %s refused: %s", p.resource, p.id, p.field, p.message)

    # --- the rules ------------------------------------------------------------------

    def _problem(self, resource: str, id: int, field: str, message: str) -> None:
        self.problems.append(FsProblem(resource, id, field, message))

    def _ok(self, resource: str, id: int, field: str, rule: Rule, value: str, what: str) -> bool:
        """``value`` passes ``rule`` (and XML carries it as it is); else the
        problem says ``what`` was left out for it."""
        if rule.ok(value) and _UNCARRIED.search(value) is None:
            return True
        self._problem(resource, id, field, f"{rule.reason}; {what} left out")
        return False

    def _sip_domain(self, domain: str) -> str:
        if domain == DOMAIN_VARIABLE or HOST.ok(domain):
            return domain
        self._problem(
            "setting", 0, "SWITCHYARD_SIP_DOMAIN", f"{HOST.reason}; {DOMAIN_VARIABLE} used instead"
        )
        return DOMAIN_VARIABLE

    def _safe_user(self, u: DirUser) -> DirUser | None:
        """The extension as the directory serves it, or None (left out: FreeSWITCH
        then refuses the registration and ``user/<extn>`` finds nobody)."""
        if not (
            self._ok("extension", u.id, "extn", NUMBER, u.extn, "user")
            # No password would let anyone register as the user (mod_sofia
            # skips the digest check for a user without one).
            and self._ok("extension", u.id, "password", SECRET, u.password, "user")
            and self._ok("extension", u.id, "context", NAME, u.context, "user")
            and (u.domain == "" or self._ok("extension", u.id, "domain", HOST, u.domain, "user"))
        ):
            return None
        name = u.cid_name or u.name or u.extn
        if not _text(name):
            field = "cid_name" if u.cid_name else "name"
            self._problem(
                "extension", u.id, field, f"{TEXT.reason}; the extension number used as caller name"
            )
            name = u.extn
        number = u.cid_number or u.extn
        if not NUMBER.ok(number):
            self._problem(
                "extension",
                u.id,
                "cid_number",
                f"{NUMBER.reason}; the extension number used as caller number",
            )
            number = u.extn
        return msgspec.structs.replace(u, cid_name=name, cid_number=number)

    def _safe_gateway(self, g: GatewayConf) -> GatewayConf | None:
        """The gateway as sofia.conf serves it, or None (left out): its name,
        credentials, realm and every param pass their rules; a variable that
        does not is dropped alone."""
        what = "gateway"
        ok = self._ok("gateway", g.id, "name", NAME, g.name, what)
        ok = ok and all(
            v == "" or self._ok("gateway", g.id, f, rule, v, what)
            for f, rule, v in (
                ("username", NUMBER, g.username),
                ("password", SECRET, g.password),
                ("realm", HOST, g.realm),
            )
        )
        ok = ok and all(
            self._ok("gateway", g.id, "params", PARAM, k, what)
            and (
                v == "" or self._ok("gateway", g.id, f"params {k}", gateway_param_rule(k), v, what)
            )
            for k, v in g.params
        )
        if not ok:
            return None
        variables = []
        for var in g.variables:
            try:
                check_variable_name(f"variables {var.k}", var.k)
            except UnsafeValue as exc:
                self._problem("gateway", g.id, "variables", f"{exc.reason}; variable left out")
                continue
            if self._ok("gateway", g.id, f"variables {var.k}", TEXT, var.v, "variable"):
                variables.append(var)
        return msgspec.structs.replace(g, variables=tuple(variables))

    def _cidrs(self, denied: tuple[str, ...]) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for value in denied:
            try:
                if _CIDR.fullmatch(value) is None:
                    raise ValueError(value)
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                self._problem(
                    "iptables",
                    0,
                    "target_ip",
                    f"{value[:64]!r} is not an IP address or CIDR; deny node left out",
                )
                continue
            out[str(net)] = None
        return tuple(out)

    # --- directory --------------------------------------------------------------

    def directory(self, form: Mapping[str, str]) -> str | None:
        """Users from extensions (``sip_auth``, ``user_call`` and other user
        lookups); ``purpose=gateways`` gets the domain without gateways (ours
        are in sofia.conf); other purposes are not ours."""
        domain = form.get("domain") or form.get("key_value") or ""
        purpose = form.get("purpose", "")
        if purpose == "gateways":
            domain = domain or self.domain
            return self._domain(domain, "") if _domain_ok(domain) else None
        if purpose or not domain or not HOST.ok(domain):
            return None
        user = form.get("user", "")
        if not user:
            return None
        found = [u for u in self.users.get(user, ()) if u.domain in ("", domain)]
        if not found:
            return None
        # An extension bound to the domain asked about beats a domain-less one.
        u = sorted(found, key=lambda u: (u.domain == "", u.id))[0]
        return self._domain(domain, _user(u))

    def _domain(self, domain: str, users: str) -> str:
        dial = (
            "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
            "${sofia_contact(*/${dialed_user}@${dialed_domain})}"
        )
        return (
            f'{_HEAD}<section name="directory" description="Switchyard">'
            f'<domain name="{_attr(domain)}"><params>{_params([("dial-string", dial)])}</params>'
            f'<variables/><groups><group name="default"><users>{users}</users></group></groups>'
            f"</domain></section>{_TAIL}"
        )

    # --- sofia.conf ---------------------------------------------------------------

    def sofia(self, form: Mapping[str, str]) -> str | None:
        wanted = form.get("profile", "")
        names = [p for p in PROFILES if not wanted or p == wanted]
        if not names:
            return None
        profiles = "".join(self._profile(p) for p in names)
        return _config(
            "sofia.conf",
            f"<global_settings>{_params([('log-level', '0')])}</global_settings>"
            f"<profiles>{profiles}</profiles>",
        )

    def _profile(self, name: str) -> str:
        gateways = "".join(_gateway(g) for g in self.gateways[name])
        settings = _PROFILE_SETTINGS[name]
        domains = (
            '<domain name="all" alias="true" parse="false"/>'
            if name == "internal"
            else '<domain name="all" alias="false" parse="true"/>'
        )
        return (
            f'<profile name="{name}"><gateways>{gateways}</gateways>'
            f"<domains>{domains}</domains><settings>{_params(settings)}</settings></profile>"
        )

    # --- callcenter.conf ------------------------------------------------------------

    def _safe_queue(self, q: CcQueue) -> bool:
        return (
            self._ok("callcenter_queue", q.id, "name", LABEL, q.name, "queue")
            and self._ok("callcenter_queue", q.id, "strategy", NAME, q.strategy, "queue")
            and (
                not q.moh_sound
                or self._ok("callcenter_queue", q.id, "moh_sound", SOUND, q.moh_sound, "queue")
            )
        )

    def _build_callcenter(self) -> str:
        """mod_callcenter's configuration: every queue, an agent per member
        extension (ringing ``user/<extn>@<domain>``; no ``status``, so a reload
        keeps the agent's login state) and a tier per membership."""
        queues: list[str] = []
        tiers: list[str] = []
        agents: dict[str, int] = {}  # agent -> its longest ring (seconds)
        for name, q in self.queues.items():
            moh = q.moh_sound or "$${hold_music}"
            params = [
                ("strategy", q.strategy),
                ("moh-sound", moh),
                ("time-base-score", "system"),
                ("max-wait-time", str(q.max_wait_time)),
                ("max-wait-time-with-no-agent", str(q.max_wait_time_with_no_agent)),
                (
                    "max-wait-time-with-no-agent-time-reached",
                    str(q.max_wait_time_with_no_agent_time_reached),
                ),
                ("tier-rules-apply", "false"),
                ("discard-abandoned-after", "60"),
            ]
            queues.append(f'<queue name="{_attr(name)}">{_params(params)}</queue>')
            for m in q.members:
                if not NUMBER.ok(m.extn):
                    self._problem("callcenter_queue", q.id, "members.extn", NUMBER.reason)
                    continue
                agent = agent_name(m.extn)
                agents[agent] = max(agents.get(agent, 0), q.agent_timeout)
                tiers.append(
                    f'<tier agent="{_attr(agent)}" queue="{_attr(name)}" '
                    f'level="{max(m.penalty, 0) + 1}" position="{max(m.position, 1)}"/>'
                )
        agent_xml = "".join(
            f'<agent name="{_attr(a)}" type="callback" contact="'
            f'[leg_timeout={timeout}]user/{_attr(a.partition("@")[0])}@{_attr(self.domain)}"'
            ' max-no-answer="3" wrap-up-time="0" reject-delay-time="0"'
            ' busy-delay-time="0" no-answer-delay-time="0"/>'
            for a, timeout in agents.items()
        )
        return _config(
            "callcenter.conf",
            '<settings><param name="odbc-dsn" value=""/></settings>'
            f"<queues>{''.join(queues)}</queues><agents>{agent_xml}</agents>"
            f"<tiers>{''.join(tiers)}</tiers>",
        )

    def callcenter(self, form: Mapping[str, str]) -> str | None:
        """callcenter.conf; a fetch for one queue (``CC-Queue``, mod_callcenter's
        load_queue) is not found when that queue is not ours, so FreeSWITCH
        falls back to its own file."""
        wanted = form.get("CC-Queue", "")
        if wanted and wanted not in self.queues:
            return None
        return self._callcenter_xml

    # --- ivr.conf -------------------------------------------------------------------

    def ivr(self, form: Mapping[str, str]) -> str | None:
        """The menu FreeSWITCH's ``ivr`` app asks for (``Menu-Name``) with every
        menu it can reach by ``menu-sub`` (FreeSWITCH builds those from the
        same document); all menus without a name."""
        wanted = form.get("Menu-Name", "")
        if not wanted:
            menus = list(self.menus.values())
        else:
            first = self.menus.get(wanted)
            if first is None:
                return None
            menus, queue, seen = [], [first], {first.id}
            while queue:
                menu = queue.pop()
                menus.append(menu)
                for sub in self._subs[menu.id]:
                    if sub.id not in seen:
                        seen.add(sub.id)
                        queue.append(sub)
        body = "".join(self._menu_xml[m.id] for m in menus)
        return _config("ivr.conf", f"<menus>{body}</menus>")

    def _sub(self, e: IvrEntry) -> IvrMenu | None:
        return self.menus_by_id.get(int(e.args)) if is_id(e.args.strip()) else None

    def _build_menu(self, m: IvrMenu) -> str:
        def ok(field: str, rule: Rule, value: str) -> str:
            """The attribute's value, or "" (omitted) when it breaks its rule."""
            if value == "" or self._ok("ivr", m.id, field, rule, value, "attribute"):
                return value
            return ""

        def line(field: str, value: str) -> str:
            if not value.strip():
                return ""
            try:
                app, data = self.applications.check_line(field, value)
            except UnsafeValue as exc:
                self._problem("ivr", m.id, field, f"{exc.reason}; attribute left out")
                return ""
            return f"{app} {data}".strip()

        attrs = {
            "name": m.name,
            "greet-long": ok("greet_long", SOUND, sound(m.greet_long)),
            "greet-short": ok("greet_short", SOUND, sound(m.greet_short)),
            "invalid-sound": ok("invalid_sound", SOUND, sound(m.invalid_sound)),
            "exit-sound": ok("exit_sound", SOUND, sound(m.exit_sound)),
            "transfer-sound": ok("transfer_sound", SOUND, sound(m.transfer_sound)),
            "timeout": str(m.timeout),
            "max-failures": str(m.max_failures),
            "max-timeouts": str(m.max_timeouts),
            "exec-on-max-failures": line("exec_on_max_failures", m.exec_on_max_failures),
            "exec-on-max-timeouts": line("exec_on_max_timeouts", m.exec_on_max_timeouts),
            "confirm-macro": ok("confirm_macro", NAME, m.confirm_macro),
            "confirm-key": ok("confirm_key", NUMBER, m.confirm_key),
            "confirm-attempts": ok("confirm_attempts", NUMBER, m.confirm_attempts),
            "tts-engine": ok("tts_engine", NAME, m.tts_engine),
            "tts-voice": ok("tts_voice", NAME, m.tts_voice),
            "digit-len": str(m.digit_len),
            "inter-digit-timeout": str(m.inter_digit_timeout),
            "pin": ok("pin", NUMBER, m.pin),
            "pin-file": ok("pin_file", SOUND, sound(m.pin_file)),
            "bad-pin-file": ok("bad_pin_file", SOUND, sound(m.bad_pin_file)),
        }
        head = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs.items() if v != "")
        entries, subs = [], []
        for e in m.entries:
            try:
                action, digits, param = self._entry(e)
            except UnsafeValue as exc:
                self._problem(
                    "ivr", m.id, f"actions[{e.id}].{exc.field}", f"{exc.reason}; entry left out"
                )
                continue
            if not action:
                continue
            entries.append(
                f'<entry action="{_attr(action)}" digits="{_attr(digits)}" param="{_attr(param)}"/>'
            )
            sub = self._sub(e) if e.action == "IVR_SUB" else None
            if sub is not None:
                subs.append(sub)
        self._subs[m.id] = subs
        return f"<menu {head}>{''.join(entries)}</menu>"

    def _entry(self, e: IvrEntry) -> tuple[str, str, str]:
        """(FreeSWITCH menu action, digits, param); an empty action is dropped.
        A value that breaks its rule raises UnsafeValue (``field`` the column):
        the entry is left out."""
        digits = e.digits.strip()
        d = self.domain
        if e.action not in _ACTIONS and e.action not in _SIMPLE and e.action != "IVR_SUB":
            return "", "", ""  # IVR_HANGUP, unknown actions
        if e.action == "IVR_EXTENSION" and e.match_prefix:
            # The caller keys a whole extension starting with these digits.
            _check("digits", NUMBER, digits)
            return "menu-exec-app", f"/^({_re_digits(digits)}[0-9]*)$/", f"bridge user/$1@{d}"
        _check("digits", _DIGITS, digits)
        if e.action == "IVR_EXTENSION":
            extns = _extensions(e.args)
            if not extns:
                return "", "", ""
            return "menu-exec-app", digits, "bridge " + ",".join(f"user/{x}@{d}" for x in extns)
        if e.action == "IVR_SUB":
            sub = self._sub(e)
            return ("menu-sub", digits, sub.name) if sub is not None else ("", "", "")
        if e.action in _SIMPLE:
            return _SIMPLE[e.action], digits, ""
        field = "args" if e.args else "body"
        value = e.args or e.body
        if e.action == "IVR_PLAY":
            return "menu-play-sound", digits, _check(field, SOUND, sound(value))
        if e.action == "IVR_TTS":
            return "menu-play-sound", digits, f"say:{_check(field, TEXT, value)}"
        if e.action in ("MACRO", "VOICE_MACRO"):
            return "menu-play-sound", digits, f"phrase:{_check(field, TEXT, value)}"
        if e.action == "IVR_SYSTEM":
            line = next((s.strip() for s in e.body.splitlines() if s.strip()), "")
            if not line:
                return "", "", ""
            app, data = self.applications.check_line("body", line)
            return "menu-exec-app", digits, f"{app} {data}".strip()
        if e.action == "IVR_SCRIPT":
            script = sound(e.body)
            script = _check("body" if script else "args", SCRIPT, script or e.args)
            return "menu-exec-app", digits, f"lua {script}"
        if e.action == "IVR_ROUTE":
            context = self.contexts.get(int(e.args)) if is_id(e.args) else e.args
            number = e.body.strip()
            if not context or not number:
                return "", "", ""
            _check("args", NAME, context)
            _check("body", NUMBER, number)
            return "menu-exec-app", digits, f"transfer {number} XML {context}"
        field = "body" if e.body else "args"
        value = e.body or e.args
        if e.action == "IVR_QUEUE":
            # mod_callcenter queue names are commonly <queue>@<domain>.
            for part in value.split("@", 1):
                _check(field, LABEL, part)
            # A bare name is one of ours (/api/callcenter_queues, shared/callcenter.py).
            queue = value if "@" in value else queue_name(value)
            return "menu-exec-app", digits, f"callcenter {queue}"
        # IVR_CONFERENCE, IVR_CONFERENCE_ROOM, IVR_MEETING_ROOM
        return "menu-exec-app", digits, f"conference {_check(field, LABEL, value)}-{d}@default"

    # --- acl.conf ---------------------------------------------------------------------

    def acl(self, form: Mapping[str, str]) -> str:
        denied = "".join(f'<node type="deny" cidr="{_attr(c)}"/>' for c in self.denied)
        return _config(
            "acl.conf",
            "<network-lists>"
            # FreeSWITCH's stock list: the users' own cidr params, nothing else.
            '<list name="domains" default="deny"><node type="allow" domain="$${domain}"/></list>'
            f'<list name="{BLACKLIST_ACL}" default="allow">{denied}</list>'
            "</network-lists>",
        )


_SIMPLE = {
    "IVR_TOP": "menu-top",
    "IVR_BACK": "menu-back",
    "IVR_EXIT": "menu-exit",
}
# The actions _entry builds an entry for (besides _SIMPLE and IVR_SUB).
_ACTIONS = frozenset(
    {
        "IVR_EXTENSION", "IVR_PLAY", "IVR_TTS", "MACRO", "VOICE_MACRO", "IVR_SYSTEM",
        "IVR_SCRIPT", "IVR_ROUTE", "IVR_QUEUE", "IVR_CONFERENCE", "IVR_CONFERENCE_ROOM",
        "IVR_MEETING_ROOM",
    }
)  # fmt: skip


def _check(field: str, rule: Rule, value: str) -> str:
    """``rule.check`` that also refuses what XML cannot carry as it is."""
    rule.check(field, value)
    if _UNCARRIED.search(value):
        raise UnsafeValue(field, "holds characters XML cannot carry")
    return value


def _domain_ok(domain: str) -> bool:
    return domain == DOMAIN_VARIABLE or HOST.ok(domain)


def sound(value: str) -> str:
    """A sound field: the media JSON's ``media_path``, or a legacy plain path
    (checked against PATH by the caller)."""
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return ""
        path = data.get("media_path") if isinstance(data, dict) else None
        return path if isinstance(path, str) else ""
    return text


def _re_digits(digits: str) -> str:
    return re.escape(digits)


def _extensions(args: str) -> list[str]:
    """IVR_EXTENSION's args ``[{"extn":"1001|domain"}]`` (or a bare number).
    A member that is not a NUMBER raises UnsafeValue: the entry is left out."""
    text = args.strip()
    if text and not text.startswith("["):
        return [_check("args", NUMBER, text)]
    try:
        items = json.loads(text) if text else []
    except ValueError:
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        extn = str(item.get("extn", "")).split("|")[0] if isinstance(item, dict) else ""
        out.append(_check("args", NUMBER, extn))
    return out


def _user(u: DirUser) -> str:
    """A user FsIndex checked (``cid_name``/``cid_number`` already resolved)."""
    variables = [
        ("user_context", u.context),
        ("effective_caller_id_name", u.cid_name),
        ("effective_caller_id_number", u.cid_number),
    ]
    return (
        f'<user id="{_attr(u.extn)}"><params>{_params([("password", u.password)])}</params>'
        f"<variables>{_params(variables, 'variable')}</variables></user>"
    )


def _gateway(g: GatewayConf) -> str:
    base = [("username", g.username), ("password", g.password), ("realm", g.realm)]
    base.append(("register", "false" if g.register.lower() in ("no", "false", "0") else "true"))
    own = {k for k, _ in g.params}
    pairs = [(k, v) for k, v in base if k not in own and v != ""] + list(g.params)
    variables = "".join(
        f'<variable name="{_attr(v.k)}" value="{_attr(v.v)}"'
        + {1: ' direction="inbound"', 2: ' direction="outbound"'}.get(v.direction, "")
        + "/>"
        for v in g.variables
    )
    return (
        f'<gateway name="{_attr(g.name)}">{_params(pairs)}'
        f"<variables>{variables}</variables></gateway>"
    )


# FreeSWITCH's stock profiles, reduced to what a working install needs; the
# $${…} variables come from the node's vars.xml (mod_xml_curl documents are
# preprocessed like files).
_COMMON = [
    ("dialplan", "XML"),
    ("context", "public"),
    ("rtp-timer-name", "soft"),
    ("rtp-ip", "$${local_ip_v4}"),
    ("sip-ip", "$${local_ip_v4}"),
    ("ext-rtp-ip", "auto-nat"),
    ("ext-sip-ip", "auto-nat"),
    ("inbound-codec-prefs", "$${global_codec_prefs}"),
    ("outbound-codec-prefs", "$${outbound_codec_prefs}"),
    ("local-network-acl", "localnet.auto"),
    ("apply-nat-acl", "nat.auto"),
    ("manage-presence", "false"),
    ("nonce-ttl", "60"),
    ("rtp-timeout-sec", "300"),
    ("rtp-hold-timeout-sec", "1800"),
]
_PROFILE_SETTINGS: dict[str, list[tuple[str, str]]] = {
    # On a profile that authenticates calls, passing apply-inbound-acl skips
    # the digest challenge, so a default-allow deny list must not go there:
    # the internal profile keeps the stock "domains" list (docs/routing.md).
    "internal": [
        ("sip-port", "$${internal_sip_port}"),
        ("auth-calls", "true"),
        ("apply-inbound-acl", "domains"),
        ("challenge-realm", "auto_from"),
        *_COMMON,
    ],
    "external": [
        ("sip-port", "$${external_sip_port}"),
        ("auth-calls", "false"),
        ("apply-inbound-acl", BLACKLIST_ACL),
        *_COMMON,
    ],
}
