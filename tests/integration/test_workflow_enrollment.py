"""Who enrolls in a workflow, and when: criteria after a change, once or again, one
enrollment at a time with re-enrollments remembered, by hand, and the records that meet
the criteria when asked — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.services import workflow_runs as svc
from propsync.services import workflows as flow_service
from propsync.storage.db import write_transaction
from propsync.workflows.executor import run_due
from tests.integration.flows import FlowWorld, delay, equals, flow, set_property, static


@pytest.fixture
def w(quiet_engine: Engine) -> FlowWorld:
    return FlowWorld.new(quiet_engine)


def tag_leads(w: FlowWorld, reenroll_on: tuple[str, ...] = (), wait_s: int = 0) -> int:
    """A flow that sets jobtitle to "Prospect" on contacts whose lifecycle stage is lead."""
    actions = [set_property("1", "jobtitle", static("Prospect"))]
    if wait_s:
        actions = [delay("0", wait_s, "1"), *actions]
    return w.flow(flow("contacts", actions, criteria=[equals("lifecyclestage", "lead")],
                       reenroll_on=reenroll_on, name="Tag leads"))


def run_later(w: FlowWorld, seconds: int) -> None:
    """Run what will be due ``seconds`` from now (a delay over, without waiting for it)."""
    for _ in range(20):
        with write_transaction(w.engine) as conn:
            if not run_due(conn, now_ms() + seconds * 1000, 200):
                return
        w.run()


def test_a_record_that_comes_to_meet_the_criteria_enrolls_and_runs(w):
    fid = tag_leads(w)
    contact = w.one("contacts", lifecyclestage="customer")
    w.run()
    assert w.enrollments(fid) == [] and w.value("contacts", contact, "jobtitle") is None
    w.set("contacts", contact, lifecyclestage="lead")
    w.run()
    assert w.value("contacts", contact, "jobtitle") == "Prospect"
    [enrollment] = w.enrollments(fid)
    assert (enrollment.state, enrollment.cause, enrollment.record_id) == (
        "COMPLETED", "TRIGGER", contact)
    [run] = w.runs(fid)
    assert (run.outcome, run.action_id, run.written, run.record_id) == ("DONE", "1", 1, contact)
    newest = w.history("contacts", contact, "jobtitle")[0]
    assert (newest.source.source_type, newest.source.source_id, newest.source.source_label) == (
        "WORKFLOW", str(fid), "Tag leads")


def test_a_record_created_meeting_the_criteria_enrolls(w):
    fid = tag_leads(w)
    contact = w.one("contacts", lifecyclestage="lead")
    w.run()
    assert [e.record_id for e in w.enrollments(fid)] == [contact]
    assert w.value("contacts", contact, "jobtitle") == "Prospect"


def test_a_change_of_another_property_enrolls_nobody(w):
    fid = tag_leads(w)
    contact = w.one("contacts", city="Oslo")
    w.set("contacts", contact, city="Bergen")
    w.run()
    assert w.enrollments(fid) == []


def test_a_record_enrolls_once_unless_the_flow_re_enrolls(w):
    fid = tag_leads(w)
    contact = w.one("contacts", lifecyclestage="lead")
    w.run()
    w.set("contacts", contact, lifecyclestage="customer")
    w.set("contacts", contact, lifecyclestage="lead")
    w.run()
    assert len(w.enrollments(fid)) == 1


def test_a_change_of_a_re_enrollment_property_enrolls_again(w):
    fid = tag_leads(w, reenroll_on=("city",))
    contact = w.one("contacts", lifecyclestage="lead")
    w.run()
    w.set("contacts", contact, city="Oslo")
    w.run()
    w.set("contacts", contact, city="Bergen")
    w.run()
    assert [e.state for e in w.enrollments(fid)] == ["COMPLETED"] * 3
    w.set("contacts", contact, lifecyclestage="customer", city="Rome")  # criteria unmet
    w.run()
    assert len(w.enrollments(fid)) == 3


def test_triggers_while_enrolled_are_remembered_once_and_start_again_after(w):
    fid = tag_leads(w, reenroll_on=("city",), wait_s=60)
    contact = w.one("contacts", lifecyclestage="lead")
    w.run()
    for city in ("Oslo", "Bergen", "Rome"):  # while the first enrollment waits
        w.set("contacts", contact, city=city)
    w.run()
    [first] = w.enrollments(fid)
    assert (first.state, first.reenroll_pending) == ("ACTIVE", True)
    run_later(w, 61)
    first, second = w.enrollments(fid)
    assert (first.state, second.state, second.cause) == ("COMPLETED", "ACTIVE", "PENDING")
    run_later(w, 122)
    assert [e.state for e in w.enrollments(fid)] == ["COMPLETED", "COMPLETED"]


def test_a_pending_re_enrollment_needs_the_criteria_met_when_it_starts(w):
    fid = tag_leads(w, reenroll_on=("city",), wait_s=60)
    contact = w.one("contacts", lifecyclestage="lead")
    w.run()
    w.set("contacts", contact, city="Oslo")
    w.run()
    w.set("contacts", contact, lifecyclestage="customer")
    run_later(w, 61)
    assert [e.state for e in w.enrollments(fid)] == ["COMPLETED"]


def test_a_record_that_no_longer_meets_the_criteria_can_be_unenrolled(w):
    fid = w.flow(flow("contacts", [delay("0", 60, "1"),
                                   set_property("1", "jobtitle", static("Prospect"))],
                      criteria=[equals("lifecyclestage", "lead")], unenroll=True))
    contact = w.one("contacts", lifecyclestage="lead")
    w.run()
    w.set("contacts", contact, lifecyclestage="customer")
    w.run()
    [enrollment] = w.enrollments(fid)
    assert (enrollment.state, enrollment.reason) == ("CANCELLED",
                                                     "no longer meets the criteria")


def test_a_record_enrolled_by_hand_runs_and_goes_again_when_enrolled_meanwhile(w):
    fid = w.flow(flow("contacts", [delay("0", 60, "1"),
                                   set_property("1", "jobtitle", static("Picked"))]))
    contact = w.one("contacts")
    done = svc.enroll_record(w.engine, w.principal, str(fid), str(contact))
    assert done.admission.value == "enroll"
    again = svc.enroll_record(w.engine, w.principal, str(fid), str(contact))
    assert again.admission.value == "pending"
    for seconds in (61, 122, 183):  # each delay starts when the step before ran
        run_later(w, seconds)
    assert [(e.state, e.cause) for e in w.enrollments(fid)] == [
        ("COMPLETED", "MANUAL"), ("COMPLETED", "PENDING")]
    assert w.value("contacts", contact, "jobtitle") == "Picked"


def test_existing_records_enroll_only_when_asked_and_are_counted_first(w):
    leads = w.create("contacts", 3, lifecyclestage="lead")
    w.one("contacts", lifecyclestage="customer")
    fid = tag_leads(w)
    w.run()
    assert w.enrollments(fid) == []
    assert svc.count_would_enroll(w.engine, w.principal, str(fid)) == 3
    assert svc.enroll_existing(w.engine, w.principal, str(fid)) == 3
    assert svc.count_would_enroll(w.engine, w.principal, str(fid)) == 0
    w.run()
    assert sorted(e.record_id for e in w.enrollments(fid)) == sorted(leads)
    assert all(w.value("contacts", c, "jobtitle") == "Prospect" for c in leads)
    assert svc.enroll_existing(w.engine, w.principal, str(fid)) == 0  # no re-enrollment


def test_turning_a_flow_off_cancels_its_enrollments(w):
    fid = tag_leads(w, wait_s=60)
    contact = w.one("contacts", lifecyclestage="lead")
    w.run()
    w.turn(fid, False)
    run_later(w, 61)
    [enrollment] = w.enrollments(fid)
    assert enrollment.state == "CANCELLED"
    assert w.value("contacts", contact, "jobtitle") is None
    summary = svc.flow_summary(w.engine, w.principal, str(fid))
    assert (summary.enrolled, summary.active, summary.cancelled) == (1, 0, 1)


def test_deleting_a_flow_cancels_its_enrollments(w):
    fid = tag_leads(w, wait_s=60)
    w.one("contacts", lifecyclestage="lead")
    w.run()
    flow_service.delete_flow(w.engine, w.principal, str(fid))
    [enrollment] = w.enrollments(fid)
    assert (enrollment.state, enrollment.reason) == ("CANCELLED", "the workflow was deleted")


def test_a_flow_turned_on_does_not_enroll_for_changes_made_before(w):
    """Another flow's watch records the change, and the feed is read only after this flow
    is on: still, what happened before it was on does not enroll in it."""
    watching = tag_leads(w)
    later = w.flow(flow("contacts", [set_property("1", "city", static("Later"))],
                        criteria=[equals("lifecyclestage", "lead")], enabled=False))
    contact = w.one("contacts")
    w.set("contacts", contact, lifecyclestage="lead")
    w.turn(later, True)
    w.run()
    assert len(w.enrollments(watching)) == 1
    assert w.enrollments(later) == []


def test_an_enrollment_whose_next_action_was_edited_away_fails_saying_so(w):
    fid = tag_leads(w, wait_s=60)
    w.one("contacts", lifecyclestage="lead")
    w.run()
    stored = flow_service.get_flow(w.engine, w.principal, str(fid))
    body = flow("contacts", [set_property("9", "jobtitle", static("Other"))],
                criteria=[equals("lifecyclestage", "lead")], name="Tag leads")
    flow_service.update_flow(w.engine, w.principal, str(fid),
                             {**body, "revisionId": str(stored.revision)})
    run_later(w, 61)
    [enrollment] = w.enrollments(fid)
    assert enrollment.state == "FAILED"
    assert enrollment.reason == ("action 1 is no longer in the workflow (it was edited while "
                                 "the record was enrolled)")
