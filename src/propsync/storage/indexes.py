"""The search indexes: do they answer what their table holds? Rebuild them when they do not.

An index that misses rows makes searches miss records while every value is right, so
``propsync verify`` asks the indexes too. On SQLite, ``PRAGMA integrity_check`` through a
propsync connection recomputes every index entry (expressions included, with propsync's
``lower()``) and names the rows an index misses; ``quick_check`` does not look inside
indexes. On PostgreSQL, ``amcheck`` would do the same but is an extension a database may
not have, so each value index is asked, key by key, for what a scan of the table finds
under that key, in one snapshot.

The trigrams of the ordinary values (``VALUE_TRIGRAMS``, migration 0014): on SQLite an FTS5
table, whose ``integrity-check`` compares its every entry with the lower-cased values (a rebuild
reads them again); on PostgreSQL a GIN index, asked for the values it holds per (account,
property) beside a scan (the rows a half-built or corrupt index misses; a wrong trigram
of a row it holds goes unseen), and reported when it is missing (``pg_trgm`` was not
there when migration 0014 ran: a repair creates it). Either store's database must also
fold letter case as Python does (search lowers what it looks for in Python); a PostgreSQL
database created with ``LC_CTYPE`` C folds only A-Z, which no rebuild mends.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from propsync.storage import tables as t
from propsync.storage.db import is_postgres, is_postgres_engine, write_transaction

# Letters whose case SQLite's own lower() and a C locale leave alone.
_FOLD_PROBE = "ØSTFOLD ÅÆÉÜ"
_TEXT_KEY = f"substr(lower(value), 1, {t.TEXT_PREFIX})"
# The value indexes of PostgreSQL: the rows each holds and its key (storage/tables.py).
_VALUE_INDEXES = {
    "ix_property_values_text": ("num IS NULL", _TEXT_KEY, "text"),
    "ix_property_values_num": ("num IS NOT NULL", "num", "float8"),
}
_PROBE_BATCH = 1000
_NAMED_INDEX = re.compile(r"\bindex (\w+)")


@dataclass(frozen=True)
class IndexProblem:
    """Entries of ``index`` that disagree with its table (``count`` of them, one described
    in ``example``); ``index`` is None for a problem a rebuild cannot mend."""

    index: str | None
    count: int
    example: str


def check_indexes(engine: Engine) -> list[IndexProblem]:
    """Every way the database's indexes disagree with its tables, or its case folding with
    Python's: none on a sound database."""
    with engine.connect() as conn:
        if is_postgres(conn):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            problems = _case_folding(conn)
            if is_postgres(conn):
                return (problems + [p for name in _VALUE_INDEXES for p in _pg_index(conn, name)]
                        + _pg_trigrams(conn))
            return problems + _sqlite_integrity(conn) + _sqlite_trigrams(conn)


def rebuild_indexes(engine: Engine, names: Collection[str]) -> None:
    """Rebuild the named indexes from their tables (through propsync's connections, so on
    SQLite with propsync's ``lower()``). PostgreSQL rebuilds them concurrently, so writes
    go on meanwhile."""
    if not names:
        return
    if is_postgres_engine(engine):
        with engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in names:
                if name == t.VALUE_TRIGRAMS and not _pg_has_index(auto, name):
                    auto.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    auto.exec_driver_sql(_PG_TRIGRAMS)
                else:
                    auto.exec_driver_sql(f'REINDEX INDEX CONCURRENTLY "{name}"')
        return
    with write_transaction(engine, wake=False) as conn:
        for name in names:
            if name == t.VALUE_TRIGRAMS:
                conn.exec_driver_sql(f"INSERT INTO {name}({name}) VALUES ('rebuild')")
            else:
                conn.exec_driver_sql(f'REINDEX "{name}"')


