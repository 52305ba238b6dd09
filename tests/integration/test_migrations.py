"""The migration as a state machine (issue 16), on SQLite and PostgreSQL: an account with
copy workflows (one clean, one with three stale copies, a two-way pair, one with an
enrollment filter; ``test_migration_scan.Account``) plus a list and a report on the stale
copy's property. start → apply → clone → compare (which finds exactly the stale copies
seeded) → acknowledge → cut over (the workflow off, the old property kept) → clean up;
the two-way pair refused; an undo at each state up to cut-over leaves the account's export
as it was; each step asked twice makes nothing twice."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.errors import ConflictError, NotFoundError, ValidationError
from propsync.domain.migrations import State, Step
from propsync.lists.runner import ListWorker
from propsync.services import lists as list_svc
from propsync.services import migration_scan as scan_svc
from propsync.services import migrations as svc
from propsync.services import reports as report_svc
from propsync.services import sandboxes
from propsync.storage import tables as t
from propsync.storage.account_export import export_account
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import find_property
from propsync.storage.workflows import load_flow
from tests.integration.test_migration_scan import Account

REGION = "company_region"


def north() -> dict[str, Any]:
    return {"filterBranchType": "OR", "filters": [], "filterBranches": [
        {"filterBranchType": "AND", "filterBranches": [], "filters": [
            {"filterType": "PROPERTY", "property": REGION, "operation": {
                "operationType": "STRING", "operator": "IS_EQUAL_TO", "value": "North"}}]}]}


class Migrating(Account):
    """``Account`` with its stale copies seeded, a list of the contacts whose copied region
    is North and a report of contacts by copied region."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.seeded = self.seed_stale()
        w = self.w
        self.list_id = str(list_svc.create_list(engine, w.principal, {
            "name": f"North {uuid.uuid4().hex[:6]}", "objectTypeId": "0-1",
            "processingType": "DYNAMIC", "filterBranch": north()}).list_id)
        self.report_id = str(report_svc.create_report(engine, w.principal, {
            "name": "By region", "objectType": "contacts", "groupBy": REGION}).report_id)
        ListWorker(engine).drain()

    def settle(self) -> None:
        self.w.settle()
        ListWorker(self.w.engine).drain()

    def step(self, migration_id: int, step: Step, body: dict[str, Any] | None = None
             ) -> svc.Migration:
        done = svc.run_step(self.w.engine, self.w.principal, str(migration_id), step, body)
        if step in (Step.APPLY, Step.CLONE):
            self.settle()
        return done


def export(engine: Engine, account_id: int) -> dict[str, Any]:
    out = io.StringIO()
    with read_transaction(engine) as conn:
        export_account(conn, account_id, out)
    return dict(json.loads(out.getvalue()))


# What an undo leaves that is not the account's content: the migration's own row (it says
# UNDONE), the definition log (it says a property was made and deleted), and a workflow's
# revision and last save (turned off and on again), a record's last modification (the
# sync property wrote its values, then went with them). Deleted lists and workflows are soft
# deleted (restorable) rows: compared as absent.
IGNORED_TABLES = {"migrations", "property_definition_log"}
IGNORED_COLUMNS = {"workflows": {"revision", "updated_ms", "updated_by"},
                   "records": {"updated_ms"}}


