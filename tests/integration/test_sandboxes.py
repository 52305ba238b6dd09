"""Sandboxes on both stores: what a copy holds (every table keyed by account copied or
skipped for a reason), a sample kept whole, the sandbox consistent (``propsync verify``),
its use never touching the source (the source's export byte for byte equal after the
sandbox was used and deleted), and who may create one."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.errors import (
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.lists.runner import ListWorker
from propsync.lists.verify import verify_lists
from propsync.services import list_members as members_svc
from propsync.services import lists as list_service
from propsync.services import reports as report_service
from propsync.services import sandboxes as svc
from propsync.services import sync_properties
from propsync.services import workflows as flow_service
from propsync.services.accounts import create_account, create_team, create_user
from propsync.storage import account_copy, account_export
from propsync.storage import migrations as migration_store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.sync import verify as checker
from propsync.workflows.runner import WorkflowWorker
from tests.integration import flows
from tests.integration.world import World

LEADS = {"filterBranchType": "OR", "filterBranches": [{"filterBranchType": "AND", "filters": [
    {"filterType": "PROPERTY", "property": "lifecyclestage", "operation": {
        "operationType": "ENUMERATION", "operator": "IS_ANY_OF", "values": ["lead"]}}]}]}


def enterprise_world(engine: Engine, tier: str = "enterprise") -> World:
    account_id = create_account(engine, f"Acme {uuid.uuid4().hex[:6]}", tier)
    user_id = create_user(engine, account_id, f"boss{uuid.uuid4().hex[:6]}@example.com",
                          password="correct horse")
    clerk = create_user(engine, account_id, f"clerk{uuid.uuid4().hex[:6]}@example.com",
                        role=Role.USER)
    create_team(engine, account_id, "Sales", [clerk])
    return World(engine, Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES),
                                   Role.SUPER_ADMIN))


def settle(w: World) -> None:
    for _ in range(2):
        w.settle()
        WorkflowWorker(w.engine).drain()
        ListWorker(w.engine).drain()
    w.settle()


def populate(w: World) -> dict[str, Any]:
    """Companies with contacts, two sync properties (one each way), a label, a workflow,
    a DYNAMIC and a MANUAL list, a report; history from edits."""
    titles = flow_service.create_flow(w.engine, w.principal, flows.flow(
        "contacts", [flows.set_property("1", "jobtitle", flows.static("Lead"))],
        criteria=[flows.equals("lifecyclestage", "lead")], name="Title leads"))
    with write_transaction(w.engine) as conn:  # a migration's row (a rehearsal carries it)
        migration_store.insert_migration(conn, w.account_id, titles.flow_id,
                                         {"objectType": "contacts"}, None, 1)
    companies = w.create_each("companies", [{"name": "Alpha"}, {"name": "Beta"},
                                            {"name": "Gamma"}])
    contacts = w.create_each("contacts", [
        {"email": f"c{i}@example.com", "lifecyclestage": "lead" if i % 2 else "customer"}
        for i in range(6)])
    for c in contacts[:3]:
        w.link("contacts", c, "companies", companies[0])
    for c in contacts[3:5]:
        w.link("contacts", c, "companies", companies[1])
    deal = w.one("deals", dealname="Big one")
    w.link("deals", deal, "companies", companies[1], [341])
    label = w.label("contacts", "companies", "Billing contact")
    w.link("contacts", contacts[4], "companies", companies[0], [label])
    w.define("contacts", "company_name", "companies", "name")
    w.define("companies", "first_contact_email", "contacts", "email")
    w.set("companies", companies[0], name="Alpha Inc")
    w.set("contacts", contacts[0], email="first@example.com")
    w.archive("contacts", contacts[5])
    dynamic = list_service.create_list(w.engine, w.principal, {
        "name": "Leads", "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterBranch": LEADS}).list_id
    manual = list_service.create_list(w.engine, w.principal, {
        "name": "Picked", "objectTypeId": "0-1", "processingType": "MANUAL"}).list_id
    members_svc.change_members(w.engine, w.principal, str(manual),
                                [str(contacts[1]), str(contacts[4])], [])
    report_service.create_report(w.engine, w.principal, {
        "name": "Contacts by company", "objectType": "contacts", "groupBy": "company_name"})
    settle(w)
    return {"companies": companies, "contacts": contacts, "deal": deal, "dynamic": dynamic,
            "manual": manual}


def export(engine: Engine, account_id: int) -> str:
    out = io.StringIO()
    with read_transaction(engine) as conn:
        account_export.export_account(conn, account_id, out)
    return out.getvalue()


def rows(engine: Engine, name: str, account_id: int) -> list[tuple[Any, ...]]:
    tb = t.metadata.tables[name]
    cols = [c for c in tb.columns if c.name != "account_id"]
    with read_transaction(engine) as conn:
        return sorted((tuple(r) for r in conn.execute(
            select(*cols).where(tb.c.account_id == account_id))), key=repr)


def members(engine: Engine, principal: Principal, list_id: int) -> set[int]:
    page = members_svc.member_page(engine, principal, str(list_id), None, None, 100)
    return {rid for rid, _ in page.members}


def count(engine: Engine, name: str, account_id: int) -> int:
    tb = t.metadata.tables[name]
    with read_transaction(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(tb).where(
            tb.c.account_id == account_id)).scalar_one())


def consistent(engine: Engine, account_id: int) -> None:
    assert checker.verify(engine, account_id) == []
    assert verify_lists(engine, account_id) == []
    assert checker.verify_indexes(engine) == []


# ---- every table is accounted for ----

def test_every_table_keyed_by_account_is_copied_or_skipped_for_a_reason():
    """A new table keyed by account must be added to COPIED or SKIPPED (with why)."""
    names = {tb.name for tb in account_copy.account_tables()}
    copied, skipped = set(account_copy.COPIED), set(account_copy.SKIPPED)
    assert not copied & skipped
    assert names - copied - skipped == set(), "neither copied nor skipped"
    assert (copied | skipped) - names == set(), "no such table"
    assert set(account_copy.ORDER) == copied and len(account_copy.ORDER) == len(copied)
    assert all(reason.strip() for reason in account_copy.SKIPPED.values())
    exported = {tb.name for tb in account_export.exported_tables()}
    assert exported | set(account_export.LEFT_OUT) | {"accounts"} == names


# ---- a whole copy ----

def test_a_whole_copy_holds_every_copied_table_and_nothing_of_the_skipped(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    populate(w)
    made = svc.create_sandbox(engine, w.principal, "all")
    sandbox = made.account_id
    assert made.name.endswith(" (sandbox)") and made.token is not None
    assert not made.backfill  # a settled source: values copied as they are
    assert made.copied_records == count(engine, "records", sandbox) > 0
    for name in account_copy.COPIED:
        source_rows = rows(engine, name, w.account_id)
        if name == "workflows":
            enabled = [c.name for c in t.workflows.columns if c.name != "account_id"].index(
                "enabled")
            assert any(r[enabled] for r in source_rows)
            source_rows = sorted((tuple(False if i == enabled else v for i, v in enumerate(r))
                                  for r in source_rows), key=repr)
        assert rows(engine, name, sandbox) == source_rows, name
        assert source_rows or name in {"association_limits", "unique_values"}, (
            f"{name}: nothing to copy")
    for name in ("sessions", "api_usage_daily", "change_log", "sync_targets", "sync_fanouts",
                 "workflow_enrollments", "workflow_runs", "workflow_counts", "gdpr_deletions"):
        assert count(engine, name, sandbox) == 0, name
    assert count(engine, "tokens", sandbox) == 1  # the creator's, none of the source's
    with read_transaction(engine) as conn:
        a = t.accounts
        tier, of = conn.execute(select(a.c.tier, a.c.sandbox_of).where(
            a.c.account_id == sandbox)).one()
    assert (tier, of) == ("enterprise", w.account_id)
    consistent(engine, sandbox)
    assert [s.account_id for s in svc.list_sandboxes(engine, w.principal)] == [sandbox]


def test_lists_in_the_sandbox_follow_its_edits_and_workflows_stay_off(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    made = populate(w)
    sandbox = svc.create_sandbox(engine, w.principal, "all").account_id
    sw = World(engine, Principal(sandbox, w.principal.user_id, frozenset(),
                                 frozenset(ALL_SCOPES), Role.SUPER_ADMIN))
    fresh = sw.one("contacts", lifecyclestage="lead")
    settle(sw)
    assert fresh in members(engine, sw.principal, made["dynamic"])
    # the workflow was copied off: nothing enrolled the new lead
    assert count(engine, "workflow_enrollments", sandbox) == 0
    assert sw.value("contacts", fresh, "jobtitle") is None
    consistent(engine, sandbox)


# ---- a sample ----

def test_a_sample_keeps_its_records_associations_whole(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    made = populate(w)
    contacts, companies = made["contacts"], made["companies"]
    result = svc.create_sandbox(engine, w.principal, "sample:1")
    sandbox = result.account_id
    # core: the lowest live contact, company and deal; with them every record associated
    core = {contacts[0], companies[0], made["deal"]}
    linked = {contacts[1], contacts[2], contacts[4],  # Alpha's contacts (one by label)
              companies[1]}  # the deal's company, without its contacts
    assert {r[0] for r in rows(engine, "records", sandbox)} == core | linked
    # every association of a core record is there; none with an end left out
    copied_links = {(r[0], r[2], r[3]) for r in rows(engine, "associations", sandbox)}
    source_links = {(r[0], r[2], r[3]) for r in rows(engine, "associations", w.account_id)}
    for rid in core:
        assert {x for x in source_links if x[0] == rid} <= copied_links
    assert all(f in core | linked and to in core | linked for f, to, _ in copied_links)
    # values, history and memberships only of copied records
    for name in ("property_values", "property_history", "list_memberships"):
        ids = {r[1] if name == "list_memberships" else r[0] for r in rows(engine, name, sandbox)}
        assert ids <= core | linked, name
    assert result.backfill  # a sample's sync values are recomputed by the engine
    sw = World(engine, Principal(sandbox, w.principal.user_id, frozenset(),
                                 frozenset(ALL_SCOPES), Role.SUPER_ADMIN))
    settle(sw)
    consistent(engine, sandbox)
    # Alpha's first contact is contacts[0] in both; a sampled list keeps only copied members
    assert sw.value("companies", companies[0], "first_contact_email") == "first@example.com"
    # Beta came with the deal, and with contacts[4] (Alpha's by label) but not contacts[3]:
    # its sync value is recomputed from the contact it has there
    assert w.value("companies", companies[1], "first_contact_email") == "c3@example.com"
    assert sw.value("companies", companies[1], "first_contact_email") == "c4@example.com"
    assert members(engine, sw.principal, made["manual"]) == {contacts[1], contacts[4]}


def test_a_sample_is_deterministic(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    populate(w)
    one = svc.create_sandbox(engine, w.principal, "sample:2").account_id
    two = svc.create_sandbox(engine, w.principal, "sample:2").account_id
    assert rows(engine, "records", one) == rows(engine, "records", two)
    assert rows(engine, "associations", one) == rows(engine, "associations", two)


# ---- the source is never touched ----

def test_using_and_deleting_a_sandbox_leaves_the_source_byte_for_byte(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    made = populate(w)
    before = export(engine, w.account_id)
    sandbox = svc.create_sandbox(engine, w.principal, "all").account_id
    sw = World(engine, Principal(sandbox, w.principal.user_id, frozenset(),
                                 frozenset(ALL_SCOPES), Role.SUPER_ADMIN))
    sw.set("companies", made["companies"][0], name="Renamed in the sandbox")
    sw.set("contacts", made["contacts"][1], lifecyclestage="customer")
    sw.archive("contacts", made["contacts"][2])
    sw.one("contacts", email="new@example.com")
    sw.define("deals", "company_name", "companies", "name")
    flow_service.set_enabled(engine, sw.principal, str(flow_service.list_flows(
        engine, sw.principal, None, 10).flows[0].flow_id), True)
    settle(sw)
    assert sw.value("contacts", made["contacts"][0], "company_name") == "Renamed in the sandbox"
    assert export(engine, w.account_id) == before
    svc.delete_sandbox(engine, w.principal, str(sandbox))
    after = export(engine, w.account_id)
    assert after == before
    assert '"records"' in after and f'"account_id": {w.account_id}' in after
    for tb in account_copy.account_tables():
        assert count(engine, tb.name, sandbox) == 0, tb.name
    assert svc.list_sandboxes(engine, w.principal) == []


def test_the_export_is_canonical(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    populate(w)
    first = export(engine, w.account_id)
    assert first == export(engine, w.account_id)
    doc = json.loads(first)
    assert doc["format"] == "propsync-account-export"
    assert "password_hash" not in doc["tables"]["users"]["columns"]
    assert "tokens" not in doc["tables"] and "sessions" not in doc["tables"]


# ---- who may ----

def test_a_professional_account_is_refused(quiet_engine):
    w = enterprise_world(quiet_engine, tier="professional")
    with pytest.raises(PermissionDeniedError, match="Enterprise"):
        svc.create_sandbox(quiet_engine, w.principal, "all")
    with pytest.raises(PermissionDeniedError, match="Enterprise"):
        svc.create_sandbox_from(quiet_engine, w.account_id)
    assert svc.list_sandboxes(quiet_engine, w.principal) == []


def test_only_a_super_admin_creates_or_deletes(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    sandbox = svc.create_sandbox(engine, w.principal, "all").account_id
    for role in (Role.ADMIN, Role.USER):
        other = Principal(w.account_id, w.principal.user_id, frozenset(),
                          frozenset(ALL_SCOPES), role)
        with pytest.raises(PermissionDeniedError, match="super admin"):
            svc.create_sandbox(engine, other, "all")
        with pytest.raises(PermissionDeniedError, match="super admin"):
            svc.delete_sandbox(engine, other, str(sandbox))
    assert [s.account_id for s in svc.list_sandboxes(engine, w.principal)] == [sandbox]


def test_deleting_refuses_what_is_not_this_accounts_sandbox(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    stranger = enterprise_world(engine)
    sandbox = svc.create_sandbox(engine, w.principal, "all").account_id
    with pytest.raises(NotFoundError):
        svc.delete_sandbox(engine, stranger.principal, str(sandbox))
    with pytest.raises(NotFoundError):
        svc.delete_sandbox(engine, w.principal, str(w.account_id))  # not a sandbox
    with pytest.raises(ValidationError, match="not a sandbox"):
        svc.delete_sandbox_by_id(engine, w.account_id)
    sw = Principal(sandbox, w.principal.user_id, frozenset(), frozenset(ALL_SCOPES),
                   Role.SUPER_ADMIN)
    with pytest.raises(ValidationError, match="itself a sandbox"):
        svc.create_sandbox(engine, sw, "all")
    assert count(engine, "records", w.account_id) >= 0
    assert svc.delete_sandbox_by_id(engine, sandbox).account_id == sandbox


def test_bad_choices_are_refused_and_change_nothing(quiet_engine, monkeypatch):
    engine = quiet_engine
    w = enterprise_world(engine)
    w.create("contacts", 3)
    for bad in ("some", "sample:0", "sample:-1", "sample:10001", "sample:"):
        with pytest.raises(ValidationError, match="sample:N"):
            svc.create_sandbox(engine, w.principal, bad)
    with pytest.raises(ValidationError, match="empty"):
        svc.create_sandbox(engine, w.principal, "all", name="  ")
    monkeypatch.setattr(svc, "API_MAX_RECORDS", 2)
    with pytest.raises(ValidationError, match="copy 3 records"):
        svc.create_sandbox(engine, w.principal, "all")
    assert svc.create_sandbox(engine, w.principal, "sample:1", name="Tiny").name == "Tiny"
    assert len(svc.list_sandboxes(engine, w.principal)) == 1


def test_the_sync_property_limit_of_the_tier_stays_in_the_sandbox(quiet_engine, monkeypatch):
    engine = quiet_engine
    w = enterprise_world(engine)
    w.define("contacts", "company_name", "companies", "name")
    w.define("deals", "company_name", "companies", "name")
    sandbox = svc.create_sandbox(engine, w.principal, "all").account_id
    monkeypatch.setitem(sync_properties.SYNC_PROPERTY_LIMITS, "enterprise", 2)
    sw = World(engine, Principal(sandbox, w.principal.user_id, frozenset(),
                                 frozenset(ALL_SCOPES), Role.SUPER_ADMIN))
    with pytest.raises(ValidationError, match="enterprise"):
        sw.define("tickets", "company_name", "companies", "name")


def test_the_sandbox_users_sign_in_with_their_passwords(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    sandbox = svc.create_sandbox(engine, w.principal, "all").account_id
    assert rows(engine, "users", sandbox) == rows(engine, "users", w.account_id)
    assert count(engine, "tokens", w.account_id) == 0
    made = svc.create_sandbox_from(engine, w.account_id, "sample:1", "By the operator")
    assert made.token is not None and made.token.token.startswith(f"pat-{made.account_id}-")


def test_sync_work_pending_in_the_source_is_redone_in_the_sandbox(quiet_engine):
    """Values the source's engine has not caught up with are not trusted: the sandbox's
    sync properties backfill, and settle on the rule."""
    engine = quiet_engine
    w = enterprise_world(engine)
    company = w.one("companies", name="Before")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", company)
    w.define("contacts", "company_name", "companies", "name")
    w.settle()
    w.set("companies", company, name="After")  # not settled: the change is pending
    made = svc.create_sandbox(engine, w.principal, "all")
    assert made.backfill
    sw = World(engine, Principal(made.account_id, w.principal.user_id, frozenset(),
                                 frozenset(ALL_SCOPES), Role.SUPER_ADMIN))
    settle(sw)
    assert sw.value("contacts", contact, "company_name") == "After"
    consistent(engine, made.account_id)


def test_switching_is_between_a_sandbox_and_its_source_as_the_same_user(quiet_engine):
    engine = quiet_engine
    w = enterprise_world(engine)
    stranger = enterprise_world(engine)
    sandbox = svc.create_sandbox(engine, w.principal, "all").account_id
    theirs = svc.create_sandbox(engine, stranger.principal, "all").account_id
    assert svc.switch_target(engine, w.principal, str(sandbox)) == sandbox
    inside = Principal(sandbox, w.principal.user_id, frozenset(), frozenset(ALL_SCOPES),
                       Role.SUPER_ADMIN)
    assert svc.switch_target(engine, inside, str(w.account_id)) == w.account_id
    for other in (str(theirs), str(stranger.account_id), "x", str(w.account_id)):
        with pytest.raises(NotFoundError):
            svc.switch_target(engine, w.principal, other)
    late = create_user(engine, w.account_id, f"late{uuid.uuid4().hex[:6]}@example.com")
    with pytest.raises(PermissionDeniedError, match="not a user of account"):
        svc.switch_target(engine, Principal(w.account_id, late, frozenset(),
                                            frozenset(ALL_SCOPES), Role.USER), str(sandbox))
