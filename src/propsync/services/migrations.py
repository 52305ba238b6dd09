"""The migration from a copy workflow to a sync property (issue 16), as a resumable,
undoable state machine (``domain/migrations.py``) that drives the assistant's steps:
``plan_flow`` (start), ``create_sync_property`` and its backfill (apply), ``clone_uses``
(clone), ``compare_lists`` / ``compare_reports`` / ``compare_flows`` (compare), turning
the workflow off (cut-over), deleting it and archiving the old property if nothing uses
it (clean-up), ``fill_history`` (optional), and undo.

Resumable: every step looks before it makes, so a step interrupted by a crash is run
again by asking for it again. Apply finds the sync property by the plan's name (one made
after the migration started, copying the plan's source, is this migration's); clone
passes the clones recorded (``done``) and ``clone_uses`` finds those made but not
recorded by their names; cut-over records whether the workflow was on before it turns it
off; undo finds clones by name too, deletes only what exists, and turns the workflow on
again when a cut-over (even an interrupted one) turned it off. The state is saved after
each step's last effect; until then the state says the step is still to do, and asking
again finishes it.

One step of a migration at a time (``storage/migration_locks``: a lock that dies with the
process holding it, so a crashed step does not block the one asked again). Clone and
compare do as many assets as half the request's time allows and say how many are left
(``services/migration_assets``); the state moves on once none is.

Access: the ``automation`` scope and the property-settings role for every step (they
create, delete and switch workflows and properties), plus what each underlying service
checks (object and schema scopes, lists and reports scopes for their clones). Reading a
migration needs ``automation`` and the schema read scopes of its two object types, and
viewing its copy property (a migration naming a property the caller may not view is
counted in a list, not shown: 403 on its own).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import AUTOMATION, Principal, schema_scope
from propsync.domain.errors import (
    ConflictError,
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.domain.migration_scan import Kind
from propsync.domain.migrations import (
    Facts,
    Refusal,
    State,
    Step,
    next_step,
    settled,
    transition,
)
from propsync.domain.record_ids import parse_record_id
from propsync.services import lists as list_svc
from propsync.services import properties as property_svc
from propsync.services import reports as report_svc
from propsync.services import sync_properties as sync_svc
from propsync.services import workflows as flow_svc
from propsync.services.migration_assets import Budget, clone_results, compare_results
from propsync.services.migration_clones import default_name, existing_clone
from propsync.services.migration_history import fill_history as history_fill
from propsync.services.migration_scan import plan_flow
from propsync.services.property_usage import uses_in
from propsync.services.sandboxes import list_sandboxes_of, switch_target
from propsync.services.sandboxes import source_of as sandbox_of
from propsync.services.sync_properties import SourceRequest
from propsync.storage import migrations as store
from propsync.storage import sync as sync_store
from propsync.storage import workflows as flow_store
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.migration_locks import hold as step_lock
from propsync.storage.migrations import StoredMigration
from propsync.storage.properties import find_property, load_properties

MAX_PAGE, DEFAULT_PAGE = 100, 50
MAX_ACKNOWLEDGED = 1_000


@dataclass(frozen=True)
class Progress:
    """The sync property's backfill: records done of total (``live``: finished)."""

    done: int
    total: int
    live: bool


@dataclass(frozen=True)
class Migration:
    stored: StoredMigration
    backfill: Progress | None
    next: Step | None

    @property
    def migration_id(self) -> int:
        return self.stored.migration_id

    @property
    def state(self) -> State:
        return self.stored.state


# --- access ---------------------------------------------------------------------------------

def _require_manager(principal: Principal) -> None:
    principal.require(AUTOMATION)
    principal.require_property_settings()


def _may_read(conn: Any, principal: Principal, m: StoredMigration) -> bool:
    p = m.proposal
    if not {schema_scope(p["objectType"]), schema_scope(p["source"]["objectType"])
            } <= principal.scopes:
        return False
    for ot, name in ((p["objectType"], p["oldProperty"]),
                     (p["source"]["objectType"], p["source"]["property"])):
        prop = find_property(conn, principal.account_id, ot, name)
        if prop is not None and not prop.access.can_view(principal.user_id,
                                                          principal.team_ids):
            return False
    return True


