"""DYNAMIC lists against their own filter, on SQLite and PostgreSQL: random edits,
association changes (which move a sync property a list filters on), archives, restores,
merges and filter changes interleave with the list worker's steps (a feed batch, a whole
evaluation, a few steps, none), and whenever the engines are idle every DYNAMIC list's
members are exactly the records its filter matches evaluated from scratch, every size is
its members' count, and no list holds an archived record."""

from __future__ import annotations

import os
import time
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from sqlalchemy import func, select

from propsync.clock import now_ms
from propsync.lists.evaluator import conditions
from propsync.lists.runner import ListWorker
from propsync.services import list_members as members_svc
from propsync.services import lists as svc
from propsync.storage import lists as store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from propsync.storage.search import matching_select
from propsync.sync.worker import SyncWorker
from propsync.workflows.schema import AccountSchema
from tests.integration.flows import FlowWorld
from tests.patience import WAIT_GUARD_S

EXAMPLES = int(os.environ.get("PROPSYNC_MODEL_EXAMPLES", "40"))
STEPS = int(os.environ.get("PROPSYNC_MODEL_STEPS", "25"))
pytestmark = pytest.mark.model
NAMES = ("Ada", "Alan", "Bo", "")
CITIES = ("Paris", "Rome", "")


def prop(name: str, operation: dict[str, Any]) -> dict[str, Any]:
    return {"filterType": "PROPERTY", "property": name, "operation": operation}


def string(operator: str, value: str) -> dict[str, Any]:
    return {"operationType": "STRING", "operator": operator, "value": value}


