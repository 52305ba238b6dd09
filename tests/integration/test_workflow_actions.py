"""What each workflow action does when it runs — set a static value, copy the enrolled
record's property, copy to associated records, fetch through a data source, branch,
delay — and how a run fails or skips, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine

from propsync.storage.db import read_transaction
from propsync.storage.enrollments import next_due_ms
from tests.integration.flows import (
    FlowWorld,
    association,
    branch,
    copied,
    delay,
    fetched,
    flow,
    set_property,
    source,
    static,
)
from tests.integration.world import UNLABELED

COMPANY_TO_CONTACT = 280


@pytest.fixture
def w(quiet_engine: Engine) -> FlowWorld:
    return FlowWorld.new(quiet_engine)


def manual(w: FlowWorld, object_type: str, *actions: dict, sources=(), raw=False) -> int:
    body = flow(object_type, list(actions), sources=sources, name="Copier")
    return w.raw_flow(body) if raw else w.flow(body)


def test_a_static_value_is_set_once_and_setting_it_again_records_nothing(w):
    fid = manual(w, "contacts", set_property("1", "jobtitle", static("Chief")))
    contact = w.one("contacts")
    w.enroll(fid, contact)
    w.run()
    w.enroll(fid, contact)
    w.run()
    assert w.value("contacts", contact, "jobtitle") == "Chief"
    assert w.history_length("contacts", contact, "jobtitle") == 1
    assert [(r.outcome, r.detail) for r in w.runs(fid)] == [
        ("DONE", "set jobtitle"), ("SKIPPED", "jobtitle already had this value")]


def test_the_enrolled_records_property_is_copied(w):
    fid = manual(w, "contacts", set_property("1", "jobtitle", copied("city")))
    contact = w.one("contacts", city="Oslo")
    w.enroll(fid, contact)
    w.run()
    assert w.value("contacts", contact, "jobtitle") == "Oslo"


def test_copying_an_empty_value_skips_and_writes_nothing(w):
    fid = manual(w, "contacts", set_property("1", "jobtitle", copied("city")))
    contact = w.one("contacts", jobtitle="Kept")
    w.enroll(fid, contact)
    w.run()
    assert w.value("contacts", contact, "jobtitle") == "Kept"
    [run] = w.runs(fid)
    assert (run.outcome, run.detail) == ("SKIPPED", "city has no value")
    assert w.enrollments(fid)[0].state == "COMPLETED"


def test_a_copy_to_associated_records_writes_only_those_with_the_label(w):
    billing = w.label("contacts", "companies", "Billing")
    fid = manual(w, "contacts", set_property("1", "city", copied("city"),
                                             to=association(billing, user_defined=True)))
    billed, other = w.create("companies", 2, city="Rome")
    time.sleep(0.002)
    contact = w.one("contacts", city="Oslo")  # newer than the companies' Rome
    w.link("contacts", contact, "companies", billed, [billing])
    w.link("contacts", contact, "companies", other, [UNLABELED])
    w.enroll(fid, contact)
    w.run()
    assert w.value("companies", billed, "city") == "Oslo"
    assert w.value("companies", other, "city") == "Rome"
    [run] = w.runs(fid)
    assert (run.outcome, run.written, run.detail) == (
        "DONE", 1, "set city on 1 of 1 associated companies")
    entry = w.history("companies", billed, "city")[0]
    assert (entry.source.source_type, entry.source.source_id) == ("WORKFLOW", str(fid))


def test_a_copy_reaches_every_associated_record_but_archived_ones(w):
    fid = manual(w, "companies", set_property("1", "city", copied("city"),
                                              to=association(COMPANY_TO_CONTACT)))
    company = w.one("companies", city="Oslo")
    contacts = w.create("contacts", 3)
    for c in contacts:
        w.link("contacts", c, "companies", company)
    w.archive("contacts", contacts[0])
    w.enroll(fid, company)
    w.run()
    assert [w.value("contacts", c, "city") for c in contacts] == [None, "Oslo", "Oslo"]
    w.enroll(fid, company)
    w.run()
    assert [(r.outcome, r.detail) for r in w.runs(fid)] == [
        ("DONE", "set city on 2 of 2 associated contacts"),
        ("SKIPPED", "set city on 0 of 2 associated contacts (2 already had it)")]


@pytest.mark.parametrize(("last", "expected"), [(False, "First"), (True, "Last")])
def test_a_data_source_fetches_the_first_or_last_created_associated_record(w, last, expected):
    fid = manual(w, "contacts", set_property("1", "company", fetched("co", "name")),
                 sources=[source("co", "companies", UNLABELED, last=last)])
    contact = w.one("contacts")
    for name in ("First", "Middle", "Last"):
        w.link("contacts", contact, "companies", w.one("companies", name=name))
        time.sleep(0.003)  # distinct createdAt
    w.enroll(fid, contact)
    w.run()
    assert w.value("contacts", contact, "company") == expected


def test_a_data_source_leaves_out_archived_records(w):
    fid = manual(w, "contacts", set_property("1", "company", fetched("co", "name")),
                 sources=[source("co", "companies", UNLABELED)])
    contact = w.one("contacts")
    first = w.one("companies", name="First")
    time.sleep(0.003)
    w.link("contacts", contact, "companies", first)
    w.link("contacts", contact, "companies", w.one("companies", name="Second"))
    w.archive("companies", first)
    w.enroll(fid, contact)
    w.run()
    assert w.value("contacts", contact, "company") == "Second"


def test_a_sync_property_is_never_written_the_run_fails_saying_why(w):
    w.define("contacts", "company_name_sync", "companies", "name", [UNLABELED])
    fid = manual(w, "contacts", set_property("1", "company_name_sync", static("Forged")),
                 raw=True)
    contact = w.one("contacts")
    w.enroll(fid, contact)
    w.run()
    assert w.value("contacts", contact, "company_name_sync") is None
    [run] = w.runs(fid)
    assert run.outcome == "FAILED"
    assert "is a sync property" in run.detail and "never writes one" in run.detail
    [enrollment] = w.enrollments(fid)
    assert (enrollment.state, enrollment.reason) == ("FAILED", run.detail)


def test_a_property_that_no_longer_exists_fails_the_run(w):
    fid = manual(w, "contacts", set_property("1", "no_such_thing", static("x")), raw=True)
    w.enroll(fid, w.one("contacts"))
    w.run()
    [run] = w.runs(fid)
    assert (run.outcome, run.detail) == ("FAILED",
                                         "property no_such_thing no longer exists on contacts")


def test_a_value_that_does_not_fit_the_property_fails_without_quoting_it(w):
    fid = manual(w, "contacts", set_property("1", "numberofemployees", copied("city"),
                                             to=association(UNLABELED)), raw=True)
    contact = w.one("contacts", city="Secret Oslo")
    w.link("contacts", contact, "companies", w.one("companies"))
    w.enroll(fid, contact)
    w.run()
    [run] = w.runs(fid)
    assert run.outcome == "FAILED" and "numberofemployees" in run.detail
    assert "Secret" not in run.detail


def test_a_copied_value_never_overwrites_a_newer_one(w):
    fid = manual(w, "contacts", set_property("1", "city", copied("city"),
                                             to=association(UNLABELED)))
    contact = w.one("contacts", city="Oslo")
    company = w.one("companies")
    w.link("contacts", contact, "companies", company)
    time.sleep(0.002)
    w.set("companies", company, city="Rome")  # newer than the contact's Oslo
    w.enroll(fid, contact)
    w.run()
    assert w.value("companies", company, "city") == "Rome"
    assert w.runs(fid)[-1].detail == "set city on 0 of 1 associated companies (1 kept a " \
                                     "newer value)"
    time.sleep(0.002)
    w.set("contacts", contact, city="Bergen")  # now the contact's is the newest
    w.enroll(fid, contact)
    w.run()
    assert w.value("companies", company, "city") == "Bergen"


def test_a_branch_goes_on_by_the_enrolled_records_value(w):
    fid = manual(w, "contacts",
                 branch("1", "lifecyclestage", {"lead": "2", "customer": None}, default="3"),
                 set_property("2", "jobtitle", static("Lead")),
                 set_property("3", "jobtitle", static("Other")))
    lead, customer, blank = (w.one("contacts", lifecyclestage="lead"),
                             w.one("contacts", lifecyclestage="customer"), w.one("contacts"))
    w.enroll(fid, lead, customer, blank)
    w.run()
    assert [w.value("contacts", c, "jobtitle") for c in (lead, customer, blank)] == [
        "Lead", None, "Other"]
    assert {r.detail for r in w.runs(fid) if r.action_id == "1"} == {
        "branch on lifecyclestage: goes on to action 2",
        "branch on lifecyclestage: ends the enrollment",
        "branch on lifecyclestage: goes on to action 3"}


def test_a_delay_holds_the_next_action_until_it_is_due(w):
    fid = manual(w, "contacts", delay("1", 3600, "2"), set_property("2", "jobtitle",
                                                                    static("Later")))
    contact = w.one("contacts")
    before = int(time.time() * 1000)
    w.enroll(fid, contact)
    w.run()
    assert w.value("contacts", contact, "jobtitle") is None
    [enrollment] = w.enrollments(fid)
    assert enrollment.next_action_id == "2"
    assert before + 3_600_000 <= (enrollment.due_ms or 0) <= before + 3_660_000
    with read_transaction(w.engine) as conn:
        assert next_due_ms(conn) == enrollment.due_ms
    assert [(r.outcome, r.detail) for r in w.runs(fid)] == [("DONE", "waits 1 hour")]


def test_enrollments_whose_unique_value_another_record_holds_fail_alone(w):
    w.prop("contacts", "badge", unique=True)
    fid = manual(w, "contacts", set_property("1", "badge", static("B-1")))
    first, second = w.create("contacts", 2)
    w.enroll(fid, first, second)
    w.run()
    outcomes = sorted(r.outcome for r in w.runs(fid))
    assert outcomes == ["DONE", "FAILED"]
    assert {w.value("contacts", c, "badge") for c in (first, second)} == {"B-1", None}
    failed = next(r for r in w.runs(fid) if r.outcome == "FAILED")
    assert "unique" in failed.detail
