"""The API's documentation page, /schema: Swagger UI served from the package.

Litestar's own viewers load their scripts from a CDN and start them with an inline script;
this page loads Swagger UI from storemon/static/docs/ (see its README) and starts it from a
file there, so it needs nothing from elsewhere and passes the pages' Content-Security-Policy.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

ASSETS = "/ui/static/docs"


class ApiDocs(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(f"{openapi_schema['info']['title']} API")
        url = escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
<script src="{ASSETS}/docs.js" defer></script>
</head>
<body>
<noscript><p>This page needs JavaScript; the document itself is <a href="{url}">{url}</a>.</p>
</noscript>
<div id="docs" data-url="{url}"></div>
</body>
</html>
""".encode()
