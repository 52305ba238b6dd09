"""The administrators' web UI: server-rendered pages over the services."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from propsync.config import Settings
from propsync.text_guard import STORABLE_TEXT
from propsync.web import (
    labels,
    lists,
    members,
    migration_uploads,
    migrations,
    overview,
    properties,
    proxy,
    record_links,
    records,
    reports,
    sandboxes,
    signin,
    tokens,
    wizard,
    workflow_editor,
    workflows,
)
from propsync.web.core import HERE, install_error_pages, new_secret
from propsync.web.headers import SecurityHeaders


def install(app: FastAPI, session_secret: str | None = None,
            settings: Settings | None = None) -> None:
    """Serve the UI under ``/ui`` (outside the OpenAPI document); ``/`` leads to it."""
    app.state.session_secret = new_secret(session_secret)
    proxy.install(app, settings or Settings())
    app.add_middleware(SecurityHeaders)
    # the editor first: its /automation/workflows/new before the page's /{flowId}; the
    # scan of exports (/automation/migrations/scan) before a migration's /{migrationId}
    for module in (signin, wizard, properties, records, record_links, overview, tokens,
                   members, labels, workflow_editor, workflows, reports,
                   lists, sandboxes, migration_uploads, migrations):
        app.include_router(module.router, dependencies=[STORABLE_TEXT])  # a 400 page
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_api_route("/", lambda: RedirectResponse("/ui/", status_code=303),
                      include_in_schema=False)
    # Pages link /ui/static/favicon.svg; the ICO (the same drawing at 16, 32 and 48 px,
    # rasterised by Chromium) answers the browsers and tools that ask for /favicon.ico.
    app.add_api_route("/favicon.ico", lambda: FileResponse(
        HERE / "static" / "favicon.ico", media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"}), include_in_schema=False)
    install_error_pages(app)
