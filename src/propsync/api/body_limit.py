"""No request body is larger than propsync will read: a 413 instead of reading gigabytes.

A pure ASGI middleware. A declared ``Content-Length`` over the limit is answered at once,
before any of the body is read; a body sent without one (chunked) is counted as it arrives,
and the read that passes the limit answers the 413 itself and tells the app that the client
left. Either way the answer is in HubSpot's error shape and closes the connection, so
nothing more of the body is read. 32 MiB holds the largest request the API
accepts (100 batch inputs of values up to 65,536 characters each) several times over.
"""

from __future__ import annotations

import json
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propsync.domain.errors import BodyTooLargeError, ErrorDetail

MAX_BODY_BYTES = 32 * 1024 * 1024


def too_large(limit: int) -> BodyTooLargeError:
    message = (f"The request body is larger than propsync reads ({limit // (1024 * 1024)} MiB). "
               "Send fewer inputs per request.")
    return BodyTooLargeError(message, [ErrorDetail(message, "REQUEST_TOO_LARGE")])


class BodyLimit:
    """The middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, too_large(self.max_bytes))
            return
        await _Counted(self.app, self.max_bytes, scope, receive, send).run()


class _Counted:
    """One request whose body is counted as the app reads it. Past the limit the 413 is
    sent at once (with ``Connection: close``, so nothing more of the body is read) and the
    app is told the client left; whatever it sends after that is dropped."""

    def __init__(self, app: ASGIApp, limit: int, scope: Scope, receive: Receive,
                 send: Send) -> None:
        self.app, self.limit, self.scope = app, limit, scope
        self._receive, self._send = receive, send
        self.seen, self.started, self.refused = 0, False, False

    async def run(self) -> None:
        await self.app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        self.seen += len(message.get("body", b""))
        if self.seen <= self.limit:
            return message
        self.refused = True
        if not self.started:
            self.started = True
            await _refuse(self._send, too_large(self.limit))
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, exc: BodyTooLargeError) -> None:
    body = json.dumps({"status": "error", "message": exc.message,
                       "correlationId": str(uuid.uuid4()), "category": exc.category,
                       "errors": [{"message": exc.message, "code": "REQUEST_TOO_LARGE"}]}
                      ).encode()
    await send({"type": "http.response.start", "status": exc.status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
