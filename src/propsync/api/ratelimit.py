"""HubSpot's API rate limits: requests per token per interval, and per account per day.

As HubSpot has them for a private app on a Professional or Enterprise account: 190
requests per token per rolling 10 seconds, and 625,000 (professional) or 1,000,000
(enterprise) per account per day (here a UTC day); both configurable (``config.py``).
Every authenticated API reply carries ``X-HubSpot-RateLimit-Max``, ``-Remaining``,
``-Interval-Milliseconds``, ``-Daily`` and ``-Daily-Remaining``; a request over a limit
gets HubSpot's 429 body (``errorType: RATE_LIMIT``, ``policyName``, ``groupName``) and a
``Retry-After``, which the official SDK's retry (urllib3) waits for.

A request never writes: the interval is counted in memory, *per process* (several
``propsync serve`` processes each allow the limit); the day's count lives in the
database, so that it holds across processes. A process reads an account's total of the
day with its first request for it (a read, which never waits for a writer), then a thread
of its own adds its calls every second and reads every process's total back, and writes
down when each token was last used (and ends when nothing is left). So a request is never
held up by a write of the server's own bookkeeping, and never counts one as its own; the
processes together may overshoot the daily limit by about the last second of their
traffic, and calls counted in the second before a process stopped are not counted.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propsync.config import Settings
from propsync.services.accounts import Caller
from propsync.storage import api_usage
from propsync.storage.accounts import mark_tokens_used
from propsync.storage.db import read_transaction, write_transaction

log = logging.getLogger("propsync.api")
DAILY_BY_TIER = {"professional": 625_000, "enterprise": 1_000_000}
SYNC_S = 1.0  # how often a process adds its daily counts to the database
USE_NOTE_S = 60.0  # how often a process writes down that a token was used
DAY_S = 86_400
STATE_KEY = "rate_limit_headers"


class RateLimited(Exception):
    """A request over a limit: answered with HubSpot's 429."""

    def __init__(self, policy: str, words: str, group: str, retry_after_s: int,
                 headers: dict[str, str]) -> None:
        super().__init__(words)
        self.body = {"status": "error", "message": f"You have reached your {words} limit.",
                     "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                     "policyName": policy, "groupName": group}
        self.headers = {**headers, "Retry-After": str(retry_after_s)}


@dataclass
class _Day:
    """An account's calls of one day, as this process knows them."""

    day: int
    known: int | None = None  # the database's total when last added to or read
    pending: int = 0  # counted here, not yet added
    syncing: bool = False
    read_at: float = -math.inf  # when ``known`` was last read from the database
    syncs: int = 0  # how many syncs have set ``known``


@dataclass
class RateLimiter:
    """Admits or refuses each authenticated API request (thread-safe)."""

    engine: Engine
    max_per_interval: int
    interval_ms: int
    daily: int | None  # None: by the account's tier; 0: no daily limit
    _windows: dict[tuple[int, int], deque[float]] = field(default_factory=dict)
    _days: dict[int, _Day] = field(default_factory=dict)
    _noted: dict[tuple[int, int], float] = field(default_factory=dict)  # when a use was noted
    _uses: dict[tuple[int, int], int] = field(default_factory=dict)  # uses to write down (ms)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _flusher: threading.Thread | None = None
    _closed: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def of(cls, engine: Engine, settings: Settings) -> RateLimiter:
        return cls(engine, settings.rate_limit_max, settings.rate_limit_interval_ms,
                   settings.rate_limit_daily)

    def admit(self, caller: Caller) -> dict[str, str]:
        """The rate-limit headers for a request of ``caller``, or ``RateLimited``."""
        self._note_use(caller)
        limit = self.daily if self.daily is not None else DAILY_BY_TIER.get(caller.tier, 0)
        try:
            headers = self._take_interval(caller) if self.max_per_interval else {}
        except RateLimited as refused:  # (its reply tells the day's count too)
            if limit:
                refused.headers.update(self._day_headers(caller, limit))
            raise
        if limit:
            headers.update(self._take_day(caller, limit, headers))
        return headers

    def _day_headers(self, caller: Caller, limit: int) -> dict[str, str]:
        with self._lock:
            state = self._days.get(caller.principal.account_id)
            used = (state.known or 0) + state.pending if state else 0
        return {"X-HubSpot-RateLimit-Daily": str(limit),
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(limit - used, 0))}

    def _note_use(self, caller: Caller) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._noted.get(_key(caller), -math.inf) >= USE_NOTE_S:
                self._noted[_key(caller)] = now
                self._uses[_key(caller)] = int(time.time() * 1000)
                self._start_flusher()

    def _take_interval(self, caller: Caller) -> dict[str, str]:
        now, span = time.monotonic(), self.interval_ms / 1000
        with self._lock:
            window = self._windows.setdefault(_key(caller), deque())
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= self.max_per_interval:
                wait = window[0] + span - now
                raise self._interval_refusal(caller, wait)
            window.append(now)
            remaining = self.max_per_interval - len(window)
        return self._interval_headers(remaining)

    def _interval_headers(self, remaining: int) -> dict[str, str]:
        return {"X-HubSpot-RateLimit-Max": str(self.max_per_interval),
                "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.interval_ms)}

    def _interval_refusal(self, caller: Caller, wait_s: float) -> RateLimited:
        policy, words = _interval_policy(self.interval_ms)
        group = (f"publicapi:private_app-api-calls-{words.replace('_', '-')}:"
                 f"{caller.token_id}:{caller.principal.account_id}")
        return RateLimited(policy, words, group, max(1, math.ceil(wait_s)),
                           self._interval_headers(0))

    def _take_day(self, caller: Caller, limit: int, interval: dict[str, str]
                  ) -> dict[str, str]:
        account, now = caller.principal.account_id, time.time()
        day = int(now // DAY_S)
        state = self._day_of(account, day)
        with self._lock:
            state.pending += 1
            self._start_flusher()
            used = (state.known or 0) + state.pending
            if used > limit:  # a refused call is not counted
                state.pending -= 1
        headers = {"X-HubSpot-RateLimit-Daily": str(limit),
                   "X-HubSpot-RateLimit-Daily-Remaining": str(max(limit - used, 0))}
        if used > limit:
            raise RateLimited("DAILY", "daily", f"publicapi:private_app-api-calls-daily:"
                              f"{account}", math.ceil((day + 1) * DAY_S - now),
                              {**interval, **headers})
        return headers

    def _day_of(self, account: int, day: int) -> _Day:
        """The account's count of ``day``, with every process's total read from the database
        at most once a second (a read: it never waits for a writer)."""
        now = time.monotonic()
        with self._lock:
            state = self._days.get(account)
            if state is None or state.day != day:
                state = self._days[account] = _Day(day)
            due = state.known is None or (not state.syncing and now - state.read_at >= SYNC_S)
            if not due:
                return state
            state.read_at, syncs = now, state.syncs  # (meanwhile: what is known)
        with read_transaction(self.engine) as conn:
            total = api_usage.calls_of(conn, account, day)
        with self._lock:  # unless a sync began or ended meanwhile (it knows better)
            if not state.syncing and state.syncs == syncs:
                state.known = total
        return state

    @staticmethod
    def _start_sync(state: _Day) -> int:
        taken, state.pending, state.syncing = state.pending, 0, True
        state.known = (state.known or 0) + taken
        return taken

    def _sync(self, account: int, state: _Day, taken: int) -> None:
        """Add ``taken`` calls to the database and learn every process's total."""
        total = None
        try:
            with write_transaction(self.engine) as conn:
                total = api_usage.add_calls(conn, account, state.day, taken)
        finally:
            with self._lock:
                if total is None:  # not added: count them again next time
                    _give_back(state, taken)
                else:
                    state.known = total
                    state.read_at = time.monotonic()
                    state.syncs += 1
                    state.syncing = False


    def close(self) -> None:
        """The app stops: add what is pending now, and start no thread any more."""
        self._closed.set()
        with self._lock:
            flusher = self._flusher
        if flusher is not None:
            flusher.join(timeout=10)
        self._flush_once()

    def _start_flusher(self) -> None:
        """Make sure counts left pending reach the database within a second (under lock)."""
        if self._flusher is None and not self._closed.is_set():
            self._flusher = threading.Thread(target=self._flush_pending, daemon=True,
                                             name="propsync-api-usage")
            self._flusher.start()

    def _flush_pending(self) -> None:
        """Add what is pending every second until nothing is left or the app stops."""
        while not self._closed.wait(SYNC_S):
            added = self._flush_once()
            with self._lock:  # (a request that counts after this starts a new thread)
                if not added and not self._uses and not any(
                        d.pending for d in self._days.values()):
                    self._flusher = None
                    return
        with self._lock:
            self._flusher = None

    def _flush_once(self) -> bool:
        """Add every account's pending calls and write down the tokens' uses; whether all
        went well and there were some calls."""
        self._flush_uses()
        with self._lock:
            work = [(account, state, self._start_sync(state))
                    for account, state in self._days.items()
                    if state.pending and not state.syncing]
        for i, (account, state, taken) in enumerate(work):
            try:
                self._sync(account, state, taken)
            except Exception:  # pending again: the next request's sync adds them
                log.warning("could not add API call counts to the database", exc_info=True)
                with self._lock:
                    for _, later, count in work[i + 1:]:
                        _give_back(later, count)
                return False
        return bool(work)


    def _flush_uses(self) -> None:
        with self._lock:
            uses, self._uses = self._uses, {}
        if not uses:
            return
        try:
            with write_transaction(self.engine) as conn:
                mark_tokens_used(conn, uses)
        except Exception:  # only a "last used" time: the next use writes it again
            log.warning("could not write down when tokens were last used", exc_info=True)


def _key(caller: Caller) -> tuple[int, int]:
    return caller.principal.account_id, caller.token_id


def _give_back(state: _Day, taken: int) -> None:
    """Undo ``_start_sync``: the calls were not added to the database."""
    state.known = (state.known or 0) - taken
    state.pending += taken
    state.syncing = False


def _interval_policy(interval_ms: int) -> tuple[str, str]:
    """HubSpot's name of an interval policy, and how its 429 message says it."""
    if interval_ms == 1000:
        return "SECONDLY", "secondly"
    if interval_ms == 10_000:
        return "TEN_SECONDLY_ROLLING", "ten_secondly_rolling"
    return "ROLLING", f"{interval_ms}_ms_rolling"


def admit(request: Request, caller: Caller) -> None:
    """Admit an API request of ``caller`` (or raise ``RateLimited``); its reply will carry
    the rate-limit headers."""
    limiter: RateLimiter = request.app.state.rate_limiter
    request.state.rate_limit_headers = limiter.admit(caller)


def install(app: FastAPI, engine: Engine, settings: Settings) -> None:
    """Count API requests per ``settings``: the limiter, its 429, its headers."""
    app.state.rate_limiter = RateLimiter.of(engine, settings)
    app.add_exception_handler(RateLimited, _refused)  # type: ignore[arg-type]
    app.add_middleware(RateLimitHeaders)


async def _refused(_: Request, exc: RateLimited) -> JSONResponse:
    return JSONResponse(exc.body, status_code=429, headers=exc.headers)


class RateLimitHeaders:
    """ASGI middleware: the headers ``admit`` left for the request go on its reply, whatever
    the route returned or raised."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get(STATE_KEY)
                if extra:
                    headers = MutableHeaders(scope=message)
                    for name, value in extra.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