def _migration_id(raw: str) -> int:
    found = parse_record_id(raw)
    if found is None:
        raise NotFoundError(f"No migration {raw[:40]!r} exists in this account.")
    return found


def _load(engine: Engine, principal: Principal, raw: str) -> StoredMigration:
    with read_transaction(engine) as conn:
        found = store.load_migration(conn, principal.account_id, _migration_id(raw))
        if found is None:
            raise NotFoundError(f"No migration {raw[:40]!r} exists in this account.")
        p = found.proposal
        principal.require(*sorted({schema_scope(p["objectType"]),
                                   schema_scope(p["source"]["objectType"])}))
        if not _may_read(conn, principal, found):
            raise PermissionDeniedError(
                "This migration names an object type or property you may not see, so it "
                "is not shown to you.")
    return found


# --- reading --------------------------------------------------------------------------------

def _view(engine: Engine, m: StoredMigration, account_id: int) -> Migration:
    progress = None
    if m.sync_property is not None and m.state is not State.UNDONE:
        progress = _backfill(engine, account_id, m)
    return Migration(m, progress, next_step(m.state))


def _backfill(engine: Engine, account_id: int, m: StoredMigration) -> Progress | None:
    with read_transaction(engine) as conn:
        prop = find_property(conn, account_id, m.proposal["objectType"], m.sync_property or "")
        d = sync_svc.find_definition(conn, account_id, prop.id) if prop else None
    if d is None:
        return None
    live = d.state == sync_store.LIVE
    return Progress(d.backfill_total if live else d.backfill_done, d.backfill_total, live)


def get_migration(engine: Engine, principal: Principal, migration_id: str) -> Migration:
    principal.require(AUTOMATION)
    return _view(engine, _load(engine, principal, migration_id), principal.account_id)


def list_migrations(engine: Engine, principal: Principal, after: str | None = None,
                    limit: int = DEFAULT_PAGE) -> tuple[list[StoredMigration], str | None, int]:
    """A page of the account's migrations by id, the next cursor, and how many on the page
    name what the caller may not see (counted, not listed)."""
    principal.require(AUTOMATION)
    if not 1 <= limit <= MAX_PAGE:
        raise _refusal("limit", f"a whole number from 1 to {MAX_PAGE}.", "INVALID_LIMIT")
    start_after = 0
    if after not in (None, ""):
        assert after is not None
        found = parse_record_id(after)
        if found is None:
            raise _refusal("after", "a paging cursor from a previous page.", "INVALID_PAGING")
        start_after = found
    with read_transaction(engine) as conn:
        page, more = store.list_migrations(conn, principal.account_id, start_after, limit)
        shown = [m for m in page if _may_read(conn, principal, m)]
    return shown, (str(page[-1].migration_id) if more and page else None), \
        len(page) - len(shown)


# --- start ----------------------------------------------------------------------------------

def start(engine: Engine, principal: Principal, flow_id: str,
          accept_differences: bool = False) -> Migration:
    """A migration of one copy workflow, PLANNED: ``plan_flow`` must find a one-way copy
    (a conditional copy only with ``accept_differences``; a two-way pair is refused with
    the scan's explanation). One migration at a time per workflow (409)."""
    _require_manager(principal)
    planned_flow, proposal = _proposal(engine, principal, flow_id, accept_differences)
    return _insert(engine, principal, planned_flow, proposal)


