"""Records: a paged, searchable list per object type, and a record's page.

A record page shows every property the user may view (restricted ones are left out by
the services), edits one value at a time, marks sync properties read-only with the
record they were synced from and why, and follows changes live through ``values.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from propsync.domain.errors import NotFoundError, PropsyncError, ValidationError
from propsync.domain.filters import Filter, parse_offset
from propsync.domain.history import ValueSource
from propsync.domain.objects import OBJECT_TYPES, resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services import records as record_svc
from propsync.services import search as search_svc
from propsync.services import sync_properties as sync_svc
from propsync.services import workflow_runs as run_svc
from propsync.services.views import ReadSpec, RecordView
from propsync.web.core import (
    TEMPLATES,
    TITLE_PROPERTIES,
    Ctx,
    CtxDep,
    FormDep,
    WebRoute,
    notice_text,
    record_title,
    render,
)
from propsync.web.proxy import wants_secure_cookies
from propsync.web.record_links import association_groups

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
PAGE_SIZE = 25
LIST_COLUMNS = {"contacts": ("email", "city", "createdate"),
                "companies": ("domain", "city", "industry"),
                "deals": ("amount", "dealstage", "closedate"),
                "tickets": ("hs_pipeline_stage", "hs_ticket_priority", "createdate")}


# What the list's filter offers, in the words it shows them.
FILTER_OPERATORS = {"EQ": "is", "NEQ": "is not", "CONTAINS_TOKEN": "contains the word",
                    "HAS_PROPERTY": "is known", "NOT_HAS_PROPERTY": "is unknown",
                    "GT": "is greater than", "LT": "is less than"}
MAX_COLUMNS = 12
# The columns chosen last, per object type: "<user id>-<name>.<name>" (names are [a-z0-9_])
COLUMNS_COOKIE = "propsync_columns_{}"


@dataclass(frozen=True)
class ListState:
    """What a record list shows, as its address carries it (``?q=&col=&sort=&dir=&fp=``)."""

    q: str
    columns: list[str]
    sort: str
    descending: bool
    fp: str
    fo: str
    fv: str

    def href(self, ot: str, **changes: Any) -> str:
        values = {"q": self.q, "col": self.columns, "sort": self.sort,
                  "dir": "desc" if self.descending else "", "fp": self.fp,
                  "fo": self.fo if self.fp else "", "fv": self.fv if self.fp else "",
                  "after": "", **changes}
        pairs = [(k, x) for k, v in values.items()
                 for x in (v if isinstance(v, list) else [v]) if x]
        return f"/ui/records/{ot}?" + urlencode([*pairs, ("set", "1")])


def viewable(ctx: Ctx, ot: str) -> dict[str, prop_svc.PropertyView]:
    """The type's properties whose values the user may view, by name: the only ones a list
    offers as a column, a sort or a filter (others are as if they did not exist)."""
    p = ctx.principal
    return {v.definition.name: v for v in prop_svc.list_properties(ctx.engine, p, ot)
            if v.definition.access.can_view(p.user_id, p.team_ids)}


def _columns(ctx: Ctx, ot: str, props: dict[str, prop_svc.PropertyView]
             ) -> tuple[list[str], bool]:
    """The columns asked for (``col``, after the column form's ``set``), else the ones this
    user chose last on this browser, else the type's defaults; names the user may not view,
    or that do not exist, are left out. Also: whether the choice is to be remembered."""
    params = ctx.request.query_params
    asked = params.getlist("col")
    remember = bool(asked) or params.get("set") == "1"
    if not remember:
        stored = ctx.request.cookies.get(COLUMNS_COOKIE.format(ot), "")
        user, _, names = stored.partition("-")
        asked = names.split(".") if user == str(ctx.principal.user_id) else list(
            LIST_COLUMNS[ot])
    shown = [n for n in dict.fromkeys(asked) if n in props]
    return shown[:MAX_COLUMNS], remember


@router.get("/records/{objectType}")
def record_list(ctx: CtxDep, objectType: str, q: str = "", after: str = "", sort: str = "",
                dir: str = "", fp: str = "", fo: str = "EQ", fv: str = "") -> Response:
    ot = resolve_object_type(objectType).name
    props = viewable(ctx, ot)
    columns, remember = _columns(ctx, ot, props)
    sort = sort if sort in columns else ""  # a column not shown (or not viewable): no sort
    state = ListState(q.strip(), columns, sort, dir == "desc", fp, fo, fv)
    sorts = [(sort, state.descending)] if sort else []
    start = parse_offset(after or None)
    error = ""
    try:
        groups = [[_filter(props, fp, fo, fv)]] if fp else []
        found = search_svc.search(ctx.engine, ctx.principal, ot, search_svc.SearchRequest(
            groups=groups, sorts=sorts, query=state.q or None, limit=PAGE_SIZE,
            properties=TITLE_PROPERTIES[ot] + tuple(columns), after=after or None,
            query_synced=True))
    except PropsyncError as exc:
        if not fp:
            raise
        error, found = exc.message, search_svc.SearchResult(0, [], None)
    rows = [(v, record_title(ot, v.id, v.properties)) for v in found.views]
    choices = sorted(props.values(), key=lambda v: (v.sync is None, v.definition.label.lower()))
    response = render(
        ctx.request, "records.html", status=400 if error else 200, object_type=ot, rows=rows,
        state=state, total=found.total, next_after=found.next_after, start=start,
        prev_after=str(max(start - PAGE_SIZE, 0)) if start else None, columns=columns,
        props=props, choices=choices, operators=FILTER_OPERATORS, error=error,
        section="records")
    if remember:
        response.set_cookie(COLUMNS_COOKIE.format(ot),
                            f"{ctx.principal.user_id}-{'.'.join(columns)}",
                            max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            path="/ui/records", secure=wants_secure_cookies(ctx.request))
    return response


def _filter(props: dict[str, prop_svc.PropertyView], name: str, operator: str, value: str
            ) -> Filter:
    """The list's one filter; a property the user may not view is refused exactly as one
    that does not exist, an operator the list does not offer as unknown."""
    if name not in props:
        raise ValidationError(f"There is no property {name!r} to filter by.")
    if operator not in FILTER_OPERATORS:
        raise ValidationError(f"Unknown filter {operator!r}; choose one the list offers.")
    needs = operator not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY")
    if needs and not value.strip():
        raise ValidationError(f"Give a value for “{props[name].definition.label} "
                              f"{FILTER_OPERATORS[operator]}”.")
    return Filter(name, operator, value.strip() if needs else None)


@dataclass(frozen=True)
class SyncedFrom:
    """Where a sync value on this record came from, and why (the explain call)."""

    source_type: str
    record_id: int | None
    title: str
    explanation: sync_svc.Explanation
    names: dict[int, str]  # candidate id -> title
    type_labels: dict[int, str]  # association type id -> label


@dataclass(frozen=True)
class Row:
    prop: PropertyDefinition
    value: str | None
    editable: bool
    synced: SyncedFrom | None


def singular_of(ot: str) -> str:
    return OBJECT_TYPES[ot].singular


def _record(ctx: Ctx, ot: str, record_id: str, history: bool = True
            ) -> tuple[RecordView, list[PropertyDefinition]]:
    props = [v.definition for v in prop_svc.list_properties(ctx.engine, ctx.principal, ot)]
    names = [p.name for p in props]
    view = record_svc.get_record(ctx.engine, ctx.principal, ot, record_id,
                                 ReadSpec(properties=names, with_history=names if history else ()))
    return view, [p for p in props if p.name in view.properties]


def _synced(ctx: Ctx, ot: str, record_id: int, name: str) -> SyncedFrom:
    e = sync_svc.explain(ctx.engine, ctx.principal, ot, name, record_id)
    source = e.definition.source_type
    winner = e.winner.record_id if e.winner else None
    names = titles(ctx, source, [c.record_id for c, _, _ in e.candidates])
    kinds = {t.type_id: t.label or "Unlabeled"
             for t in label_svc.list_labels(ctx.engine, ctx.principal, ot, source)}
    return SyncedFrom(source, winner, names.get(winner or 0, ""), e, names, kinds)


def titles(ctx: Ctx, object_type: str, ids: Sequence[int]) -> dict[int, str]:
    """``{id: title}`` of records of one type (ids that do not exist are left out)."""
    if not ids:
        return {}
    found = record_svc.batch_read(ctx.engine, ctx.principal, object_type,
                                  [str(i) for i in ids],
                                  ReadSpec(properties=TITLE_PROPERTIES[object_type]))
    return {v.id: record_title(object_type, v.id, v.properties) for v in found.views}


def _rows(ctx: Ctx, ot: str, view: RecordView, props: list[PropertyDefinition]) -> list[Row]:
    synced = {p.name for p in _sync_names(ctx, ot)}
    p = ctx.principal
    rows = [Row(prop, view.properties.get(prop.name),
                not prop.calculated and prop.name not in synced
                and prop.access.can_edit(p.user_id, p.team_ids),
                _synced(ctx, ot, view.id, prop.name) if prop.name in synced else None)
            for prop in props]
    return sorted(rows, key=lambda r: (r.synced is None, r.prop.label.lower()))


def _sync_names(ctx: Ctx, ot: str) -> list[PropertyDefinition]:
    return [v.definition for v in prop_svc.list_properties(ctx.engine, ctx.principal, ot)
            if v.sync is not None]


def _page(ctx: Ctx, ot: str, record_id: str, status: int = 200,
          error: tuple[str, str] | None = None, notice: str = "") -> Response:
    view, props = _record(ctx, ot, record_id)
    return render(ctx.request, "record.html", status=status, object_type=ot, record=view,
                  title=record_title(ot, view.id, view.properties),
                  rows=_rows(ctx, ot, view, props), error=error, notice=notice,
                  links=association_groups(ctx, ot, view.id),
                  workflows=run_svc.record_workflows(ctx.engine, ctx.principal, ot,
                                                     str(view.id)), section="records")


@router.get("/records/{objectType}/{recordId}")
def record_page(ctx: CtxDep, objectType: str, recordId: str, notice: str = "") -> Response:
    ot = resolve_object_type(objectType).name
    return _page(ctx, ot, recordId, notice=notice_text(notice))


@router.post("/records/{objectType}/{recordId}/values")
def set_value(ctx: CtxDep, form: FormDep, objectType: str, recordId: str) -> Response:
    """Set (or clear, when empty) one property's value; a refusal is shown on its row."""
    ot = resolve_object_type(objectType).name
    recordId = str(record_svc.parse_id(recordId))  # a page for no record: not found
    name = form.get("property")
    source = ValueSource("UI", f"userId:{ctx.principal.user_id}", "web UI",
                         ctx.principal.user_id)
    try:
        done = record_svc.update_records(ctx.engine, ctx.principal, ot,
                                         [(recordId, {name: form.get("value") or None})], source)
    except PropsyncError as exc:
        return _page(ctx, ot, recordId, status=exc.status, error=(name, exc.message))
    if done.missing:
        raise NotFoundError(f"No {ot} record has the id {recordId}; nothing was saved.")
    return RedirectResponse(f"/ui/records/{ot}/{recordId}?notice=saved#prop-{name}",
                            status_code=303)


@router.get("/records/{objectType}/{recordId}/values.json")
def values_json(ctx: CtxDep, objectType: str, recordId: str) -> Response:
    """The record's current values and sync origins, for the page to follow live."""
    ot = resolve_object_type(objectType).name
    view, props = _record(ctx, ot, recordId, history=False)
    synced: dict[str, Any] = {}
    for row in _rows(ctx, ot, view, props):
        if row.synced is not None:
            s = row.synced
            synced[row.prop.name] = {"recordId": s.record_id, "title": s.title,
                                     "href": f"/ui/records/{s.source_type}/{s.record_id}"
                                     if s.record_id else None}
    return JSONResponse({"values": view.properties, "synced": synced,
                         "updatedMs": view.updated_ms})


@router.get("/records/{objectType}/{recordId}/history/{name}")
def history_fragment(ctx: CtxDep, objectType: str, recordId: str, name: str) -> Response:
    """One property's history on the record page, for the page to redraw when the value
    changes live; a property the user may not view is as one that does not exist."""
    ot = resolve_object_type(objectType).name
    view = record_svc.get_record(ctx.engine, ctx.principal, ot, recordId,
                                 ReadSpec(properties=[name], with_history=[name]))
    if name not in view.properties:
        raise NotFoundError(f"{singular_of(ot).capitalize()} {view.id} has no property "
                            f"{name!r}.")
    hist = (view.history or {}).get(name, [])
    prop = prop_svc.get_property(ctx.engine, ctx.principal, ot, name).definition
    return HTMLResponse(TEMPLATES.get_template("_history.html").render(
        hist=hist, open=False, value_type=prop.type))


@router.get("/records/{objectType}/{recordId}/explain/{name}")
def explain_fragment(ctx: CtxDep, objectType: str, recordId: str, name: str) -> Response:
    """The explanation popover's content: candidates, labels, winner, value."""
    ot = resolve_object_type(objectType).name
    synced = _synced(ctx, ot, record_svc.parse_id(recordId), name)
    html = TEMPLATES.get_template("_explain.html").render(s=synced, object_type=ot,
                                                          name=name)
    return HTMLResponse(html)
