"""propsync's migration assistant (issue 16) over HTTP, ``/propsync/v1/migrations``.

- Read-only: scan the account's workflows (or workflows exported from HubSpot) for copies
  a sync property could replace, and plan one; nothing is created
  (``services/migration_scan.py``).
- The migration itself: start one, read them, run a step (``services/migrations.py``:
  a state machine, each step resumable and undoable up to cut-over, one step of a
  migration at a time), and replay here a migration rehearsed in a sandbox.

The ``automation`` scope throughout, the schema read scopes of the object types involved,
and the property-settings role for anything that changes the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.migration_runs import (
    MigrationIn,
    MigrationList,
    MigrationOut,
    RehearsalList,
    ReplayIn,
    StepIn,
    migration_out,
    rehearsal_out,
    stored_out,
)
from propsync.api.schemas.migrations import PlanOut, ScanIn, ScanOut, plan_out, scan_out
from propsync.domain.errors import NotFoundError, PermissionDeniedError
from propsync.domain.migrations import Step
from propsync.services import migration_scan as svc
from propsync.services import migrations as runs

router = APIRouter(prefix="/propsync/v1/migrations", tags=["Migrations"],
                   responses=ERROR_RESPONSES)


@router.get("/scan", response_model=ScanOut, response_model_exclude_none=True)
def scan_account(engine: EngineDep, principal: PrincipalDep) -> ScanOut:
    """Every workflow of the account judged: which copy a value across an association,
    which a sync property could replace, and why not the others. Workflows naming object
    types or properties the caller may not see are counted in ``hidden``, not listed."""
    return scan_out(svc.scan_account(engine, principal))


@router.post("/scan", response_model=ScanOut, response_model_exclude_none=True)
def scan_flows(body: ScanIn, engine: EngineDep, principal: PrincipalDep) -> ScanOut:
    """Workflows exported from a HubSpot portal (``GET /automation/v4/flows/{id}``
    output, at most 100) judged against this account's schema, without creating them."""
    return scan_out(svc.scan_documents(
        engine, principal, [(f"flows[{i}]", f) for i, f in enumerate(body.flows)]))


@router.get("/plan/{flowId}", response_model=PlanOut, response_model_exclude_none=True)
def plan(flowId: str, engine: EngineDep, principal: PrincipalDep,
         top: Annotated[int, Query()] = 10, sample: Annotated[int, Query()] = 20) -> PlanOut:
    """The sync property that would replace one workflow's copy, and a dry run: the values
    it would hold, and the records whose copy differs today (stale copies)."""
    return plan_out(svc.plan_flow(engine, principal, flowId, top, sample))


# --- the migration itself: a resumable, undoable state machine (services/migrations.py) ---

@router.post("", status_code=201, response_model=MigrationOut)
def start_migration(body: MigrationIn, engine: EngineDep, principal: PrincipalDep
                    ) -> JSONResponse:
    """Start migrating one copy workflow (PLANNED): a one-way copy, or a conditional one
    with ``acceptDifferences``; a two-way pair is refused with the scan's explanation. One
    migration at a time per workflow (409). ``automation`` and the property-settings role,
    plus the plan's scopes."""
    made = runs.start(engine, principal, body.flowId, body.acceptDifferences)
    return JSONResponse(migration_out(made).model_dump(mode="json"), status_code=201,
                        headers={"Location": f"/propsync/v1/migrations/{made.migration_id}"})


@router.get("", response_model=MigrationList)
def list_migrations(engine: EngineDep, principal: PrincipalDep,
                    after: Annotated[str | None, Query(max_length=40)] = None,
                    limit: Annotated[int, Query()] = runs.DEFAULT_PAGE) -> MigrationList:
    """The account's migrations by id, a page at a time (``limit`` 1-100)."""
    page, more, hidden = runs.list_migrations(engine, principal, after, limit)
    return MigrationList(results=[stored_out(m) for m in page], hidden=hidden,
                         paging={"next": {"after": more}} if more else None)


