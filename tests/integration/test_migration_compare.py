"""The migration's clone, compare and history steps (issue 16, steps 4, 5 and 7), on SQLite
and PostgreSQL: an account whose contacts hold a copy of their company's name (some copies
stale, written wrong on purpose) and a sync property for the same thing; a dynamic list
filtering on the copy, a report grouped by it and a workflow reading it. ``clone_uses``
clones all three with the sync property in the copy's place; ``compare_lists`` finds
exactly the stale records, each on the side it belongs to; ``compare_reports`` finds
exactly the groups they move, and, as of a date before the sync property existed, agrees
once ``fill_history`` has copied the copy property's history (twice adds nothing)."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, func, select, update

from propsync.clock import now_ms
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.errors import PermissionDeniedError, ValidationError
from propsync.domain.migration_compare import NOT_BY_FILTER, STALE_COPY
from propsync.domain.properties import AccessRule
from propsync.lists.runner import ListWorker
from propsync.services import list_members as members_svc
from propsync.services import lists as list_svc
from propsync.services import reports as report_svc
from propsync.services import workflows as flow_svc
from propsync.services.accounts import create_user
from propsync.services.migration_clones import (
    ALREADY_CLONED,
    CLONED,
    NOT_CLONED,
    clone_uses,
)
from propsync.services.migration_compare import compare_flows, compare_lists
from propsync.services.migration_history import fill_history
from propsync.services.report_compare import compare_reports
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import _access_to_json
from tests.integration.flows import FlowWorld, equals, flow, set_property, static
from tests.integration.world import PRIMARY
from tests.patience import WAIT_GUARD_S

COPY, SYNC = "company_copy", "company_sync"


def branch(value: str) -> dict[str, Any]:
    return {"filterBranchType": "OR", "filters": [], "filterBranches": [
        {"filterBranchType": "AND", "filterBranches": [], "filters": [
            {"filterType": "PROPERTY", "property": COPY, "operation": {
                "operationType": "STRING", "operator": "IS_EQUAL_TO", "value": value}}]}]}


@dataclass
class Account:
    w: FlowWorld
    contacts: dict[str, int]
    list_id: str
    report_id: str
    flow_id: str
    copier_id: str
    before_sync_ms: int  # a moment after the copies were written, before the sync property


def seed_account(engine: Engine, w: FlowWorld | None = None) -> Account:
    """The account of these tests (in ``w``'s account, else a new one)."""
    w = w or FlowWorld.new(engine)
    w.prop("contacts", COPY)
    companies = dict(zip(("Acme", "Globex", "Initech", "Hooli"), w.create_each(
        "companies", [{"name": n} for n in ("Acme", "Globex", "Initech", "Hooli")]),
        strict=True))
    # contact → (its company, what its copy says): c3, c4 and c6 are stale copies
    seeded = {"c1": ("Acme", "Acme"), "c2": ("Acme", "Acme"), "c3": ("Globex", "Acme"),
              "c4": ("Acme", "Initech"), "c5": ("Globex", "Globex"), "c6": (None, "Acme"),
              "c7": ("Hooli", "Hooli")}
    ids = w.create_each("contacts", [{"firstname": k, COPY: v[1]} for k, v in seeded.items()])
    contacts = dict(zip(seeded, ids, strict=True))
    for key, (company, _) in seeded.items():
        if company is not None:
            w.link("contacts", contacts[key], "companies", companies[company], [PRIMARY])
    w.set("contacts", contacts["c7"], **{COPY: "Hooli"})  # no change: history stays one entry
    time.sleep(0.005)
    before = now_ms()
    time.sleep(0.005)
    w.define("contacts", SYNC, "companies", "name", [PRIMARY])
    w.settle()
    saved = list_svc.create_list(engine, w.principal, {
        "name": f"Acme people {uuid.uuid4().hex[:6]}", "objectTypeId": "0-1",
        "processingType": "DYNAMIC", "filterBranch": branch("Acme")})
    report = report_svc.create_report(engine, w.principal, {
        "name": "By company", "objectType": "contacts", "groupBy": COPY})
    reader = w.flow(flow("contacts", [set_property("1", "firstname", static("Acme person"))],
                         criteria=[equals(COPY, "Acme")], name="Greets Acme", enabled=False))
    copier = w.flow(flow("contacts", [set_property("1", COPY, static("x"))],
                         name="Writes the copy", enabled=False))
    ListWorker(engine).drain()
    return Account(w, contacts, str(saved.list_id), str(report.report_id), str(reader),
                   str(copier), before)


@pytest.fixture
def account(engine: Engine) -> Account:
    return seed_account(engine)


def evaluated(a: Account, list_id: str) -> None:
    until_evaluated(a.w.engine, a.w.principal, list_id)


def until_evaluated(engine: Engine, principal: Principal, *list_ids: str) -> None:
    """The list worker has evaluated the lists (drained until each is COMPLETE: a drain on
    PostgreSQL skips a list row another transaction holds, and ends)."""
    deadline = time.monotonic() + WAIT_GUARD_S
    while any(list_svc.get_list(engine, principal, i).status != "COMPLETE" for i in list_ids):
        assert time.monotonic() < deadline, f"lists {list_ids} were not evaluated"
        ListWorker(engine).drain()
        time.sleep(0.02)


def clones_of(a: Account) -> dict[str, Any]:
    found = clone_uses(a.w.engine, a.w.principal, "contacts", COPY, SYNC)
    return {f.kind + ":" + f.original_id: f for f in found}


def test_clone_uses_clones_each_list_report_and_reading_workflow_once(account: Account
                                                                       ) -> None:
    a = account
    a.w.define("companies", "first_contacts_copy", "contacts", COPY, types=None)
    clones = clones_of(a)
    assert {k: c.status for k, c in clones.items()} == {
        f"list:{a.list_id}": CLONED, f"report:{a.report_id}": CLONED,
        f"workflow:{a.flow_id}": CLONED, f"workflow:{a.copier_id}": NOT_CLONED,
        "sync property:companies.first_contacts_copy": NOT_CLONED}
    assert "goes on copying the old property" in \
        clones["sync property:companies.first_contacts_copy"].note
    assert "writes the old property" in clones[f"workflow:{a.copier_id}"].note
    cloned_list = list_svc.get_list(a.w.engine, a.w.principal,
                                    clones[f"list:{a.list_id}"].clone_id)
    assert cloned_list.filter is not None
    assert set(cloned_list.filter.property_names) == {SYNC}
    cloned_report = report_svc.get_report(a.w.engine, a.w.principal,
                                          clones[f"report:{a.report_id}"].clone_id)
    assert cloned_report.spec.group_by == SYNC
    cloned_flow = flow_svc.get_flow(a.w.engine, a.w.principal,
                                    clones[f"workflow:{a.flow_id}"].clone_id)
    assert cloned_flow.enabled is False
    flows = compare_flows(a.w.engine, a.w.principal, a.flow_id, str(cloned_flow.flow_id),
                          COPY, SYNC)
    assert flows.equal, flows.differences
    unchanged = compare_flows(a.w.engine, a.w.principal, a.flow_id, a.flow_id, COPY, SYNC)
    assert unchanged.differences == ["enrollmentCriteria"]  # the copy, not the sync property
    # Again: nothing new (found by name after a "crash"), or told which exist.
    again = clones_of(a)
    assert {k: (c.status, c.clone_id) for k, c in again.items() if c.status != NOT_CLONED} \
        == {k: (ALREADY_CLONED, c.clone_id) for k, c in clones.items()
            if c.status != NOT_CLONED}
    done = {(c.kind, c.original_id): c.clone_id for c in clones.values() if c.clone_id}
    told = clone_uses(a.w.engine, a.w.principal, "contacts", COPY, SYNC, done=done)
    assert {c.status for c in told} == {ALREADY_CLONED, NOT_CLONED}


def test_compare_lists_finds_exactly_the_stale_copies_on_their_side(account: Account
                                                                    ) -> None:
    a = account
    clone_id = clones_of(a)[f"list:{a.list_id}"].clone_id
    evaluated(a, clone_id)
    found = compare_lists(a.w.engine, a.w.principal, a.list_id, clone_id, COPY, SYNC)
    c = a.contacts
    assert found.definitions_match and not found.notes
    assert (found.only_in_original.total, found.only_in_original.stale) == (2, 2)
    assert [(m.record_id, m.old_value, m.new_value) for m in found.only_in_original.records] \
        == [(c["c3"], "Acme", "Globex"), (c["c6"], "Acme", None)]
    assert [(m.record_id, m.old_value, m.new_value) for m in found.only_in_clone.records] \
        == [(c["c4"], "Initech", "Acme")]
    everyone = found.only_in_original.records + found.only_in_clone.records
    assert {m.explanation.reason for m in everyone} == {STALE_COPY}
    assert "'Acme'" in everyone[0].explanation.text and "'Globex'" in everyone[0].explanation.text
    # Inferred from the definitions; paged by record id.
    inferred = compare_lists(a.w.engine, a.w.principal, a.list_id, clone_id, limit=1)
    assert inferred.pair.old is not None and inferred.pair.old.name == COPY
    assert [m.record_id for m in inferred.only_in_original.records] == [c["c3"]]
    assert inferred.only_in_original.next_after == str(c["c3"])
    rest = compare_lists(a.w.engine, a.w.principal, a.list_id, clone_id, limit=1,
                         original_after=inferred.only_in_original.next_after)
    assert [m.record_id for m in rest.only_in_original.records] == [c["c6"]]
    assert rest.only_in_original.next_after is None


def test_a_list_still_processing_is_said_so(account: Account) -> None:
    a = account
    fresh = list_svc.clone_list(a.w.engine, a.w.principal, a.list_id, {
        "name": f"Fresh {uuid.uuid4().hex[:6]}", "replace": {"property": COPY, "with": SYNC}})
    # no list worker runs here: the fresh clone is not evaluated yet
    found = compare_lists(a.w.engine, a.w.principal, a.list_id, str(fresh.list_id), COPY,
                          SYNC)
    assert any("PROCESSING" in n for n in found.notes)


def test_members_chosen_by_hand_are_said_so(account: Account) -> None:
    a = account
    manual = list_svc.create_list(a.w.engine, a.w.principal, {
        "name": f"Picked {uuid.uuid4().hex[:6]}", "objectTypeId": "0-1",
        "processingType": "MANUAL"})
    members_svc.change_members(a.w.engine, a.w.principal, str(manual.list_id),
                            [str(a.contacts["c5"])], [])
    found = compare_lists(a.w.engine, a.w.principal, a.list_id, str(manual.list_id))
    assert found.pair.old is None and not found.definitions_match
    assert [(m.record_id, m.explanation.reason) for m in found.only_in_clone.records] == [
        (a.contacts["c5"], NOT_BY_FILTER)]
    assert found.only_in_original.total == 4 and found.only_in_original.stale == 0
    assert any("MANUAL" in n for n in found.notes)


def test_compare_reports_finds_exactly_the_groups_the_stale_copies_move(account: Account
                                                                        ) -> None:
    a = account
    clone_id = clones_of(a)[f"report:{a.report_id}"].clone_id
    found = compare_reports(a.w.engine, a.w.principal, a.report_id, clone_id, COPY, SYNC)
    c = a.contacts
    by_key = {(d.kind, d.key): d for d in found.differences}
    assert set(by_key) == {("VALUE", "Acme"), ("VALUE", "Globex"), ("VALUE", "Initech"),
                           ("NO_VALUE", None)}  # Hooli is clean: not a difference
    assert found.moved == 3 and found.definitions_match
    acme = by_key[("VALUE", "Acme")]
    assert (acme.original.records, acme.clone.records) == (4, 3)  # type: ignore[union-attr]
    assert (acme.left, acme.joined) == (2, 1)
    assert {m.record_id for m in acme.records} == {c["c3"], c["c4"], c["c6"]}
    assert {m.record_id for m in by_key[("NO_VALUE", None)].records} == {c["c6"]}
    assert all(m.explanation.reason == STALE_COPY for d in found.differences
               for m in d.records)


def test_history_fill_makes_reports_as_of_a_past_date_agree(account: Account) -> None:
    a = account
    clone_id = clones_of(a)[f"report:{a.report_id}"].clone_id
    as_of = str(a.before_sync_ms)
    before = compare_reports(a.w.engine, a.w.principal, a.report_id, clone_id, COPY, SYNC,
                             as_of=as_of)
    assert before.differences  # the sync property had no history then
    filled = fill_history(a.w.engine, a.w.principal, "contacts", COPY, SYNC, batch_size=2)
    assert filled.copied == 7 and filled.batches >= 4
    after = compare_reports(a.w.engine, a.w.principal, a.report_id, clone_id, COPY, SYNC,
                            as_of=as_of)
    assert after.same and after.moved == 0
    assert [(g.key, g.records) for g in after.original_figures.groups] == \
        [(g.key, g.records) for g in after.clone_figures.groups]
    assert fill_history(a.w.engine, a.w.principal, "contacts", COPY, SYNC).copied == 0
    entries = a.w.history("contacts", a.contacts["c3"], SYNC)
    copied = [e for e in entries if e.source.source_type == "MIGRATION"]
    assert [(e.value, e.source.source_id) for e in copied] == [("Acme", COPY)]
    assert entries[0].source.source_type == "SYNC"  # today's value stays newest
    h = t.property_history
    with read_transaction(a.w.engine) as conn:
        assert conn.execute(select(func.count()).where(
            h.c.account_id == a.w.account_id, h.c.source_type == "MIGRATION")).scalar() == 7


def test_the_history_fill_refuses_what_is_not_a_sync_property(account: Account) -> None:
    with pytest.raises(ValidationError, match="not a sync property"):
        fill_history(account.w.engine, account.w.principal, "contacts", "firstname", COPY)


def test_restricted_values_are_neither_cloned_nor_compared(account: Account) -> None:
    a = account
    clones = clones_of(a)
    user_id = create_user(a.w.engine, a.w.account_id, f"u{uuid.uuid4().hex[:6]}@example.com")
    other = Principal(a.w.account_id, user_id, frozenset(), frozenset(ALL_SCOPES), Role.ADMIN)
    only_admin = AccessRule(frozenset({a.w.principal.user_id}), None,
                            frozenset({a.w.principal.user_id}), None)
    # As if restricted before the assets were made (restricting a property in use is
    # refused): straight into the store.
    p = t.properties
    with write_transaction(a.w.engine) as conn:
        conn.execute(update(p).where(p.c.account_id == a.w.account_id, p.c.name == COPY)
                     .values(access=_access_to_json(only_admin)))
    for call in (
            lambda: compare_lists(a.w.engine, other, a.list_id,
                                  clones[f"list:{a.list_id}"].clone_id),
            lambda: compare_reports(a.w.engine, other, a.report_id,
                                    clones[f"report:{a.report_id}"].clone_id),
            lambda: clone_uses(a.w.engine, other, "contacts", COPY, SYNC)):
        with pytest.raises(PermissionDeniedError) as refused:
            call()
        assert COPY not in refused.value.message and "Acme" not in refused.value.message


NAMES = ("Acme", "Globex", "Initech")
people = st.lists(st.tuples(st.sampled_from((None, *NAMES)), st.sampled_from((None, *NAMES))),
                  min_size=1, max_size=8)


@settings(max_examples=int(os.environ.get("PROPSYNC_MIGRATION_EXAMPLES", "6")),
          deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seeded=people)
def test_the_comparisons_find_exactly_the_records_whose_copy_and_sync_value_differ(
        engine: Engine, seeded: list[tuple[str | None, str | None]]) -> None:
    """Random contacts, each of a company or none and with a copy that says any name or
    none: the list comparison's sides and the report comparison's groups and moved records
    are exactly those computed from scratch."""
    w = FlowWorld.new(engine)
    w.prop("contacts", COPY)
    companies = dict(zip(NAMES, w.create_each("companies", [{"name": n} for n in NAMES]),
                         strict=True))
    ids = w.create_each("contacts", [{COPY: copy} if copy else {} for _, copy in seeded])
    for rid, (company, _) in zip(ids, seeded, strict=True):
        if company is not None:
            w.link("contacts", rid, "companies", companies[company], [PRIMARY])
    w.define("contacts", SYNC, "companies", "name", [PRIMARY])
    w.settle()
    original = list_svc.create_list(engine, w.principal, {
        "name": f"Acme {uuid.uuid4().hex[:6]}", "objectTypeId": "0-1",
        "processingType": "DYNAMIC", "filterBranch": branch("Acme")})
    report = report_svc.create_report(engine, w.principal, {
        "name": "By company", "objectType": "contacts", "groupBy": COPY})
    clones = {c.kind: c.clone_id for c in clone_uses(engine, w.principal, "contacts", COPY,
                                                      SYNC)}
    until_evaluated(engine, w.principal, str(original.list_id), str(clones["list"]))
    rows = list(zip(ids, seeded, strict=True))
    lists = compare_lists(engine, w.principal, str(original.list_id), str(clones["list"]),
                          limit=100)
    assert [m.record_id for m in lists.only_in_original.records] == [
        rid for rid, (company, copy) in rows if copy == "Acme" and company != "Acme"]
    assert [m.record_id for m in lists.only_in_clone.records] == [
        rid for rid, (company, copy) in rows if copy != "Acme" and company == "Acme"]
    reports = compare_reports(engine, w.principal, str(report.report_id),
                              str(clones["report"]), sample=20)
    by_copy = Counter(copy for _, (_, copy) in rows)
    by_sync = Counter(company for _, (company, _) in rows)
    assert {d.key for d in reports.differences} == {
        k for k in {*by_copy, *by_sync} if by_copy[k] != by_sync[k]}
    assert reports.moved == sum(1 for _, (company, copy) in rows if company != copy)
    for d in reports.differences:
        assert (d.left, d.joined) == (
            sum(1 for _, (company, copy) in rows if copy == d.key and company != d.key),
            sum(1 for _, (company, copy) in rows if company == d.key and copy != d.key))
