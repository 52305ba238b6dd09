"""A worker killed with SIGKILL while the list worker follows a large backlog of changes
loses nothing: after restarts, the DYNAMIC list holds exactly the records that meet its
filter, its size is its members' count, and ``propsync verify`` finds no difference."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.lists.runner import ListWorker
from propsync.lists.verify import verify_lists
from propsync.services import lists as svc
from propsync.storage import lists as store
from propsync.storage.db import read_transaction
from tests.conftest import BACKENDS, drop_database, make_database
from tests.e2e.test_sync_crash import spawn_worker, wait_for
from tests.integration.world import World

BACKLOG = int(os.environ.get("PROPSYNC_CRASH_LIST_RECORDS", "10000"))
pytestmark = pytest.mark.crash
STARTS_WITH_A = {"filterBranchType": "OR", "filterBranches": [{
    "filterBranchType": "AND", "filters": [{
        "filterType": "PROPERTY", "property": "firstname", "operation": {
            "operationType": "STRING", "operator": "STARTS_WITH", "value": "a"}}]}]}


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = make_database(request.param, tmp_path)
    yield url
    drop_database(url)


def size(engine: Engine, account_id: int, list_id: int) -> int:
    with read_transaction(engine) as conn:
        found = store.load_list(conn, account_id, list_id)
        assert found is not None
        return found.size


@pytest.mark.slow
def test_a_killed_worker_loses_no_list_membership(database: str) -> None:
    engine = engine_for(Settings(database_url=database))
    w = World.new(engine)
    list_id = svc.create_list(engine, w.principal, {
        "name": "A names", "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterBranch": STARTS_WITH_A}).list_id
    assert ListWorker(engine).evaluate()  # evaluated whole (empty): from now on it follows
    for start in range(0, BACKLOG, 100):  # a backlog of creations for the list worker
        w.create_each("contacts", [{"firstname": "Ann" if (start + i) % 2 else "Bob"}
                                   for i in range(100)])
    expected = BACKLOG // 2
    for share in (0.2, 0.5, 0.8):  # kill it three times, part way through
        proc = spawn_worker(database)
        try:
            wait_for(lambda s=share: size(engine, w.account_id, list_id) >= expected * s,
                     every=0.005)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        assert size(engine, w.account_id, list_id) < expected
    restarted = spawn_worker(database)
    try:
        wait_for(lambda: size(engine, w.account_id, list_id) == expected, every=0.1)
        with read_transaction(engine) as conn:
            assert len(store.all_members(conn, w.account_id, list_id)) == expected
        assert verify_lists(engine, w.account_id) == []
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)
    engine.dispose()
