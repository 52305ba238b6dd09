"""Workflows and sync, together: a sync value's change enrolls a record, and two flows
copying a property each way between a company and its contacts (the two-way sync a sync
property cannot do) converge on the last edit, with a bounded number of writes and no
ping-pong — also under concurrent edits of both sides — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import Engine, func, select

from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from propsync.storage.properties import find_property
from propsync.workflows.runner import WorkflowWorker
from tests.integration.flows import FlowWorld, association, copied, flow, known, set_property
from tests.integration.world import UNLABELED

COMPANY_TO_CONTACT = 280


@pytest.fixture
def w(quiet_engine: Engine) -> FlowWorld:
    return FlowWorld.new(quiet_engine)


def two_way(w: FlowWorld) -> tuple[int, int]:
    """City copied from a company to its contacts, and from a contact to its companies;
    each flow runs again whenever the city changes."""
    down = w.flow(flow("companies", [set_property("1", "city", copied("city"),
                                                  to=association(COMPANY_TO_CONTACT))],
                       criteria=[known("city")], reenroll_on=["city"], name="Down"))
    up = w.flow(flow("contacts", [set_property("1", "city", copied("city"),
                                               to=association(UNLABELED))],
                     criteria=[known("city")], reenroll_on=["city"], name="Up"))
    return down, up


def company_with_contacts(w: FlowWorld, n: int) -> tuple[int, list[int]]:
    company = w.one("companies")
    contacts = w.create("contacts", n)
    for c in contacts:
        w.link("contacts", c, "companies", company)
    return company, contacts


def history_rows(w: FlowWorld) -> int:
    """Every history entry of the account's city values, both object types."""
    h = t.property_history
    with read_transaction(w.engine) as conn:
        ids = [find_property(conn, w.account_id, ot, "city") for ot in ("contacts",
                                                                        "companies")]
        return int(conn.execute(select(func.count()).where(
            h.c.account_id == w.account_id,
            h.c.property_id.in_([p.id for p in ids if p]))).scalar_one())


def cities(w: FlowWorld, company: int, contacts: list[int]) -> list[str | None]:
    return [w.value("companies", company, "city"),
            *(w.value("contacts", c, "city") for c in contacts)]


def test_a_sync_value_that_changes_enrolls_the_record(w):
    w.define("contacts", "company_name_sync", "companies", "name", [UNLABELED])
    fid = w.flow(flow("contacts", [set_property("1", "jobtitle", copied("company_name_sync"))],
                      criteria=[known("company_name_sync")],
                      reenroll_on=["company_name_sync"]))
    company = w.one("companies", name="Acme")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", company)
    w.run()
    assert w.value("contacts", contact, "jobtitle") == "Acme"
    w.set("companies", company, name="Acme Group")
    w.run()
    assert w.value("contacts", contact, "jobtitle") == "Acme Group"
    assert [e.state for e in w.enrollments(fid)] == ["COMPLETED", "COMPLETED"]


def test_an_edit_on_either_side_reaches_the_other_with_bounded_writes(w):
    two_way(w)
    company, contacts = company_with_contacts(w, 3)
    w.run()
    w.set("companies", company, city="Oslo")
    w.run()
    assert cities(w, company, contacts) == ["Oslo"] * 4
    assert history_rows(w) == 1 + 3  # the edit, and one copy to each contact
    w.set("contacts", contacts[0], city="Bergen")
    w.run()
    assert cities(w, company, contacts) == ["Bergen"] * 4
    assert history_rows(w) == 4 + 1 + 1 + 2  # the edit, the company, the two others
    w.run()
    assert history_rows(w) == 8  # settled: no ping-pong


def test_edits_of_both_sides_before_the_flows_run_end_on_the_later_one(w):
    two_way(w)
    company, contacts = company_with_contacts(w, 2)
    w.set("companies", company, city="Oslo")
    w.run()
    w.set("companies", company, city="Rome")
    time.sleep(0.002)
    w.set("contacts", contacts[1], city="Paris")  # the later edit
    w.run()
    assert cities(w, company, contacts) == ["Paris"] * 3
    w.set("contacts", contacts[0], city="Lima")
    time.sleep(0.002)
    w.set("companies", company, city="Quito")  # the later edit
    w.run()
    assert cities(w, company, contacts) == ["Quito"] * 3


def test_concurrent_edits_of_both_sides_end_equal_and_the_last_edit_wins(w):
    """Writers on both sides at once while a workflow worker runs: once idle, every record
    holds the same value, one a writer wrote. Then one more edit, while the worker is still
    copying the others: it is the last, and every record ends with it."""
    two_way(w)
    company, contacts = company_with_contacts(w, 3)
    edited = edit_both_sides_at_once(w, company, contacts, rounds=8)
    values = cities(w, company, contacts)
    assert len(set(values)) == 1 and values[0] in edited, values
    edit_both_sides_at_once(w, company, contacts, rounds=8,
                            last=("contacts", contacts[1], "The last word"))
    assert cities(w, company, contacts) == ["The last word"] * 4


def edit_both_sides_at_once(w: FlowWorld, company: int, contacts: list[int], rounds: int,
                            last: tuple[str, int, str] | None = None) -> set[str]:
    """Three writers (one on the company, two on its contacts) and two workflow workers at
    once; then ``last``, at once (the workers still copying); then run until idle. Returns
    the values the writers wrote."""
    stop, wakes = threading.Event(), [threading.Event(), threading.Event()]
    workers = [threading.Thread(target=WorkflowWorker(w.engine).run, args=(stop, wake))
               for wake in wakes]
    for worker in workers:
        worker.start()

    def wake_all() -> None:
        for wake in wakes:
            wake.set()

    written: set[str] = set()

    def edit(object_type: str, ids: list[int], seed: int) -> None:
        rng = random.Random(seed)
        for i in range(rounds):
            value = f"{object_type} {seed} #{i} {rng.random()}"
            w.set(object_type, rng.choice(ids), city=value)
            written.add(value)
            wake_all()
            time.sleep(rng.random() * 0.01)

    editors = [threading.Thread(target=edit, args=("companies", [company], 1)),
               threading.Thread(target=edit, args=("contacts", contacts, 2)),
               threading.Thread(target=edit, args=("contacts", contacts, 3))]
    try:
        for e in editors:
            e.start()
        for e in editors:
            e.join()
        if last is not None:
            w.set(last[0], last[1], city=last[2])
            wake_all()
    finally:
        stop.set()
        wake_all()
        for worker in workers:
            worker.join()
    w.run()
    return written
