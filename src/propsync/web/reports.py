"""Reports: the list, a report's page (a chart drawn by the vendored Chart.js from the
table of the same figures, which needs no script; as of a past date; CSV download), the
editor, cloning (optionally replacing a property) and deleting.

Every read and change goes through ``services.reports``; the editor's filter rows are the
workflow editor's (``flow_fields.read_fields``, ``apply_button``), spelled as HubSpot's
list filter branch by ``flow_form.filter_branch``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.auth import LISTS_READ
from propsync.domain.errors import PropsyncError
from propsync.domain.properties import PropertyDefinition, format_ms
from propsync.domain.reports import (
    BUCKETS,
    CHARTS,
    DEFAULT_GROUPS,
    MAX_GROUPS,
    MEASURES,
    REPORT_OBJECT_TYPES,
    csv_rows,
    number_text,
)
from propsync.services import lists as list_svc
from propsync.services import reports as svc
from propsync.services.reports import StoredReport
from propsync.web.core import Ctx, CtxDep, Form, FormDep, WebRoute, render
from propsync.web.flow_fields import apply_button, read_fields
from propsync.web.flow_form import OPERATORS, Condition, conditions_of, filter_branch, operators_for
from propsync.web.records import viewable as records_viewable

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
BASE = "/ui/reports"
NOTICES = {"created": "Report created.", "saved": "Changes saved.",
           "cloned": "Report cloned: this is the copy.", "deleted": "Report deleted."}
MEASURE_WORDS = {"COUNT": "Count of records", "SUM": "Sum of", "AVERAGE": "Average of"}
CHART_WORDS = {"BAR": "Bar (horizontal)", "COLUMN": "Column", "PIE": "Pie",
               "LINE": "Line (over time)"}
BUCKET_WORDS = {"DAY": "Day", "WEEK": "Week (from Monday)", "MONTH": "Month",
                "QUARTER": "Quarter"}


@dataclass(frozen=True)
class ReportForm:
    """The editor's fields as typed."""

    name: str = ""
    object_type: str = "contacts"
    measure: str = "COUNT"
    measure_property: str = ""
    group_by: str = ""
    date_bucket: str = ""
    chart_type: str = "BAR"
    max_groups: str = str(DEFAULT_GROUPS)
    groups: tuple[tuple[Condition, ...], ...] = ((Condition(),),)
    kept_filters: str = ""  # a filter branch the rows cannot show, kept as it is (JSON)
    list_id: str = ""  # count only this list's members ("": every record)

    def body(self, types: dict[str, str]) -> dict[str, Any]:
        branch = json.loads(self.kept_filters) if self.kept_filters else filter_branch(
            self.groups, types)
        return {"name": self.name, "objectType": self.object_type, "measure": self.measure,
                "measureProperty": self.measure_property or None, "groupBy": self.group_by,
                "dateBucket": self.date_bucket or None, "chartType": self.chart_type,
                "maxGroups": int(self.max_groups) if self.max_groups.isascii() and
                self.max_groups.isdigit() and len(self.max_groups) < 6 else self.max_groups,
                "filterBranch": branch, "listId": self.list_id or None}


def read_form(form: Form) -> ReportForm:
    flow = read_fields(form.fields)
    object_type = form.get("object_type", "contacts")
    return ReportForm(form.get("name"), object_type if object_type in REPORT_OBJECT_TYPES
                      else "contacts", form.get("measure", "COUNT"),
                      form.get("measure_property"), form.get("group_by"),
                      form.get("date_bucket"), form.get("chart_type", "BAR"),
                      form.get("max_groups", str(DEFAULT_GROUPS)), flow.groups,
                      form.get("kept_filters"), form.get("list_id"))


def form_of(stored: StoredReport) -> ReportForm:
    spec = stored.spec
    groups = conditions_of(spec.filter_branch)
    return ReportForm(spec.name, spec.object_type, spec.measure, spec.measure_property or "",
                      spec.group_by, spec.date_bucket or "", spec.chart_type,
                      str(spec.max_groups), groups or ((Condition(),),),
                      "" if groups is not None else json.dumps(spec.filter_branch),
                      "" if spec.list_id is None else str(spec.list_id))


def viewable(ctx: Ctx, object_type: str) -> list[PropertyDefinition]:
    """The properties of ``object_type`` the user may view (``web/records.viewable``), by
    label."""
    return sorted((v.definition for v in records_viewable(ctx, object_type).values()),
                  key=lambda p: p.label.lower())


@router.get("/reports")
def report_list(ctx: CtxDep, after: str = "", done: str = "") -> Response:
    page = svc.list_reports(ctx.engine, ctx.principal, after or None, svc.MAX_PAGE)
    return render(ctx.request, "reports.html", reports=page.reports,
                  next_after=page.next_after, after=after, notice=NOTICES.get(done, ""),
                  measures=MEASURE_WORDS, charts=CHART_WORDS, section="reports")


def lists_of(ctx: Ctx, object_type: str) -> list[tuple[str, str]]:
    """``(id, name)`` of the lists of ``object_type`` the user may see, by name (none
    without ``crm.lists.read``)."""
    if LISTS_READ not in ctx.principal.scopes:
        return []
    page = list_svc.search_lists(ctx.engine, ctx.principal, {
        "count": list_svc.MAX_SEARCH, "objectTypeId": list_svc.object_type_id(object_type)})
    return sorted(((str(x.list_id), x.name) for x in page.lists), key=lambda x: x[1].lower())


