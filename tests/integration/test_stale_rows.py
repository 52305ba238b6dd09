"""A PostgreSQL batch writes a target's stored value at the row's address, under the target's
lock. Only the engine writes sync values, and under that lock, so the row cannot move; if
it moves anyway, the batch must notice and start over rather than lose the write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text

from propsync.clock import now_ms
from propsync.storage import sync as sync_store
from propsync.storage.db import is_postgres_engine, write_transaction
from propsync.sync.apply import StaleRow, recompute
from propsync.sync.verify import verify
from propsync.sync.worker import SyncWorker, WorkerConfig
from tests.integration.world import PRIMARY, World


@pytest.fixture
def w(quiet_engine: Engine) -> World:
    if not is_postgres_engine(quiet_engine):
        pytest.skip("SQLite has one writer at a time: no row can move under a batch")
    return World.new(quiet_engine)


def renamed_contact(w: World) -> int:
    """A contact whose Primary company was just renamed, its sync value not yet updated."""
    company, contact = w.one("companies", name="Old"), w.one("contacts")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    w.set("companies", company, name="Renamed")
    return contact


@contextmanager
def value_deleted_meanwhile(w: World, contact: int) -> Iterator[None]:
    """Another transaction deletes the contact's stored sync value and holds that row's lock
    for half a second, as no part of propsync does."""
    held, errors = threading.Event(), []

    def delete_and_hold() -> None:
        try:
            with write_transaction(w.engine) as conn:
                conn.execute(text(
                    "DELETE FROM property_values WHERE account_id = :a AND record_id = :c "
                    "AND source_id IS NOT NULL"), {"a": w.account_id, "c": contact})
                held.set()
                threading.Event().wait(0.5)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
            held.set()

    thread = threading.Thread(target=delete_and_hold)
    thread.start()
    assert held.wait(10)
    yield
    thread.join(10)
    assert not errors, errors


def test_a_batch_whose_stored_row_moved_under_it_raises_stale_row(w: World) -> None:
    contact = renamed_contact(w)
    with (value_deleted_meanwhile(w, contact), pytest.raises(StaleRow),
          write_transaction(w.engine) as conn):
        prop = sync_store.load_sync_properties(conn, w.account_id)[0]
        recompute(conn, prop, [contact], now_ms(), False)


def test_the_worker_redoes_such_a_batch_and_the_value_is_right(w: World) -> None:
    contact = renamed_contact(w)
    with write_transaction(w.engine) as conn:
        prop = sync_store.load_sync_properties(conn, w.account_id)[0]
        sync_store.enqueue_targets(conn, w.account_id, prop.property_id, [contact], now_ms())
    with value_deleted_meanwhile(w, contact):  # the worker's steps retry a stale batch
        assert SyncWorker(w.engine, WorkerConfig(fast_lane=0)).drain()
    assert w.value("contacts", contact, "primary_name") == "Renamed"
    assert verify(w.engine, w.account_id) == []
