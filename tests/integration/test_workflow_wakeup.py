"""A running workflow worker takes a change as soon as it may read it (PostgreSQL).

A change whose writer started after a transaction still running is held back by the feed
until that transaction ends (storage/feed.py), and that end wakes no one: the worker must
look again soon by itself, not sleep until its idle timeout (found by ``propsync bench``:
edits whose copy showed after seconds, up to the 30 s idle sleep)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text

from propsync.sync.runner import start_worker
from tests.integration.flows import FlowWorld, copied, flow, known, set_property

SEEN_WITHIN_S = 3.0  # far below the worker's idle sleep (WorkflowConfig.max_sleep_s, 30 s)


def _until(check, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, "not seen in time"
        time.sleep(0.01)
    return time.monotonic() - start


def test_a_change_held_back_by_an_earlier_transaction_runs_once_that_one_ends(
        quiet_engine: Engine) -> None:
    if quiet_engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: no change is ever held back")
    w = FlowWorld.new(quiet_engine)
    w.prop("companies", "name_copy")
    w.flow(flow("companies", [set_property("1", "name_copy", copied("name"))],
                criteria=[known("name")], reenroll_on=["name"]))
    company = w.one("companies", name="First")
    running = start_worker(quiet_engine)
    try:
        _until(lambda: w.value("companies", company, "name_copy") == "First", 10)
        with quiet_engine.connect() as earlier:
            tx = earlier.begin()
            earlier.execute(text("SELECT pg_current_xact_id()"))  # an id before the rename's
            w.set("companies", company, name="Second")  # wakes the worker: nothing readable
            time.sleep(0.3)
            tx.commit()  # the rename may be read now; this commit wakes no one
        waited = _until(lambda: w.value("companies", company, "name_copy") == "Second",
                        SEEN_WITHIN_S)
    finally:
        running.shutdown()
    assert waited < SEEN_WITHIN_S
