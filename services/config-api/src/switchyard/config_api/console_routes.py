"""The console's route explain page (docs/console.md): a number, context,
caller and time in; the candidate routes with why each was taken or
rejected, the time rules, the blacklist, the transformations and the
FreeSWITCH actions out. The same explanation as ``GET /api/routes/explain``
(``routing_api.explanation``), read-only, so viewers may use it too."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from switchyard.config_api.resources.routing_api import DEFAULT_CONTEXT, explanation
from switchyard.config_api.state import ConfigApi
from switchyard.shared.console.i18n import N_
from switchyard.shared.console.pages import LOGIN_REDIRECT, render
from switchyard.shared.http.errors import ApiError

PAGE = "switchyard.config_api:routes.html"
# Decision.outcome in words.
OUTCOMES = {
    "route": N_("routed"),
    "func_code": N_("function code"),
    "did": N_("DID (direct inward dialling)"),
    "rejected": N_("rejected"),
    "invalid": N_("invalid number"),
    "not_found": N_("no route"),
}


# The routing engine's reasons for a candidate (engine._candidates) and for the
# route taken, as catalog messages; anything else is shown as the engine says it.
REASONS = [
    (re.compile(r"disabled"), N_("disabled")),
    (
        re.compile(r"first by max_length, then longest prefix, then id"),
        N_("first by max_length, then longest prefix, then id"),
    ),
    (
        re.compile(r"max_length (?P<max>\d+) < number length (?P<size>\d+)"),
        N_("max_length %(max)s < number length %(size)s"),
    ),
    (re.compile(r"ranked after route (?P<route>\S+)"), N_("ranked after route %(route)s")),
    (
        re.compile(r"would be first, but (?P<what>.+) answered the call"),
        N_("would be first, but %(what)s answered the call"),
    ),
    (re.compile(r"route (?P<route>\d+) \((?P<name>.*)\)"), N_("route %(route)s (%(name)s)")),
]


def reason_of(text: str) -> tuple[str, dict[str, str]]:
    """(message, its values) for the page's gettext."""
    for pattern, message in REASONS:
        if m := pattern.fullmatch(text):
            return message, m.groupdict()
    return "%(text)s", {"text": text}


@get("/console/routes", include_in_schema=False, exception_handlers=LOGIN_REDIRECT)
async def routes_page(
    request: Request[Any, Any, Any],
    config: ConfigApi,
    destNumber: FromQuery[str] = "",  # the API's parameter names
    context: FromQuery[str] = DEFAULT_CONTEXT,
    callerNumber: FromQuery[str] = "",
    at: FromQuery[str] = "",
) -> Template:
    form = {"destNumber": destNumber, "context": context, "callerNumber": callerNumber, "at": at}
    result, error, status = None, "", 200
    if destNumber:
        try:
            result = await explanation(
                config.live, context or DEFAULT_CONTEXT, destNumber, callerNumber, at
            )
        except ApiError as exc:
            error, status = exc.message, exc.status
    return render(
        request,
        PAGE,
        {
            "form": form,
            "result": result,
            "error": error,
            "outcomes": OUTCOMES,
            "reason_of": reason_of,
        },
        status_code=status,
    )


route_handlers = [routes_page]
