"""Engines and transactions: the few places SQLite and PostgreSQL differ in set-up.

SQLite runs in WAL mode with one writer at a time: write transactions start
with ``BEGIN IMMEDIATE`` so that two writers queue instead of deadlocking.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event

from propsync.config import Settings
from propsync.storage import deadline
from propsync.storage.deadline import RequestScope

_T = TypeVar("_T")

_BEGIN = "propsync_begin"


def build_engine(settings: Settings) -> Engine:
    """A pooled engine for ``settings.database_url``, configured for propsync.

    The pool holds ``pool_size`` connections and as many more under load; a checkout waits
    at most ``pool_wait_s`` (a request then answers 429, a worker retries its step)."""
    pool = {"pool_size": settings.pool_size, "max_overflow": settings.pool_size,
            "pool_timeout": pool_wait_s(settings)}
    if settings.is_sqlite:
        engine = _sqlite_engine(settings.sqlalchemy_url, pool)
    else:
        # No JIT: it compiles a wide search's expressions before running it, seconds that
        # no cancel or timeout can interrupt, and it made an 18-filter search slower, not
        # faster (its count over 50,000 contacts: 2.79 s with JIT, 202 functions
        # compiled; 1.27 s without).
        engine = create_engine(settings.sqlalchemy_url, pool_pre_ping=True,
                               connect_args={"options": "-c jit=off"}, **pool)
    deadline.install(engine)
    return engine


def pool_wait_s(settings: Settings) -> float:
    """How long a checkout waits for a pooled connection: a few seconds, and never longer
    than a request may take."""
    return min(5.0, settings.request_timeout_s)


def _sqlite_engine(url: str, pool: dict[str, Any]) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # propsync issues BEGIN itself
        # SQLite's own lower() folds ASCII letters only, so 'ØST AS' could not be found as
        # 'øst as' (nor as itself: search lowers what it looks for as Python does). This
        # one folds every letter, as Python and PostgreSQL do; the sync value index is
        # built with it, so every connection to the file must have it (all of propsync's
        # do); deterministic, so an index may use it.
        dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_conn.cursor()
        # wal_autocheckpoint: a checkpoint syncs the database file, and the default (every
        # 1,000 pages) made a 1,000,000-contact backfill spend a quarter of its time there
        # (28.5 s -> 21.7 s with 10,000 pages, 40 MB of WAL between checkpoints).
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=OFF",
                       f"busy_timeout={deadline.SQLITE_BUSY_MS}", "cache_size=-65536",
                       "temp_store=MEMORY",
                       "wal_autocheckpoint=10000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _unicode_lower(value: object) -> str | None:
    return None if value is None else str(value).lower()


@contextmanager
def write_transaction(engine: Engine, wake: bool = True) -> Iterator[Connection]:
    """A transaction that will write: committed on success, rolled back on error.

    After a commit that left sync work (``mark_sync_work``), the engine's
    ``on_sync_work`` callbacks run, so an in-process worker wakes at once (unless
    ``wake`` is false: a worker's own steps, which it goes on draining anyway).
    """
    scope = deadline.current()
    with _guarded(scope), _writer_turn(engine, scope), engine.connect() as conn:
        conn = conn.execution_options(**{_BEGIN: "IMMEDIATE"})
        info = conn.info  # still readable if a lost session invalidates ``conn``
        info.pop(_WORK_FLAG, None)
        info.pop(TXN_CACHE, None)
        try:
            with _transaction(conn, scope, writes=True):
                yield conn
            left_work = info.pop(_WORK_FLAG, False)
        finally:
            info.pop(_WORK_FLAG, None)
            info.pop(TXN_CACHE, None)
    if scope is not None:
        scope.wrote = True
    if left_work and wake:
        for callback in _CALLBACKS.get(engine, ()):
            callback()


_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


@contextmanager
def _writer_turn(engine: Engine, scope: RequestScope | None) -> Iterator[None]:
    """SQLite has one writer at a time; threads of this process (the API's and the
    embedded worker's) take turns on a lock, handed over the moment it is free, instead of
    meeting at ``BEGIN IMMEDIATE`` and sleeping in SQLite's busy handler, which backs off
    in steps of 1 to 100 ms. Other processes still meet the busy handler. A request waits
    for its turn no longer than it has left."""
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _WRITERS.setdefault(engine, threading.RLock())
    if not lock.acquire(timeout=-1 if scope is None else max(0.001, scope.left_s())):
        assert scope is not None
        raise scope.busy("other writes are queued ahead of it")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read-only snapshot."""
    scope = deadline.current()
    with _guarded(scope), engine.connect() as conn, _transaction(conn, scope, writes=False):
        yield conn


def _guarded(scope: RequestScope | None) -> AbstractContextManager[None]:
    return nullcontext() if scope is None else scope.guard()


@contextmanager
def _transaction(conn: Connection, scope: RequestScope | None, writes: bool) -> Iterator[None]:
    """``conn.begin()``; in a request, bounded by what is left of its time (the limits end
    with the transaction, so that the pooled connection carries none to a worker), and a
    write whose commit took effect though the session ended meanwhile is a success."""
    if scope is None:
        with conn.begin():
            yield
        return
    bounds = deadline.bounds_for(conn)
    with bounds.waiting(conn, scope), bounds.settled(conn), conn.begin(), \
            bounds.running(conn, scope, writes):
        yield


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def plan_each_time(conn: Connection) -> None:
    """PostgreSQL: plan every statement of this transaction for its own parameters and the
    tables' current size, never by a cached generic plan. The driver prepares a statement
    after five runs, and PostgreSQL may then keep a generic plan costed on statistics
    taken when a table was small; for a batch step that fills the very tables it reads
    (a workflow copying to 10,000 contacts fills property_history and the value versions),
    such a plan scanned a table per id: the copy took 38 s instead of 3.9 s. Planning
    costs well under a millisecond a statement, nothing beside a batch's work."""
    if is_postgres(conn):
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


_WORK_FLAG = "propsync_sync_work"
TXN_CACHE = "propsync_txn_cache"  # per-transaction memo, cleared by write_transaction
NOTIFY_CHANNEL = "propsync_sync"
# Names this process in its NOTIFY payloads, so that its own listener can skip them.
PROCESS_TOKEN = uuid.uuid4().hex
_CALLBACKS: weakref.WeakKeyDictionary[Engine, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary())


def mark_sync_work(conn: Connection) -> None:
    """Say that this transaction leaves sync work: workers are woken when it commits (this
    process's through its callbacks, others' by a NOTIFY naming this process)."""
    if conn.info.get(_WORK_FLAG):
        return
    conn.info[_WORK_FLAG] = True
    if is_postgres(conn):
        conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}, '{PROCESS_TOKEN}'")


def on_sync_work(engine: Engine, callback: Callable[[], None]) -> None:
    """Call ``callback`` after every commit that left sync work (same process)."""
    _CALLBACKS.setdefault(engine, []).append(callback)


def off_sync_work(engine: Engine, callback: Callable[[], None]) -> None:
    """Stop calling ``callback``."""
    callbacks = _CALLBACKS.get(engine, [])
    if callback in callbacks:
        callbacks.remove(callback)


def is_postgres_engine(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def again_if_transient(work: Callable[[], _T], attempts: int = 5) -> _T:
    """``work`` (whole transactions), run again after a deadlock or a serialization failure
    (PostgreSQL rolled the transaction back whole), up to ``attempts`` times in all: for a
    use case whose writes may cross a worker's, such as deleting a whole account."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in ("40001", "40P01") or \
                    attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
