"""Planner statistics: ANALYZE the tables that changed a lot since they were last analyzed.

PostgreSQL plans from statistics, and a table that has none is planned as if it were tiny:
an ``email EQ`` search over 10,000 contacts just created through the API, with autovacuum
off for the table, took 59 s; after ``ANALYZE``, 0.02 s. Autovacuum analyzes a table once
a tenth of it changed, but it may be turned off, and it looks only once a minute
(``autovacuum_naptime``), so a fresh import is searched before it does. The sync worker
therefore keeps the statistics of the tables searches and the engine read
(``analyze_stale``, every few seconds between its steps, never in a request), and after a
backfill it analyzes the tables it filled at once.

SQLite is left without statistics, on purpose. It does not need them for the case above:
it answers the same search with one primary-key probe per contact, a plan that holds at
any size (0.03 s over those 10,000 contacts; ``tests/e2e/test_planner_statistics.py``).
And they buy the engine nothing: with ``sqlite_stat1`` written after the bench's seed
(50,000 contacts), 5 of the 56 statements that a backfill, a fan-out, 50 edits and two
searches ran changed plan, each to an equally selective index (the values' (property,
record) index instead of their primary key's; a scan of an account's few association
types), and four alternating runs at 10,000 contacts measured no difference beyond the
machine's noise (medians without and with: backfill 3.2x its raw ``INSERT ... SELECT``
both; fan-out 0.062 s and 0.064 s; 300 edits recomputed in 0.078 s and 0.079 s).
Statistics could only flip, as data grows, plans that the engine's SQL was written to get
without them (docs/ARCHITECTURE.md), and an ANALYZE reads whole indexes under SQLite's
one write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Engine, text

from propsync.storage.db import is_postgres_engine, read_transaction, write_transaction

log = logging.getLogger("propsync.storage")

# The tables whose statistics steer the plans of searches, list pages and the engines. The
# workflow engine's updates of enrollments by id were planned, unanalyzed, as scans of the
# account's enrollments: 20,000 enrollments of 3 actions ran 3,488 actions a second
# without ANALYZE, 4,978 with it every 5 s as the worker does (on a 2-core machine).
TABLES = ("records", "property_values", "associations", "workflow_enrollments",
          "workflow_value_versions")
# A table is stale once this many of its rows, and this fraction of it, changed since its
# last ANALYZE (PostgreSQL's own default is 50 rows and a tenth; ours is a backstop for
# when autovacuum is off or has not come round yet, so it waits for larger changes).
MIN_CHANGED = 1_000
CHANGED_FRACTION = 0.2
# One ANALYZE of a table at a time across processes: two at once fail ("tuple concurrently
# updated"). An arbitrary constant, the same in every propsync process.
_LOCK_KEY = 0x70_73_79_6E_63_53  # "psyncS"


def stale_tables(engine: Engine) -> list[str]:
    """The tables of ``TABLES`` that changed enough since their last ANALYZE (PostgreSQL's
    own counters); none on SQLite."""
    if not is_postgres_engine(engine):
        return []
    with read_transaction(engine) as conn:
        rows = conn.execute(text(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = current_schema() AND s.relname = ANY(:names) "
            "AND s.n_mod_since_analyze >= :least "
            "AND s.n_mod_since_analyze >= :fraction * greatest(c.reltuples, 0)"),
            {"names": list(TABLES), "least": MIN_CHANGED, "fraction": CHANGED_FRACTION})
        return [str(r[0]) for r in rows]


def analyze(engine: Engine, tables: Iterable[str]) -> list[str]:
    """ANALYZE ``tables`` (names from ``TABLES``) on PostgreSQL, unless another process is
    analyzing; returns the tables analyzed."""
    names = [name for name in tables if name in TABLES]
    if not names or not is_postgres_engine(engine):
        return []
    done = []
    for name in names:
        # One table a transaction: ANALYZE takes a transaction id when it stores a table's
        # statistics, and a transaction id held while the next table is sampled would
        # hold back the change feed's readers (storage/feed.py) all that time.
        with write_transaction(engine, wake=False) as conn:
            if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                {"k": _LOCK_KEY}).scalar_one():
                break
            conn.exec_driver_sql(f"ANALYZE {name}")
        done.append(name)
    if done:
        log.info("analyzed %s", ", ".join(done))
    return done


def analyze_stale(engine: Engine) -> list[str]:
    """ANALYZE the tables that changed a lot since their last ANALYZE; returns them."""
    return analyze(engine, stale_tables(engine))
