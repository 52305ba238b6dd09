"""Backup and restore of a PostgreSQL database, with PostgreSQL's own programs.

A backup is ``pg_dump --format=custom`` of the configured database: one snapshot (one
``REPEATABLE READ`` transaction, so writes go on meanwhile), compressed, written beside the
target and renamed over it at the end. A restore first reads the dump to its end (a damaged
one is refused before anything is touched), then feeds its SQL (``pg_restore --file=-``) to
``psql`` as one transaction that begins by dropping every table and sequence of the schema
``public``: all or nothing. The indexes are built by the restore itself, with the target
database's ``lower()``. ``pg_dump`` must be of the server's major version or newer, so the
newest installed programs are used; which are needed is said when they are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from glob import glob
from itertools import pairwise
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from propsync.config import Settings
from propsync.storage.backup import (
    PG_DUMP_HEADER,
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
from propsync.storage.migrate import upgrade

# Runs last, in the restore's transaction: the change feed's positions are the source
# server's transaction ids, which this server may not have reached yet (its new rows would
# sort before them, behind the readers' cursors). Shifted below zero, in the same order,
# every restored row and cursor comes before any transaction of this server. (A dump made
# before migration 0011 has no txid; the migration gives its rows 0.)
_REBASE_FEED = b"""
DO $$ DECLARE shift bigint; BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'
             AND table_name = 'change_log' AND column_name = 'txid') THEN
    SELECT GREATEST((SELECT max(txid) FROM public.change_log),
                    (SELECT max(txid) FROM public.change_readers), -1) + 1 INTO shift;
    IF shift > 0 THEN
      UPDATE public.change_log SET txid = txid - shift;
      UPDATE public.change_readers SET txid = txid - shift;
    END IF;
  END IF;
END $$;
"""
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE public (\S+) ", re.MULTILINE)
_TOC_DATA = re.compile(r"^\d+; \d+ \d+ TABLE DATA public (\S+) ", re.MULTILINE)
_COPY = b"\nCOPY "
# Runs first, in the restore's transaction: the schema public is left empty for the dump.
_DROP_PUBLIC = b"""SET client_min_messages = warning;
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                             AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP %s IF EXISTS public.%I CASCADE', CASE r.relkind
      WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
      ELSE 'TABLE' END, r.relname);
  END LOOP;
END $$;
"""


@dataclass(frozen=True)
class PostgresStore:
    settings: Settings

    def backup(self, path: Path, progress: Progress) -> BackupDone:
        with self._engine() as engine, engine.connect() as conn:
            if not _has_propsync_tables(conn):
                raise BackupError(f"the database {self._name} is not a propsync database.")
            revision = str(conn.execute(text("SELECT version_num FROM alembic_version")
                                        ).scalar_one())
            tables = int(conn.execute(text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one())
        part = path.with_name(f".{path.name}.part-{uuid.uuid4().hex[:8]}")
        uri, env = self._client()
        try:
            _run([_tool("pg_dump"), "--format=custom", "--verbose", f"--file={part}",
                  f"--dbname={uri}"], env, "dumping tables", tables, progress)
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)
        return BackupDone(path, path.stat().st_size, revision)

    def restore(self, path: Path, force: bool, progress: Progress) -> RestoreDone:
        check_file(path, PG_DUMP_HEADER)
        contents = _pg_restore(path, "--list")
        if not {"accounts", "alembic_version"} <= set(_TOC_TABLE.findall(contents)):
            raise BackupError(f"{path} is a PostgreSQL dump, but not of a propsync database.")
        revision = check_revision(path, _dumped_revision(path))
        progress("checking the dump", 0, None)
        _pg_restore(path, "--file=/dev/null")
        with self._engine() as engine:
            with engine.connect() as conn:
                if _holds_data(conn):
                    refuse_unless_forced(f"The database {self._name}", force)
            self._load(path, len(_TOC_DATA.findall(contents)), progress)
            progress("bringing the schema up to date", 0, None)
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            upgrade(engine)
        return RestoreDone(revision, newest_revision())

    @property
    def _name(self) -> str:
        return str(make_url(self.settings.sqlalchemy_url).database)

    @contextmanager
    def _engine(self) -> Iterator[Engine]:
        engine = build_engine(self.settings)
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as exc:
            engine.dispose()
            raise BackupError(f"cannot use the database {self._name}: "
                              f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}") from None
        try:
            yield engine
        finally:
            engine.dispose()

    def _client(self) -> tuple[str, dict[str, str]]:
        """The URI the programs connect with, and their environment: the password goes in
        ``PGPASSWORD``, not on a command line anyone may read."""
        url = make_url(self.settings.sqlalchemy_url)
        env = dict(os.environ)
        if url.password is not None:
            env["PGPASSWORD"] = str(url.password)
        plain = url.set(drivername="postgresql", password=None)
        return plain.render_as_string(hide_password=False), env

    def _load(self, path: Path, tables: int, progress: Progress) -> None:
        """Replace the schema public with the dump's, in one transaction."""
        uri, env = self._client()
        with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as load_err:
            dump = subprocess.Popen([_tool("pg_restore"), "--no-owner", "--no-privileges",
                                     "--file=-", str(path)], stdout=subprocess.PIPE,
                                    stderr=dump_err)
            load = subprocess.Popen([_tool("psql"), "--no-psqlrc", "--quiet",
                                     "--single-transaction", "--set=ON_ERROR_STOP=1",
                                     "--file=-", f"--dbname={uri}"], stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=load_err, env=env)
            assert dump.stdout is not None and load.stdin is not None
            try:
                load.stdin.write(_DROP_PUBLIC)
                _pump(dump.stdout, load.stdin, tables, progress)
                load.stdin.write(_REBASE_FEED)
                load.stdin.close()
            except BrokenPipeError:  # psql stopped at an error; its message says which
                dump.kill()
            if dump.wait() or load.wait():
                raise BackupError("restoring failed, nothing was changed: "
                                  + _last_error(load_err, dump_err))


