"""Engines and transactions: the few places SQLite and PostgreSQL differ in set-up.

SQLite runs in WAL mode with one writer at a time: write transactions start
with ``BEGIN IMMEDIATE`` so that two writers queue instead of deadlocking.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from propsync.config import Settings

_BEGIN = "propsync_begin"


def build_engine(settings: Settings) -> Engine:
    """A pooled engine for ``settings.database_url``, configured for propsync."""
    if settings.is_sqlite:
        return _sqlite_engine(settings.sqlalchemy_url)
    # No JIT: it compiles a wide search's expressions before running it, seconds that no
    # cancel or timeout can interrupt, and it made an 18-filter search slower, not faster
    # (its count over 50,000 contacts: 2.79 s with JIT, 202 functions compiled; 1.27 s
    # without).
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        connect_args={"options": "-c jit=off"},
    )


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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
                       "busy_timeout=30000", "cache_size=-65536", "temp_store=MEMORY",
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
    with _writer_turn(engine), engine.connect() as conn:
        conn = conn.execution_options(**{_BEGIN: "IMMEDIATE"})
        conn.info.pop(_WORK_FLAG, None)
        conn.info.pop(TXN_CACHE, None)
        try:
            with conn.begin():
                yield conn
            left_work = conn.info.pop(_WORK_FLAG, False)
        finally:
            conn.info.pop(_WORK_FLAG, None)
            conn.info.pop(TXN_CACHE, None)
    if left_work and wake:
        for callback in _CALLBACKS.get(engine, ()):
            callback()


_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def _writer_turn(engine: Engine) -> threading.RLock | nullcontext[None]:
    """SQLite has one writer at a time; threads of this process (the API's and the
    embedded worker's) take turns on a lock, handed over the moment it is free, instead of
    meeting at ``BEGIN IMMEDIATE`` and sleeping in SQLite's busy handler, which backs off
    in steps of 1 to 100 ms. Other processes still meet the busy handler."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _WRITERS.setdefault(engine, threading.RLock())


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read-only snapshot."""
    with engine.connect() as conn, conn.begin():
        yield conn


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


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
