"""The migration's comparisons, read-only: a list or a report against its clone (issue 16,
step 5). ``GET``, with the two ids in the path and the rest in the query: a comparison
changes nothing, names two assets the path can hold, and takes a few short parameters,
so it is a read that a browser, a link or a retry may repeat safely (a ``POST`` with a
body would hide that). Every answer is bounded: ``limit`` records a side (1-100), a
``sample`` of records a group (1-20)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.migration_compare import (
    ListComparisonOut,
    ReportComparisonOut,
    list_comparison_out,
    report_comparison_out,
)
from propsync.services import migration_compare as svc
from propsync.services import report_compare

router = APIRouter(prefix="/propsync/v1", tags=["Migration"], responses=ERROR_RESPONSES)

Name = Annotated[str | None, Query(max_length=svc.MAX_NAME)]
Cursor = Annotated[str | None, Query(max_length=40)]


@router.get("/lists/{listId}/compare/{otherListId}", response_model=ListComparisonOut)
def compare_lists(listId: str, otherListId: str, engine: EngineDep, principal: PrincipalDep,
                  oldProperty: Name = None, newProperty: Name = None,
                  limit: Annotated[int, Query()] = svc.DEFAULT_PAGE,
                  originalAfter: Cursor = None, cloneAfter: Cursor = None
                  ) -> ListComparisonOut:
    """The members of each list that the other lacks: exact counts, and a page of each by
    record id, each record with the replaced property's value (``oldProperty``) and the
    value in its place (``newProperty``) and why it differs (``STALE_COPY``: the two
    disagree; ``LIST_PROCESSING``; ``MEMBERS_NOT_BY_FILTER``; ``OTHER``). Without
    ``oldProperty`` and ``newProperty``, they are read off the two filters (the one
    property each names that the other does not). ``crm.lists.read`` and the list type's
    schema and record read scopes."""
    return list_comparison_out(svc.compare_lists(
        engine, principal, listId, otherListId, oldProperty, newProperty, limit,
        originalAfter, cloneAfter))


@router.get("/reports/{reportId}/compare/{otherReportId}", response_model=ReportComparisonOut)
def compare_reports(reportId: str, otherReportId: str, engine: EngineDep,
                    principal: PrincipalDep, oldProperty: Name = None,
                    newProperty: Name = None,
                    asOf: Annotated[str | None, Query(max_length=40)] = None,
                    sample: Annotated[int, Query()] = report_compare.DEFAULT_SAMPLE
                    ) -> ReportComparisonOut:
    """Both reports' figures (now, or ``asOf`` a past moment), the groups whose figures
    differ, how many records left and joined each, and a sample of them with the two
    values and why. ``business-intelligence`` and the report type's schema and record
    read scopes."""
    return report_comparison_out(report_compare.compare_reports(
        engine, principal, reportId, otherReportId, oldProperty, newProperty, asOf, sample))
