"""Planner statistics stay fresh after bulk changes (issue 12, point 6).

On PostgreSQL a table that was never analyzed is planned as if it were tiny: 10,000
contacts created through the API, with autovacuum off for the tables, made an ``email EQ``
search take 59 s; propsync's worker analyzes the tables once they changed that much.
SQLite is left without statistics on purpose (``storage/statistics.py``), and answers the
same search by a primary-key probe per contact, a plan that does not need them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, text

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.storage.statistics import TABLES
from propsync.sync.worker import SyncWorker
from tests.conftest import drop_database, make_database, new_tenant, run_server
from tests.patience import WAIT_GUARD_S

CONTACTS = 10_000
EMAIL_SEARCH = {"filterGroups": [{"filters": [
    {"propertyName": "email", "operator": "EQ", "value": "contact-5000@example.com"}]}]}


@pytest.fixture
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of the test's own; on PostgreSQL autovacuum is off for its tables."""
    url = make_database(request.param, tmp_path)
    engine = engine_for(Settings(database_url=url))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in TABLES:
                conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    yield engine
    engine.dispose()
    drop_database(url)


def import_contacts(api: httpx.Client) -> None:
    for start in range(0, CONTACTS, 100):
        inputs = [{"properties": {"email": f"contact-{i}@example.com", "firstname": "Kari"}}
                  for i in range(start, start + 100)]
        reply = api.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
        assert reply.status_code == 201, reply.text


def analyzed(engine: Engine) -> set[str]:
    """The tables someone ANALYZEd (autovacuum's own runs are counted apart)."""
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
            )).scalars())


@pytest.mark.parametrize("fresh", ["postgres"], indirect=True)
def test_propsync_analyzes_postgres_tables_that_an_import_filled(fresh: Engine):
    with run_server(fresh) as server:  # with its sync worker, as propsync serve runs
        api = new_tenant(server).client
        import_contacts(api)
        give_up = time.monotonic() + WAIT_GUARD_S
        while not {"records", "property_values"} <= analyzed(fresh):
            assert time.monotonic() < give_up, "propsync did not analyze the tables"
            time.sleep(0.5)
        reply = api.post("/crm/v3/objects/contacts/search", json=EMAIL_SEARCH)
    assert reply.status_code == 200, reply.text
    assert reply.json()["total"] == 1
    with fresh.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.reltuples, s.last_autoanalyze FROM pg_class c JOIN pg_stat_user_tables s "
            "ON s.relid = c.oid WHERE c.relname = 'property_values'")).one()
    assert rows[0] >= CONTACTS  # PostgreSQL knows the table holds thousands of rows
    assert rows[1] is None  # and autovacuum did not do it


@pytest.mark.parametrize("fresh", ["sqlite"], indirect=True)
def test_sqlite_finds_a_contact_by_email_without_statistics(fresh: Engine):
    """The plan of the search's statement (its page and total) reads each contact's value
    by its primary key (one probe a contact, never a scan of the values), and propsync
    writes no ``sqlite_stat1`` (which would change the engine's plans)."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "count(*) OVER ()" in statement:
            seen.append((statement, params))

    with run_server(fresh) as server:
        api = new_tenant(server).client
        import_contacts(api)
        SyncWorker(fresh).keep_statistics()
        event.listen(fresh, "before_cursor_execute", capture)
        reply = api.post("/crm/v3/objects/contacts/search", json=EMAIL_SEARCH)
        event.remove(fresh, "before_cursor_execute", capture)
    assert reply.status_code == 200, reply.text
    assert reply.json()["total"] == 1
    raw = fresh.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + seen[0][0], seen[0][1])
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        stats = cursor.fetchall()
    finally:
        raw.close()
    # every value is indexed by its lower-cased text (migration 0014): the e-mail is one seek
    probe = "SEARCH property_values USING INDEX ix_property_values_text " \
        "(account_id=? AND property_id=? AND <expr>=?)"
    assert probe in plan, plan
    assert "SCAN property_values" not in plan, plan
    assert stats == []