def content(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    deleted_lists: set[Any] = set()
    for name, table in doc["tables"].items():
        rows = [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]
        if name == "lists":
            deleted_lists = {r["list_id"] for r in rows if r["deleted_ms"] is not None}
        out[name] = rows
    kept: dict[str, list[dict[str, Any]]] = {}
    for name, rows in out.items():
        if name in IGNORED_TABLES:
            continue
        if name in ("lists", "workflows"):
            rows = [r for r in rows if r["deleted_ms"] is None]
        if name == "list_memberships":
            rows = [r for r in rows if r["list_id"] not in deleted_lists]
        drop = IGNORED_COLUMNS.get(name, set())
        kept[name] = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    return kept


def counts(engine: Engine, account_id: int) -> dict[str, int]:
    with read_transaction(engine) as conn:
        return {tb.name: int(conn.execute(select(func.count()).select_from(tb).where(
            tb.c.account_id == account_id, tb.c.deleted_ms.is_(None))).scalar_one())
            for tb in (t.lists, t.workflows)} | {
            "reports": int(conn.execute(select(func.count()).select_from(t.reports).where(
                t.reports.c.account_id == account_id)).scalar_one()),
            "sync_properties": int(conn.execute(select(func.count()).select_from(
                t.sync_properties).where(t.sync_properties.c.account_id == account_id)
            ).scalar_one())}


@pytest.fixture(scope="module")
def account(quiet_engine: Engine) -> Migrating:
    return Migrating(quiet_engine)


def test_a_migration_from_start_to_clean_up(quiet_engine: Engine) -> None:
    a = Migrating(quiet_engine)
    w = a.w
    before = counts(w.engine, w.account_id)
    m = svc.start(w.engine, w.principal, str(a.stale))
    assert m.state is State.PLANNED and m.next is Step.APPLY
    assert m.stored.proposal["dryRun"]["stale"] == 3
    assert m.stored.proposal["dryRun"]["sample"] == a.seeded
    mid = m.migration_id
    with pytest.raises(ConflictError, match="already being migrated"):
        svc.start(w.engine, w.principal, str(a.stale))
    with pytest.raises(ConflictError, match="comes after apply"):
        a.step(mid, Step.CLONE)

    applied = svc.run_step(w.engine, w.principal, str(mid), Step.APPLY)
    assert applied.state in (State.APPLYING, State.APPLIED)
    a.settle()
    applied = a.step(mid, Step.APPLY)
    assert applied.state is State.APPLIED
    assert applied.backfill is not None and applied.backfill.live
    assert applied.stored.sync_property == m.stored.proposal["name"]

    cloned = a.step(mid, Step.CLONE)
    assert cloned.state is State.CLONED
    kinds = {(x["kind"], x["status"]) for x in cloned.stored.results["clone"]["assets"]}
    assert ("list", "CLONED") in kinds and ("report", "CLONED") in kinds
    assert ("workflow", "NOT_CLONED") in kinds  # the copy workflow itself
    again = a.step(mid, Step.CLONE)  # asked twice: nothing cloned twice
    assert {x["status"] for x in again.stored.results["clone"]["assets"]} <= {
        "ALREADY_CLONED", "NOT_CLONED"}
    assert counts(w.engine, w.account_id)["lists"] == before["lists"] + 1
    assert counts(w.engine, w.account_id)["reports"] == before["reports"] + 1

    compared = a.step(mid, Step.COMPARE)
    assert compared.state is State.COMPARED
    by_key = {x["key"]: x for x in compared.stored.results["compare"]["assets"]}
    report = by_key[f"report:{a.report_id}"]
    listed = by_key[f"list:{a.list_id}"]
    assert not report["same"] and report["moved"] == 3
    moved = {int(r["recordId"]) for g in report["groups"] for r in g["records"]}
    assert moved == set(a.seeded)  # exactly the stale copies seeded
    assert {r["reason"] for g in report["groups"] for r in g["records"]} == {"STALE_COPY"}
    # contact 0's copy says Wrong (its company is North): only in the clone; contact 3's
    # says Elsewhere (North too): only in the clone as well
    only_clone = {int(r["recordId"]) for r in listed["onlyInClone"]["records"]}
    assert only_clone == {a.contacts[0], a.contacts[3]}
    assert listed["onlyInOriginal"]["total"] == 0

    with pytest.raises(ConflictError):
        a.step(mid, Step.CLEAN_UP)
    with pytest.raises(ValidationError):
        a.step(mid, Step.ACKNOWLEDGE, {"assets": ["list:999"]})
    a.step(mid, Step.ACKNOWLEDGE, {"assets": [listed["key"]]})
    cut = a.step(mid, Step.CUT_OVER)
    assert cut.state is State.CUT_OVER
    with read_transaction(w.engine) as conn:
        flow = load_flow(conn, w.account_id, a.stale)
        assert flow is not None and not flow.enabled
        assert find_property(conn, w.account_id, "contacts", REGION) is not None
    with pytest.raises(ConflictError, match="acknowledged"):  # the report's are not yet
        a.step(mid, Step.CLEAN_UP)
    a.step(mid, Step.ACKNOWLEDGE, {"assets": [report["key"]]})
    filled = a.step(mid, Step.FILL_HISTORY)
    assert filled.stored.results["history"]["copied"] > 0
    assert a.step(mid, Step.FILL_HISTORY).stored.results["history"]["copied"] == \
        filled.stored.results["history"]["copied"]  # a second run adds nothing

    cleaned = a.step(mid, Step.CLEAN_UP)
    assert cleaned.state is State.CLEANED_UP and cleaned.next is None
    old = cleaned.stored.results["cleanUp"]["oldProperty"]
    assert old["archived"] is False and "still used by" in old["why"]
    with read_transaction(w.engine) as conn:
        assert load_flow(conn, w.account_id, a.stale) is None
        assert find_property(conn, w.account_id, "contacts", REGION) is not None
    with pytest.raises(ConflictError, match="cannot be undone"):
        a.step(mid, Step.UNDO)
    after = counts(w.engine, w.account_id)
    assert after["sync_properties"] == before["sync_properties"] + 1
    assert after["workflows"] == before["workflows"] - 1
    page, _, hidden = svc.list_migrations(w.engine, w.principal)
    assert [x.migration_id for x in page] == [mid] and hidden == 0


def test_a_two_way_pair_is_refused_with_the_scans_explanation(account: Migrating) -> None:
    with pytest.raises(ValidationError, match="two-way sync"):
        svc.start(account.w.engine, account.w.principal, str(account.down))


def test_a_conditional_copy_needs_its_differences_accepted(account: Migrating) -> None:
    w = account.w
    with pytest.raises(ValidationError, match="acceptDifferences"):
        svc.start(w.engine, w.principal, str(account.filtered))
    m = svc.start(w.engine, w.principal, str(account.filtered), accept_differences=True)
    assert m.state is State.PLANNED and m.stored.proposal["kind"] == "CONDITIONAL_COPY"
    assert svc.run_step(w.engine, w.principal, str(m.migration_id), Step.UNDO
                        ).state is State.UNDONE


def test_unknown_migrations_are_not_found(account: Migrating) -> None:
    for raw in ("999999999", "x", "-1"):
        with pytest.raises(NotFoundError):
            svc.get_migration(account.w.engine, account.w.principal, raw)


THROUGH = [State.PLANNED, State.APPLIED, State.CLONED, State.COMPARED, State.CUT_OVER]


@pytest.mark.parametrize("through", THROUGH, ids=[s.value for s in THROUGH])
def test_an_undo_leaves_the_account_as_it_was(quiet_engine: Engine, through: State) -> None:
    a = Migrating(quiet_engine)
    w = a.w
    before = content(export(w.engine, w.account_id))
    m = svc.start(w.engine, w.principal, str(a.clean))
    steps = {State.PLANNED: [], State.APPLIED: [Step.APPLY, Step.APPLY],
             State.CLONED: [Step.APPLY, Step.APPLY, Step.CLONE],
             State.COMPARED: [Step.APPLY, Step.APPLY, Step.CLONE, Step.COMPARE],
             State.CUT_OVER: [Step.APPLY, Step.APPLY, Step.CLONE, Step.COMPARE,
                              Step.CUT_OVER]}[through]
    for step in steps:
        reached = a.step(m.migration_id, step)
    if steps:
        assert reached.state is through
    undone = a.step(m.migration_id, Step.UNDO)
    assert undone.state is State.UNDONE
    a.settle()
    assert a.step(m.migration_id, Step.UNDO).state is State.UNDONE  # again: nothing to do
    after = content(export(w.engine, w.account_id))
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name
    with pytest.raises(ConflictError, match="undone"):
        a.step(m.migration_id, Step.APPLY)


def test_a_rehearsal_in_a_sandbox_finds_the_same_and_leaves_the_source_as_it_was(
        quiet_engine: Engine) -> None:
    """Issue 16's rehearsal: the migration run whole in a sandbox (its copy workflow is
    there, turned off) finds the source's stale copies, and the source's export is the same,
    byte for byte, after it."""
    a = Migrating(quiet_engine)
    w = a.w
    with write_transaction(w.engine) as conn:
        conn.execute(update(t.accounts).where(t.accounts.c.account_id == w.account_id)
                     .values(tier="enterprise"))
    before = io.StringIO()
    with read_transaction(w.engine) as conn:
        export_account(conn, w.account_id, before)
    made = sandboxes.create_sandbox(w.engine, w.principal, "all", "Rehearsal")
    inside = Principal(made.account_id, w.principal.user_id, frozenset(),
                       frozenset(ALL_SCOPES), Role.SUPER_ADMIN)

    def step(mid: int, s: Step, body: dict[str, Any] | None = None) -> svc.Migration:
        done = svc.run_step(w.engine, inside, str(mid), s, body)
        a.settle()
        return done

    m = svc.start(w.engine, inside, str(a.stale))
    assert m.stored.proposal["dryRun"]["sample"] == a.seeded  # the same ids: ids are kept
    step(m.migration_id, Step.APPLY)
    assert step(m.migration_id, Step.APPLY).state is State.APPLIED
    step(m.migration_id, Step.CLONE)
    compared = step(m.migration_id, Step.COMPARE)
    report = next(x for x in compared.stored.results["compare"]["assets"]
                  if x["key"] == f"report:{a.report_id}")
    assert {int(r["recordId"]) for g in report["groups"] for r in g["records"]} == \
        set(a.seeded)
    step(m.migration_id, Step.ACKNOWLEDGE, {"assets": [
        x["key"] for x in compared.stored.results["compare"]["assets"] if not x["same"]]})
    step(m.migration_id, Step.CUT_OVER)
    assert step(m.migration_id, Step.CLEAN_UP).state is State.CLEANED_UP
    after = io.StringIO()
    with read_transaction(w.engine) as conn:
        export_account(conn, w.account_id, after)
    assert after.getvalue() == before.getvalue()
    page, _, _ = svc.list_migrations(w.engine, w.principal)
    assert page == []  # the source has no migration: it ran in the sandbox only

    # ... then replayed here from the sandbox's plan: the same sync property, planned,
    # with the rehearsal's figures beside it
    with pytest.raises(NotFoundError):
        svc.replay(w.engine, w.principal, "999999", str(m.migration_id))
    with pytest.raises(NotFoundError):
        svc.replay(w.engine, w.principal, str(made.account_id), "999999")
    with pytest.raises(ValidationError, match="itself a sandbox"):
        svc.replay(w.engine, inside, str(w.account_id), str(m.migration_id))
    replayed = svc.replay(w.engine, w.principal, str(made.account_id), str(m.migration_id))
    assert replayed.state is State.PLANNED and replayed.stored.flow_id == a.stale
    assert replayed.stored.proposal["name"] == m.stored.proposal["name"]
    assert replayed.stored.proposal["rehearsal"] == {
        "sandboxId": made.account_id, "migrationId": m.migration_id, "state": "CLEANED_UP",
        "dryRun": m.stored.proposal["dryRun"], "differingAssets": 2}
    with pytest.raises(ConflictError, match="already being migrated"):
        svc.replay(w.engine, w.principal, str(made.account_id), str(m.migration_id))
    # the command line's operator (no user) replays too, from this account's sandbox only
    svc.run_step(w.engine, w.principal, str(replayed.migration_id), Step.UNDO)
    operator = scan_svc.operator(w.engine, w.account_id)
    for other in (str(w.account_id), "x", "999999"):  # no sandbox of this account
        with pytest.raises(NotFoundError):
            svc.replay(w.engine, operator, other, str(m.migration_id))
    again = svc.replay(w.engine, operator, str(made.account_id), str(m.migration_id))
    assert again.state is State.PLANNED and again.migration_id != replayed.migration_id