def _proposal(engine: Engine, principal: Principal, flow_id: str, accept_differences: bool
              ) -> tuple[int, dict[str, Any]]:
    plan = plan_flow(engine, principal, flow_id)
    v = plan.verdict
    if v.kind is Kind.CONDITIONAL_COPY and not accept_differences:
        words = " ".join(d.text for d in v.differences)
        raise _refusal("acceptDifferences", "this workflow copies under conditions a sync "
                       f"property does not have: {words} Start again with acceptDifferences "
                       "true to accept that.", "DIFFERENCES_NOT_ACCEPTED")
    if v.kind is not Kind.ONE_WAY_COPY and v.kind is not Kind.CONDITIONAL_COPY:
        raise _refusal("flowId", f"this workflow is {v.kind.value}, not a copy.",
                       "NOT_A_COPY")
    p, d = plan.proposal, plan.dry_run
    return plan.flow_id, {
        "flowName": v.name, "kind": v.kind.value, "objectType": p.target_type,
        "oldProperty": p.sync.target_property, "name": p.name, "label": p.label,
        "source": {"objectType": p.source.object_type, "property": p.source.property_name,
                   "associationTypes": [list(x) for x in p.source.association_types or []],
                   "selection": p.source.selection, "labels": list(p.sync.labels)},
        "differences": [x.text for x in v.differences],
        "dryRun": {"targets": d.targets, "withValue": d.with_value, "differing": d.differing,
                   "stale": d.stale, "missing": d.missing, "orphaned": d.orphaned,
                   "topValues": [[val, n] for val, n in d.top_values],
                   "sample": d.sample, "excluded": plan.excluded},
    }


def _insert(engine: Engine, principal: Principal, flow_id: int, proposal: dict[str, Any]
            ) -> Migration:
    with write_transaction(engine) as conn:
        sync_store_lock(conn, principal.account_id)
        other = store.active_for_flow(conn, principal.account_id, flow_id)
        if other is not None:
            raise ConflictError(f"Workflow {flow_id} is already being migrated "
                                f"(migration {other}); finish or undo it first.")
        made = store.insert_migration(conn, principal.account_id, flow_id, proposal,
                                      principal.user_id, now_ms())
    return _view(engine, made, principal.account_id)


@dataclass(frozen=True)
class Rehearsal:
    """A migration rehearsed in one of the account's sandboxes, ready to replay."""

    sandbox_id: int
    sandbox_name: str
    migration: StoredMigration


def rehearsals(engine: Engine, principal: Principal) -> list[Rehearsal]:
    """The migrations rehearsed as far as their comparison in the account's sandboxes
    where the caller is the same user (at most ``MAX_SANDBOXES`` sandboxes, a page of
    migrations each), newest sandbox first."""
    principal.require(AUTOMATION)
    found: list[Rehearsal] = []
    for sandbox in list_sandboxes_of(engine, principal.account_id):
        try:
            inside = replace(principal, account_id=switch_target(
                engine, principal, str(sandbox.account_id)))
        except (NotFoundError, PermissionDeniedError):
            continue  # not a user there
        page, _, _ = list_migrations(engine, inside, None, MAX_PAGE)
        found += [Rehearsal(sandbox.account_id, sandbox.name, m) for m in page
                  if m.state in _REHEARSED_STATES]
    return found


OPERATOR_USER = 0  # the command line's principal has no user (migration_scan.operator)
# What a replay must find as the rehearsal found it: the same copy, the same sync property.
_REHEARSED = ("kind", "objectType", "oldProperty", "source")
_REHEARSED_STATES = (State.COMPARED, State.CUT_OVER, State.CLEANED_UP)


