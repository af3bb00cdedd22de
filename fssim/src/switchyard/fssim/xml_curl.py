"""mod_xml_curl as a client: POST FreeSWITCH's form for a fetch, return the document.

With ``node.xml_curl_credentials`` (the binding's ``gateway-credentials``,
``user:pass``) every request carries ``Authorization: Basic`` up front, as
curl does with mod_xml_curl's default ``auth-scheme`` (basic).

None means "this binding returned nothing", and FreeSWITCH then falls back
to the static XML: a non-200 answer, a transport error, a body over
``response-max-bytes`` (1 MiB) or a ``<result status="not found"/>``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

import httpx

from switchyard.fssim.core import Core
from switchyard.fssim.event import Event, url_encode

log = logging.getLogger("switchyard.fssim.xml_curl")

MAX_BYTES = 1024 * 1024
# FreeSWITCH's default is no timeout at all; a simulator must not hang a test run.
TIMEOUT_SECONDS = 10.0
_NOT_FOUND = re.compile(r"<result\s+status\s*=\s*\"not found\"")


def form_body(
    node: Core,
    section: str,
    params: Event,
    *,
    tag_name: str = "",
    key_name: str = "",
    key_value: str = "",
) -> str:
    # The five basic fields are written raw; every event header is URL-encoded.
    head = (
        f"hostname={node.hostname}&section={section}&tag_name={tag_name}"
        f"&key_name={key_name}&key_value={key_value}"
    )
    return head + "".join(f"&{k}={url_encode(v)}" for k, v in params.headers)


class XmlCurl:
    """mod_xml_curl bound to a node's XML lookups (the core's ``xml_binding``); it
    answers only while the node has a URL (``xml_curl_url``, which tests may set later)."""

    def __init__(self, node: Core) -> None:
        self.node = node

    @property
    def bound(self) -> bool:
        return bool(self.node.xml_curl_url)

    async def fetch(
        self,
        section: str,
        params: Event,
        *,
        tag_name: str = "",
        key_name: str = "",
        key_value: str = "",
    ) -> str | None:
        body = form_body(
            self.node, section, params, tag_name=tag_name, key_name=key_name, key_value=key_value
        )
        return await fetch(self.node, body)


async def fetch(node: Core, body: str) -> str | None:
    """POST one form to the binding's URL; None when FreeSWITCH would try its next binding."""
    assert node.xml_curl_url
    node.xml_curl_requests.append(dict(_pairs(body)))
    auth = None
    if node.xml_curl_credentials:
        user, _, password = node.xml_curl_credentials.partition(":")
        auth = httpx.BasicAuth(user, password)
    try:
        async with httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS, follow_redirects=True, max_redirects=10, auth=auth
        ) as client:
            response = await client.post(
                node.xml_curl_url,
                content=body.encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "freeswitch-xml/1.0",
                },
            )
    except httpx.HTTPError as exc:
        log.warning("xml_curl fetch failed: %s", type(exc).__name__)
        return None
    if response.status_code != 200 or len(response.content) > MAX_BYTES:
        return None
    text = response.text
    if _NOT_FOUND.search(text):
        return None
    return preprocess(node, text)


# $${name}: FreeSWITCH's preprocessor (switch_xml.c expand_vars) puts the
# global variable in before parsing a fetched document, as for a file; an
# unknown one becomes nothing. Without this a route's user/1000@$${domain}
# would dial a domain nobody registered in.
_GLOBAL = re.compile(r"\$\$\{([^{}]*)\}")


def global_variables(node: Core) -> dict[str, str]:
    """The globals of vars.xml that documents name (its defaults: domain is the IPv4)."""
    return {
        "domain": node.ipv4,
        "domain_name": node.ipv4,
        "local_ip_v4": node.ipv4,
        "hostname": node.hostname,
    }


def preprocess(node: Core, text: str) -> str:
    if "$${" not in text:
        return text
    values = global_variables(node)
    return _GLOBAL.sub(lambda m: values.get(m.group(1), ""), text)


def _pairs(body: str) -> list[tuple[str, str]]:
    out = []
    for part in body.split("&"):
        key, _, value = part.partition("=")
        out.append((key, unquote(value)))
    return out
