"""Every error leaves the API in HubSpot's shape; FastAPI's 422 becomes HubSpot's 400."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propsync.domain.errors import ErrorDetail, PropsyncError, ServerBusyError

log = logging.getLogger("propsync.api")


def error_body(
    category: str, message: str, details: list[ErrorDetail] | None = None,
    context: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error", "message": message, "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if context:
        body["context"] = context
    if details:
        body["errors"] = [detail_body(d) for d in details]
    return body


def detail_body(detail: ErrorDetail) -> dict[str, Any]:
    out: dict[str, Any] = {"message": detail.message}
    if detail.code:
        out["code"] = detail.code
    if detail.in_:
        out["in"] = detail.in_
    if detail.context:
        out["context"] = detail.context
    return out


def install_error_handlers(app: FastAPI) -> None:
    """HubSpot's shape for every error (``ContainErrors`` answers what escapes them)."""
    app.add_exception_handler(PropsyncError, _propsync_error)  # type: ignore[arg-type]
    app.add_exception_handler(ServerBusyError, _busy)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


async def _propsync_error(_: Request, exc: PropsyncError) -> JSONResponse:
    return JSONResponse(error_body(exc.category, exc.message, exc.details, exc.context),
                        status_code=exc.status)


async def _busy(_: Request, exc: ServerBusyError) -> JSONResponse:
    """HubSpot's 429: ``errorType: RATE_LIMIT`` and the ``policyName`` that refused, beside
    the ``category`` every propsync error has, with ``Retry-After``, which clients (the
    official SDKs among them) wait for before they try again."""
    body = error_body(exc.category, exc.message)
    body.update(errorType="RATE_LIMIT", policyName="SERVER_CAPACITY")
    return JSONResponse(body, status_code=exc.status,
                        headers={"Retry-After": str(exc.retry_after_s)})


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    details = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        details.append(ErrorDetail(f"{where}: {err.get('msg', 'invalid')}", "INVALID_INPUT",
                                   in_=where or None))
    message = "Invalid input: " + "; ".join(d.message for d in details)
    return JSONResponse(error_body("VALIDATION_ERROR", message, details), status_code=400)


_CATEGORIES = {401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES", 404: "OBJECT_NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 409: "CONFLICT"}


async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
    category = _CATEGORIES.get(exc.status_code, "VALIDATION_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404 and message == "Not Found":
        message = "No such endpoint. The API is documented at /docs."
    return JSONResponse(error_body(category, message), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return _internal_error()


def _internal_error() -> JSONResponse:
    return JSONResponse(error_body("INTERNAL_ERROR", "Something went wrong inside propsync; "
                                   "the request was not applied."), status_code=500)


class ContainErrors:
    """A pure ASGI middleware that answers an exception escaping the app with a 500 in
    HubSpot's shape, logs it, and does not raise it again.

    Starlette's ``ServerErrorMiddleware`` sends its 500 and then re-raises, and uvicorn
    closes the connection of a request whose app raised: every other request the client
    had on that kept-alive connection failed with it. Contained here, the connection stays
    open for the client's next request. An exception after the answer has started cannot
    be answered any more; it goes on up, and the connection is closed, the only honest end
    of a half-sent answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            await _internal_error()(scope, receive, send)