def replay(engine: Engine, principal: Principal, sandbox_id: str, migration_id: str
           ) -> Migration:
    """Start on the caller's account the migration rehearsed in one of its sandboxes (ids
    are kept in a sandbox, so the rehearsed workflow is this account's workflow of the same
    id): PLANNED with the rehearsal's choices, refused (409) when the workflow here no
    longer plans the same sync property, or when the rehearsal did not get as far as its
    comparison. The rehearsal's figures are kept beside the plan, to compare with."""
    _require_manager(principal)
    if sandbox_of(engine, principal.account_id) is not None:
        raise _refusal("sandboxId", "this account is itself a sandbox: replay a rehearsal "
                       "on the account it copies.", "NOT_A_SANDBOX_OF_THIS_ACCOUNT")
    if principal.user_id == OPERATOR_USER:  # the command line: the account's operator
        sandbox = parse_record_id(sandbox_id)
        found = sandbox_of(engine, sandbox) if sandbox is not None else None
        if sandbox is None or found is None or found.account_id != principal.account_id:
            raise NotFoundError(f"This account has no sandbox {sandbox_id[:40]!r}.")
    else:  # a person: one who is the same user in the sandbox
        sandbox = switch_target(engine, principal, sandbox_id)
    inside = replace(principal, account_id=sandbox)
    rehearsed = _load(engine, inside, migration_id)
    if rehearsed.state not in _REHEARSED_STATES:
        raise ConflictError(
            f"Migration {rehearsed.migration_id} of sandbox {sandbox} is "
            f"{rehearsed.state.value}: rehearse it as far as its comparison first.",
            [ErrorDetail("The rehearsal was not compared.", "REHEARSAL_NOT_COMPARED")])
    kind = rehearsed.proposal.get("kind")
    flow_id, proposal = _proposal(engine, principal, str(rehearsed.flow_id),
                                  kind == Kind.CONDITIONAL_COPY.value)
    changed = [k for k in _REHEARSED if proposal.get(k) != rehearsed.proposal.get(k)]
    if changed:
        raise ConflictError(
            f"Workflow {flow_id} no longer plans what was rehearsed in sandbox {sandbox} "
            f"(it differs in: {', '.join(changed)}); rehearse it again.",
            [ErrorDetail("The workflow changed since the rehearsal.", "REHEARSAL_OUTDATED")])
    compared = rehearsed.results.get("compare", {})
    proposal["rehearsal"] = {
        "sandboxId": sandbox, "migrationId": rehearsed.migration_id,
        "state": rehearsed.state.value, "dryRun": rehearsed.proposal.get("dryRun"),
        "differingAssets": sum(1 for a in compared.get("assets", []) if not a.get("same")),
    }
    return _insert(engine, principal, flow_id, proposal)


def sync_store_lock(conn: Any, account_id: int) -> None:
    """Two starts of the same workflow at once: the definitions lock orders them."""
    lock_definitions(conn, account_id)


# --- steps ----------------------------------------------------------------------------------

def _facts(engine: Engine, principal: Principal, m: StoredMigration) -> Facts:
    progress = _backfill(engine, principal.account_id, m) if m.sync_property else None
    compared = m.results.get("compare", {}).get("assets", [])
    differing = {a["key"]: a["fingerprint"] for a in compared if not a["same"]}
    return Facts(bool(progress and progress.live),
                 settled(differing, m.results.get("acknowledged", {})))


def _check(state: State, step: Step, facts: Facts = Facts()) -> State:
    got = transition(state, step, facts)
    if isinstance(got, Refusal):
        raise ConflictError(got.reason, [ErrorDetail(got.reason, "INVALID_MIGRATION_STEP",
                                                     {"state": [state.value]})])
    return got


def _save(engine: Engine, principal: Principal, m: StoredMigration, state: State,
          results: dict[str, Any], sync_property: str | None = None) -> StoredMigration:
    with write_transaction(engine) as conn:
        store.save(conn, principal.account_id, m.migration_id, state, results, now_ms(),
                   sync_property)
        found = store.load_migration(conn, principal.account_id, m.migration_id)
    assert found is not None
    return found


