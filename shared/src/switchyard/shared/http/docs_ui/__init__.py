"""The API docs UI at ``/schema`` (and ``/schema/swagger``), served from this package.

Swagger UI's files are vendored next to this module (README.md: version,
hashes, license) and served at ``/schema/ui/<file>``; the page loads nothing
from anywhere else, so it works on a closed network and under the CSP of
``security.py`` (no inline script: ``init.js`` starts the UI).
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from typing import Any

from litestar import Request, Response, Router, get
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath

from switchyard.shared.http.errors import not_found

VERSION = "5.35.0"  # swagger-ui-dist

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "init.js": "text/javascript; charset=utf-8",
    "LICENSE": "text/plain; charset=utf-8",
    "NOTICE": "text/plain; charset=utf-8",
    "swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
}


@cache
def asset(name: str) -> bytes:
    return (files(__package__) / name).read_bytes()


@get("/ui/{name:str}", include_in_schema=False, sync_to_thread=False, opt={"oplog": False})
def serve_asset(name: FromPath[str]) -> Response[bytes]:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise not_found()
    return Response(
        asset(name),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400, stale-while-revalidate=86400"},
    )


class SwaggerUiPlugin(OpenAPIRenderPlugin):
    """Swagger UI from the package instead of Litestar's CDN-loading plugins."""

    def __init__(self, schema_path: str = "/schema") -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")
        # Where the OpenAPI router is mounted (OpenAPIConfig.path): assets are under it.
        self.assets = html.escape(f"{schema_path.rstrip('/')}/ui", quote=True)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        base = self.assets
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        spec_url = html.escape(self.get_openapi_json_route(request), quote=True)
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{base}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-url="{spec_url}"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/init.js"></script>
</body>
</html>
"""
        return page.encode()

    def receive_router(self, router: Router) -> None:
        router.register(serve_asset)
