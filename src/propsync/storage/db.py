"""Engines and transactions: the few places SQLite and PostgreSQL differ in set-up.

SQLite runs in WAL mode with one writer at a time: write transactions start
with ``BEGIN IMMEDIATE`` so that two writers queue instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from propsync.config import Settings

_BEGIN = "propsync_begin"


def build_engine(settings: Settings) -> Engine:
    """A pooled engine for ``settings.database_url``, configured for propsync."""
    if settings.is_sqlite:
        return _sqlite_engine(settings.sqlalchemy_url)
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
    )


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # propsync issues BEGIN itself
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=OFF",
                       "busy_timeout=30000", "cache_size=-65536", "temp_store=MEMORY"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: committed on success, rolled back on error."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{_BEGIN: "IMMEDIATE"})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read-only snapshot."""
    with engine.connect() as conn, conn.begin():
        yield conn


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"