def run_step(engine: Engine, principal: Principal, migration_id: str, step: Step,
             body: dict[str, Any] | None = None, budget: Budget | None = None
             ) -> Migration:
    """Run one step of the migration (see the module's docstring), one step of a
    migration at a time: another step of it running now is a 409 (MIGRATION_BUSY), so two
    clicks or two clients never clone twice. ``budget`` bounds clone and compare (the
    request's time by default)."""
    _require_manager(principal)
    m = _load(engine, principal, migration_id)  # access first: a stranger learns nothing
    with step_lock(engine, principal.account_id, m.migration_id) as held:
        if not held:
            why = (f"Another step of migration {m.migration_id} is running now; ask again "
                   "when it has finished.")
            raise ConflictError(why, [ErrorDetail(why, "MIGRATION_BUSY")])
        m = _load(engine, principal, migration_id)  # as the last step left it
        if step is Step.ACKNOWLEDGE:
            done = acknowledge(engine, principal, m, (body or {}).get("assets"))
        elif step in (Step.CLONE, Step.COMPARE):
            done = (clone if step is Step.CLONE else compare)(engine, principal, m, budget)
        else:
            steps: dict[Step, Callable[[Engine, Principal, StoredMigration],
                                       StoredMigration]] = {
                Step.APPLY: apply, Step.CUT_OVER: cut_over, Step.CLEAN_UP: clean_up,
                Step.FILL_HISTORY: fill_history, Step.UNDO: undo}
            done = steps[step](engine, principal, m)
    return _view(engine, done, principal.account_id)


