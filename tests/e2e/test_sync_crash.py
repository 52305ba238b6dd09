"""A worker killed with SIGKILL in the middle of a backfill and of a 100,000-target fan-out
loses nothing: after a restart, ``propsync verify`` finds zero differences."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.storage import sync as sync_store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from tests.conftest import BACKENDS, drop_database, make_database
from tests.integration.world import PRIMARY, World
from tests.patience import PROCESS_GUARD_S, WAIT_GUARD_S
from tests.seed import seed_contacts_of

FANOUT = int(os.environ.get("PROPSYNC_CRASH_TARGETS", "100000"))
pytestmark = pytest.mark.crash


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = make_database(request.param, tmp_path)
    yield url
    drop_database(url)


def spawn_worker(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROPSYNC_DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "propsync", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition: Callable[[], bool], timeout: float = WAIT_GUARD_S, every: float = 0.01
             ) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def kill_when(url: str, condition: Callable[[], bool]) -> None:
    """Start a worker, and SIGKILL it as soon as ``condition`` holds."""
    proc = spawn_worker(url)
    try:
        wait_for(condition)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)


def settled(engine: Engine, account_id: int) -> bool:
    with read_transaction(engine) as conn:
        waiting = sync_store.pending(conn, account_id)
        live = all(d.state == sync_store.LIVE
                   for d in sync_store.load_sync_properties(conn, account_id))
    return live and waiting.changes == 0 and waiting.targets == 0


def count_values(engine: Engine, account_id: int, property_id: int, value: str) -> int:
    v = t.property_values
    with read_transaction(engine) as conn:
        return int(conn.execute(select(func.count()).where(
            v.c.account_id == account_id, v.c.property_id == property_id,
            v.c.value == value)).scalar_one())


def run_verify(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROPSYNC_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "propsync", "verify"], env=env,
                          capture_output=True, text=True, timeout=PROCESS_GUARD_S)


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_during_backfill_and_fanout(database: str) -> None:
    engine = engine_for(Settings(database_url=database))
    w = World.new(engine)
    company = w.one("companies", name="Before")
    seed_contacts_of(engine, w.account_id, company, FANOUT)
    prop = w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)

    def backfill_half_way() -> bool:
        with read_transaction(engine) as conn:
            d = sync_store.load_sync_properties(conn, w.account_id)[0]
        return 0 < d.backfill_done < d.backfill_total

    kill_when(database, backfill_half_way)
    assert 0 < count_values(engine, w.account_id, prop, "Before") < FANOUT
    restarted = spawn_worker(database)
    try:
        wait_for(lambda: settled(engine, w.account_id), every=0.2)
        assert count_values(engine, w.account_id, prop, "Before") == FANOUT
        restarted.send_signal(signal.SIGKILL)
        restarted.wait(30)

        w.set("companies", company, name="After")
        kill_when(database, lambda: count_values(engine, w.account_id, prop, "After") > 0)
        assert count_values(engine, w.account_id, prop, "After") < FANOUT
        restarted = spawn_worker(database)
        wait_for(lambda: settled(engine, w.account_id), every=0.2)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)
    assert count_values(engine, w.account_id, prop, "After") == FANOUT
    result = run_verify(database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("0 difference(s)")
    engine.dispose()
