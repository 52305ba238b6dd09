"""The request scope: how long a request may keep the database busy, and a way to stop it.

The API's middleware (``api/limits.py``) runs each HTTP request in a ``RequestScope`` held
in a context variable. FastAPI runs a sync route in a worker thread with a copy of the
request's context, so the route's transactions find the scope with ``current()``, and
``storage/db.py`` bounds each of them by it:

- the transaction gets what is left of the request's budget: on PostgreSQL as
  ``statement_timeout`` and ``lock_timeout`` (``SET LOCAL``: they end with the transaction,
  so a pooled connection never carries them to a worker); on SQLite as a progress handler
  that interrupts once the deadline has passed, and a busy timeout no longer than what is
  left, both undone when the transaction ends;
- its DBAPI connection is registered while the transaction runs, so that ``stop()`` (the
  client went away) can cancel the running statement from another thread;
- what the database says when it was stopped becomes ``RequestStoppedError`` (400), and a
  wait for others (a pooled connection, a lock) that ran out becomes ``ServerBusyError``
  (429).

Workers, the CLI and the bench run outside any scope: nothing limits them.
"""

from __future__ import annotations

import contextvars
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import psycopg
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from propsync.domain.errors import ErrorDetail, RequestStoppedError, ServerBusyError

log = logging.getLogger("propsync.storage")

# The busy timeout of every SQLite connection outside a request (``storage/db.py``).
SQLITE_BUSY_MS = 30_000
# SQLite calls the progress handler every this many virtual-machine steps: a fraction of a
# millisecond of work, so a stop takes effect at once, and one Python call per so many
# steps costs nothing that can be measured.
_SQLITE_STEPS = 10_000
# PostgreSQL error codes: query_canceled (statement_timeout, or our cancel), lock_not_available
# (lock_timeout), and the server ending the session (admin_shutdown, crash_shutdown,
# cannot_connect_now); class 08 is a lost connection.
_CANCELED, _LOCK_TIMEOUT = "57014", "55P03"
_SESSION_ENDED = ("57P01", "57P02", "57P03")
_CANCEL_AGAIN_S = 0.05  # how soon a cancel that went unheard is sent again
_SCOPE = "propsync_request_scope"  # in Connection.info while a scope's transaction runs
_XID = "propsync_xid"  # in Connection.info while a request's write transaction commits
_TIMEOUT_SET = "propsync_timeout_set"  # when statement_timeout was last set (monotonic)
# A statement may overrun the request's deadline by at most this much: after it, the next
# statement first lowers statement_timeout to what is left (one more round trip, so not
# before every statement).
_RESET_AFTER_S = 0.1


