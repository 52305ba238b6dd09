"""The change feed under SIGKILL (issue 14): a reader killed in the middle of a batch
resumes at its cursor and reads the same rows again; rows are pruned only once both
readers have passed them, so a reader that is behind keeps them alive while real
``propsync worker`` processes plan and prune."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import Engine, func, select

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.changes import Watch
from propsync.domain.feed import SYNC_READER, WORKFLOWS_READER
from propsync.storage import feed
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.sync.worker import SyncWorker
from tests.e2e.test_sync_crash import database
from tests.integration.world import PRIMARY, World
from tests.patience import PROCESS_GUARD_S

pytestmark = pytest.mark.crash
__all__ = ["database"]  # the fixture, one database per store

TICKETS = 30


def read_batch(url: str, limit: int, kill: bool) -> list[int]:
    """A reader process reads (and moves its cursor past) a batch; then it commits, or it
    is SIGKILLed before it commits. Returns the batch's record ids."""
    with subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.feed_reader", url, WORKFLOWS_READER, str(limit),
             "hang" if kill else "commit"], env={**os.environ, "PROPSYNC_DATABASE_URL": url},
            stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if kill:
            proc.send_signal(signal.SIGKILL)
        assert proc.wait(PROCESS_GUARD_S) == (-signal.SIGKILL if kill else 0)
    assert line, "the reader process printed nothing"
    ids: list[int] = json.loads(line)
    return ids


def log_rows(engine: Engine, account_id: int) -> int:
    c = t.change_log
    with read_transaction(engine) as conn:
        return int(conn.execute(select(func.count()).where(c.c.account_id == account_id))
                   .scalar_one())


def unread(engine: Engine, reader: str, account_id: int) -> int:
    with read_transaction(engine) as conn:
        return feed.unread_count(conn, reader, account_id)


def test_a_killed_reader_resumes_at_its_cursor_and_a_reader_behind_keeps_rows(
        database: str) -> None:
    engine = engine_for(Settings(database_url=database))
    w = World.new(engine)
    company = w.one("companies", name="Acme")
    contact = w.one("contacts", firstname="A")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    with write_transaction(engine) as conn:
        feed.set_watches(conn, w.account_id, WORKFLOWS_READER, [Watch("tickets")])
    tickets = w.create("tickets", TICKETS, subject="T")

    # killed in the middle of its batch: it had moved its cursor, uncommitted
    first = read_batch(database, 10, kill=True)
    assert first == tickets[:10]
    assert unread(engine, WORKFLOWS_READER, w.account_id) == TICKETS

    # The sync engine alone plans and prunes here: a `propsync worker` also runs the
    # workflow worker, which would read the workflows feed and leave no reader behind.
    w.set("companies", company, name="Renamed")  # the sync engine's own row
    SyncWorker(engine).drain()
    with write_transaction(engine) as conn:
        feed.prune(conn, 5000)
    assert w.value("contacts", contact, "company_name_sync") == "Renamed"
    assert unread(engine, SYNC_READER, w.account_id) == 0
    assert log_rows(engine, w.account_id) >= TICKETS  # the workflows reader is behind

    resumed = read_batch(database, 10, kill=False)
    assert resumed == first  # the same rows: nothing lost, nothing skipped
    rest = read_batch(database, 100, kill=False)  # and the sync engine's rename
    assert rest == [*tickets[10:], company]
    with write_transaction(engine) as conn:
        feed.prune(conn, 5000)
    assert log_rows(engine, w.account_id) == 0
    engine.dispose()