def apply(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Create the sync property (or find the one this migration made) and look at its
    backfill: APPLYING while it runs (the workers fill it), APPLIED once it is done."""
    _check(m.state, Step.APPLY)
    if m.state is State.APPLIED:
        return m
    p = m.proposal
    ot, name = p["objectType"], p["name"]
    with read_transaction(engine) as conn:
        prop = find_property(conn, principal.account_id, ot, name)
        d = sync_svc.find_definition(conn, principal.account_id, prop.id) if prop else None
    if prop is not None and (d is None or prop.created_ms < m.created_ms or
                             (d.source_type, d.source_property) !=
                             (p["source"]["objectType"], p["source"]["property"])):
        raise ConflictError(f"{ot} already has a property named {name!r} that this "
                            "migration did not make; undo this migration and start again "
                            "(a new plan proposes a free name).")
    results = dict(m.results)
    if prop is None:
        src = p["source"]
        prop = sync_svc.create_sync_property(
            engine, principal, ot, name, p["label"], SourceRequest(
                src["objectType"], src["property"],
                [(c, int(i)) for c, i in src["associationTypes"]] or None, src["selection"]),
            description=f"Replaces the workflow {p['flowName']!r} (migration "
                        f"{m.migration_id}), which copies into {p['oldProperty']}."[:1000])
    results["apply"] = {"propertyId": str(prop.id), "name": prop.name}
    m = _save(engine, principal, m, State.APPLYING if m.state is State.PLANNED else m.state,
              results, prop.name)
    state = _check(m.state, Step.APPLY, _facts(engine, principal, m))
    return m if state is m.state else _save(engine, principal, m, state, results)


def clone(engine: Engine, principal: Principal, m: StoredMigration,
          budget: Budget | None = None) -> StoredMigration:
    """Clone every list, report and workflow using the copy property, with the sync
    property in its place (the clones recorded, and any made before a crash, are not made
    again), as many as the request's time allows: the state stays APPLIED while uses are
    left to clone."""
    _check(m.state, Step.CLONE)
    results = dict(m.results)
    results["clone"], unfinished = clone_results(engine, principal, m,
                                                 budget or Budget.for_request())
    return _save(engine, principal, m, _check(m.state, Step.CLONE, Facts(
        unfinished=unfinished)), results)


def compare(engine: Engine, principal: Principal, m: StoredMigration,
            budget: Budget | None = None) -> StoredMigration:
    """Compare every clone with its original; the summary (counts of differing records per
    asset, the first few with why) is stored. As many clones as the request's time allows:
    the state stays CLONED while clones are left to compare (or a list is still being
    evaluated: what was compared is kept, and the answer says so). Acknowledgements of
    differences that have changed since no longer count."""
    _check(m.state, Step.COMPARE)
    results = dict(m.results)
    results["compare"], unfinished, stopped = compare_results(
        engine, principal, m, budget or Budget.for_request())
    saved = _save(engine, principal, m, _check(m.state, Step.COMPARE, Facts(
        unfinished=unfinished)), results)
    if stopped is not None:
        raise stopped
    return saved


def acknowledge(engine: Engine, principal: Principal, m: StoredMigration,
                keys: Any) -> StoredMigration:
    """Record that the caller accepts the differences of the assets named (``keys``, as
    the comparison names them: ``list:<id>``, ``report:<id>``, ``workflow:<id>``), as they
    are now."""
    state = _check(m.state, Step.ACKNOWLEDGE)
    if not isinstance(keys, list) or not keys or len(keys) > MAX_ACKNOWLEDGED or \
            not all(isinstance(k, str) for k in keys):
        raise _refusal("assets", "a list of the differing assets' keys (as the comparison "
                       f"names them), 1-{MAX_ACKNOWLEDGED}.", "INVALID_ACKNOWLEDGEMENT")
    compared = {a["key"]: a for a in m.results.get("compare", {}).get("assets", [])}
    unknown = [k for k in keys if k not in compared or compared[k]["same"]]
    if unknown:
        raise _refusal("assets", f"{unknown[0][:60]!r} is not an asset whose comparison "
                       "differs.", "INVALID_ACKNOWLEDGEMENT")
    results = dict(m.results)
    acknowledged = dict(results.get("acknowledged", {}))
    acknowledged.update({k: compared[k]["fingerprint"] for k in keys})
    results["acknowledged"] = acknowledged
    results["acknowledgedBy"] = principal.user_id or None
    return _save(engine, principal, m, state, results)


def cut_over(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Turn the copy workflow off (never deleted here); the old property stays. Whether
    it was on is recorded first, so an undo after an interrupted cut-over turns it on."""
    state = _check(m.state, Step.CUT_OVER)
    if m.state is State.CUT_OVER:
        return m
    results = dict(m.results)
    if "cutOver" not in results:
        with read_transaction(engine) as conn:
            flow = flow_store.load_flow(conn, principal.account_id, m.flow_id)
        if flow is None:
            raise ConflictError(f"Workflow {m.flow_id} no longer exists; undo this migration.")
        results["cutOver"] = {"wasEnabled": flow.enabled}
        m = _save(engine, principal, m, m.state, results)
    flow_svc.set_enabled(engine, principal, str(m.flow_id), False)
    results["cutOver"] = {**results["cutOver"], "workflowOff": True, "atMs": now_ms()}
    return _save(engine, principal, m, state, results)


def clean_up(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Delete the copy workflow; archive the old property only if nothing uses it any
    more (else it stays, and the answer says what uses it). Only once the comparison is
    clean or each difference acknowledged."""
    state = _check(m.state, Step.CLEAN_UP, _facts(engine, principal, m))
    if m.state is State.CLEANED_UP:
        return m
    with contextlib.suppress(NotFoundError):  # deleted before a crash
        flow_svc.delete_flow(engine, principal, str(m.flow_id))
    p = m.proposal
    with read_transaction(engine) as conn:
        uses = uses_in(conn, principal.account_id, p["objectType"], p["oldProperty"])
        exists = find_property(conn, principal.account_id, p["objectType"],
                               p["oldProperty"]) is not None
    if not exists:
        old = {"archived": True, "why": "no use left"}
    elif uses:
        named = ", ".join(f"{u.kind} {u.name!r}" for u in uses[:5])
        old = {"archived": False, "why": f"still used by {len(uses)}: {named}"
               + (", …" if len(uses) > 5 else "") + "; it stays."}
    else:
        property_svc.delete_property(engine, principal, p["objectType"], p["oldProperty"])
        old = {"archived": True, "why": "nothing uses it any more"}
    results = dict(m.results)
    results["cleanUp"] = {"workflowDeleted": True, "oldProperty": old, "atMs": now_ms()}
    return _save(engine, principal, m, state, results)


def fill_history(engine: Engine, principal: Principal, m: StoredMigration
                 ) -> StoredMigration:
    """Copy the old property's history before the sync property's creation into the sync
    property's (idempotent: a second run adds nothing)."""
    state = _check(m.state, Step.FILL_HISTORY)
    p = m.proposal
    done = history_fill(engine, principal, p["objectType"], p["oldProperty"],
                        m.sync_property or "")
    results = dict(m.results)
    before = results.get("history", {}).get("copied", 0)
    results["history"] = {"copied": before + done.copied, "batches": done.batches,
                          "beforeMs": done.before_ms}
    return _save(engine, principal, m, state, results)


def _clones_by_name(engine: Engine, principal: Principal, m: StoredMigration
                    ) -> dict[tuple[str, str], str]:
    """The clones a clone step made, recorded or not (found by their names)."""
    found = {(a["kind"], a["originalId"]): a["cloneId"]
             for a in m.results.get("clone", {}).get("assets", [])
             if a.get("cloneId") and a["status"] != "NOT_CLONED"}
    p = m.proposal
    with read_transaction(engine) as conn:
        props = {x.name: x for x in load_properties(conn, principal.account_id,
                                                    p["objectType"])}
        old, new = props.get(p["oldProperty"]), props.get(m.sync_property or p["name"])
        if old is None or new is None or new.created_ms < m.created_ms:
            return found
        for u in uses_in(conn, principal.account_id, p["objectType"], old.name):
            if u.kind not in ("list", "report", "workflow") or (u.kind, u.asset_id) in found:
                continue
            made = existing_clone(conn, principal, u, default_name(u, new), old, new)
            if made is not None and not (u.kind == "workflow" and
                                         int(made) == m.flow_id):
                found[(u.kind, u.asset_id)] = made
    return found


def undo(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Remove what the migration made, in reverse order: the workflow turned on again if a
    cut-over turned it off, the clones deleted (reports first: a report may count from a
    cloned list), then the sync property (the clones used it). Missing pieces are skipped,
    so an interrupted undo (or an undo after an interrupted step) is finished by asking
    again."""
    state = _check(m.state, Step.UNDO)
    results = dict(m.results)
    if results.get("cutOver", {}).get("wasEnabled"):
        with contextlib.suppress(NotFoundError):
            flow_svc.set_enabled(engine, principal, str(m.flow_id), True)
    clones = _clones_by_name(engine, principal, m)
    order = {"report": 0, "workflow": 1, "list": 2}
    removed = 0
    for (kind, _), clone_id in sorted(clones.items(), key=lambda kv: order[kv[0][0]]):
        deleter = {"report": report_svc.delete_report, "workflow": flow_svc.delete_flow,
                   "list": list_svc.delete_list}[kind]
        try:
            deleter(engine, principal, clone_id)
            removed += 1
        except NotFoundError:
            pass  # deleted before a crash
    sync_removed = False
    name = m.sync_property or m.proposal["name"]  # made, maybe, before a crash
    with read_transaction(engine) as conn:
        prop = find_property(conn, principal.account_id, m.proposal["objectType"], name)
        ours = prop is not None and prop.created_ms >= m.created_ms and \
            sync_svc.find_definition(conn, principal.account_id, prop.id) is not None
    if ours:
        sync_svc.delete_sync_property(engine, principal, m.proposal["objectType"], name)
        sync_removed = True
    results["undo"] = {"from": m.state.value if m.state is not State.UNDONE else
                       results.get("undo", {}).get("from"),
                       "clonesDeleted": removed + results.get("undo", {}).get(
                           "clonesDeleted", 0),
                       "syncPropertyDeleted": sync_removed or results.get("undo", {}).get(
                           "syncPropertyDeleted", False),
                       "workflowOnAgain": bool(results.get("cutOver", {}).get("wasEnabled")),
                       "atMs": now_ms()}
    return _save(engine, principal, m, state, results)


def _refusal(path: str, what: str, code: str) -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])