def case_folded_indexes(engine: Engine) -> list[str]:
    """The SQLite indexes whose entries call ``lower()`` (the trigram table's triggers
    too): another tool that wrote the file (the ``sqlite3`` shell, a reload of a ``.dump``,
    which also renumbers the rowids the trigram table is keyed by) built them with SQLite's
    own."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND lower(sql) LIKE "
            "'%lower(%'").scalars().all()
        trigrams = _sqlite_has_trigrams(conn)
    return [str(name) for name in rows] + ([t.VALUE_TRIGRAMS] if trigrams else [])


def _case_folding(conn: Connection) -> list[IndexProblem]:
    folded = conn.execute(text("SELECT lower(:s)"), {"s": _FOLD_PROBE}).scalar_one()
    if folded == _FOLD_PROBE.lower():
        return []
    return [IndexProblem(None, 1, (
        f"the database lowers {_FOLD_PROBE!r} to {folded!r}, where propsync expects "
        f"{_FOLD_PROBE.lower()!r}: searches for text with such letters find nothing. Its "
        "LC_CTYPE folds only A-Z; create a database with a UTF-8 LC_CTYPE (such as "
        "C.UTF-8 or en_US.UTF-8) and move the data there with propsync backup/restore"))]


def _sqlite_integrity(conn: Connection) -> list[IndexProblem]:
    """``integrity_check``'s findings, by the index they name (SQLite stops at 100)."""
    lines = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA integrity_check")]
    if lines == ["ok"]:
        return []
    by_index: dict[str | None, list[str]] = defaultdict(list)
    for line in lines:
        named = _NAMED_INDEX.search(line)
        by_index[named.group(1) if named else None].append(line)
    return [IndexProblem(name, len(found), found[0]) for name, found in by_index.items()]


def _sqlite_has_trigrams(conn: Connection) -> bool:
    return bool(conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = ?",
                                     (t.VALUE_TRIGRAMS,)).scalar_one())


def _sqlite_trigrams(conn: Connection) -> list[IndexProblem]:
    """FTS5's ``integrity-check`` with ``rank`` 1 compares the table's entries with its
    content (the lower-cased values); it says only that they differ."""
    name = t.VALUE_TRIGRAMS
    if not _sqlite_has_trigrams(conn):
        return [IndexProblem(None, 1, f"{name} is missing: run `propsync db upgrade`")]
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(
                f"INSERT INTO {name}({name}, rank) VALUES ('integrity-check', 1)")
    except DBAPIError as error:
        return [IndexProblem(name, 1, f"its trigrams disagree with the values ({error.orig})")]
    return []


_PG_TRIGRAMS = (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {t.VALUE_TRIGRAMS} ON "
                "property_values USING gin (lower(value) gin_trgm_ops) WHERE source_id IS NULL")


def _pg_has_index(conn: Connection, name: str) -> bool:
    return bool(conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name})
                .scalar_one())


def _pg_trigrams(conn: Connection) -> list[IndexProblem]:
    """Per (account, property): the values a scan finds, beside those the GIN index holds
    (``LIKE '%'`` has no trigram, so the index returns every row it has an entry for)."""
    name = t.VALUE_TRIGRAMS
    if not _pg_has_index(conn, name):
        return [IndexProblem(name, 1, "missing (pg_trgm was not there when the database "
                                      "was migrated): token and free-text searches read "
                                      "every value")]
    count = text("SELECT account_id, property_id, count(*) FROM property_values "
                 "WHERE source_id IS NULL AND lower(value) LIKE '%' GROUP BY 1, 2")
    _scans_only(conn, index=False)
    scanned = {(a, p): n for a, p, n in conn.execute(count)}
    for setting, on in _THROUGH_BITMAP.items():
        conn.exec_driver_sql(f"SET LOCAL enable_{setting} = {'on' if on else 'off'}")
    if scanned and name not in "\n".join(
            conn.execute(text("EXPLAIN " + count.text)).scalars().all()):
        return [IndexProblem(name, 1, "not checked: PostgreSQL would not use the index")]
    indexed = {(a, p): n for a, p, n in conn.execute(count)}
    missing = {key: n - indexed.get(key, 0) for key, n in scanned.items()
               if n != indexed.get(key, 0)}
    if not missing:
        return []
    account, prop = next(iter(missing))
    return [IndexProblem(name, sum(abs(n) for n in missing.values()), (
        f"account {account} property {prop}: a scan finds {scanned[(account, prop)]} "
        f"value(s), the index {indexed.get((account, prop), 0)}"))]


