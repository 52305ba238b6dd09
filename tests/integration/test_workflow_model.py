"""Workflows against a model, on SQLite and PostgreSQL: random edits, association changes
and workflows turned on and off interleave with the workflow worker's steps (an
enrollment step, an action step, a few steps, none), and whenever the engines are idle
every record agrees with what the workflows must have written.

What "must have written" means, given that actions run later than the edits that
triggered them (the worker's pace is random here), and decided for this test:

- Two-way sync ("down": a company's city to its contacts; "up": a contact's city to its
  companies; both re-enroll on a change of city). An edit of a city while both flows are
  on obliges every association of the edited record that exists then to hold one value
  once idle, the value of that edit or of a later one (the last write wins: an older
  value never lands on a newer one) — unless, before idle, the association is removed,
  either flow is turned off (that cancels what was pending), or one end's city is
  cleared (an empty value is not copied). Every edit writes a value of its own
  ("City #n", n counting the edits), so the value tells which edit it came from.
- "Stamp" (contacts whose lifecycle stage is lead get jobtitle "Lead", no re-enrollment):
  the criteria are asked when the worker reads a change, not when it is made. So a
  contact must be stamped once idle if it is a lead then, its last change of stage (or
  its creation) was recorded while the flow was on, the flow stayed on since, and it
  could not have enrolled before (it enrolls once, ever); it may be stamped only if it
  was a lead while a change recorded since the flow was last turned on was unread.
  Changes recorded before a flow is turned on never enroll in it, however late they are
  read. A contact enrolls at most once.
- Everywhere: each action of an enrollment runs at most once, the values workflows wrote
  are exactly those their runs say they wrote, and each flow's kept counts are its
  enrollments' own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from propsync.services.workflow_runs import summary_of
from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from propsync.workflows.runner import WorkflowWorker
from tests.integration.flows import (
    FlowWorld,
    association,
    copied,
    equals,
    flow,
    known,
    set_property,
    static,
)
from tests.integration.world import UNLABELED

EXAMPLES = int(os.environ.get("PROPSYNC_MODEL_EXAMPLES", "50"))
STEPS = int(os.environ.get("PROPSYNC_MODEL_STEPS", "25"))
pytestmark = pytest.mark.model
COMPANY_TO_CONTACT = 280
FLOWS = ("down", "up", "stamp")


@dataclass
class Model:
    kind: dict[int, str] = field(default_factory=dict)  # record → object type
    city: dict[int, str] = field(default_factory=dict)
    stage: dict[int, str | None] = field(default_factory=dict)  # contact → lifecycle stage
    links: set[tuple[int, int]] = field(default_factory=set)  # (contact, company)
    on: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(FLOWS, False))
    # Two-way: the associations that must hold one value once idle, and the least edit
    # (its serial number) that value may come from.
    owed: dict[tuple[int, int], int] = field(default_factory=dict)
    # Stamp: contacts with a change the flow may still read (one recorded while it was
    # on, since it was last turned on); contacts that may have enrolled (a lead while
    # such a change was unread: the criteria are asked when the worker reads it); and
    # contacts that must have been stamped once idle.
    triggered: set[int] = field(default_factory=set)
    may_stamp: set[int] = field(default_factory=set)
    must_stamp: set[int] = field(default_factory=set)

    def of(self, object_type: str) -> list[int]:
        return sorted(r for r, k in self.kind.items() if k == object_type)

    def links_of(self, record: int) -> set[tuple[int, int]]:
        return {link for link in self.links if record in link}


class WorkflowMachine(RuleBasedStateMachine):
    engine = None  # set by the test function

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        self.w = FlowWorld.new(type(self).engine)
        self.model = Model()
        self.serial = 0
        self.flows = {
            "down": self.w.flow(flow("companies", [set_property(
                "1", "city", copied("city"), to=association(COMPANY_TO_CONTACT))],
                criteria=[known("city")], reenroll_on=["city"], name="Down",
                enabled=False)),
            "up": self.w.flow(flow("contacts", [set_property(
                "1", "city", copied("city"), to=association(UNLABELED))],
                criteria=[known("city")], reenroll_on=["city"], name="Up", enabled=False)),
            "stamp": self.w.flow(flow("contacts", [set_property(
                "1", "jobtitle", static("Lead"))], criteria=[equals("lifecyclestage", "lead")],
                name="Stamp", enabled=False)),
        }
        for name in FLOWS:  # mostly on at the start; the machine turns them off and on
            if data.draw(st.integers(0, 3), label=f"{name} off at start") > 0:
                self.toggle(name)
        for kind in ("companies", "companies", "contacts", "contacts", "contacts"):
            self.create(kind)
        for _ in range(data.draw(st.integers(1, 4))):
            self.link(data)

    # -- records and values -------------------------------------------------------------
    @rule(kind=st.sampled_from(["contacts", "companies"]), lead=st.booleans())
    def create(self, kind: str, lead: bool = False) -> None:
        values = {"lifecyclestage": "lead"} if lead and kind == "contacts" else {}
        rid = self.w.one(kind, **values)
        self.model.kind[rid] = kind
        if kind == "contacts":  # its creation is a trigger
            self._stage_changed(rid, "lead" if lead else None)

    @precondition(lambda self: self.model.kind)
    @rule(data=st.data(), clear=st.booleans())
    def edit_city(self, data: st.DataObject, clear: bool) -> None:
        rid = data.draw(st.sampled_from(sorted(self.model.kind)))
        self._set_city(rid, clear and data.draw(st.booleans()))

    @precondition(lambda self: self.model.links)
    @rule(data=st.data(), company_first=st.booleans())
    def edit_both_ends(self, data: st.DataObject, company_first: bool) -> None:
        """Both ends of an association, one after the other, before the worker copies
        either: the later edit must win."""
        contact, company = data.draw(st.sampled_from(sorted(self.model.links)))
        for rid in ((company, contact) if company_first else (contact, company)):
            self._set_city(rid, clear=False)

    def _set_city(self, rid: int, clear: bool) -> None:
        self.serial += 1
        value = "" if clear else f"City #{self.serial}"
        self.w.set(self.model.kind[rid], rid, city=value)
        m = self.model
        if value:
            m.city[rid] = value
            if m.on["down"] and m.on["up"]:
                m.owed.update(dict.fromkeys(m.links_of(rid), self.serial))
        else:
            m.city.pop(rid, None)
            for link in m.links_of(rid):
                m.owed.pop(link, None)

    @precondition(lambda self: self.model.of("contacts"))
    @rule(data=st.data(), lead=st.booleans())
    def edit_stage(self, data: st.DataObject, lead: bool) -> None:
        rid = data.draw(st.sampled_from(self.model.of("contacts")))
        stage = "lead" if lead else "customer"
        self.w.set("contacts", rid, lifecyclestage=stage)
        if self.model.stage[rid] != stage:  # a write that changes nothing triggers nothing
            self._stage_changed(rid, stage)

    def _stage_changed(self, contact: int, stage: str | None) -> None:
        m = self.model
        m.stage[contact] = stage
        lead = stage == "lead"
        if m.on["stamp"]:
            m.triggered.add(contact)
            if contact in m.may_stamp:  # it may have enrolled: it never enrolls again
                m.must_stamp.discard(contact)
            else:
                m.must_stamp.add(contact)
        else:
            m.must_stamp.discard(contact)
        if lead and contact in m.triggered:
            m.may_stamp.add(contact)

    # -- associations -------------------------------------------------------------------
    @precondition(lambda self: self.model.of("contacts") and self.model.of("companies"))
    @rule(data=st.data())
    def link(self, data: st.DataObject) -> None:
        contact = data.draw(st.sampled_from(self.model.of("contacts")))
        company = data.draw(st.sampled_from(self.model.of("companies")))
        self.w.link("contacts", contact, "companies", company)
        self.model.links.add((contact, company))

    @precondition(lambda self: self.model.links)
    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        pair = data.draw(st.sampled_from(sorted(self.model.links)))
        self.w.unlink("contacts", pair[0], "companies", pair[1])
        self.model.links.discard(pair)
        self.model.owed.pop(pair, None)

    # -- workflows on and off -----------------------------------------------------------
    @rule(name=st.sampled_from(FLOWS))
    def toggle(self, name: str) -> None:
        m = self.model
        m.on[name] = not m.on[name]
        self.w.turn(self.flows[name], m.on[name])
        if not m.on[name]:  # its pending enrollments are cancelled
            if name == "stamp":  # and what it did not read yet it never will
                m.must_stamp.clear()
                m.triggered.clear()
            else:
                m.owed.clear()

    # -- the worker's pace --------------------------------------------------------------
    @rule()
    def enroll_step(self) -> None:
        WorkflowWorker(self.w.engine).enroll()

    @rule()
    def action_step(self) -> None:
        WorkflowWorker(self.w.engine).execute()

    @rule(steps=st.integers(1, 4))
    def work_a_little(self, steps: int) -> None:
        worker = WorkflowWorker(self.w.engine)
        for _ in range(steps):
            worker.step()

    @rule()
    def settle(self) -> None:
        self.check()

    @invariant()
    def runs_once_and_say_what_they_wrote(self) -> None:
        if hasattr(self, "w"):
            self.check_log()

    def teardown(self) -> None:
        if hasattr(self, "w"):
            self.check()

    # -- what must hold -----------------------------------------------------------------
    def check(self) -> None:
        self.w.run()
        m, w = self.model, self.w
        cities = {rid: w.value(m.kind[rid], rid, "city") for rid in m.kind}
        for (contact, company), least in sorted(m.owed.items()):
            assert cities[contact] == cities[company], (contact, company, cities)
            # the value of that edit, or of a later one (the last write wins)
            assert int(str(cities[contact]).split("#")[1]) >= least, (contact, least, cities)
        for contact in m.of("contacts"):
            stamped = w.value("contacts", contact, "jobtitle") == "Lead"
            if contact in m.must_stamp and m.stage[contact] == "lead":
                assert stamped, ("must be stamped", contact)
            if stamped:
                assert contact in m.may_stamp, ("stamped though never a lead", contact)
        self.check_log()

    def check_log(self) -> None:
        """Each action of an enrollment ran at most once; the flows wrote exactly the
        values their runs say; no contact enrolled twice in the flow that does not
        re-enroll."""
        r, h, e = t.workflow_runs, t.property_history, t.workflow_enrollments
        a = self.w.account_id
        with read_transaction(self.w.engine) as conn:
            twice = conn.execute(select(r.c.enrollment_id, r.c.action_id).where(
                r.c.account_id == a).group_by(r.c.enrollment_id, r.c.action_id)
                .having(func.count() > 1)).all()
            said = dict(conn.execute(select(r.c.flow_id, func.sum(r.c.written)).where(
                r.c.account_id == a).group_by(r.c.flow_id)).all())
            wrote = dict(conn.execute(select(h.c.source_id, func.count()).where(
                h.c.account_id == a, h.c.source_type == "WORKFLOW").group_by(h.c.source_id)
                ).all())
            again = conn.execute(select(e.c.record_id).where(
                e.c.account_id == a, e.c.flow_id == self.flows["stamp"]).group_by(
                e.c.record_id).having(func.count() > 1)).all()
            states = conn.execute(select(e.c.flow_id, e.c.state, func.count()).where(
                e.c.account_id == a).group_by(e.c.flow_id, e.c.state)).all()
            kept = {fid: summary_of(conn, a, fid) for fid in self.flows.values()}
        assert twice == []
        assert {str(f): int(n) for f, n in said.items() if n} == {
            str(f): int(n) for f, n in wrote.items()}
        assert again == []
        for fid, summary in kept.items():  # the kept counts are the enrollments' own
            mine = {state: int(n) for f, state, n in states if f == fid}
            assert (summary.enrolled, summary.active, summary.completed, summary.failed,
                    summary.cancelled) == (sum(mine.values()), mine.get("ACTIVE", 0),
                                           mine.get("COMPLETED", 0), mine.get("FAILED", 0),
                                           mine.get("CANCELLED", 0))


@pytest.mark.slow
def test_workflows_write_what_they_must_after_any_sequence(quiet_engine):
    WorkflowMachine.engine = quiet_engine
    test = WorkflowMachine.TestCase
    test.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()