def _pump(source: IO[bytes], sink: IO[bytes], tables: int, progress: Progress) -> None:
    """Copy the dump's SQL into psql, counting the tables it starts to load."""
    done, tail = 0, b""
    progress("loading tables", 0, tables)
    while chunk := source.read1(1 << 20):  # type: ignore[attr-defined]
        sink.write(chunk)
        done += (tail + chunk).count(_COPY)
        tail = chunk[-(len(_COPY) - 1):]
        if done < tables:
            progress("loading tables", done, tables)
        else:  # the last table's data, then the indexes: no measure of what is left
            progress("building indexes", 0, None)


def _run(command: list[str], env: dict[str, str], what: str, total: int,
         progress: Progress) -> None:
    """Run ``pg_dump --verbose``, advancing ``progress`` at each table it dumps."""
    done, said = 0, []
    progress(what, 0, total)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "dumping contents of table" in line:
            done += 1
            progress(what, min(done, total), total)
        elif "error" in line:
            said.append(line.strip())
    if proc.wait():
        raise BackupError(f"{Path(command[0]).name} failed: {' '.join(said[-3:])}")


def _pg_restore(path: Path, *args: str) -> str:
    """What ``pg_restore ARGS PATH`` prints; a dump it cannot read is refused as damaged."""
    done = subprocess.run([_tool("pg_restore"), *args, str(path)], capture_output=True,
                          text=True, errors="replace")
    if done.returncode:
        said = done.stderr.strip().splitlines()
        raise BackupError(f"{path} is damaged: {said[-1] if said else 'pg_restore failed'}")
    return done.stdout


def _dumped_revision(path: Path) -> str | None:
    lines = _pg_restore(path, "--data-only", "--table=alembic_version", "--file=-").splitlines()
    for line, after in pairwise(lines):
        if line.startswith("COPY public.alembic_version") and after != "\\.":
            return after.strip()
    return None


def _has_propsync_tables(conn: Connection) -> bool:
    return bool(conn.execute(text(
        "SELECT to_regclass('public.accounts') IS NOT NULL AND "
        "to_regclass('public.alembic_version') IS NOT NULL")).scalar_one())


def _holds_data(conn: Connection) -> bool:
    """Whether a restore would replace data: no to a database without tables, or a propsync
    database without accounts."""
    tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                          ).scalar_one()
    if not tables:
        return False
    if not _has_propsync_tables(conn):
        return True
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM accounts)")).scalar_one())


def _last_error(*outputs: IO[bytes]) -> str:
    for output in outputs:
        output.seek(0)
        said = [line for line in output.read().decode(errors="replace").splitlines()
                if line.strip()]
        if said:
            return said[-1]
    return "no message"


def _tool(name: str) -> str:
    """The newest installed PostgreSQL program ``name``."""
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p)], reverse=True)
    config = shutil.which("pg_config")
    if config:
        bindir = subprocess.run([config, "--bindir"], capture_output=True, text=True)
        found.append(f"{bindir.stdout.strip()}/{name}")
    found.append(shutil.which(name) or "")
    for candidate in found:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} is not installed. propsync backs up and restores PostgreSQL "
                      "with PostgreSQL's client programs (pg_dump, pg_restore and psql) of "
                      "the server's major version or newer: on Debian or Ubuntu, "
                      "apt install postgresql-client-15 (or the server's version).")
