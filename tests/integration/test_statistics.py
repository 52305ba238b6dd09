"""The worker keeps PostgreSQL's planner statistics: a finished backfill has the tables it
filled analyzed at once, without waiting for the periodic look at what changed. SQLite is
left without statistics (``storage/statistics.py`` says why)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from propsync.bench.dataset import seed
from propsync.services.sync_properties import SourceRequest, create_sync_property
from propsync.sync.worker import SyncWorker, WorkerConfig

PRIMARY = ("HUBSPOT_DEFINED", 1)


def last_analyzed(engine: Engine) -> dict[str, object]:
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        return {str(r[0]): r[1] for r in conn.execute(text(
            "SELECT relname, last_analyze FROM pg_stat_user_tables"))}


def test_a_finished_backfill_has_the_tables_it_filled_analyzed(quiet_engine: Engine):
    data = seed(quiet_engine, 1_000)  # 5,000 contacts, each with a Primary company
    worker = SyncWorker(quiet_engine, WorkerConfig(statistics_s=3600))
    worker.keep_statistics()  # the periodic look, done: the next is an hour away
    before = last_analyzed(quiet_engine)
    create_sync_property(quiet_engine, data.principal, "contacts", "company_name_sync",
                         "Company name", SourceRequest("companies", "name", [PRIMARY], None))
    worker.drain()
    analyzed = worker.keep_statistics()
    after = last_analyzed(quiet_engine)
    if quiet_engine.dialect.name == "postgresql":
        # (with any other table whose changes PostgreSQL counted only after the seed's
        # ANALYZE: its counters reach the statistics a little later)
        assert {"property_values", "records"} <= set(analyzed)
        assert all(after[t] != before[t] for t in analyzed)
    else:
        assert analyzed == []
        with quiet_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sqlite_master "
                                     "WHERE name = 'sqlite_stat1'")).scalar_one() == 0