# --- a rehearsal in a sandbox, replayed here (before ``/{migrationId}``, which would take
# ``rehearsals`` for an id) ---

@router.post("/replay", status_code=201, response_model=MigrationOut)
def replay_rehearsal(body: ReplayIn, engine: EngineDep, principal: PrincipalDep
                     ) -> JSONResponse:
    """Start here (PLANNED) a migration rehearsed in one of this account's sandboxes as far
    as its comparison at least: the same workflow (a sandbox keeps ids) and sync property,
    the rehearsal's figures in ``plan.rehearsal``. 409 ``REHEARSAL_NOT_COMPARED`` before
    its comparison, 409 ``REHEARSAL_OUTDATED`` when the workflow here no longer plans what
    was rehearsed, 409 while the workflow is being migrated; 404 for a sandbox that is not
    this account's or where you are not a user; 400 in a sandbox. As ``POST
    /propsync/v1/migrations``: ``automation`` and the property-settings role."""
    try:
        made = runs.replay(engine, principal, body.sandboxId, body.migrationId)
    except PermissionDeniedError as e:
        if not any(d.code == "NOT_A_USER_THERE" for d in e.details):
            raise
        # a user who joined after the copy: the sandbox is not one of theirs, as listed
        raise NotFoundError(f"This account has no sandbox {body.sandboxId[:40]!r} where you "
                            "are a user (a sandbox has the users its account had when it "
                            "was copied).") from None
    return JSONResponse(migration_out(made).model_dump(mode="json"), status_code=201,
                        headers={"Location": f"/propsync/v1/migrations/{made.migration_id}"})


@router.get("/rehearsals", response_model=RehearsalList)
def list_rehearsals(engine: EngineDep, principal: PrincipalDep) -> RehearsalList:
    """The migrations rehearsed as far as their comparison (COMPARED, CUT_OVER or
    CLEANED_UP) in this account's sandboxes where you are the same user, newest sandbox
    first, to replay with ``POST /propsync/v1/migrations/replay``. Migrations naming an
    object type or property you may not see are left out. ``automation``; at most 10
    sandboxes, the newest 100 rehearsals of each."""
    return RehearsalList(results=[rehearsal_out(r) for r in runs.rehearsals(engine,
                                                                            principal)])


@router.get("/{migrationId}", response_model=MigrationOut)
def get_migration(migrationId: str, engine: EngineDep, principal: PrincipalDep
                  ) -> MigrationOut:
    """One migration: its state, the next step, what each step did, and the sync
    property's backfill while it runs."""
    return migration_out(runs.get_migration(engine, principal, migrationId))


@router.post("/{migrationId}/{step}", response_model=MigrationOut,
             responses={202: {"model": MigrationOut}})
def run_step(migrationId: str, step: str, engine: EngineDep, principal: PrincipalDep,
             body: StepIn | None = None) -> JSONResponse:
    """Run one step: ``apply``, ``clone``, ``compare``, ``acknowledge`` (body: the
    differing ``assets`` accepted), ``cut-over``, ``clean-up``, ``fill-history`` or
    ``undo``. A step interrupted by a crash is finished by asking for it again. A step
    that is still to do answers 202: ``apply`` while the workers fill the sync property
    (state APPLYING; GET the migration to see its progress), ``clone`` and ``compare``
    while assets are left for the next request (``results.clone.pending``,
    ``results.compare.pending``). Ask again. One step of a migration at a time: another
    running now is a 409 (MIGRATION_BUSY)."""
    try:
        chosen = Step(step)
    except ValueError:
        raise NotFoundError(f"There is no migration step {step[:40]!r}; the steps are "
                            f"{', '.join(s.value for s in Step)}.") from None
    done = runs.run_step(engine, principal, migrationId, chosen,
                         {"assets": body.assets} if body and body.assets is not None else None)
    status = 202 if done.next is chosen else 200  # still to do: ask again
    return JSONResponse(migration_out(done).model_dump(mode="json"), status_code=status)
