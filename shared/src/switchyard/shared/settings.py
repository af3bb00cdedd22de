"""Settings: one msgspec Struct, read from ``SWITCHYARD_*`` environment variables.

Every field maps to ``SWITCHYARD_<FIELD_NAME_UPPER>``; docs/configuration.md
lists them. Values arrive as strings and are converted by msgspec's lax
decoding, so a bad value fails at start-up naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from switchyard.shared.fsvalues import HOST, fs_applications

ENV_PREFIX = "SWITCHYARD_"
SIP_DOMAIN_VARIABLE = "$${domain}"


class SettingsError(ValueError):
    pass


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Postgres DSN; empty means "start an embedded server" (only `switchyard up` does).
    database_url: str = ""
    # NATS URL(s), comma separated; empty means "start an embedded server".
    nats_url: str = ""
    # Namespace inserted into every subject, stream and bucket name; lets
    # several stacks (or parallel tests) share one NATS without seeing each other.
    nats_namespace: str = ""
    # Replicas of every JetStream stream, KV bucket and object store the
    # services create (1 to 5): 3 on a 3-node NATS cluster (deploy/k8s).
    jetstream_replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    # `switchyard run` (Kubernetes) listens on all interfaces; `switchyard up`
    # on 127.0.0.1 unless this variable is set.
    http_host: str = "0.0.0.0"  # noqa: S104 - a server is meant to listen on all interfaces
    http_port: int = 8081
    data_dir: Path = Path(".switchyard")
    # FreeSWITCH nodes: comma-separated ``name=esl://password@host:port``.
    fs_nodes: str = ""
    # Or (and) found in DNS: the SRV records of a headless Service over
    # FreeSWITCH's StatefulSet (``_esl._tcp.freeswitch.<ns>.svc.cluster.local``),
    # read again every fs_nodes_srv_every seconds; a target's first label is
    # the node's name (docs/call-control.md, Nodes).
    fs_nodes_srv: str = ""
    fs_nodes_srv_every: float = 10.0
    # The ESL password of the nodes found in DNS (a Secret in Kubernetes).
    fs_esl_password: str = "ClueCon"  # noqa: S105 - FreeSWITCH's own default
    # Extra ESL events to relay, comma separated (``CUSTOM foo::bar`` for subclasses),
    # on top of call-control's defaults.
    fs_events: str = ""
    # The context POST /api/channels routes destNumber in, as if dialled from there.
    originate_context: str = "context-1"
    # Lease on a FreeSWITCH node: a dead replica's nodes move after about this long.
    node_lease: float = 6.0
    # Comma-separated service names this process serves; "all" for every installed one.
    services: str = "all"
    db_pool_min: int = 1
    db_pool_max: int = 10
    # Lifetime of a login session token (POST /api/sessions), seconds.
    session_ttl: int = 86400
    # Seconds a replica trusts a token it verified in Postgres without asking
    # again (0: ask every request). A logout reaches every replica at once
    # over NATS; any other revocation takes effect within this long.
    token_cache_ttl: float = 5.0
    # Default timeout of a NATS request, seconds.
    bus_timeout: float = 5.0
    log_level: str = "INFO"
    log_format: str = "json"  # "json" or "text"
    # The share of FreeSWITCH events that start a trace (ESL -> JetStream ->
    # webhook POST), 0 to 1: a span per event would double the cost of the
    # ESL intake, so only this share gets one (docs/observability.md).
    trace_events: float = 0.01
    # Shared secret FreeSWITCH's mod_xml_curl sends to /fs/xml (basic auth
    # ``freeswitch:<secret>`` or in the URL); empty: /fs/xml refuses every fetch.
    # `switchyard up` generates one into the data dir.
    xml_curl_secret: str = ""
    # The key of mod_cti's HTTP CLI (GET /cli?key=…, call-control); empty:
    # /cli answers 404.
    cli_key: str = ""
    # Commands /cli may run, comma separated; empty: call-control's default
    # (cli_rules.DEFAULT_CLI_COMMANDS). Shell and interpreter commands stay
    # refused even when listed.
    cli_commands: str = ""
    # coocenter's api.conf WEBKEY: every /coocenter-api request's Authorization
    # must be md5(WEBKEY + 'YYYY-MM-DD') of today (shared/coocenter_auth.py),
    # and pushes carry it. Empty: the API is open, as the spec says.
    coocenter_webkey: str = ""
    # coocenter's api.conf pausetime=yes (after-call work): after each
    # answered queue call the agent is On Break for at most
    # coocenter_pause_seconds, or until unpaused.
    coocenter_pausetime: bool = False
    coocenter_pause_seconds: int = 30
    # Lifetime of the API token `switchyard up` prints, seconds.
    up_token_ttl: int = 3 * 86400
    # Applications a user may name (route params, system destinations, IVR
    # entries, originate) beyond the built-in allowlist, comma separated;
    # shell and interpreter applications are refused (shared/fsvalues.py).
    fs_applications: str = ""
    # Domain of user/<ext>@<domain> dial strings and of the directory's gateway
    # answer (config-api); the default is FreeSWITCH's own variable, which
    # FreeSWITCH expands when it reads the document. Empty: the default.
    sip_domain: str = SIP_DOMAIN_VARIABLE
    # IANA zone route time rules are evaluated in (config-api). Empty: UTC.
    timezone: str = "UTC"
    # Seed a small demo PBX into an empty configuration (only once per database).
    demo: bool = False
    # Comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For,
    # X-Forwarded-Proto and X-Forwarded-Host are believed (empty: none is).
    trusted_proxies: str = ""
    # Comma-separated extra origins (``https://ui.example.com``) allowed to make
    # cookie-authenticated writes besides the API's own (docs/http.md, CSRF).
    allowed_origins: str = ""
    # Login limits (per replica): failed logins per username within the window
    # (seconds) before that username is locked; each further lock lasts twice
    # as long, up to login_max_lockout seconds.
    login_user_failures: int = 5
    login_user_window: int = 300
    login_max_lockout: int = 3600
    # Failed logins per client IP within its window (seconds).
    login_ip_failures: int = 20
    login_ip_window: int = 60
    # Media (services/media, docs/media.md). Files live under media_dir in
    # upload/ (uploads, TTS) and recordings/: the folder FreeSWITCH reads, so
    # the abs_path the API answers plays as it is. Empty: <data_dir>/media.
    # call-control records into its recordings/ (shared/media_location.py).
    media_dir: str = ""
    # Where media bytes live: "local" (media_dir, shared with FreeSWITCH) or
    # "nats" (JetStream Object Store; FreeSWITCH fetches files by URL through
    # mod_http_cache and uploads recordings the same way).
    media_store: str = "local"
    # The media service's base URL as FreeSWITCH reaches it (http://media:8081);
    # required with media_store=nats.
    media_url: str = ""
    # Key signing the URLs FreeSWITCH fetches media by (HMAC-SHA256); empty:
    # derived from xml_curl_secret. Neither set: no media URL is served.
    media_url_secret: str = ""
    # The key before the last change of media_url_secret: URLs signed under it
    # still open while it is set (a rotation's overlap; docs/media.md).
    media_url_previous_secret: str = ""
    # Who may fetch GET /tts (mod_cti's `http://…/tts?text=` prompt) without a
    # signature: comma-separated IPs/CIDRs, normally the FreeSWITCH nodes.
    # Empty: only signed /tts URLs are served (docs/media.md).
    tts_http_allow: str = ""
    # Largest accepted upload, bytes (larger is a 413 and nothing is kept).
    media_max_upload: int = 100 * 1024 * 1024
    # TTS vendors: credentials and every URL (private clouds, tests).
    baidu_api_key: str = ""
    baidu_secret_key: str = ""
    baidu_token_url: str = "https://aip.baidubce.com/oauth/2.0/token"  # noqa: S105 - a URL
    baidu_tts_url: str = "https://tsn.baidu.com/text2audio"
    ali_access_key_id: str = ""
    ali_access_key_secret: str = ""
    ali_appkey: str = ""
    ali_token_url: str = "https://nls-meta.cn-shanghai.aliyuncs.com/"  # noqa: S105 - a URL
    ali_tts_url: str = "https://nls-gateway-cn-shanghai.aliyuncs.com/stream/v1/tts"
    huawei_user: str = ""
    huawei_password: str = ""
    huawei_domain: str = ""
    # Project name the IAM token is scoped to (empty: the region's default project).
    huawei_project: str = ""
    huawei_region: str = "cn-north-4"
    # {region} and {project_id} are filled in.
    huawei_iam_url: str = "https://iam.{region}.myhuaweicloud.com/v3/auth/tokens"
    huawei_tts_url: str = "https://sis-ext.{region}.myhuaweicloud.com/v1/{project_id}/tts"
    # event-relay (docs/event-relay.md). mod_ai's post-event-url: every call's
    # ai::channel-state events are POSTed there (empty: no such target).
    post_event_url: str = ""
    # Optional whsec_… secret signing the post_event_url deliveries (XSwitch sends none).
    post_event_secret: str = ""
    # coocenter's api.conf URL: its push events (dialbegin, cdr, cc_cdr …) are
    # POSTed there as a system subscription of format coocenter (empty: none),
    # with the WEBKEY Authorization when coocenter_webkey is set.
    coocenter_push_url: str = ""
    # api.conf's mac: the device MAC the pushes carry in their `mac` field.
    coocenter_mac: str = ""
    # Comma-separated nodes known to run mod_ai (their ai::channel-state events
    # pass through; the relay makes none for them). Learned too on the first one seen.
    mod_ai_nodes: str = ""
    # Comma-separated CIDRs webhook URLs may reach although private, loopback
    # or link-local (refused otherwise), e.g. 127.0.0.0/8.
    webhook_allow_private: str = ""
    # Seconds to wait before each retry, comma separated (±20% jitter); a
    # delivery still failing after the last one is parked as failed.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    # Seconds one webhook request may take.
    webhook_timeout: float = 15.0
    # A subscription whose deliveries keep failing this long (seconds) is disabled.
    webhook_disable_after: int = 5 * 86400
    # Days the delivery log and relayed events are kept.
    webhook_retention_days: int = 30
    # Days call detail records (``cdrs``, GET /api/cdrs) are kept.
    cdr_retention_days: int = 90

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        raw: dict[str, str] = {}
        for field in msgspec.structs.fields(cls):
            key = ENV_PREFIX + field.name.upper()
            if key in env:
                raw[field.name] = env[key]
        try:
            settings = msgspec.convert(raw, cls, strict=False, dec_hook=_dec_hook)
        except msgspec.ValidationError as exc:
            raise SettingsError(_name_the_variable(str(exc))) from None
        try:
            # Refused here, at start-up, rather than on the first write it affects.
            fs_applications(settings.fs_applications)
        except ValueError as exc:
            raise SettingsError(f"{ENV_PREFIX}FS_APPLICATIONS: {exc}") from None
        return _routing_checked(settings)

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a child process."""
        return {
            ENV_PREFIX + f.name.upper(): str(getattr(self, f.name))
            for f in msgspec.structs.fields(self)
        }

    @property
    def service_names(self) -> list[str] | None:
        """The services to run, or None for all of them."""
        names = [s.strip() for s in self.services.split(",") if s.strip()]
        return None if not names or names == ["all"] else names


def _routing_checked(settings: Settings) -> Settings:
    # An empty value means the default, as it always has for these two.
    zone = settings.timezone or "UTC"
    domain = settings.sip_domain or SIP_DOMAIN_VARIABLE
    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise SettingsError(f"{ENV_PREFIX}TIMEZONE: unknown time zone {zone!r}") from None
    if domain != SIP_DOMAIN_VARIABLE and not HOST.ok(domain):
        # It is spliced into every user/<ext>@<domain> dial string.
        raise SettingsError(f"{ENV_PREFIX}SIP_DOMAIN: {HOST.reason}")
    return msgspec.structs.replace(settings, timezone=zone, sip_domain=domain)


def _dec_hook(type_: type, obj: object) -> object:
    if type_ is Path and isinstance(obj, str):
        return Path(obj)
    raise NotImplementedError


def _name_the_variable(message: str) -> str:
    # msgspec says "... - at `$.http_port`"; users set SWITCHYARD_HTTP_PORT.
    if "`$." in message:
        head, _, tail = message.partition("`$.")
        field = tail.split("`", 1)[0]
        return f"{ENV_PREFIX}{field.upper()}: {head.rstrip(' -')}"
    return message