def _editor(ctx: Ctx, form: ReportForm, stored: StoredReport | None = None,
            error: PropsyncError | None = None, focus: str = "") -> Response:
    props = viewable(ctx, form.object_type)
    return render(ctx.request, "report_edit.html", status=error.status if error else 200,
                  form=form, stored=stored, error=error, props=props, focus=focus,
                  numbers=[p for p in props if p.type == "number" and not p.calculated],
                  object_types=REPORT_OBJECT_TYPES, measures=MEASURES,
                  measure_words=MEASURE_WORDS, charts=CHARTS, chart_words=CHART_WORDS,
                  buckets=BUCKETS, bucket_words=BUCKET_WORDS, max_groups=MAX_GROUPS,
                  operators=OPERATORS, operators_for=operators_for,
                  lists=lists_of(ctx, form.object_type), section="reports")


@router.get("/reports/new")
def new_report(ctx: CtxDep, objectType: str = "contacts") -> Response:
    ctx.principal.require_property_settings()
    ot = objectType if objectType in REPORT_OBJECT_TYPES else "contacts"
    return _editor(ctx, ReportForm(object_type=ot))


def _submitted(ctx: Ctx, form: Form, stored: StoredReport | None) -> Response:
    typed = read_form(form)
    op = form.get("op", "save")
    if op != "save":
        if op == "object":  # another object type: its own properties, no filters
            return _editor(ctx, replace(typed, group_by="", measure_property="",
                                        groups=((Condition(),),), kept_filters=""), stored)
        groups = apply_button(read_fields(form.fields), op).groups
        return _editor(ctx, replace(typed, groups=groups), stored, focus=op)
    types = {p.name: p.type for p in viewable(ctx, typed.object_type)}
    try:
        if stored is None:
            saved = svc.create_report(ctx.engine, ctx.principal, typed.body(types))
        else:
            saved = svc.update_report(ctx.engine, ctx.principal, str(stored.report_id),
                                      typed.body(types))
    except PropsyncError as exc:
        return _editor(ctx, typed, stored, exc)
    return _done(saved.report_id, "created" if stored is None else "saved")


@router.post("/reports/new")
def create(ctx: CtxDep, form: FormDep) -> Response:
    return _submitted(ctx, form, None)


@router.get("/reports/{reportId}/edit")
def edit_page(ctx: CtxDep, reportId: str) -> Response:
    ctx.principal.require_property_settings()
    stored = svc.get_report(ctx.engine, ctx.principal, reportId)
    return _editor(ctx, form_of(stored), stored)


@router.post("/reports/{reportId}/edit")
def save(ctx: CtxDep, form: FormDep, reportId: str) -> Response:
    stored = svc.get_report(ctx.engine, ctx.principal, reportId)
    return _submitted(ctx, form, stored)


def _done(report_id: int | str, key: str) -> Response:
    return RedirectResponse(f"{BASE}/{report_id}?done={key}", status_code=303)


@router.get("/reports/{reportId}")
def report_page(ctx: CtxDep, reportId: str, asOf: str = "", done: str = "") -> Response:
    stored = svc.get_report(ctx.engine, ctx.principal, reportId)
    return _page(ctx, stored, asOf, NOTICES.get(done, ""))


def _page(ctx: Ctx, stored: StoredReport, as_of: str, notice: str = "",
          error: PropsyncError | None = None) -> Response:
    figures, refusal = None, error
    try:
        figures = svc.run_report(ctx.engine, ctx.principal, str(stored.report_id),
                                 as_of or None).figures
    except PropsyncError as exc:  # shown on the page: the definition is still the user's
        refusal = refusal or exc
    props = {p.name: p.label for p in viewable(ctx, stored.object_type)}
    return render(ctx.request, "report.html", status=refusal.status if refusal else 200,
                  stored=stored, spec=stored.spec, figures=figures, as_of=as_of,
                  notice=notice, error=refusal, labels=props, number_text=number_text,
                  measures=MEASURE_WORDS, buckets=BUCKET_WORDS, charts=CHART_WORDS,
                  section="reports")


@router.get("/reports/{reportId}/export.csv")
def export(ctx: CtxDep, reportId: str, asOf: str = "") -> Response:
    """The figures as CSV (a download), the rows of the page's table."""
    run = svc.run_report(ctx.engine, ctx.principal, reportId, asOf or None)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(run.report.spec, run.figures))
    as_of = run.figures.as_of_ms
    day = "" if as_of is None else f"-as-of-{format_ms(as_of)[:10]}"  # ASCII, as parsed
    name = f"report-{run.report.report_id}{day}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/reports/{reportId}/clone")
def clone(ctx: CtxDep, form: FormDep, reportId: str) -> Response:
    old, new = form.get("replace_property"), form.get("replace_with")
    try:
        made = svc.clone_report(ctx.engine, ctx.principal, reportId, form.get("name") or None,
                                (old, new) if old and new else None)
    except PropsyncError as exc:
        stored = svc.get_report(ctx.engine, ctx.principal, reportId)
        return _page(ctx, stored, "", error=exc)
    return _done(made.report_id, "cloned")


@router.post("/reports/{reportId}/delete")
def delete(ctx: CtxDep, form: FormDep, reportId: str) -> Response:
    svc.delete_report(ctx.engine, ctx.principal, reportId)
    return RedirectResponse(f"{BASE}?done=deleted", status_code=303)