def _pg_index(conn: Connection, name: str) -> list[IndexProblem]:
    """Per (account, property, key): what a scan of the table finds, beside what the index
    finds under that key."""
    rows, key, _ = _VALUE_INDEXES[name]
    _scans_only(conn, index=False)
    counted = conn.execute(text(
        f"SELECT account_id, property_id, {key}, count(*) FROM property_values "
        f"WHERE {rows} GROUP BY 1, 2, 3")).all()
    _scans_only(conn, index=True)
    if counted and not _probe_uses(conn, name, counted[:1]):
        return [IndexProblem(name, 1, "not checked: PostgreSQL would not use the index")]
    missing = [(row, found) for batch in _batches(counted)
               for row, found in _probe(conn, name, batch) if found != row[3]]
    if not missing:
        return []
    (account, prop, value, expected), found = missing[0]
    return [IndexProblem(name, sum(abs(row[3] - n) for row, n in missing), (
        f"account {account} property {prop}: a scan finds {expected} value(s) {value!r}, "
        f"the index {found}"))]


def _scans_only(conn: Connection, index: bool) -> None:
    """Make this transaction read through ordered index scans only (``index``), or never
    through an index. Sorting is off with the indexes, so that the probe's ``ORDER BY`` of
    the key leaves the planner one path: the value index, which holds rows in that
    order (a parameter bound by equality would let it pick any index of the property)."""
    settings = _THROUGH_INDEX if index else _THROUGH_TABLE
    for setting, on in settings.items():
        conn.exec_driver_sql(f"SET LOCAL enable_{setting} = {'on' if on else 'off'}")


_THROUGH_TABLE = {"seqscan": True, "bitmapscan": False, "indexscan": False,
                  "indexonlyscan": False, "sort": True, "incremental_sort": True}
_THROUGH_BITMAP = {"seqscan": False, "bitmapscan": True, "indexscan": False,
                   "indexonlyscan": False}
_THROUGH_INDEX = {"seqscan": False, "bitmapscan": False, "indexscan": True,
                  "indexonlyscan": True, "sort": False, "incremental_sort": False}


def _probe_sql(name: str) -> str:
    rows, key, key_type = _VALUE_INDEXES[name]
    # The key is spelled as in the index (not bound), so that the planner matches it, and
    # bounded on both sides rather than compared for equality (see _scans_only).
    return (
        "SELECT h.a, h.p, h.k, h.n, (SELECT count(*) FROM (SELECT 1 FROM property_values "
        "WHERE account_id = h.a AND property_id = h.p "
        f"AND {rows} AND {key} >= h.k AND {key} <= h.k ORDER BY {key}) AS hits) "
        f"FROM unnest(CAST(:a AS bigint[]), CAST(:p AS bigint[]), CAST(:k AS {key_type}[]), "
        "CAST(:n AS bigint[])) AS h(a, p, k, n)")


def _params(batch: Sequence[Any]) -> dict[str, list[Any]]:
    return {"a": [r[0] for r in batch], "p": [r[1] for r in batch],
            "k": [r[2] for r in batch], "n": [r[3] for r in batch]}


def _probe_uses(conn: Connection, name: str, sample: Sequence[Any]) -> bool:
    plan = conn.execute(text("EXPLAIN " + _probe_sql(name)), _params(sample)).scalars().all()
    return any(name in str(line) for line in plan)


def _probe(conn: Connection, name: str, batch: Sequence[Any]) -> Iterator[tuple[Any, int]]:
    for a, p, k, n, found in conn.execute(text(_probe_sql(name)), _params(batch)):
        yield (a, p, k, n), int(found)


def _batches(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), _PROBE_BATCH):
        yield rows[start:start + _PROBE_BATCH]
