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

import httpx

from switchyard.fssim.channel import Channel
from switchyard.fssim.core import Core
from switchyard.fssim.event import Event, url_encode

log = logging.getLogger("switchyard.fssim.xml_curl")

MAX_BYTES = 1024 * 1024
# FreeSWITCH's default is no timeout at all; a simulator must not hang a test run.
TIMEOUT_SECONDS = 10.0
_NOT_FOUND = re.compile(r"<result\s+status\s*=\s*\"not found\"")


def dialplan_params(node: Core, ch: Channel) -> Event:
    """The REQUEST_PARAMS event mod_dialplan_xml builds: channel data, variables, Hunt-* profile."""
    e = node.event("REQUEST_PARAMS", "mod_dialplan_xml.c", "dialplan_xml_locate", 610)
    ch.add_basic_data(e, with_vars=True)
    ch.add_profile(e, "Hunt", ch.profile, ch.name, ch.direction, times=True)
    return e


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


async def fetch_dialplan(node: Core, ch: Channel) -> str | None:
    return await fetch(node, form_body(node, "dialplan", dialplan_params(node, ch)))


async def fetch_configuration(node: Core, name: str, params: Event) -> str | None:
    """switch_xml_open_cfg(name): section/tag ``configuration``, ``key_name=name``."""
    body = form_body(
        node,
        "configuration",
        params,
        tag_name="configuration",
        key_name="name",
        key_value=name,
    )
    return await fetch(node, body)


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
    return text


def _pairs(body: str) -> list[tuple[str, str]]:
    from urllib.parse import unquote

    out = []
    for part in body.split("&"):
        key, _, value = part.partition("=")
        out.append((key, unquote(value)))
    return out
