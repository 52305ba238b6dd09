"""Bodies of propsync's reports (``/propsync/v1/reports``); HubSpot has no public reports
API, so the shape is propsync's own, in HubSpot's manner (camelCase, ids as strings,
filters as HubSpot's list filter branch)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from propsync.api.schemas.common import Model, NextPage, Paging
from propsync.domain.properties import format_ms
from propsync.domain.reports import DEFAULT_GROUPS, Figures
from propsync.services.reports import ReportPage, ReportRun, StoredReport

_BRANCH = ("HubSpot's list filter branch: an OR branch of AND branches (or one AND branch) "
           "of PROPERTY filters, as Lists v3 and workflow enrollment write it.")


class ReportIn(Model):
    """A report's definition (the service reads and checks every member, and refuses
    one it does not know)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="What the report is called.")
    objectType: str = Field(description="contacts, companies, deals or tickets.")
    measure: str = Field("COUNT", description="COUNT (records), SUM or AVERAGE (of "
                         "measureProperty).")
    measureProperty: str | None = Field(None, description="A number property, for SUM and "
                                        "AVERAGE.")
    groupBy: str = Field(description="The property whose values make the groups (a sync "
                         "property, an enumeration, a bool, a date...).")
    dateBucket: str | None = Field(None, description="DAY, WEEK (from Monday), MONTH or "
                                   "QUARTER, in UTC: for a date or date-time groupBy "
                                   "(MONTH if left out).")
    chartType: str = Field("BAR", description="BAR, COLUMN, PIE or LINE.")
    maxGroups: int = Field(DEFAULT_GROUPS, description="The biggest groups shown (1-100); "
                           "the others are added up in one '(other)' group.")
    filterBranch: dict[str, Any] | None = Field(None, description=_BRANCH)
    listId: str | None = Field(None, description="Count only the members of this list (a "
                               "list of the same object type; its members as they are now, "
                               "also for figures as of a past date). Needs crm.lists.read.")


class ReportOut(Model):
    id: str
    name: str
    objectType: str
    measure: str
    measureProperty: str | None
    groupBy: str
    dateBucket: str | None
    chartType: str
    maxGroups: int
    filterBranch: dict[str, Any] | None
    listId: str | None = None
    createdAt: str
    updatedAt: str
    createdBy: str | None = None


def report_out(stored: StoredReport) -> ReportOut:
    return ReportOut(id=str(stored.report_id), **stored.spec.definition,
                     createdAt=format_ms(stored.created_ms),
                     updatedAt=format_ms(stored.updated_ms),
                     createdBy=None if stored.created_by is None else str(stored.created_by))


class ReportList(Model):
    results: list[ReportOut]
    paging: Paging | None = None


def report_list(page: ReportPage) -> ReportList:
    paging = Paging(next=NextPage(after=page.next_after)) if page.next_after else None
    return ReportList(results=[report_out(r) for r in page.reports], paging=paging)


class Replace(Model):
    property: str = Field(description="A property the report uses.")
    with_: str = Field(alias="with", description="The property to use in its place (its "
                       "values must compare alike).")


class CloneIn(Model):
    name: str | None = Field(None, description="The copy's name ('Copy of ...' if left out).")
    replace: Replace | None = None


class GroupOut(Model):
    kind: Literal["VALUE", "NO_VALUE", "OTHER"] = Field(
        description="A value's group; the records without a value; or the groups beyond "
        "maxGroups, added up.")
    key: str | None = Field(description="The value (a date bucket: 2026-03-02, 2026-03, "
                            "2026-Q1); none for NO_VALUE and OTHER.")
    label: str
    records: int
    value: float | None = Field(description="The measure: records, sum or average (none: "
                                "no value to average).")
    groups: int | None = Field(None, description="OTHER: how many groups it adds up.")


class ReportRunOut(Model):
    reportId: str
    measure: str
    asOf: str | None = Field(description="The moment the figures are as of (none: now).")
    records: int = Field(description="Every record counted.")
    value: float | None = Field(description="The measure over every record counted.")
    groups: list[GroupOut]


def run_out(run: ReportRun) -> ReportRunOut:
    f: Figures = run.figures
    return ReportRunOut(
        reportId=str(run.report.report_id), measure=f.measure,
        asOf=None if f.as_of_ms is None else format_ms(f.as_of_ms), records=f.records,
        value=f.value, groups=[GroupOut(kind=g.kind, key=g.key, label=g.label,
                                        records=g.records, value=g.value,
                                        groups=g.folded or None) for g in f.groups])
