"""The API's documentation pages, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, served
whole by propsync: they load nothing from a CDN, so they work on a machine without internet.

Swagger UI's and ReDoc's files come from the ``fastapi-offline`` package, which bundles
them; the two small files that start them are ours (``api/static``). Everything is under
``/docs/assets``. The pages carry no inline script, so their policy (``web/headers.py``)
admits scripts from propsync only.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"

_SWAGGER = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""

_REDOC = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - ReDoc</title>
<link rel="stylesheet" href="{assets}/redoc.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<noscript>ReDoc needs JavaScript to show the documentation.</noscript>
<redoc spec-url="{openapi}"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets on ``app`` (built with
    ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS, StaticFiles(packages=[("propsync.api", "static"),
                                            ("fastapi_offline", "static")]), name="docs-assets")

    def page(template: str, request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(template.format(title=escape(app.title), assets=escape(root + ASSETS),
                                            openapi=escape(root + (app.openapi_url or ""))))

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return page(_SWAGGER, request)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return page(_REDOC, request)
