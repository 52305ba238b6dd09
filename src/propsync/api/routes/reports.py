"""propsync's reports: ``/propsync/v1/reports`` (HubSpot has no public reports API).

Scopes: ``business-intelligence`` (HubSpot's reports scope) for every call, with the
schema read scope of the report's object type for anything that shows a definition, and
its record read scope to run it. Creating, changing, cloning and deleting need the
property-settings role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.reports import (
    CloneIn,
    ReportIn,
    ReportList,
    ReportOut,
    ReportRunOut,
    report_list,
    report_out,
    run_out,
)
from propsync.services import reports as svc

router = APIRouter(prefix="/propsync/v1/reports", tags=["Reports"], responses=ERROR_RESPONSES)


@router.get("", response_model=ReportList)
def list_reports(engine: EngineDep, principal: PrincipalDep,
                 after: Annotated[str | None, Query(max_length=40)] = None,
                 limit: Annotated[int, Query()] = svc.MAX_PAGE) -> ReportList:
    """The reports on object types whose properties the token may read, by id."""
    return report_list(svc.list_reports(engine, principal, after, limit))


@router.post("", status_code=201, response_model=ReportOut)
def create_report(body: ReportIn, engine: EngineDep, principal: PrincipalDep) -> JSONResponse:
    """Save a report."""
    saved = svc.create_report(engine, principal, body.model_dump(exclude_unset=True))
    return JSONResponse(report_out(saved).model_dump(mode="json"), status_code=201,
                        headers={"Location": f"/propsync/v1/reports/{saved.report_id}"})


@router.get("/{reportId}", response_model=ReportOut)
def get_report(reportId: str, engine: EngineDep, principal: PrincipalDep) -> ReportOut:
    return report_out(svc.get_report(engine, principal, reportId))


@router.put("/{reportId}", response_model=ReportOut)
def update_report(reportId: str, body: ReportIn, engine: EngineDep, principal: PrincipalDep
                  ) -> ReportOut:
    """Replace the report's definition (its object type stays)."""
    return report_out(svc.update_report(engine, principal, reportId,
                                        body.model_dump(exclude_unset=True)))


@router.delete("/{reportId}", status_code=204, response_class=Response)
def delete_report(reportId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    svc.delete_report(engine, principal, reportId)
    return Response(status_code=204)


@router.post("/{reportId}/clone", status_code=201, response_model=ReportOut)
def clone_report(reportId: str, body: CloneIn, engine: EngineDep, principal: PrincipalDep
                 ) -> JSONResponse:
    """A copy of the report, optionally with one property replaced by another throughout
    (both must hold values that compare alike)."""
    replace = None if body.replace is None else (body.replace.property, body.replace.with_)
    saved = svc.clone_report(engine, principal, reportId, body.name, replace)
    return JSONResponse(report_out(saved).model_dump(mode="json"), status_code=201,
                        headers={"Location": f"/propsync/v1/reports/{saved.report_id}"})


@router.get("/{reportId}/run", response_model=ReportRunOut)
def run_report(reportId: str, engine: EngineDep, principal: PrincipalDep,
               asOf: Annotated[str | None, Query(max_length=40)] = None) -> ReportRunOut:
    """The report's figures: one group per value (a date per UTC bucket), the biggest
    ``maxGroups`` of them, then "(no value)" and "(other)". With ``asOf`` (a date, an
    ISO-8601 date-time or epoch milliseconds in the past), as of that moment, from the
    property history: the value each record had then, of the records created by then and
    not archived then. Not exact as of a moment: association changes are not historized
    (a sync property's value then is the one the sync engine had written by then, which
    may lag the association change that moved it); a record archived then and restored
    since counts as live throughout; calculated properties other than ``createdate``
    (``lastmodifieddate``) are today's; records deleted for good (GDPR) are gone; a
    property's definition (its type, options and labels) is today's."""
    return run_out(svc.run_report(engine, principal, reportId, asOf))
