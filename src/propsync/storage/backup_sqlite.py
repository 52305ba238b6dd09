"""Backup and restore of a SQLite database, with SQLite's online backup API.

A backup copies pages in steps from a propsync connection inside one read transaction: in
WAL mode that transaction's snapshot is what every step copies, so writers committing
meanwhile neither tear the copy nor make it start over. The copy is written beside the
target and renamed over it at the end, as one file (journal mode DELETE).

A restore never writes the database until the backup is ready: it copies the backup to a
work file beside the database, rebuilds there every index that calls ``lower()`` (a file
written by another tool, such as a reload of the ``sqlite3`` shell's ``.dump``, holds them
built with SQLite's own ``lower()``, which folds only A-Z, so searches would miss non-ASCII
sync values), applies pending migrations, and only then copies the work file into the
database, in one write transaction: all or nothing.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from propsync.config import Settings
from propsync.storage.backup import (
    SQLITE_HEADER,
    BackupDone,
    BackupError,
    Progress,
    RestoreDone,
    check_file,
    check_revision,
    newest_revision,
    refuse_unless_forced,
)
from propsync.storage.db import build_engine
from propsync.storage.indexes import case_folded_indexes, rebuild_indexes
from propsync.storage.migrate import upgrade

STEP_PAGES = 1024  # copied per step: 4 MiB of 4 KiB pages, so progress moves on large files
_PROPSYNC_TABLES = {"accounts", "alembic_version"}


@dataclass(frozen=True)
class SqliteStore:
    settings: Settings

    @property
    def path(self) -> Path:
        database = make_url(self.settings.sqlalchemy_url).database
        if not database or database == ":memory:":
            raise BackupError("PROPSYNC_DATABASE_URL names no SQLite file.")
        return Path(database)

    def backup(self, path: Path, progress: Progress) -> BackupDone:
        if not self.path.is_file():
            raise BackupError(f"{self.path}: no such database.")
        part = _beside(path, "part")
        engine = build_engine(self.settings)
        try:
            with engine.connect() as conn, conn.begin():
                source = _driver(conn)
                # The first read fixes the snapshot every step of the copy reads.
                revision = _revision(source, self.path)
                _copy(source, part, progress, "copying pages")
            os.replace(part, path)
        finally:
            engine.dispose()
            part.unlink(missing_ok=True)
        return BackupDone(path, path.stat().st_size, revision)

    def restore(self, path: Path, force: bool, progress: Progress) -> RestoreDone:
        check_file(path, SQLITE_HEADER)
        if self.path.exists() and path.resolve() == self.path.resolve():
            raise BackupError(f"{path} is the database itself.")
        with _read_only(path) as backup:
            revision = _revision(backup, path, check=True)
            if _holds_data(self.path):
                refuse_unless_forced(str(self.path), force)
            work = _beside(self.path, "restoring")
            try:
                _copy(backup, work, progress, "reading the backup")
                _prepare(work, progress)
                _replace(self.settings, work, progress)
            finally:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{work}{suffix}").unlink(missing_ok=True)
        return RestoreDone(revision, newest_revision())


def _driver(conn: Any) -> sqlite3.Connection:
    raw: sqlite3.Connection = conn.connection.driver_connection
    return raw


def _beside(path: Path, what: str) -> Path:
    return path.with_name(f".{path.name}.{what}-{uuid.uuid4().hex[:8]}")


def _read_only(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))


def _revision(conn: sqlite3.Connection, path: Path, check: bool = False) -> str:
    """The schema revision of a propsync database (``check``: after checking that its
    structure is sound); anything else is refused."""
    try:
        if check and (found := conn.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BackupError(f"{path} is damaged: {found}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                             "'table'")}
        if not tables >= _PROPSYNC_TABLES:
            raise BackupError(f"{path} is a SQLite database, but not a propsync one.")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged: {exc}.") from None
    return check_revision(path, row[0] if row else None)


def _holds_data(path: Path) -> bool:
    """Whether a restore into ``path`` would replace data: no to a missing or empty file,
    a database without tables, or a propsync database without accounts."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        with _read_only(path) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE "
                                                 "type = 'table'")}
            if not tables:
                return False
            if not tables >= _PROPSYNC_TABLES:
                return True
            return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM accounts)").fetchone()[0])
    except sqlite3.DatabaseError:
        return True  # not a database: whatever it is, it is not ours to drop unasked


def _copy(source: sqlite3.Connection, target: Path | sqlite3.Connection, progress: Progress,
          what: str) -> None:
    """Copy ``source`` page by page into ``target`` (a new file, or a connection)."""
    into = sqlite3.connect(target) if isinstance(target, Path) else target
    try:
        source.backup(into, pages=STEP_PAGES,
                      progress=lambda _, left, total: progress(what, total - left, total))
        if isinstance(target, Path):
            into.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        raise BackupError(f"copying failed, nothing was changed: {exc}.") from None
    finally:
        if isinstance(target, Path):
            into.close()


def _prepare(work: Path, progress: Progress) -> None:
    """Rebuild the case-folded indexes of the work file with propsync's ``lower()``, then
    migrate it."""
    engine = build_engine(Settings(database_url=f"sqlite:///{work}"))
    try:
        progress("rebuilding the search indexes", 0, None)
        rebuild_indexes(engine, case_folded_indexes(engine))
        progress("bringing the schema up to date", 0, None)
        upgrade(engine)
    finally:
        engine.dispose()


def _replace(settings: Settings, work: Path, progress: Progress) -> None:
    """Copy the work file into the database, in one write transaction."""
    engine: Engine = build_engine(settings)
    try:
        with engine.connect() as conn, closing(sqlite3.connect(work)) as prepared:
            _copy(prepared, _driver(conn), progress, "restoring")
    finally:
        engine.dispose()