class RequestScope:
    """One request's bounds: a deadline, whether its client went away, and the DBAPI
    connections running its transactions (any thread may ``stop()`` them)."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.deadline = time.monotonic() + budget_s
        self.gone = False  # the client closed the connection
        self.wrote = False  # a write transaction of this request committed
        self.refusal: str | None = None  # why the request may not use the database
        self._lock = threading.Lock()
        self._running: list[tuple[Any, Bounds]] = []

    def left_s(self) -> float:
        return self.deadline - time.monotonic()

    def refuse(self, why: str) -> None:
        """Answer every transaction of this request with ``ServerBusyError(why)``."""
        self.refusal = why

    def stop(self) -> None:
        """The client went away: stop the statements this request is running, now and
        from now on (``install``). Safe from any thread; returns once the request's
        transactions have ended, or its deadline has passed.

        A cancel that reaches PostgreSQL while it reads the next message of a statement is
        dropped, and the statement runs on, so it is sent again until the transaction ends.
        """
        with self._lock:
            self.gone = True
        while time.monotonic() < self.deadline:
            with self._lock:  # a transaction that ends meanwhile waits: none is cancelled late
                if not self._running:
                    return
                for dbapi_conn, bounds in self._running:
                    bounds.cancel(dbapi_conn)
            time.sleep(_CANCEL_AGAIN_S)

    @contextmanager
    def running(self, conn: Connection, bounds: Bounds) -> Iterator[None]:
        """Register ``conn`` while the block runs: ``stop()`` cancels its statement, and
        it starts no other (``install``)."""
        entry = (conn.connection.dbapi_connection, bounds)
        info = conn.info  # an error may invalidate ``conn``; its pooled record's info stays
        with self._lock:
            if self.gone:
                raise self.stopped()
            self._running.append(entry)
        info[_SCOPE] = self
        try:
            yield
        finally:
            info.pop(_SCOPE, None)
            with self._lock:
                self._running.remove(entry)

    def stopped(self) -> RequestStoppedError:
        """The error of a request stopped because its time ran out or its client left."""
        undone = self._undone()
        if self.gone:
            return RequestStoppedError(
                f"The client closed the connection, so this request was stopped; {undone}.",
                [ErrorDetail("The client closed the connection.", "CLIENT_CLOSED_REQUEST")])
        message = (f"This request took longer than its {self.budget_s:g} s limit and was "
                   f"stopped; {undone}. Narrow it (a search with more selective filters or "
                   "fewer values, a smaller batch) and try again.")
        return RequestStoppedError(message, [ErrorDetail(message, "TIME_LIMIT_EXCEEDED")])

    def busy(self, why: str) -> ServerBusyError:
        """The error of a request that could not get what it waits for (``why``) in time."""
        return ServerBusyError(f"propsync is busy: {why}; {self._undone()}. Try again in a "
                               "moment.")

    def _undone(self) -> str:
        return ("what it had not saved yet was rolled back" if self.wrote
                else "nothing was changed")

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Around a whole transaction: refuse to start one the request may no longer run,
        and turn what the scope caused (a stop, a wait that ran out) into its error."""
        if self.gone or self.left_s() <= 0:
            raise self.stopped()
        if self.refusal is not None:
            raise self.busy(self.refusal)
        try:
            yield
        except PoolTimeoutError as exc:
            raise self.busy("every connection to the database is in use") from exc
        except DBAPIError as exc:
            error = self._meaning(exc)
            if error is None:
                raise
            raise error from exc

    def _meaning(self, exc: DBAPIError) -> RequestStoppedError | ServerBusyError | None:
        orig = exc.orig
        if isinstance(orig, sqlite3.OperationalError):
            said = str(orig)
            if said == "interrupted":  # only a scope interrupts
                return self.stopped()
            if "locked" in said or "busy" in said:
                return self.busy("other writes hold the database")
            return None
        code = getattr(orig, "sqlstate", None) or ""
        if code == _CANCELED:
            return self.stopped()
        if code == _LOCK_TIMEOUT:
            return self.busy("the records it needs are locked by other writes")
        if is_session_lost(exc):
            return self.busy("the connection to the database was lost")
        return None


def is_session_lost(exc: DBAPIError) -> bool:
    """Whether PostgreSQL ended the session, or the connection to it broke."""
    code = getattr(exc.orig, "sqlstate", None) or ""
    return code in _SESSION_ENDED or code.startswith("08") or exc.connection_invalidated


_CURRENT: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar(
    "propsync_request_scope", default=None)


def current() -> RequestScope | None:
    """The scope of the request this code runs for, or ``None`` (a worker, the CLI)."""
    return _CURRENT.get()


def enter(scope: RequestScope) -> contextvars.Token[RequestScope | None]:
    """Make ``scope`` current (in this context and the copies made from it)."""
    return _CURRENT.set(scope)


def leave(token: contextvars.Token[RequestScope | None]) -> None:
    _CURRENT.reset(token)


class Bounds(Protocol):
    """How one database applies a scope to a transaction, and stops it."""

    def waiting(self, conn: Connection, scope: RequestScope) -> Any:
        """Around ``conn.begin()`` and the whole transaction: bound waits for locks."""

    def running(self, conn: Connection, scope: RequestScope, writes: bool) -> Any:
        """Inside the transaction, until just before it commits or rolls back."""

    def settled(self, conn: Connection) -> Any:
        """Around ``conn.begin()``: a commit whose outcome is unknown (the session was lost
        while it committed) is looked up; one that took effect is a success."""

    def cancel(self, dbapi_conn: Any) -> None:
        """Stop the statement running on ``dbapi_conn`` (called from another thread)."""


