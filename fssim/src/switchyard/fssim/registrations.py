"""Phones registered with mod_sofia: one record per registration, as sip_registrations holds it.

The core keeps them in one place (``Core.registrations``); everything that
shows or uses a registration reads that: ``sofia status|xmlstatus profile
<p> reg|user``, ``sofia_contact``, ``show registrations`` (through the core
DB's ``registrations`` table, coredb.py), the ``user/`` endpoint and the
CUSTOM ``sofia::register|unregister|expire|sip_user_state`` events.

The fields and what they hold follow sofia_reg.c's
``sofia_reg_handle_register_token``: ``contact`` is the Contact as sofia
stores it (``"" <sip:<user>@<ip>:<port>>``), ``status`` is
``Registered(UDP)``, ``rpid`` ``unknown``, ``expires_at`` the epoch second
the registration runs out (``reg_time + exptime +
sip-expires-late-margin``), ``ping_status`` starts ``Reachable`` and
``ping_time_us`` (the column ``ping_time``, microseconds) 0 until an
OPTIONS ping is answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from switchyard.fssim.behaviour import ANSWER, Behaviour

# mod_sofia's default ``sip-expires-late-margin``: how long past its Expires a
# registration is kept (seconds).
EXPIRES_LATE_MARGIN = 60


@dataclass
class Registration:
    user: str  # sip_user: the user registered
    host: str  # sip_host: the domain registered to
    call_id: str
    network_ip: str
    network_port: int
    contact: str
    exptime: int  # the Expires the phone asked for
    expires_at: int
    user_agent: str
    profile: str = "internal"
    status: str = "Registered(UDP)"
    rpid: str = "unknown"
    ping_status: str = "Reachable"
    ping_time_us: int = 0
    transport: str = "udp"
    # How the phone behaves when it is called (fssim's, not FreeSWITCH's).
    behaviour: Behaviour = field(default=ANSWER)

    @property
    def username(self) -> str:
        """sip_username: the digest user it authenticated as."""
        return self.user

    @property
    def realm(self) -> str:
        """sip_realm: the digest realm (the domain, as the stock profile's auth_to)."""
        return self.host

    @property
    def uri(self) -> str:
        """The Contact's URI without ``sip:`` (sofia_glue_get_url_from_contact,
        sofia_glue_strip_proto)."""
        inner = self.contact[self.contact.index("<") + 1 : self.contact.rindex(">")]
        return inner.removeprefix("sip:")

    @property
    def url(self) -> str:
        """The dial string ``sofia_contact`` gives for it, and the core DB's ``url``."""
        return f"sofia/{self.profile}/sip:{self.uri}"

    @property
    def ping_ms(self) -> float:
        """What ``Ping-Time`` shows: the column over 1000 (milliseconds)."""
        return self.ping_time_us / 1000

    def core_row(self, hostname: str) -> dict[str, str]:
        """Its row of the core DB's ``registrations`` table (switch_core_add_registration):
        the columns ``show registrations`` prints, in order; metadata NULL shows empty."""
        return {
            "reg_user": self.user,
            "realm": self.host,
            "token": self.call_id,
            "url": self.url,
            "expires": str(self.expires_at),
            "network_ip": self.network_ip,
            "network_port": str(self.network_port),
            "network_proto": self.transport,
            "hostname": hostname,
            "metadata": "",
        }


def contact_of(user: str, ip: str, port: int) -> str:
    """The Contact sofia stores for a phone that sent ``<sip:user@ip:port>`` with no
    display name in its Contact or To: sofia_reg_handle_register_token writes an
    empty quoted one (``""``)."""
    return f'"" <sip:{user}@{ip}:{port}>'
