"""The migration assistant's scan and plan on both stores: an account with copy
workflows (one clean, one with stale copies, a two-way pair, one with an enrollment
filter) is classified exactly, and each plan's dry run counts exactly what was seeded;
workflow JSON exported from HubSpot is scanned from files; nothing is written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from propsync.domain.auth import AUTOMATION, Principal, object_scope, schema_scope
from propsync.domain.errors import ForbiddenError, NotFoundError, ValidationError
from propsync.domain.migration_scan import Direction, Kind
from propsync.domain.properties import AccessRule
from propsync.domain.sync_rule import Selection
from propsync.services import migration_scan as svc
from propsync.services import workflow_runs as run_svc
from propsync.services.migration_documents import read_documents
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import find_property, update_property
from tests.integration.flows import (
    FlowWorld,
    association,
    copied,
    equals,
    fetched,
    flow,
    known,
    set_property,
    source,
)
from tests.integration.world import UNLABELED

COMPANY_TO_CONTACT = 280
POSTMAN = Path("/work/shared/hubspot-api-specs/automation-v4-flows.postman.json")


def copy_from(target: str, prop: str, name: str, criteria: list[dict[str, Any]] | None = None,
              last: bool = False) -> dict[str, Any]:
    return flow("contacts", [set_property("1", target, fetched("co", prop))],
                sources=[source("co", "companies", UNLABELED, last=last)],
                criteria=criteria or [known("createdate")], name=name)


class Account:
    """Three companies, seven contacts (six with a company, the last two with two), and
    the workflows, run once over every contact."""

    def __init__(self, engine: Engine) -> None:
        w = self.w = FlowWorld.new(engine)
        for ot, name in (("contacts", "company_name"), ("contacts", "company_region"),
                         ("contacts", "company_tier"), ("companies", "region"),
                         ("companies", "tier")):
            w.prop(ot, name)
        self.companies = [w.one("companies", name=n, region=r, tier=tier)
                          for n, r, tier in (("Acme", "North", "Gold"),
                                             ("Beta", "South", "Silver"),
                                             ("Gamma", "North", "Gold"))]
        self.contacts = w.create("contacts", 7)
        for i, c in enumerate(self.contacts[:6]):
            w.link("contacts", c, "companies", self.companies[i % 3])
        # the last two contacts also have the first company, created before theirs
        for c in self.contacts[4:6]:
            w.link("contacts", c, "companies", self.companies[0])
        w.set("contacts", self.contacts[0], lifecyclestage="customer")
        w.set("contacts", self.contacts[1], lifecyclestage="customer")
        self.clean = w.flow(copy_from("company_name", "name", "Company name"))
        self.stale = w.flow(copy_from("company_region", "region", "Company region"))
        self.filtered = w.flow(copy_from("company_tier", "tier", "Customer tier",
                                         [equals("lifecyclestage", "customer")]))
        self.down = w.flow(flow("companies", [set_property(
            "1", "city", copied("city"), to=association(COMPANY_TO_CONTACT))],
            criteria=[known("city")], reenroll_on=["city"], name="City down", enabled=False))
        self.up = w.flow(flow("contacts", [set_property(
            "1", "city", copied("city"), to=association(UNLABELED))],
            criteria=[known("city")], reenroll_on=["city"], name="City up", enabled=False))
        for fid in (self.clean, self.stale, self.filtered):
            run_svc.enroll_existing(w.engine, w.principal, str(fid))
        w.run()

    def seed_stale(self) -> list[int]:
        """Three stale copies: two written over by hand, and one whose company's region
        changed after the workflow copied it (a copy "from" never sees that): Beta is
        the first created company of contact 1 only."""
        w, c = self.w, self.contacts
        w.set("contacts", c[0], company_region="Wrong")
        w.set("contacts", c[3], company_region="Elsewhere")
        w.set("companies", self.companies[1], region="East")
        w.run()
        return sorted([c[0], c[1], c[3]])


@pytest.fixture(scope="module")
def account(quiet_engine: Engine) -> Account:
    return Account(quiet_engine)


def everything(engine: Engine, account_id: int) -> tuple[int, ...]:
    with read_transaction(engine) as conn:
        return tuple(int(conn.execute(select(func.count()).select_from(table).where(
            table.c.account_id == account_id)).scalar_one())
            for table in (t.property_values, t.property_history, t.properties, t.workflows,
                          t.sync_properties, t.change_log))


def test_the_scan_classifies_each_workflow_exactly(account):
    w = account.w
    before = everything(w.engine, w.account_id)
    result = svc.scan_account(w.engine, w.principal)
    kinds = {f.flow_id: f.verdict.kind for f in result.flows}
    assert kinds == {account.clean: Kind.ONE_WAY_COPY, account.stale: Kind.ONE_WAY_COPY,
                     account.filtered: Kind.CONDITIONAL_COPY, account.down: Kind.TWO_WAY,
                     account.up: Kind.TWO_WAY}
    assert result.hidden == 0
    by_id = {f.flow_id: f.verdict for f in result.flows}
    assert by_id[account.down].partner == str(account.up)
    assert by_id[account.up].partner == str(account.down)
    filtered = by_id[account.filtered]
    counts = {f.flow_id: f.excluded for f in result.flows}
    assert counts == {account.clean: None, account.stale: None, account.filtered: 4,
                      account.down: None, account.up: None}
    assert filtered.differences[0].text == (
        "The workflow copies only for contacts with lifecycle stage = customer; a sync "
        "property copies for every contact.")
    p = by_id[account.clean].proposal
    assert p is not None and (p.target_type, p.source_type, p.source_property,
                              p.association_types, p.selection, p.direction) == (
        "contacts", "companies", "name", (("HUBSPOT_DEFINED", UNLABELED),),
        Selection.FIRST_CREATED, Direction.FROM)
    assert everything(w.engine, w.account_id) == before


def test_a_clean_copy_plans_a_sync_property_with_no_difference(account):
    w = account.w
    plan = svc.plan_flow(w.engine, w.principal, str(account.clean))
    assert plan.proposal.label == "Company_Name (sync)"
    assert plan.proposal.name == "company_name_sync"
    assert plan.proposal.source.association_types == [("HUBSPOT_DEFINED", UNLABELED)]
    d = plan.dry_run
    assert (d.targets, d.with_value, d.differing, d.stale, d.missing, d.orphaned) == (
        7, 6, 0, 0, 0, 0)
    # the last two contacts' first created company is Acme
    assert d.top_values == [("Acme", 4), ("Beta", 1), ("Gamma", 1)] and d.sample == []
    assert plan.excluded is None


def test_the_dry_run_counts_exactly_the_stale_copies_seeded(quiet_engine):
    account = Account(quiet_engine)
    seeded = account.seed_stale()
    w = account.w
    before = everything(w.engine, w.account_id)
    plan = svc.plan_flow(w.engine, w.principal, str(account.stale), top=1, sample=3)
    d = plan.dry_run
    assert (d.differing, d.stale, d.missing, d.orphaned) == (3, 3, 0, 0)
    assert d.sample == seeded
    assert d.top_values == [("North", 5)]
    assert svc.plan_flow(w.engine, w.principal, str(account.stale), sample=2
                         ).dry_run.sample == seeded[:2]
    assert everything(w.engine, w.account_id) == before


def test_a_filtered_copy_counts_the_records_its_filter_excludes(account):
    w = account.w
    plan = svc.plan_flow(w.engine, w.principal, str(account.filtered))
    assert plan.verdict.kind is Kind.CONDITIONAL_COPY
    # six contacts have a company with a tier; two of them are customers
    assert plan.excluded == 4
    assert plan.dry_run.missing == 4 and plan.dry_run.differing == 4


def test_a_two_way_pair_and_a_flow_of_nothing_have_no_plan(account):
    w = account.w
    with pytest.raises(ValidationError, match="two-way sync"):
        svc.plan_flow(w.engine, w.principal, str(account.down))


def test_unknown_and_other_accounts_flows_are_not_found(account, quiet_engine):
    other = FlowWorld.new(quiet_engine)
    for flow_id in ("999999999", "x", str(account.clean)):
        with pytest.raises(NotFoundError):
            svc.plan_flow(quiet_engine, other.principal, flow_id)
    assert svc.scan_account(quiet_engine, other.principal).flows == []


def test_a_caller_without_a_types_schema_scope_is_told_only_a_count(account):
    w = account.w
    scopes = frozenset({AUTOMATION, schema_scope("contacts"), object_scope("contacts")})
    narrow = Principal(w.account_id, w.principal.user_id, w.principal.team_ids, scopes,
                       w.principal.role)
    result = svc.scan_account(w.engine, narrow)
    assert result.flows == [] and result.hidden == 5
    schemas_only = replace(narrow, scopes=frozenset({
        AUTOMATION, schema_scope("contacts"), schema_scope("companies")}))
    listed = svc.scan_account(w.engine, schemas_only).flows
    assert len(listed) == 5 and {f.excluded for f in listed} == {None}  # no record reads
    with pytest.raises(ForbiddenError):
        svc.plan_flow(w.engine, narrow, str(account.clean))
    with pytest.raises(ForbiddenError):
        svc.scan_account(w.engine, Principal(w.account_id, 0, frozenset(),
                                             frozenset({schema_scope("contacts")}),
                                             w.principal.role))


def test_a_flow_naming_a_restricted_property_is_counted_not_named(quiet_engine):
    account = Account(quiet_engine)
    w = account.w
    with write_transaction(w.engine) as conn:
        prop = find_property(conn, w.account_id, "companies", "region")
        assert prop is not None
        update_property(conn, w.account_id, replace(prop, access=AccessRule(
            frozenset({-1}), None, frozenset({-1}), None)))
    result = svc.scan_account(w.engine, w.principal)
    assert account.stale not in {f.flow_id for f in result.flows} and result.hidden == 1
    assert "region" not in json.dumps([f.verdict.reasons for f in result.flows])
    with pytest.raises(ForbiddenError) as refused:
        svc.plan_flow(w.engine, w.principal, str(account.stale))
    assert "region" not in refused.value.message


def exported(body: dict[str, Any], flow_id: str) -> dict[str, Any]:
    """A flow as ``GET /automation/v4/flows/{id}`` on a HubSpot portal answers it."""
    return {**body, "id": flow_id, "revisionId": "7", "uuid": f"uuid-{flow_id}",
            "createdAt": "2024-03-01T10:00:00Z", "updatedAt": "2024-03-02T10:00:00Z",
            "crmObjectCreationStatus": "COMPLETE", "nextAvailableActionId": "2"}


def test_hubspot_exports_are_scanned_from_files_without_creating_anything(account, tmp_path):
    w = account.w
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "name.json").write_text(json.dumps(exported(
        copy_from("company_name", "name", "Exported name copy", last=True), "101")))
    (folder / "unknown.json").write_text(json.dumps(exported(
        copy_from("company_name", "no_such_property", "Exported unknown"), "102")))
    (folder / "notes.txt").write_text("not a workflow")
    postman = tmp_path / "postman-get.json"
    example = next(r["body"] for item in json.loads(POSTMAN.read_text())["item"]
                   for sub in item.get("item", [item])
                   if sub["name"].startswith("get-/automation/v4/flows/{flow Id}")
                   for r in sub["response"] if r["name"] == "successful operation")
    postman.write_text(example)
    before = everything(w.engine, w.account_id)
    documents = read_documents([postman], folder)
    assert [label for label, _ in documents] == [
        str(postman), str(folder / "name.json"), str(folder / "unknown.json")]
    result = svc.scan_documents(w.engine, w.principal, documents)
    verdicts = {f.key: f.verdict for f in result.flows}
    assert verdicts[str(folder / "name.json")].kind is Kind.ONE_WAY_COPY
    assert verdicts[str(folder / "name.json")].proposal.selection is Selection.LAST_CREATED
    unknown = verdicts[str(folder / "unknown.json")]
    assert unknown.kind is Kind.NOT_CONVERTIBLE
    assert unknown.reasons[0].startswith("unknown property: companies has no property")
    template = verdicts[str(postman)]
    assert template.kind is Kind.NOT_CONVERTIBLE
    assert template.reasons[0].startswith("propsync cannot read this workflow: ")
    assert everything(w.engine, w.account_id) == before


def test_documents_are_bounded(account):
    w = account.w
    with pytest.raises(ValidationError, match="at most 100"):
        svc.scan_documents(w.engine, w.principal, [(str(i), {}) for i in range(101)])
    with pytest.raises(ValidationError, match="at most 1,000,000"):
        svc.scan_documents(w.engine, w.principal, [("big", {"name": "x" * 1_000_001})])
    with pytest.raises(ValidationError, match="at least one"):
        svc.scan_documents(w.engine, w.principal, [])


def test_a_copy_to_associated_contacts_plans_a_sync_property_on_contacts(quiet_engine):
    """Companies write their region into their contacts (re-enrolled when it changes),
    and Gold companies their tier: the plans read each contact's company through the
    inverse association, and the filter's count is of contacts whose company it leaves
    out."""
    w = FlowWorld.new(quiet_engine)
    for ot, name in (("contacts", "company_region"), ("contacts", "company_tier"),
                     ("companies", "region"), ("companies", "tier")):
        w.prop(ot, name)
    gold = w.one("companies", region="North", tier="Gold")
    silver = w.one("companies", region="South", tier="Silver")
    contacts = w.create("contacts", 5)
    for c, company in zip(contacts, (gold, silver, gold, silver, silver), strict=True):
        w.link("contacts", c, "companies", company)
    to = association(COMPANY_TO_CONTACT)
    region = w.flow(flow("companies", [set_property("1", "company_region", copied("region"),
                                                    to=to)],
                         criteria=[known("region")], reenroll_on=["region"], name="Region"))
    tier = w.flow(flow("companies", [set_property("1", "company_tier", copied("tier"), to=to)],
                       criteria=[known("tier"), equals("tier", "Gold")], reenroll_on=["tier"],
                       name="Gold tier"))
    for fid in (region, tier):
        run_svc.enroll_existing(w.engine, w.principal, str(fid))
    w.run()
    scanned = {f.flow_id: f.verdict for f in svc.scan_account(w.engine, w.principal).flows}
    assert scanned[region].kind is Kind.ONE_WAY_COPY
    assert scanned[tier].kind is Kind.CONDITIONAL_COPY
    plan = svc.plan_flow(w.engine, w.principal, str(region))
    assert plan.proposal.sync.direction is Direction.TO
    assert plan.proposal.source.association_types == [("HUBSPOT_DEFINED", UNLABELED)]
    assert (plan.dry_run.with_value, plan.dry_run.differing) == (5, 0)
    w.set("contacts", contacts[3], company_region="Stale")
    again = svc.plan_flow(w.engine, w.principal, str(region)).dry_run
    assert (again.stale, again.sample) == (1, [contacts[3]])
    tiers = svc.plan_flow(w.engine, w.principal, str(tier))
    assert tiers.excluded == 3  # the Silver company's three contacts
    assert tiers.dry_run.missing == 3 and tiers.dry_run.top_values == [("Silver", 3),
                                                                       ("Gold", 2)]


def test_a_two_way_partner_the_caller_may_not_see_is_not_named(quiet_engine):
    w = FlowWorld.new(quiet_engine)
    w.prop("contacts", "hidden_flag")
    down = w.flow(flow("companies", [set_property(
        "1", "city", copied("city"), to=association(COMPANY_TO_CONTACT))],
        criteria=[known("city")], reenroll_on=["city"], name="City down", enabled=False))
    w.flow(flow("contacts", [set_property(
        "1", "city", copied("city"), to=association(UNLABELED))],
        criteria=[known("city"), known("hidden_flag")], reenroll_on=["city"],
        name="Secret city up", enabled=False))
    with write_transaction(w.engine) as conn:
        prop = find_property(conn, w.account_id, "contacts", "hidden_flag")
        assert prop is not None
        update_property(conn, w.account_id, replace(prop, access=AccessRule(
            frozenset({-1}), None, frozenset({-1}), None)))
    result = svc.scan_account(w.engine, w.principal)
    [seen] = result.flows
    assert seen.flow_id == down and result.hidden == 1
    assert seen.verdict.kind is Kind.TWO_WAY and seen.verdict.partner is None
    assert "Secret" not in " ".join(seen.verdict.reasons)
    assert "which you may not see" in seen.verdict.reasons[0]
