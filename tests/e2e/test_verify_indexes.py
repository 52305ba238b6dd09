"""``propsync verify`` checks the search indexes, and ``--repair`` rebuilds them.

The case of the issue: a SQLite file dumped with the ``sqlite3`` shell's ``.dump`` (Python's
``iterdump`` writes the same SQL) and reloaded elsewhere holds a sync value index built with
SQLite's own ``lower()``, which folds only A-Z: searches for a non-ASCII sync value found
nothing while ``verify`` said 0 differences. On PostgreSQL an index can miss rows too (a
corrupt or half-built index, a collation that changed under it); the test makes one miss
them by building rows while the index is marked not ready for inserts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.filters import Filter
from propsync.services.search import SearchRequest, search
from propsync.storage.tables import VALUE_TRIGRAMS
from tests.conftest import PG_ADMIN, drop_database, make_database
from tests.e2e.test_cli import propsync
from tests.integration.world import PRIMARY, World

NAME = "ØSTFOLD ENERGI AS"
INDEX = "ix_property_values_text"


def seed(engine: Engine) -> World:
    """50 contacts whose synced Primary company name is ``NAME``."""
    w = World.new(engine)
    company = w.one("companies", name=NAME)
    for contact in w.create("contacts", 50):
        w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.settle()
    return w


def found(engine: Engine, w: World, value: str = NAME) -> int:
    request = SearchRequest(groups=[[Filter("company_name_sync", "EQ", value)]], limit=100)
    return search(engine, w.principal, "contacts", request).total


def reloaded_by_the_sqlite3_shell(tmp_path: Path) -> tuple[str, World]:
    """The issue's steps: seed, ``.dump``, reload into a new file without propsync.
    ``iterdump`` also writes the rows of the FTS5 table (``VALUE_TRIGRAMS``) where they
    cannot be reloaded; the shell leaves them out (it dumps the FTS5 table's own tables),
    and so does this."""
    original = make_database("sqlite", tmp_path)
    engine = engine_for(Settings(database_url=original))
    w = seed(engine)
    engine.dispose()
    copy = tmp_path / "reloaded.db"
    source, target = sqlite3.connect(original.removeprefix("sqlite:///")), sqlite3.connect(copy)
    target.executescript("\n".join(line for line in source.iterdump()
                                    if not line.startswith(f'INSERT INTO "{VALUE_TRIGRAMS}"')))
    source.close()
    target.close()
    return f"sqlite:///{copy}", w


def built_while_the_index_was_not_ready(tmp_path: Path) -> tuple[str, World]:
    """A PostgreSQL database whose sync value index misses the rows written while it was
    marked not ready for inserts (what a half-built or corrupt index looks like)."""
    url = make_database("postgres", tmp_path)
    engine = engine_for(Settings(database_url=url))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"UPDATE pg_index SET indisready = false WHERE indexrelid = '{INDEX}'"
                     "::regclass")
        w = seed(engine)
        conn.execute(f"UPDATE pg_index SET indisready = true WHERE indexrelid = '{INDEX}'"
                     "::regclass")
    engine.dispose()
    return url, w


@pytest.mark.parametrize("broken", [reloaded_by_the_sqlite3_shell,
                                    built_while_the_index_was_not_ready])
def test_verify_reports_a_sync_value_index_that_misses_rows_and_repair_rebuilds_it(
        tmp_path: Path, broken: Callable[[Path], tuple[str, World]]) -> None:
    url, w = broken(tmp_path)
    engine = engine_for(Settings(database_url=url))
    try:
        assert found(engine, w) == 0  # the issue: the index misses all 50

        checked = propsync(url, "verify")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert INDEX in checked.stdout
        # the 50 sync values and the company's own name: every value is indexed
        assert checked.stdout.strip().splitlines()[-1] == "51 difference(s)"

        repaired = propsync(url, "verify", "--repair")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert f"rebuilt index {INDEX}" in repaired.stdout
        assert found(engine, w) == found(engine, w, NAME.lower()) == 50
        again = propsync(url, "verify")
        assert again.returncode == 0 and again.stdout.strip().endswith("0 difference(s)")
    finally:
        engine.dispose()
        drop_database(url)


def test_verify_says_when_postgresql_folds_only_ascii_letters(tmp_path: Path) -> None:
    """A database created with LC_CTYPE C lowers 'Ø' to itself, so a search for a sync value
    'ØST AS' (lowered as Python does) finds nothing; no index rebuild can mend that."""
    name = f"propsync_test_ctype_{tmp_path.name[-12:].replace('-', '_')}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' '
                     "LC_COLLATE 'C' LC_CTYPE 'C'")
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        for args in (("verify",), ("verify", "--repair")):
            result = propsync(url, *args)
            assert result.returncode == 1, result.stdout + result.stderr
            assert "LC_CTYPE" in result.stdout and "Traceback" not in result.stderr
    finally:
        drop_database(url)


def tokens_found(engine: Engine, w: World) -> int:
    """The companies named ``NAME`` found by a word of it (ordinary values have trigrams;
    sync values are read by property)."""
    request = SearchRequest(groups=[[Filter("name", "CONTAINS_TOKEN", "energi")]], limit=100)
    return search(engine, w.principal, "companies", request).total


def trigrams_deleted_on_sqlite(tmp_path: Path) -> tuple[str, World, bool]:
    """A SQLite file whose trigram table lost every entry (as a write with the triggers
    dropped, or a reload that renumbered the values' rowids, leaves it)."""
    url = make_database("sqlite", tmp_path)
    engine = engine_for(Settings(database_url=url))
    w = seed(engine)
    engine.dispose()
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.create_function("lower", 1, lambda s: None if s is None else str(s).lower(),
                         deterministic=True)
    conn.execute(f"INSERT INTO {VALUE_TRIGRAMS}({VALUE_TRIGRAMS}, rowid, lowered) "
                 "SELECT 'delete', rowid, lower(value) FROM property_values "
                 "WHERE source_id IS NULL")
    conn.commit()
    conn.close()
    return url, w, True


def trigrams_not_ready_on_postgres(tmp_path: Path) -> tuple[str, World, bool]:
    """A PostgreSQL GIN trigram index that misses the rows written while it was marked not
    ready for inserts (PostgreSQL may still find them by a scan of the table)."""
    url = make_database("postgres", tmp_path)
    engine = engine_for(Settings(database_url=url))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"UPDATE pg_index SET indisready = false WHERE indexrelid = "
                     f"'{VALUE_TRIGRAMS}'::regclass")
        w = seed(engine)
        conn.execute(f"UPDATE pg_index SET indisready = true WHERE indexrelid = "
                     f"'{VALUE_TRIGRAMS}'::regclass")
    engine.dispose()
    return url, w, False


def trigrams_missing_on_postgres(tmp_path: Path) -> tuple[str, World, bool]:
    """A PostgreSQL database migrated where ``pg_trgm`` was not available (its index was
    never built): searches read the values instead, and verify says so."""
    url = make_database("postgres", tmp_path)
    engine = engine_for(Settings(database_url=url))
    w = seed(engine)
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP INDEX {VALUE_TRIGRAMS}")
    return url, w, False


@pytest.mark.parametrize("broken", [trigrams_deleted_on_sqlite, trigrams_not_ready_on_postgres,
                                    trigrams_missing_on_postgres])
def test_verify_reports_a_trigram_index_that_misses_values_and_repair_rebuilds_it(
        tmp_path: Path, broken: Callable[[Path], tuple[str, World, bool]]) -> None:
    url, w, misses = broken(tmp_path)
    engine = engine_for(Settings(database_url=url))
    try:
        if misses:
            assert tokens_found(engine, w) == 0  # read through the trigrams, which miss all

        checked = propsync(url, "verify")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert VALUE_TRIGRAMS in checked.stdout, checked.stdout

        repaired = propsync(url, "verify", "--repair")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert f"rebuilt index {VALUE_TRIGRAMS}" in repaired.stdout
        assert tokens_found(engine, w) == 1
        again = propsync(url, "verify")
        assert again.returncode == 0 and again.stdout.strip().endswith("0 difference(s)"), (
            again.stdout)
    finally:
        engine.dispose()
        drop_database(url)
