"""The most important test: after any sequence of operations, every sync value equals the
rule of SPEC 3.2 computed from scratch by this test's own model — on SQLite and PostgreSQL.

The model keeps its own copy of records, values and associations, and computes each
sync value with its own few lines of Python (not the engine's SQL, not the domain's
rule function). Whenever the engine has settled, every live target is compared and
``propsync verify``'s independent recomputation must also find nothing.

Half of the examples settle after every step. The other half let work pile up: the
worker runs a few steps at a time, in batches as small as one target, so that writes
land while changes are unplanned, targets queued, a fan-out half done or a backfill
under way; they are compared whenever a ``settle`` step comes, and at the end.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from propsync.domain.errors import ValidationError
from propsync.services.sync_properties import (
    SourceRequest,
    delete_sync_property,
    redefine_sync_property,
)
from propsync.storage.db import read_transaction
from propsync.storage.records import load_records
from propsync.sync.verify import verify
from propsync.sync.worker import SyncWorker, WorkerConfig
from tests.integration.world import PRIMARY, UNLABELED, World

EXAMPLES = int(os.environ.get("PROPSYNC_MODEL_EXAMPLES", "50"))
STEPS = int(os.environ.get("PROPSYNC_MODEL_STEPS", "25"))
pytestmark = pytest.mark.model

CONTACT_COMPANY = (UNLABELED, PRIMARY)  # + the user-defined "Billing" label
DEAL_COMPANY = (341, 5)
DEAL_CONTACT = (3,)
INVERSE = {279: 280, 1: 2, 341: 342, 5: 6, 3: 4}
PRIMARY_TYPES = {1, 5}


@dataclass
class Definition:
    target: str
    source_type: str
    source_property: str
    types: frozenset[int] | None
    selection: str | None


# The menu of sync properties the machine may define (name → choices of definition).
MENU = {
    "contacts.primary_name": [("companies", "name", "P", None)],
    "contacts.company_city": [("companies", "city", None, "FIRST_CREATED"),
                              ("companies", "city", "B", "LAST_CREATED"),
                              ("companies", "name", "UB", "FIRST_CREATED")],
    "deals.company_name": [("companies", "name", "D", None),
                           ("companies", "city", None, "LAST_CREATED")],
    "deals.contact_city": [("contacts", "company_city", None, "FIRST_CREATED"),
                           ("contacts", "primary_name", None, "LAST_CREATED")],
}


@dataclass
class Model:
    created: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (type, createdAt)
    archived: set[int] = field(default_factory=set)
    values: dict[tuple[int, str], str] = field(default_factory=dict)
    links: dict[tuple[int, int], set[int]] = field(default_factory=dict)  # (from, to) → types
    defs: dict[str, Definition] = field(default_factory=dict)

    def live(self, object_type: str) -> list[int]:
        return [i for i, (t, _) in self.created.items() if t == object_type
                and i not in self.archived]

    def expected(self, name: str, target: int) -> str | None:
        """SPEC 3.2, written out again: candidates, winner by createdAt then id, its value."""
        d = self.defs[name]
        candidates = []
        for (frm, to), types in self.links.items():
            if frm != target or self.created[to][0] != d.source_type or to in self.archived:
                continue
            if types and (d.types is None or types & d.types):
                candidates.append((self.created[to][1], to))
        if not candidates:
            return None
        if d.selection == "LAST_CREATED":
            _, chosen = min((-created, rid) for created, rid in candidates)
        else:
            _, chosen = min(candidates)
        return self.source_value(d, chosen)

    def source_value(self, d: Definition, record: int) -> str | None:
        key = f"{d.source_type}.{d.source_property}"
        if key in self.defs:
            return self.expected(key, record)
        return self.values.get((record, d.source_property))


class SyncMachine(RuleBasedStateMachine):
    engine = None  # set by the test function

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """A small world to start from: named companies created at distinct moments,
        contacts and deals linked to them with random labels, some sync properties."""
        self.world = World.new(type(self).engine)
        # Source edits either all go through fan-out jobs, or (the default) through the
        # queue when the source wins few targets; a small plan is applied in the planning
        # transaction (the default) or in a step of its own: every path is kept right.
        # Batches as small as one change or target make every kind of work stop halfway.
        batch = st.sampled_from([1, 2, 2000])
        self.world.worker = WorkerConfig(
            small_fanout=data.draw(st.sampled_from([0, 1, 100])),
            fast_lane=data.draw(st.sampled_from([0, 20])), change_batch=data.draw(batch),
            target_batch=data.draw(batch), fanout_batch=data.draw(batch),
            backfill_batch=data.draw(batch), batch_s=None)
        self.eager = data.draw(st.booleans(), label="settle after every step")
        self.pace = data.draw(st.randoms(use_true_random=False))  # worker steps between writes
        self.model = Model()
        self.serial = 0
        self.merged: set[int] = set()
        self.billing = self.world.label("contacts", "companies", "Billing")
        INVERSE[self.billing] = self.billing + 1
        self.labels = {"P": frozenset({PRIMARY}), "B": frozenset({self.billing}),
                       "UB": frozenset({UNLABELED, self.billing}), "D": frozenset({5})}
        for kind in ("companies", "companies", "companies", "contacts", "contacts", "contacts",
                     "contacts", "deals", "deals"):
            self.create(kind, 1, data.draw(st.sampled_from([None, "Acme", "unique"])))
            time.sleep(0.002)  # distinct createdAt, so FIRST and LAST differ
        self.create("companies", 2, "unique")  # a pair created in the same millisecond
        *_, tie_a, tie_b = self.model.live("companies")
        contact = self.model.live("contacts")[0]
        for company in (tie_a, tie_b):
            self.world.set("companies", company, city=f"City {company}")
            self.model.values[(company, "city")] = f"City {company}"
            self._link("contacts", contact, "companies", company, {UNLABELED})
        for _ in range(data.draw(st.integers(3, 9))):
            data.draw(st.sampled_from([self.associate_contact_company,
                                       self.associate_deal_company,
                                       self.associate_deal_contact]))(data)
        for slot in data.draw(st.lists(st.sampled_from(sorted(MENU)), max_size=4, unique=True)):
            self.define_or_redefine(slot, data.draw(st.integers(0, 2)))

    # -- records and values -------------------------------------------------------------
    @rule(kind=st.sampled_from(["contacts", "companies", "companies", "deals"]),
          count=st.integers(1, 2), name=st.sampled_from([None, "Acme", "unique"]))
    def create(self, kind: str, count: int, name: str | None) -> None:
        """A batch of records, created in the same millisecond (ties are broken by id)."""
        names = [f"Company {len(self.model.created)}-{i}" if name == "unique" else name
                 for i in range(count)]
        values = [{"name": n} if n and kind == "companies" else {} for n in names]
        ids = self.world.create_each(kind, values)
        with read_transaction(self.world.engine) as conn:
            rows = load_records(conn, self.world.account_id, kind, ids)
        for rid, given in zip(ids, values, strict=True):
            self.model.created[rid] = (kind, rows[rid].created_ms)
            if given:
                self.model.values[(rid, "name")] = str(given["name"])

    @precondition(lambda self: self.model.live("companies"))
    @rule(data=st.data(), prop=st.sampled_from(["name", "city"]),
          value=st.sampled_from(["", "Oslo", "Acme", "unique"]))
    def set_company_value(self, data: st.DataObject, prop: str, value: str) -> None:
        company = data.draw(st.sampled_from(self.model.live("companies")))
        self._set_company(company, prop, value)

    @precondition(lambda self: self._linked_companies())
    @rule(data=st.data(), prop=st.sampled_from(["name", "city"]))
    def rename_a_linked_company(self, data: st.DataObject, prop: str) -> None:
        """A new value on a company that has targets: what fans out (and what a fan-out or
        a queued recompute under way must not lose)."""
        self._set_company(data.draw(st.sampled_from(self._linked_companies())), prop, "unique")

    @precondition(lambda self: not self.eager and self._linked_companies())
    @rule(data=st.data(), prop=st.sampled_from(["name", "city"]), steps=st.integers(1, 3))
    def rename_twice_while_working(self, data: st.DataObject, prop: str, steps: int) -> None:
        """A company renamed, the worker part way through copying it, renamed again."""
        company = data.draw(st.sampled_from(self._linked_companies()))
        self._set_company(company, prop, "unique")
        self.work_a_little(steps)
        self._set_company(company, prop, "unique")

    def _linked_companies(self) -> list[int]:
        live = set(self.model.live("companies"))
        return sorted({to for (_, to) in self.model.links if to in live})

    def _set_company(self, company: int, prop: str, value: str) -> None:
        if value == "unique":  # never the same twice, so that a stale copy shows
            self.serial += 1
            value = f"{prop} {company} #{self.serial}"
        self.world.set("companies", company, **{prop: value})
        if value:
            self.model.values[(company, prop)] = value
        else:
            self.model.values.pop((company, prop), None)

    @precondition(lambda self: self.model.created)
    @rule(data=st.data())
    def archive_or_restore(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.model.created)))
        kind = self.model.created[rid][0]
        if rid in self.model.archived:
            if rid in self.merged:
                return
            self.world.restore(kind, rid)
            self.model.archived.discard(rid)
        else:
            self.world.archive(kind, rid)
            self.model.archived.add(rid)

    @precondition(lambda self: len(self.model.live("companies")) >= 2)
    @rule(data=st.data())
    def merge_companies(self, data: st.DataObject) -> None:
        keep, drop = data.draw(st.lists(st.sampled_from(self.model.live("companies")),
                                        min_size=2, max_size=2, unique=True))
        self.world.merge("companies", keep, drop)
        self.merged = self.merged | {drop}
        for prop in ("name", "city"):
            if (keep, prop) not in self.model.values and (drop, prop) in self.model.values:
                self.model.values[(keep, prop)] = self.model.values[(drop, prop)]
        self.model.archived.add(drop)
        for (frm, to), types in list(self.model.links.items()):
            if frm == drop:
                self._drop_pair(drop, to)
                if to != keep:
                    self._add(self.model.created[keep][0], keep, self.model.created[to][0],
                              to, set(types), from_merge=True)

    # -- associations -------------------------------------------------------------------
    @precondition(lambda self: self.model.live("contacts") and self.model.live("companies"))
    @rule(data=st.data())
    def associate_contact_company(self, data: st.DataObject) -> None:
        contact = data.draw(st.sampled_from(self.model.live("contacts")))
        company = data.draw(st.sampled_from(self.model.live("companies")))
        types = data.draw(st.sets(st.sampled_from([*CONTACT_COMPANY, self.billing]),
                                  min_size=1))
        self._link("contacts", contact, "companies", company, types)

    @precondition(lambda self: self.model.live("deals") and self.model.live("companies"))
    @rule(data=st.data())
    def associate_deal_company(self, data: st.DataObject) -> None:
        deal = data.draw(st.sampled_from(self.model.live("deals")))
        company = data.draw(st.sampled_from(self.model.live("companies")))
        types = data.draw(st.sets(st.sampled_from(DEAL_COMPANY), min_size=1))
        self._link("deals", deal, "companies", company, types)

    @precondition(lambda self: self.model.live("deals") and self.model.live("contacts"))
    @rule(data=st.data())
    def associate_deal_contact(self, data: st.DataObject) -> None:
        deal = data.draw(st.sampled_from(self.model.live("deals")))
        contact = data.draw(st.sampled_from(self.model.live("contacts")))
        self._link("deals", deal, "contacts", contact, set(DEAL_CONTACT))

    @precondition(lambda self: self.model.links)
    @rule(data=st.data(), whole=st.booleans())
    def remove_label_or_association(self, data: st.DataObject, whole: bool) -> None:
        frm, to = data.draw(st.sampled_from(sorted(self.model.links)))
        kinds = (self.model.created[frm][0], self.model.created[to][0])
        if whole:
            self.world.unlink(kinds[0], frm, kinds[1], to)
            self._drop_pair(frm, to)
            return
        types = sorted(self.model.links[(frm, to)])
        removed = data.draw(st.sets(st.sampled_from(types), min_size=1))
        self.world.unlink(kinds[0], frm, kinds[1], to, sorted(removed))
        self._remove_types(frm, to, removed)

    def _link(self, ft: str, frm: int, tt: str, to: int, types: set[int]) -> None:
        self.world.link(ft, frm, tt, to, sorted(types))
        self._add(ft, frm, tt, to, types)

    def _add(self, ft: str, frm: int, tt: str, to: int, types: set[int],
             from_merge: bool = False) -> None:
        """Mirror storage: both directions; a record keeps at most one Primary company."""
        inverse_of = {v: k for k, v in INVERSE.items()}
        for t in types:
            forward = t if t in INVERSE else inverse_of[t]
            owner, other = (frm, to) if t in INVERSE else (to, frm)
            if forward in PRIMARY_TYPES:
                for (a, b), held in list(self.model.links.items()):
                    if a == owner and b != other and forward in held:
                        self._remove_types(a, b, {forward})
            self.model.links.setdefault((owner, other), set()).add(forward)
            self.model.links.setdefault((other, owner), set()).add(INVERSE[forward])
        del from_merge

    def _remove_types(self, frm: int, to: int, types: set[int]) -> None:
        inverse_of = {v: k for k, v in INVERSE.items()}
        for t in types:
            back = INVERSE.get(t, inverse_of.get(t))
            self.model.links.get((frm, to), set()).discard(t)
            self.model.links.get((to, frm), set()).discard(back)  # type: ignore[arg-type]
        for key in ((frm, to), (to, frm)):
            if key in self.model.links and not self.model.links[key]:
                del self.model.links[key]

    def _drop_pair(self, frm: int, to: int) -> None:
        self.model.links.pop((frm, to), None)
        self.model.links.pop((to, frm), None)

    # -- sync properties ----------------------------------------------------------------
    @rule(slot=st.sampled_from(sorted(MENU)), choice=st.integers(0, 2))
    def define_or_redefine(self, slot: str, choice: int) -> None:
        target, name = slot.split(".")
        source_type, prop, label, selection = MENU[slot][choice % len(MENU[slot])]
        types = self.labels[label] if label else None
        request = SourceRequest(source_type, prop, None if types is None else [
            ("USER_DEFINED" if t == self.billing else "HUBSPOT_DEFINED", t) for t in types],
            selection)
        chained = f"{source_type}.{prop}"
        if chained in MENU and chained not in self.model.defs:
            return  # the source sync property does not exist (yet)
        if slot in self.model.defs:
            redefine_sync_property(self.world.engine, self.world.principal, target, name,
                                   request)
        else:
            self.world.define(target, name, source_type, prop, None if types is None
                              else sorted(types), selection)
        self.model.defs[slot] = Definition(target, source_type, prop, types, selection)

    @precondition(lambda self: self.model.defs)
    @rule(data=st.data())
    def delete_definition(self, data: st.DataObject) -> None:
        slot = data.draw(st.sampled_from(sorted(self.model.defs)))
        target, name = slot.split(".")
        used = any(f"{d.source_type}.{d.source_property}" == slot
                   for d in self.model.defs.values())
        if used:
            with pytest.raises(ValidationError):
                delete_sync_property(self.world.engine, self.world.principal, target, name)
            return
        delete_sync_property(self.world.engine, self.world.principal, target, name)
        del self.model.defs[slot]

    # -- the engine's own pace -----------------------------------------------------------
    @precondition(lambda self: not self.eager)
    @rule(steps=st.integers(1, 3))
    def work_a_little(self, steps: int) -> None:
        """A few worker steps, leaving the rest pending while more writes arrive."""
        worker = SyncWorker(self.world.engine, self.world.worker)
        for _ in range(steps):
            if not worker.step():
                return

    @precondition(lambda self: not self.eager)
    @rule()
    def settle(self) -> None:
        self.check()

    # -- the invariant ------------------------------------------------------------------
    @invariant()
    def every_sync_value_follows_the_rule(self) -> None:
        if not hasattr(self, "world"):
            return
        if self.eager:
            self.check()
        else:  # between any two writes, the worker may have got some way
            self.work_a_little(self.pace.choice([0, 0, 1, 2]))

    def teardown(self) -> None:
        if hasattr(self, "world"):
            self.check()

    def check(self) -> None:
        """Let the engine settle; then every sync value is the rule's, and verify agrees."""
        self.world.settle()
        for slot, d in self.model.defs.items():
            name = slot.split(".")[1]
            for target in self.model.live(d.target):
                assert self.world.value(d.target, target, name) == self.model.expected(
                    slot, target), (slot, target)
        assert verify(self.world.engine, self.world.account_id) == []


@pytest.mark.slow
def test_every_sync_value_equals_the_rule_after_any_sequence(quiet_engine):
    # A database of its own: no other worker drains what the machine leaves pending.
    SyncMachine.engine = quiet_engine
    test = SyncMachine.TestCase
    test.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()
