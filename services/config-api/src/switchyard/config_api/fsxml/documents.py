"""The directory and configuration documents FreeSWITCH fetches through
mod_xml_curl (freeswitch-wire.md section 3), built from an ``FsConfig`` in
memory. Every value goes through ``_attr`` (XML-escaped), so nothing an
operator typed can change a document's structure. ``None`` means "answer
FreeSWITCH's not-found document": it then tries its next binding and its
static files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from switchyard.config_api.framework.spec import is_id
from switchyard.config_api.fsxml.model import DirUser, FsConfig, GatewayConf, IvrEntry, IvrMenu
from switchyard.config_api.routing.xmldoc import _attr

PROFILES = ("internal", "external")
# The IP blacklist's ACL name (acl.conf), applied to the profiles below.
BLACKLIST_ACL = "sy-blacklist"

_HEAD = '<document type="freeswitch/xml">'
_TAIL = "</document>"


def _config(name: str, body: str) -> str:
    return (
        f'{_HEAD}<section name="configuration" description="Switchyard">'
        f'<configuration name="{_attr(name)}" description="Switchyard">{body}</configuration>'
        f"</section>{_TAIL}"
    )


def _params(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...], tag: str = "param") -> str:
    return "".join(f'<{tag} name="{_attr(k)}" value="{_attr(v)}"/>' for k, v in pairs)


class FsIndex:
    """An ``FsConfig`` indexed for the request path; immutable once built."""

    def __init__(self, fs: FsConfig) -> None:
        self.fs = fs
        self.users: dict[str, list[DirUser]] = {}
        for u in fs.users:
            if not u.disabled:
                self.users.setdefault(u.extn, []).append(u)
        self.menus: dict[str, IvrMenu] = {m.name: m for m in fs.ivrs}
        self.menus_by_id: dict[int, IvrMenu] = {m.id: m for m in fs.ivrs}
        self.contexts: dict[int, str] = dict(fs.context_keys)
        self.gateways: dict[str, list[GatewayConf]] = {p: [] for p in PROFILES}
        for g in fs.gateways:
            if not g.disabled:
                self.gateways[profile_of(g)].append(g)

    # --- directory --------------------------------------------------------------

    def directory(self, form: Mapping[str, str]) -> str | None:
        """Users from extensions (``sip_auth``, ``user_call`` and other user
        lookups); ``purpose=gateways`` gets the domain without gateways (ours
        are in sofia.conf); other purposes are not ours."""
        domain = form.get("domain") or form.get("key_value") or ""
        purpose = form.get("purpose", "")
        if purpose == "gateways":
            return self._domain(domain or self.fs.domain, "")
        if purpose or not domain:
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

    # --- ivr.conf -------------------------------------------------------------------

    def ivr(self, form: Mapping[str, str]) -> str | None:
        """The menu FreeSWITCH's ``ivr`` app asks for (``Menu-Name``) with every
        menu it can reach by ``menu-sub`` (FreeSWITCH builds those from the
        same document); all menus when no name is given."""
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
                for e in menu.entries:
                    sub = self._sub(e)
                    if e.action == "IVR_SUB" and sub is not None and sub.id not in seen:
                        seen.add(sub.id)
                        queue.append(sub)
        body = "".join(self._menu(m) for m in menus)
        return _config("ivr.conf", f"<menus>{body}</menus>")

    def _sub(self, e: IvrEntry) -> IvrMenu | None:
        return self.menus_by_id.get(int(e.args)) if is_id(e.args.strip()) else None

    def _menu(self, m: IvrMenu) -> str:
        attrs = {
            "name": m.name,
            "greet-long": sound(m.greet_long),
            "greet-short": sound(m.greet_short),
            "invalid-sound": sound(m.invalid_sound),
            "exit-sound": sound(m.exit_sound),
            "transfer-sound": sound(m.transfer_sound),
            "timeout": str(m.timeout),
            "max-failures": str(m.max_failures),
            "max-timeouts": str(m.max_timeouts),
            "exec-on-max-failures": m.exec_on_max_failures,
            "exec-on-max-timeouts": m.exec_on_max_timeouts,
            "confirm-macro": m.confirm_macro,
            "confirm-key": m.confirm_key,
            "confirm-attempts": m.confirm_attempts,
            "tts-engine": m.tts_engine,
            "tts-voice": m.tts_voice,
            "digit-len": str(m.digit_len),
            "inter-digit-timeout": str(m.inter_digit_timeout),
            "pin": m.pin,
            "pin-file": sound(m.pin_file),
            "bad-pin-file": sound(m.bad_pin_file),
        }
        head = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs.items() if v != "")
        entries = "".join(
            f'<entry action="{_attr(a)}" digits="{_attr(d)}" param="{_attr(p)}"/>'
            for a, d, p in (self._entry(e) for e in m.entries)
            if a
        )
        return f"<menu {head}>{entries}</menu>"

    def _entry(self, e: IvrEntry) -> tuple[str, str, str]:
        """(FreeSWITCH menu action, digits, param); an empty action is dropped."""
        digits = e.digits.strip()
        d = self.fs.domain
        if e.action == "IVR_EXTENSION":
            if e.match_prefix:
                # The caller keys a whole extension starting with these digits.
                return "menu-exec-app", f"/^({_re_digits(digits)}[0-9]*)$/", f"bridge user/$1@{d}"
            extns = _extensions(e.args)
            if not extns:
                return "", "", ""
            return "menu-exec-app", digits, "bridge " + ",".join(f"user/{x}@{d}" for x in extns)
        if e.action == "IVR_SUB":
            sub = self._sub(e)
            return ("menu-sub", digits, sub.name) if sub is not None else ("", "", "")
        if e.action in _SIMPLE:
            return _SIMPLE[e.action], digits, ""
        if e.action == "IVR_PLAY":
            return "menu-play-sound", digits, sound(e.args or e.body)
        if e.action == "IVR_TTS":
            return "menu-play-sound", digits, f"say:{e.args or e.body}"
        if e.action in ("MACRO", "VOICE_MACRO"):
            return "menu-play-sound", digits, f"phrase:{e.args or e.body}"
        if e.action == "IVR_SYSTEM":
            line = next((s.strip() for s in e.body.splitlines() if s.strip()), "")
            return ("menu-exec-app", digits, line) if line else ("", "", "")
        if e.action == "IVR_SCRIPT":
            script = sound(e.body) or e.args
            return "menu-exec-app", digits, f"lua {script}"
        if e.action == "IVR_ROUTE":
            context = self.contexts.get(int(e.args)) if is_id(e.args) else e.args
            number = e.body.strip()
            if not context or not number:
                return "", "", ""
            return "menu-exec-app", digits, f"transfer {number} XML {context}"
        if e.action == "IVR_QUEUE":
            return "menu-exec-app", digits, f"callcenter {e.body or e.args}"
        if e.action in ("IVR_CONFERENCE", "IVR_CONFERENCE_ROOM", "IVR_MEETING_ROOM"):
            return "menu-exec-app", digits, f"conference {e.body or e.args}-{d}@default"
        return "", "", ""

    # --- acl.conf ---------------------------------------------------------------------

    def acl(self, form: Mapping[str, str]) -> str:
        denied = "".join(f'<node type="deny" cidr="{_attr(c)}"/>' for c in self.fs.denied)
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


def profile_of(g: GatewayConf) -> str:
    """Gateways go to the profile they name, else to ``external``."""
    return g.profile if g.profile in PROFILES else "external"


def sound(value: str) -> str:
    """A sound field: the media JSON's ``media_path``, or a legacy plain path."""
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
    """IVR_EXTENSION's args ``[{"extn":"1001|domain"}]`` (or a bare number)."""
    text = args.strip()
    if text and not text.startswith("["):
        return [text] if text.isalnum() else []
    try:
        items = json.loads(text) if text else []
    except ValueError:
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        extn = str(item.get("extn", "")).split("|")[0] if isinstance(item, dict) else ""
        if extn.isalnum():
            out.append(extn)
    return out


def _user(u: DirUser) -> str:
    variables = [
        ("user_context", u.context),
        ("effective_caller_id_name", u.cid_name or u.name or u.extn),
        ("effective_caller_id_number", u.cid_number or u.extn),
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
