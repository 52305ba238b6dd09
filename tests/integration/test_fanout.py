"""Fan-out jobs stepped by hand, on a database of their own: no other worker (such as the
test server's) may take a step in between."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from propsync.sync.worker import SyncWorker, WorkerConfig
from tests.integration.world import PRIMARY, World


@pytest.fixture
def w(quiet_engine: Engine) -> World:
    return World.new(quiet_engine)


def test_an_edit_during_a_fan_out_restarts_it_and_the_newest_value_wins(w: World) -> None:
    company = w.one("companies", name="v1")
    contacts = w.create("contacts", 10)
    for contact in contacts:
        w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    worker = SyncWorker(w.engine, WorkerConfig(fanout_batch=3))
    w.set("companies", company, name="v2")
    assert worker.plan_changes() and worker.fan_out()  # the first 3 targets have v2
    assert [w.value("contacts", c, "primary_name") for c in contacts[:3]] == ["v2"] * 3
    w.set("companies", company, name="v3")
    w.set("companies", company, name="v4")
    worker.drain()
    w.settle()
    assert [w.value("contacts", c, "primary_name") for c in contacts] == ["v4"] * 10


def test_a_target_whose_winner_moved_meanwhile_is_not_overwritten(w: World) -> None:
    old, new = w.one("companies", name="Old"), w.one("companies", name="New")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", old, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    worker = SyncWorker(w.engine)
    w.set("companies", old, name="Old renamed")
    assert worker.plan_changes()  # a fan-out job for the old company waits
    w.link("contacts", contact, "companies", new, [PRIMARY])  # Primary moves meanwhile
    assert worker.plan_changes() and worker.apply_targets()  # the contact re-selects first
    assert w.value("contacts", contact, "primary_name") == "New"
    assert worker.fan_out()  # the old company's job finds the contact no longer its own
    assert w.value("contacts", contact, "primary_name") == "New"
    w.settle()
    assert w.value("contacts", contact, "primary_name") == "New"
