"""One step of a migration at a time: a lock held while a step runs, across the several
transactions a step makes (a sync property, a clone per asset, a saved state), and let go
when the step ends or the process holding it dies.

A row lock cannot be held across transactions, and a lease in the row would outlive a
killed step until it expired, so a step asked again after a crash (how every step
resumes) would wait for it. Both stores have a lock that dies with its holder instead:

- PostgreSQL: a session advisory lock, ``pg_try_advisory_lock(account_id,
  migration_id)``, on a connection of its own held for the step (the two-key form is the
  migrations' alone; every other advisory lock in propsync takes one bigint key). The
  server lets it go when that session ends.
- SQLite: ``flock`` on a file per migration beside the database
  (``<database>-locks/<account>-<migration>``), which the kernel lets go when the process
  ends; each attempt opens the file afresh, so two threads of one process exclude each
  other too. An in-memory database has one process: a lock per migration in it.

``hold`` never waits: another step running is an answer (``False``), not a queue.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Engine, text

_IN_MEMORY: dict[tuple[int, int], threading.Lock] = {}
_IN_MEMORY_GUARD = threading.Lock()


@contextmanager
def hold(engine: Engine, account_id: int, migration_id: int) -> Iterator[bool]:
    """Yield True holding the migration's step lock, or False when another holds it."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, account_id, migration_id) as held:
            yield held
        return
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        with _in_process(account_id, migration_id) as held:
            yield held
        return
    with _flocked(Path(f"{database}-locks") / f"{account_id}-{migration_id}") as held:
        yield held


@contextmanager
def _advisory(engine: Engine, account_id: int, migration_id: int) -> Iterator[bool]:
    keys = {"a": account_id, "m": migration_id}
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:a, :m)"),
                                 keys).scalar_one())
        try:
            yield held
        finally:
            if held:
                with suppress(Exception):  # a lost session has let it go already
                    conn.execute(text("SELECT pg_advisory_unlock(:a, :m)"), keys)


@contextmanager
def _flocked(path: Path) -> Iterator[bool]:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _in_process(account_id: int, migration_id: int) -> Iterator[bool]:
    with _IN_MEMORY_GUARD:
        lock = _IN_MEMORY.setdefault((account_id, migration_id), threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