def branch(*groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {"filterBranchType": "OR", "filterBranches": [
        {"filterBranchType": "AND", "filters": g} for g in groups]}


# The filters lists switch between: text prefixes and equality, a sync property's value
# (moved by association changes), a negative operator, is-known, a date.
FILTERS = [
    branch([prop("firstname", string("STARTS_WITH", "a"))],
           [prop("company_city", string("IS_EQUAL_TO", "Paris"))]),
    branch([prop("company_city", string("IS_NOT_EQUAL_TO", "Rome")),
            prop("firstname", {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"})]),
    branch([prop("firstname", string("ENDS_WITH", "n"))]),
    branch([prop("createdate", {"operationType": "TIME_POINT", "operator": "IS_AFTER",
                                "timePoint": {"timeType": "INDEXED", "zoneId": "UTC",
                                              "indexReference": {"referenceType": "TODAY"},
                                              "offset": {"days": -1}}}),
            prop("city", {"operationType": "ENUMERATION", "operator": "IS_NONE_OF",
                          "values": ["Rome"], "includeObjectsWithNoValueSet": True})]),
]


class ListMachine(RuleBasedStateMachine):
    engine = None  # set by the test function

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        self.w = FlowWorld.new(type(self).engine)
        self.w.define("contacts", "company_city", "companies", "city", types=None)
        self.contacts: list[int] = []
        self.companies: list[int] = []
        self.links: set[tuple[int, int]] = set()
        self.archived: set[int] = set()
        for _ in range(3):
            self.create_contact(data.draw(st.sampled_from(NAMES)))
        for city in ("Paris", "Rome"):
            self.companies.append(self.w.one("companies", city=city))
        self.lists = [svc.create_list(self.w.engine, self.w.principal, {
            "name": f"L{i}", "objectTypeId": "0-1", "processingType": "DYNAMIC",
            "filterBranch": FILTERS[i]}).list_id for i in range(2)]
        self.manual = svc.create_list(self.w.engine, self.w.principal, {
            "name": "Manual", "objectTypeId": "0-1", "processingType": "MANUAL"}).list_id
        self.picked: set[int] = set()  # the manual list's members, as the model knows them

    @rule(name=st.sampled_from(NAMES))
    def create_contact(self, name: str) -> None:
        self.contacts.append(self.w.one("contacts", firstname=name))

    @precondition(lambda self: self.live())
    @rule(data=st.data(), name=st.sampled_from(NAMES))
    def rename(self, data: st.DataObject, name: str) -> None:
        self.w.set("contacts", data.draw(st.sampled_from(self.live())), firstname=name)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), city=st.sampled_from(CITIES))
    def contact_city(self, data: st.DataObject, city: str) -> None:
        self.w.set("contacts", data.draw(st.sampled_from(self.live())), city=city)

    @rule(data=st.data(), city=st.sampled_from(CITIES))
    def company_city(self, data: st.DataObject, city: str) -> None:
        self.w.set("companies", data.draw(st.sampled_from(self.companies)), city=city)

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def link(self, data: st.DataObject) -> None:
        pair = (data.draw(st.sampled_from(self.live())),
                data.draw(st.sampled_from(self.companies)))
        self.w.link("contacts", pair[0], "companies", pair[1])
        self.links.add(pair)

    @precondition(lambda self: self.links)
    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        pair = data.draw(st.sampled_from(sorted(self.links)))
        self.w.unlink("contacts", pair[0], "companies", pair[1])
        self.links.discard(pair)

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def archive(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.live()))
        self.w.archive("contacts", rid)
        self.archived.add(rid)
        self.picked.discard(rid)  # an archived record leaves every list, for good

    @precondition(lambda self: self.archived)
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.archived)))
        self.w.restore("contacts", rid)
        self.archived.discard(rid)

    @precondition(lambda self: len(self.live()) >= 2)
    @rule(data=st.data())
    def merge(self, data: st.DataObject) -> None:
        keep, drop = data.draw(st.lists(st.sampled_from(self.live()), min_size=2, max_size=2,
                                        unique=True))
        self.w.merge("contacts", keep, drop)
        self.contacts.remove(drop)
        if drop in self.picked:  # the record kept takes the merged one's place in lists
            self.picked = (self.picked - {drop}) | {keep}
        self.links = {p for p in self.links if drop not in p}

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def add_by_hand(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.live()))
        members_svc.change_members(self.w.engine, self.w.principal, str(self.manual),
                                   [str(rid)], [])
        self.picked.add(rid)

    @rule(which=st.integers(0, 1), data=st.data())
    def change_filter(self, which: int, data: st.DataObject) -> None:
        svc.update_filters(self.w.engine, self.w.principal, str(self.lists[which]),
                           data.draw(st.sampled_from(FILTERS)))

    @rule(which=st.integers(0, 1))
    def delete_and_restore(self, which: int) -> None:
        svc.delete_list(self.w.engine, self.w.principal, str(self.lists[which]))
        svc.restore_list(self.w.engine, self.w.principal, str(self.lists[which]))

    # -- the workers' pace --------------------------------------------------------------
    @rule()
    def sync_step(self) -> None:
        SyncWorker(self.w.engine).step()

    @rule()
    def follow_step(self) -> None:
        ListWorker(self.w.engine).follow()

    @rule()
    def evaluate_step(self) -> None:
        ListWorker(self.w.engine).evaluate()

    @rule(steps=st.integers(1, 4))
    def work_a_little(self, steps: int) -> None:
        worker = ListWorker(self.w.engine)
        for _ in range(steps):
            worker.step()

    @rule()
    def settle(self) -> None:
        self.check()

    def teardown(self) -> None:
        if hasattr(self, "w"):
            self.check()

    def live(self) -> list[int]:
        return [c for c in self.contacts if c not in self.archived]

    # -- what must hold -----------------------------------------------------------------
    def check(self) -> None:
        sync, lists = SyncWorker(self.w.engine), ListWorker(self.w.engine)
        deadline = time.monotonic() + WAIT_GUARD_S
        while sync.drain() + lists.drain():
            assert time.monotonic() < deadline, "the engines did not settle"
        a, m = self.w.account_id, t.list_memberships
        with read_transaction(self.w.engine) as conn:
            schema = AccountSchema(conn, a)
            for stored in store.live_lists(conn, a):
                members = store.all_members(conn, a, stored.list_id)
                assert stored.size == len(members), (stored.list_id, stored.size, members)
                assert not members & self.archived, (stored.list_id, members, self.archived)
                if stored.list_id == self.manual:
                    assert members == self.picked, (members, self.picked)
                if stored.processing_type != "DYNAMIC":
                    continue
                assert stored.status == "COMPLETE"
                expected = {int(x) for x in conn.execute(matching_select(
                    a, "contacts", conditions(schema, stored, now_ms()))).scalars()}
                assert members == expected, (stored.list_id, stored.filter.branch
                                             if stored.filter else None, members, expected)
            orphans = conn.execute(select(func.count()).select_from(m).where(
                m.c.account_id == a, m.c.record_id.not_in(
                    select(t.records.c.record_id).where(t.records.c.account_id == a,
                                                        t.records.c.archived.is_(False))))
            ).scalar_one()
            assert orphans == 0


@pytest.mark.slow
def test_dynamic_lists_equal_their_filter_after_any_sequence(quiet_engine):
    ListMachine.engine = quiet_engine
    test = ListMachine.TestCase
    test.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()
