"""A worker killed with SIGKILL while it runs a large backlog of workflow enrollments
loses nothing and runs nothing twice: after restarts, every enrollment completed, every
action ran once (the run log) and wrote once (the history)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.services import workflow_runs as run_svc
from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from propsync.storage.properties import find_property
from tests.conftest import BACKENDS, drop_database, make_database
from tests.e2e.test_sync_crash import spawn_worker, wait_for
from tests.integration.flows import (
    FlowWorld,
    fetched,
    flow,
    known,
    set_property,
    source,
    static,
)
from tests.integration.world import UNLABELED
from tests.seed import seed_contacts_of

BACKLOG = int(os.environ.get("PROPSYNC_CRASH_ENROLLMENTS", "20000"))
ACTIONS = 3
pytestmark = pytest.mark.crash


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = make_database(request.param, tmp_path)
    yield url
    drop_database(url)


def runs_of(engine: Engine, account_id: int) -> int:
    r = t.workflow_runs
    with read_transaction(engine) as conn:
        return int(conn.execute(select(func.count()).where(
            r.c.account_id == account_id)).scalar_one())


def kill_at(url: str, engine: Engine, account_id: int, runs: int) -> None:
    """Start a worker and SIGKILL it once the run log has ``runs`` rows."""
    proc = spawn_worker(url)
    try:
        wait_for(lambda: runs_of(engine, account_id) >= runs, every=0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)


@pytest.mark.slow
def test_a_killed_worker_loses_no_enrollment_and_runs_no_action_twice(database: str) -> None:
    engine = engine_for(Settings(database_url=database))
    w = FlowWorld.new(engine)
    company = w.one("companies", name="Acme")
    contacts = seed_contacts_of(engine, w.account_id, company, BACKLOG)
    fid = w.flow(flow("contacts", [
        set_property("1", "jobtitle", static("Enrolled"), "2"),
        set_property("2", "company", fetched("co", "name"), "3"),
        set_property("3", "city", static("Done"))],
        criteria=[known("hs_object_id")], sources=[source("co", "companies", UNLABELED)]))
    assert run_svc.enroll_existing(engine, w.principal, str(fid)) == BACKLOG
    total = BACKLOG * ACTIONS
    for share in (0.2, 0.5, 0.8):  # kill it three times, part way through
        kill_at(database, engine, w.account_id, int(total * share))
        assert runs_of(engine, w.account_id) < total
    restarted = spawn_worker(database)
    try:
        wait_for(lambda: run_svc.flow_summary(engine, w.principal, str(fid)).completed
                 == BACKLOG, every=0.2)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)
    assert_each_action_ran_and_wrote_once(engine, w.account_id, fid, contacts)
    engine.dispose()


def assert_each_action_ran_and_wrote_once(engine: Engine, account_id: int, flow_id: int,
                                          contacts: list[int]) -> None:
    r, h = t.workflow_runs, t.property_history
    with read_transaction(engine) as conn:
        per_action = conn.execute(select(r.c.action_id, func.count(),
                                         func.count(func.distinct(r.c.enrollment_id)))
                                  .where(r.c.account_id == account_id, r.c.flow_id == flow_id)
                                  .group_by(r.c.action_id)).all()
        outcomes = set(conn.execute(select(r.c.outcome).where(
            r.c.account_id == account_id).distinct()).scalars())
        written = {}
        for name in ("jobtitle", "company", "city"):
            prop = find_property(conn, account_id, "contacts", name)
            assert prop is not None
            written[name] = conn.execute(select(func.count(), func.count(func.distinct(
                h.c.record_id))).where(h.c.account_id == account_id,
                                       h.c.property_id == prop.id)).one()
    assert sorted(per_action) == [(a, BACKLOG, BACKLOG) for a in ("1", "2", "3")]
    assert outcomes == {"DONE"}
    assert {name: tuple(n) for name, n in written.items()} == {
        name: (len(contacts), len(contacts)) for name in ("jobtitle", "company", "city")}
