"""Fan-out jobs stepped by hand, on a database of their own: no other worker (such as the
test server's) may take a step in between."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.storage import sync as sync_store
from propsync.storage.db import write_transaction
from propsync.sync.apply import recompute
from propsync.sync.verify import verify
from propsync.sync.worker import SyncWorker, WorkerConfig
from tests.integration.world import PRIMARY, UNLABELED, World


@pytest.fixture
def w(quiet_engine: Engine) -> World:
    return World.new(quiet_engine)


def primary_contacts(w: World, count: int) -> tuple[int, list[int]]:
    """A company named v1, ``count`` contacts whose Primary company it is, and their
    ``primary_name`` sync property, settled."""
    company = w.one("companies", name="v1")
    contacts = w.create("contacts", count)
    for contact in contacts:
        w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    return company, contacts


def test_an_edit_during_a_fan_out_restarts_it_and_the_newest_value_wins(w: World) -> None:
    company, contacts = primary_contacts(w, 10)
    worker = SyncWorker(w.engine, WorkerConfig(fanout_batch=3, small_fanout=0, fast_lane=0))
    w.set("companies", company, name="v2")
    assert worker.plan_changes() and worker.fan_out()  # the first 3 targets have v2
    assert [w.value("contacts", c, "primary_name") for c in contacts[:3]] == ["v2"] * 3
    w.set("companies", company, name="v3")
    w.set("companies", company, name="v4")
    worker.drain()
    w.settle()
    assert [w.value("contacts", c, "primary_name") for c in contacts] == ["v4"] * 10


def test_full_fan_out_batches_that_run_quickly_grow_the_next_ones(w: World) -> None:
    company, contacts = primary_contacts(w, 40)
    worker = SyncWorker(w.engine, WorkerConfig(fanout_batch=3, batch_s=60.0, small_fanout=0,
                                               fast_lane=0))
    w.set("companies", company, name="v2")
    steps = worker.drain()
    assert worker.sizes["fanout"] > 3
    assert steps < 1 + 40 // 3  # fewer batches than at a fixed size of 3
    assert [w.value("contacts", c, "primary_name") for c in contacts] == ["v2"] * 40


def test_a_target_whose_winner_moved_meanwhile_is_not_overwritten(w: World) -> None:
    old, new = w.one("companies", name="Old"), w.one("companies", name="New")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", old, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    worker = SyncWorker(w.engine, WorkerConfig(small_fanout=0, fast_lane=0))
    w.set("companies", old, name="Old renamed")
    assert worker.plan_changes()  # a fan-out job for the old company waits
    w.link("contacts", contact, "companies", new, [PRIMARY])  # Primary moves meanwhile
    assert worker.plan_changes() and worker.apply_targets()  # the contact re-selects first
    assert w.value("contacts", contact, "primary_name") == "New"
    assert worker.fan_out()  # the old company's job finds the contact no longer its own
    assert w.value("contacts", contact, "primary_name") == "New"
    w.settle()
    assert w.value("contacts", contact, "primary_name") == "New"


def _recompute_held_open(w: World, target: int, release: threading.Event,
                         computed: threading.Event, errors: list[BaseException]) -> None:
    """A worker that has claimed ``target`` from the queue, read the state and written its
    result, but does not commit until ``release`` is set."""
    try:
        with write_transaction(w.engine) as conn:
            claim = sync_store.claim_targets(conn, 10)
            assert claim is not None and claim[2] == [target]
            defs = sync_store.load_sync_properties(conn, w.account_id)
            recompute(conn, defs[0], [target], now_ms(), False)
            computed.set()
            release.wait(10)
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def _source_edit_during_an_open_recompute(w: World, target: int, source: int,
                                          value: str) -> None:
    """Rename ``source`` while a recompute of ``target`` is open, let another worker do all
    it can meanwhile, then let the recompute commit: the target must end with ``value``."""
    assert SyncWorker(w.engine, WorkerConfig(fast_lane=0)).plan_changes()  # queued
    release, computed, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_recompute_held_open,
                              args=(w, target, release, computed, errors))
    holder.start()
    assert computed.wait(10)

    def edit_and_work() -> None:  # another worker plans the edit and fans it out at once
        w.set("companies", source, name=value)
        SyncWorker(w.engine, w.worker).drain()

    other = threading.Thread(target=edit_and_work)
    other.start()
    other.join(1.0)  # it may wait for the recompute; it must not be lost either way
    release.set()
    holder.join(10)
    other.join(30)
    assert not errors, errors
    w.settle()
    assert w.value("contacts", target, "primary_name") == value
    assert verify(w.engine, w.account_id) == []


# Through a fan-out job, or through the queue (a source with few targets).
BOTH_PATHS = pytest.mark.parametrize("small_fanout", [0, 100])


@BOTH_PATHS
def test_a_source_edit_during_a_recompute_that_moves_the_winner_to_it_is_not_lost(
        w: World, small_fanout: int):
    """The recompute chose the edited source on the state before the edit, as its new
    winner: the edit's fan-out cannot find the target by its stored winner yet."""
    w.worker = WorkerConfig(small_fanout=small_fanout)
    early, late = w.one("companies", name="Early"), w.one("companies", name="Late")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", late, [UNLABELED])
    w.define("contacts", "primary_name", "companies", "name", None, "FIRST_CREATED")
    w.settle()
    w.link("contacts", contact, "companies", early, [UNLABELED])  # the winner moves to early
    _source_edit_during_an_open_recompute(w, contact, early, "Early renamed")


@BOTH_PATHS
def test_a_source_value_set_during_a_recompute_that_saw_it_empty_is_not_lost(
        w: World, small_fanout: int):
    w.worker = WorkerConfig(small_fanout=small_fanout)
    early = w.one("companies")  # no name yet
    late = w.one("companies", name="Late")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", late, [UNLABELED])
    w.define("contacts", "primary_name", "companies", "name", None, "FIRST_CREATED")
    w.settle()
    w.link("contacts", contact, "companies", early, [UNLABELED])  # winner: early, empty
    _source_edit_during_an_open_recompute(w, contact, early, "Named at last")
