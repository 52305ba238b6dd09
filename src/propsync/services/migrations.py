"""The migration from a copy workflow to a sync property (issue 16), as a resumable,
undoable state machine (``domain/migrations.py``) that drives the assistant's steps:
``plan_flow`` (start), ``create_sync_property`` and its backfill (apply), ``clone_uses``
(clone), ``compare_lists`` / ``compare_reports`` / ``compare_flows`` (compare), turning
the workflow off (cut-over), deleting it and archiving the old property if nothing uses
it (clean-up), ``fill_history`` (optional), and undo. This module starts, reads, lists
and replays migrations and runs a step (``run_step``); the steps themselves are
``services/migration_steps.py``'s.

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
)
from propsync.domain.migration_scan import Kind
from propsync.domain.migrations import State, Step, next_step
from propsync.domain.record_ids import parse_record_id
from propsync.services import migration_steps as steps
from propsync.services.migration_assets import Budget
from propsync.services.migration_scan import plan_flow
from propsync.services.migration_steps import MAX_ACKNOWLEDGED, Progress, backfill
from propsync.services.migration_steps import refusal as _refusal
from propsync.services.sandboxes import list_sandboxes_of, switch_target
from propsync.services.sandboxes import source_of as sandbox_of
from propsync.storage import migrations as store
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.migration_locks import hold as step_lock
from propsync.storage.migrations import StoredMigration
from propsync.storage.properties import find_property

__all__ = ["MAX_ACKNOWLEDGED", "Migration", "Progress", "Rehearsal", "get_migration",
           "list_migrations", "rehearsals", "replay", "run_step", "start"]

MAX_PAGE, DEFAULT_PAGE = 100, 50


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
        progress = backfill(engine, account_id, m)
    return Migration(m, progress, next_step(m.state))


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
    where the caller is the same user (at most ``MAX_SANDBOXES`` sandboxes, the newest
    ``MAX_PAGE`` rehearsals of each), newest sandbox first, then newest rehearsal first;
    those naming what the caller may not see there are left out."""
    principal.require(AUTOMATION)
    found: list[Rehearsal] = []
    for sandbox in list_sandboxes_of(engine, principal.account_id):
        try:
            inside = replace(principal, account_id=switch_target(
                engine, principal, str(sandbox.account_id)))
        except (NotFoundError, PermissionDeniedError):
            continue  # not a user there
        with read_transaction(engine) as conn:
            page = store.newest_in_states(conn, inside.account_id, _REHEARSED_STATES,
                                          MAX_PAGE)
            found += [Rehearsal(sandbox.account_id, sandbox.name, m) for m in page
                      if _may_read(conn, inside, m)]
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
            done = steps.acknowledge(engine, principal, m, (body or {}).get("assets"))
        elif step in (Step.CLONE, Step.COMPARE):
            done = (steps.clone if step is Step.CLONE else steps.compare)(
                engine, principal, m, budget)
        else:
            others: dict[Step, Callable[[Engine, Principal, StoredMigration],
                                        StoredMigration]] = {
                Step.APPLY: steps.apply, Step.CUT_OVER: steps.cut_over,
                Step.CLEAN_UP: steps.clean_up, Step.FILL_HISTORY: steps.fill_history,
                Step.UNDO: steps.undo}
            done = others[step](engine, principal, m)
    return _view(engine, done, principal.account_id)
