"""Backups of the configured database, and restores of them: one implementation per store.

A backup is one consistent moment of a database that is being served and written to:
SQLite's online backup API inside one read transaction (``storage/backup_sqlite.py``),
``pg_dump`` on PostgreSQL (``storage/backup_postgres.py``), whose snapshot is one
transaction's. A restore replaces the configured database with a backup, all or nothing:
it refuses (changing nothing) a file that is damaged, not a propsync backup, made by a
newer propsync, or of the other store, and a database that holds data unless forced; it
brings an older backup's schema up to date afterwards. A SQLite backup restores into
SQLite and a PostgreSQL dump into PostgreSQL; across stores is not supported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from propsync.config import Settings
from propsync.domain.errors import PropsyncError
from propsync.storage.migrate import alembic_config

# ``(what is being done, how much of it is done, out of how much: None if unknown)``
Progress = Callable[[str, int, int | None], None]

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


class BackupError(PropsyncError):
    """A backup or restore that was refused or failed; the database was not changed."""


@dataclass(frozen=True)
class BackupDone:
    """A backup written: where, how many bytes, and the schema revision it holds."""

    path: Path
    size: int
    revision: str


@dataclass(frozen=True)
class RestoreDone:
    """A restore done: the backup's schema revision, and the one it was brought up to."""

    revision: str
    upgraded_to: str


class Store(Protocol):
    """Backup and restore for one kind of database."""

    def backup(self, path: Path, progress: Progress) -> BackupDone:
        """Write a consistent backup of the database to ``path`` (replaced whole, at the
        end, if it exists)."""
        ...

    def restore(self, path: Path, force: bool, progress: Progress) -> RestoreDone:
        """Replace the database with the backup at ``path``, migrated to the newest schema;
        refuses a database that holds data unless ``force``."""
        ...


def store_for(settings: Settings) -> Store:
    """The implementation for ``settings``'s database."""
    if settings.is_sqlite:
        from propsync.storage.backup_sqlite import SqliteStore

        return SqliteStore(settings)
    from propsync.storage.backup_postgres import PostgresStore

    return PostgresStore(settings)


def check_file(path: Path, header: bytes) -> None:
    """Refuse ``path`` unless it exists and starts with ``header`` (the store's own kind of
    backup); a backup of the other store is refused as such."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file.")
    with path.open("rb") as file:
        start = file.read(len(SQLITE_HEADER))
    if start.startswith(header):
        return
    if start.startswith(SQLITE_HEADER) or start.startswith(PG_DUMP_HEADER):
        theirs, ours = (("a SQLite database", "PostgreSQL") if start.startswith(SQLITE_HEADER)
                        else ("a PostgreSQL dump", "SQLite"))
        raise BackupError(
            f"{path} is {theirs}, but the database is {ours}: propsync restores a SQLite "
            "backup into SQLite and a PostgreSQL dump into PostgreSQL, not across stores.")
    raise BackupError(f"{path} is not a propsync backup (neither a SQLite database nor a "
                      "PostgreSQL dump).")


def check_revision(path: Path, revision: str | None) -> str:
    """The backup's schema revision, if this propsync knows it (it can migrate from it)."""
    if revision is None:
        raise BackupError(f"{path} is not a propsync backup: it has no schema revision.")
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(f"{path} holds schema revision {revision!r}, which this propsync "
                          "does not know: it was made by a newer propsync; restore it with "
                          "that version.")
    return revision


def newest_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def refuse_unless_forced(what: str, force: bool) -> None:
    """Refuse a restore into a database that holds data (``what`` says which) unless
    ``force``."""
    if not force:
        raise BackupError(f"{what} holds data; restoring would replace all of it. Restore "
                          "into an empty database, or pass --force to replace it.")
