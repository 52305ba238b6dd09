"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine

from propsync import web
from propsync.api import docs, ratelimit
from propsync.api.body_limit import BodyLimit
from propsync.api.errors import ContainErrors, install_error_handlers
from propsync.api.limits import Limits, RequestLimits, limits_for
from propsync.api.routes import (
    association_schema,
    associations,
    flows,
    lists,
    members,
    migration_compare,
    migrations,
    objects,
    properties,
    property_usage,
    reports,
    sandboxes,
    search,
    sync,
    tokens,
    workflow_runs,
)
from propsync.config import Settings
from propsync.sync.runner import start_worker
from propsync.text_guard import STORABLE_TEXT


def create_app(
    engine: Engine, run_worker: bool = True, listen_url: str | None = None,
    session_secret: str | None = None, settings: Settings | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """An app serving the API and the web UI over ``engine``; nothing is built at import.

    With ``run_worker`` the app runs a sync worker thread while it serves
    (embedded mode); ``listen_url`` lets it also hear other processes' NOTIFY.
    ``session_secret`` signs the UI's session cookies (random per process if unset);
    ``settings`` gives the proxies to trust, cookie security, API rate limits and the
    request time limit; ``limits`` bound every request (``api/limits.py``; by default from
    ``settings``).
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        running = start_worker(engine, listen_url) if run_worker else None
        try:
            yield
        finally:
            if running is not None:
                running.shutdown()
            app.state.rate_limiter.close()

    app = FastAPI(
        lifespan=lifespan,
        title="propsync",
        version="0.1.0",
        description="A CRM record platform with sync properties, compatible with the "
        "HubSpot CRM API (objects v3, properties v3, associations v4, automation v4 flows, "
        "lists v3).",
        docs_url=None,  # served by api/docs.py, without a CDN
        redoc_url=None,
    )
    docs.install(app)
    app.state.engine = engine
    app.state.settings = settings or Settings()
    install_error_handlers(app)
    ratelimit.install(app, engine, app.state.settings)
    for module in (search, objects, properties, associations, association_schema, sync, tokens,
                   members, flows, workflow_runs, property_usage, reports,
                   lists, migrations, migration_compare, sandboxes):
        # every route refuses text no store can hold (a NUL, a lone surrogate) at once
        app.include_router(module.router, dependencies=[STORABLE_TEXT])
    web.install(app, session_secret, app.state.settings)
    app.add_middleware(RequestLimits, limits=limits or limits_for(app.state.settings))
    app.add_middleware(BodyLimit)
    app.add_middleware(ContainErrors)  # added last, so outermost: it sees what escapes the rest
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, without FastAPI's 422 (propsync answers 400 instead)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
