"""propsync's migration assistant, its read-only steps: scan the account's workflows (or
workflows exported from HubSpot) for copies a sync property could replace, and plan one.
Nothing is created. The ``automation`` scope, and the schema read scopes of the object
types involved (``services/migration_scan.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.migrations import PlanOut, ScanIn, ScanOut, plan_out, scan_out
from propsync.services import migration_scan as svc

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
