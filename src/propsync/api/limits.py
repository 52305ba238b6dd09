"""Every request's work is bounded: a time budget, a stop when the client leaves, and a cap
on the expensive reads that run at once.

``RequestLimits`` is a pure ASGI middleware (not ``BaseHTTPMiddleware``, which runs the app
in a task of its own and would hide the client's disconnect). For each HTTP request it:

1. opens a ``storage.deadline.RequestScope`` with the time budget; the request's
   transactions find it and are bounded by what is left (``storage/db.py``);
2. for a search or a list page, waits (briefly) for one of ``expensive_reads`` slots, kept
   below the pool's size so that slow searches cannot take every connection from the
   requests behind them; without a slot in time, the request answers 429;
3. reads the client's messages for the app and notices ``http.disconnect``: if the client
   leaves before its answer is complete, the scope is stopped, which cancels the running
   statement (PostgreSQL) or interrupts it (SQLite) and refuses any further one, so an
   abandoned search gives its connection back at once.

propsync is served by uvicorn's asyncio loop; the middleware uses asyncio directly.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propsync.config import DEFAULT_REQUEST_TIMEOUT_S, Settings
from propsync.storage import deadline
from propsync.storage.deadline import RequestScope

# Requests that read an unbounded number of records: searches and list pages (API and UI).
_EXPENSIVE = (("POST", re.compile(r"/crm/v3/objects/[^/]+/search")),
              ("GET", re.compile(r"/crm/v3/objects/[^/]+")),
              ("GET", re.compile(r"/ui/records/[^/]+")))


@dataclass(frozen=True)
class Limits:
    """What bounds one request: its time on the database, and how many searches and list
    pages run at once (``bootstrap`` keeps it below the pool's size) and how long one waits
    for its turn before it answers 429."""

    timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    expensive_reads: int = 5
    slot_wait_s: float = 2.0


def limits_for(settings: Settings) -> Limits:
    """The bounds of every request: the configured time budget, and searches and list pages
    at once up to half the pool, so that the other half always serves everything else."""
    return Limits(timeout_s=settings.request_timeout_s,
                  expensive_reads=max(1, settings.pool_size // 2))


def is_expensive(method: str, path: str) -> bool:
    return any(method == m and pattern.fullmatch(path) for m, pattern in _EXPENSIVE)


class RequestLimits:
    """The middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        self._slots: asyncio.Semaphore | None = None  # made in the serving loop

    async def __call__(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = RequestScope(self.limits.timeout_s)
        token = deadline.enter(request)
        try:
            if is_expensive(scope["method"], scope["path"]):
                await self._with_slot(request, scope, receive, send)
            else:
                await _watching(self.app, request, scope, receive, send)
        finally:
            deadline.leave(token)

    async def _with_slot(self, request: RequestScope, scope: Scope,
                         receive: Receive, send: Send) -> None:
        """Run the request once a slot is free; if none frees in time, run it refused, so
        that its first transaction answers 429 through the app's own error handling (JSON
        for the API, a page for the UI)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.expensive_reads)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.limits.slot_wait_s)
        except TimeoutError:
            request.refuse("searches and list pages are running in every place there is "
                           f"for them ({self.limits.expensive_reads} at once)")
            await _watching(self.app, request, scope, receive, send)
            return
        try:
            await _watching(self.app, request, scope, receive, send)
        finally:
            self._slots.release()


class _Inbox:
    """Reads the client's messages on the app's behalf, so that a disconnect is noticed
    while the app works. A body message waits in a one-message box until the app takes it
    (the app still paces the upload); a disconnect stops the request unless its answer was
    complete (after which uvicorn reports one to every reader)."""

    def __init__(self, receive: Receive, request: RequestScope) -> None:
        self._receive = receive
        self._request = request
        self._box: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)
        self._gone = False
        self.answered = False

    async def watch(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._gone = True
                if not self.answered:
                    # Cancelling on PostgreSQL opens a connection to the server: not in the
                    # event loop, and not in its thread pool, which may be full of the
                    # very requests this stops.
                    threading.Thread(target=self._request.stop, daemon=True,
                                     name="propsync-stop-request").start()
                if not self._box.full():
                    self._box.put_nowait(message)
                return
            await self._box.put(message)

    async def receive(self) -> Message:
        if self._gone and self._box.empty():
            return {"type": "http.disconnect"}
        return await self._box.get()


async def _watching(app: ASGIApp, request: RequestScope, scope: Scope,
                    receive: Receive, send: Send) -> None:
    """Run ``app`` while an ``_Inbox`` watches for the client leaving."""
    inbox = _Inbox(receive, request)

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            inbox.answered = True
        await send(message)

    watcher = asyncio.create_task(inbox.watch())
    try:
        await app(scope, inbox.receive, sending)
    finally:
        watcher.cancel()