class PostgresBounds:
    """``SET LOCAL`` timeouts, and a cancel request sent to the server."""

    @contextmanager
    def waiting(self, conn: Connection, scope: RequestScope) -> Iterator[None]:
        yield  # lock_timeout, set with the statement timeout, bounds waits

    @contextmanager
    def running(self, conn: Connection, scope: RequestScope, writes: bool) -> Iterator[None]:
        left_ms = max(1, int(scope.left_s() * 1000))  # 0 would mean no limit at all
        # A wait for a lock gets half of what is left: long enough for the engine's batches
        # (about 80 ms) and a queue of writers, and it leaves time to answer 429.
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {left_ms}; "
                             f"SET LOCAL lock_timeout = {max(1, left_ms // 2)}")
        info = conn.info
        info[_TIMEOUT_SET] = time.monotonic()
        try:
            with scope.running(conn, self):
                yield
        finally:
            info.pop(_TIMEOUT_SET, None)
        if writes:  # the id ``settled`` looks up if the session is lost during the commit
            conn.info[_XID] = conn.exec_driver_sql(
                "SELECT pg_current_xact_id_if_assigned()::text").scalar()

    @contextmanager
    def settled(self, conn: Connection) -> Iterator[None]:
        info = conn.info  # ``conn`` may be invalidated; its pooled record's info stays
        try:
            yield
        except DBAPIError as exc:
            xid = info.get(_XID)
            if xid is None or not is_session_lost(exc):
                raise
            committed = _committed(conn.engine, xid)
            if committed is None:
                raise ServerBusyError(
                    "The connection to the database was lost as this change was being saved, "
                    "and whether it was saved could not be learned. Read the record before "
                    "you send the change again.") from exc
            if not committed:
                raise
            log.warning("the session ended while transaction %s committed; it had", xid)
        finally:
            info.pop(_XID, None)

    def cancel(self, dbapi_conn: Any) -> None:
        try:
            dbapi_conn.cancel_safe(timeout=5)
        except psycopg.Error:  # the statement ended, or the server is gone: nothing runs
            log.warning("could not cancel a statement of a closed request", exc_info=True)


def _committed(engine: Engine, xid: str) -> bool | None:
    """Whether transaction ``xid`` committed, asked on another connection (``None``: it
    could not be learned within a second). A backend told to end finishes a commit it had
    begun (it is not interrupted there), so its transaction is soon committed or aborted."""
    for _ in range(40):
        try:
            with engine.connect() as conn:
                status = conn.execute(text("SELECT pg_xact_status(CAST(:x AS xid8))"),
                                      {"x": xid}).scalar()
        except DBAPIError:  # this session may be ended too: ask again
            status = "in progress"
        if status != "in progress":
            return status == "committed"
        time.sleep(0.025)
    log.warning("could not learn whether transaction %s committed", xid)
    return None


class SqliteBounds:
    """A progress handler that interrupts past the deadline, and a shorter busy timeout."""

    @contextmanager
    def waiting(self, conn: Connection, scope: RequestScope) -> Iterator[None]:
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        dbapi_conn.execute(f"PRAGMA busy_timeout = {max(1, int(scope.left_s() * 1000))}")
        try:
            yield
        finally:
            with suppress(sqlite3.Error):  # a broken connection leaves the pool anyway
                dbapi_conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")

    @contextmanager
    def running(self, conn: Connection, scope: RequestScope, writes: bool) -> Iterator[None]:
        dbapi_conn: Any = conn.connection.dbapi_connection

        def is_over() -> int:
            return 1 if scope.gone or time.monotonic() >= scope.deadline else 0

        dbapi_conn.set_progress_handler(is_over, _SQLITE_STEPS)
        try:
            with scope.running(conn, self):
                yield
        finally:
            # Before COMMIT or ROLLBACK, which must not be interrupted; and the pooled
            # connection goes on to serve workers, which have no deadline.
            with suppress(sqlite3.Error):  # a broken connection leaves the pool anyway
                dbapi_conn.set_progress_handler(None, 0)

    @contextmanager
    def settled(self, conn: Connection) -> Iterator[None]:
        yield  # the commit of a file in this process either happens or raises

    def cancel(self, dbapi_conn: Any) -> None:
        dbapi_conn.interrupt()


def install(engine: Engine) -> None:
    """Bound each statement of a request's transaction, not only the first: start none for
    a request out of time or whose client went away (a cancel reaches only the statement
    running when it arrives), and on PostgreSQL, where ``statement_timeout`` counts per
    statement, lower it to what is left once it was set ``_RESET_AFTER_S`` ago."""

    @event.listens_for(engine, "before_cursor_execute")
    def _within_bounds(conn: Connection, cursor: Any, *_: Any) -> None:
        scope: RequestScope | None = conn.info.get(_SCOPE)
        if scope is None:
            return
        left_s = scope.left_s()
        if scope.gone or left_s <= 0:
            raise scope.stopped()
        set_at = conn.info.get(_TIMEOUT_SET)
        if set_at is not None and time.monotonic() - set_at > _RESET_AFTER_S:
            cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(left_s * 1000))}")
            conn.info[_TIMEOUT_SET] = time.monotonic()


def bounds_for(conn: Connection) -> Bounds:
    return PostgresBounds() if conn.dialect.name == "postgresql" else SqliteBounds()
