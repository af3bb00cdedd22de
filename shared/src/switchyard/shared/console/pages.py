"""Rendering console pages: templates, the viewer's language and role.

Templates are named ``<package>:<file>`` and read from the package's
``templates/`` folder, so each service keeps its pages' templates next to
their handlers and extends the shell's ``switchyard.shared.console:base.html``
without importing anything of another service.

Roles: a machine token or a super user is an **admin** and may act; any
other logged-in user is a **viewer**: the pages leave the buttons out and
the handlers refuse the POSTs (``require_admin``), so a hand-made request
gets a 403 too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from jinja2 import BaseLoader, Environment, TemplateNotFound
from litestar import Request, Response
from litestar.exceptions import NotAuthorizedException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap
from markupsafe import Markup

from switchyard.shared.accounts import Principal
from switchyard.shared.console.i18n import (
    HTML_LANG,
    LANG_COOKIE,
    LANGUAGES,
    N_,
    Translations,
    negotiate,
    translations,
)
from switchyard.shared.http.auth import principal_of
from switchyard.shared.http.errors import ApiError

SHELL = "switchyard.shared.console"
PREFIX = "/console"

# The console's pages, in the header's order: (key, path, title). The shell
# knows every page's path (as shared knows every subject); which service
# serves it is the ingress's business.
NAV = (
    ("calls", f"{PREFIX}/calls", N_("Live calls")),
    ("deliveries", f"{PREFIX}/deliveries", N_("Webhook deliveries")),
    ("routes", f"{PREFIX}/routes", N_("Route explain")),
    ("gateways", f"{PREFIX}/gateways", N_("Gateways and trunks")),
    ("nodes", f"{PREFIX}/nodes", N_("Nodes")),
    ("cdrs", f"{PREFIX}/cdrs", N_("Recent calls")),
)


class _PackageTemplates(BaseLoader):
    """``switchyard.call_control:calls.html`` -> that package's ``templates/calls.html``."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        package, sep, name = template.partition(":")
        if not sep or not package.startswith("switchyard.") or ".." in name:
            raise TemplateNotFound(template)
        try:
            resource = files(package) / "templates" / name
        except ModuleNotFoundError:
            raise TemplateNotFound(template) from None
        if not resource.is_file():
            raise TemplateNotFound(template)
        return resource.read_text("utf-8"), None, lambda: True


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    env = Environment(
        loader=_PackageTemplates(),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = _seconds_since
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def _seconds_since(when: datetime | None) -> int:
    if when is None:
        return 0
    return max(0, int((datetime.now(UTC) - when).total_seconds()))


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    lang: str

    @property
    def admin(self) -> bool:
        return self.principal.kind == "api" or self.principal.is_super

    @property
    def name(self) -> str:
        return self.principal.operator


def language_of(request: Request[Any, Any, Any]) -> str:
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", ""))


def viewer_of(request: Request[Any, Any, Any]) -> Viewer:
    principal = principal_of(request)
    if principal is None:
        raise NotAuthorizedException("missing token")
    return Viewer(principal, language_of(request))


def require_admin(request: Request[Any, Any, Any]) -> Viewer:
    """The viewer when an admin; a 403 for a viewer (the page shows no button,
    but a hand-made POST must fail too)."""
    viewer = viewer_of(request)
    if not viewer.admin:
        raise ApiError(403, "forbidden: the viewer role may not act", {"reason": "viewer"})
    return viewer


def _newstyle(t: Translations) -> tuple[Callable[..., str], Callable[..., str]]:
    """gettext/ngettext as Jinja's newstyle expects: ``%(name)s`` filled from
    keyword arguments, the catalog's text trusted, the arguments escaped."""

    def gettext(message: str, **variables: Any) -> str:
        text = Markup(t.gettext(message))  # noqa: S704 - the catalogs are ours, not input
        return text % variables if variables else text

    def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
        text = Markup(t.ngettext(singular, plural, n))  # noqa: S704 - ours, not input
        return text % {"num": n, **variables}

    return gettext, ngettext


def context(
    request: Request[Any, Any, Any], package: str, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What every console template gets: the viewer, the language's gettext,
    the navigation, plus ``values``."""
    principal = principal_of(request)
    lang = language_of(request)
    gettext, ngettext = _newstyle(translations((package, SHELL), lang))
    return {
        "viewer": Viewer(principal, lang) if principal is not None else None,
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "languages": LANGUAGES,
        "gettext": gettext,
        "ngettext": ngettext,
        "nav": NAV,
        "here": request.url.path,
        "here_full": _local_target(str(request.url.path) + _query(request)),
        **(values or {}),
    }


def _query(request: Request[Any, Any, Any]) -> str:
    q = request.url.query
    return f"?{q}" if q else ""


def render(
    request: Request[Any, Any, Any],
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Template:
    """A whole page; ``template`` is ``<package>:<file>``."""
    package = template.partition(":")[0]
    return Template(
        template_name=template,
        context=context(request, package, values),
        status_code=status_code,
        media_type="text/html",
    )


def fragment(
    request: Request[Any, Any, Any], template: str, values: Mapping[str, Any] | None = None
) -> str:
    """A piece of a page as text (what a stream sends or htmx swaps in)."""
    package = template.partition(":")[0]
    engine: JinjaTemplateEngine = request.app.template_engine  # type: ignore[assignment]
    return engine.get_template(template).render(**context(request, package, values))


def _local_target(target: str | None) -> str:
    """A redirect target that stays on this site's console (no ``//host``)."""
    if not target or not target.startswith(PREFIX) or target.startswith("//"):
        return f"{PREFIX}/calls"
    if any(c in target for c in "\\\r\n"):
        return f"{PREFIX}/calls"
    return target


def to_login(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    """Exception handler of the pages: an unauthenticated browser goes to the
    login form and comes back after it."""
    if request.method != "GET":
        return Response({"code": 401, "message": "unauthorized", "data": {}}, status_code=401)
    target = quote(_local_target(request.url.path + _query(request)), safe="/")
    return Redirect(f"{PREFIX}/login?next={target}", status_code=303)


# A console page's ``exception_handlers``.
LOGIN_REDIRECT: ExceptionHandlersMap = {NotAuthorizedException: to_login}
