"""Records: a paged, searchable list per object type, and a record's page.

A record page shows every property the user may view (restricted ones are left out by
the services), edits one value at a time, marks sync properties read-only with the
record they were synced from and why, and follows changes live through ``values.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from propsync.domain.errors import NotFoundError, PropsyncError
from propsync.domain.filters import parse_offset
from propsync.domain.history import ValueSource
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services import records as record_svc
from propsync.services import search as search_svc
from propsync.services import sync_properties as sync_svc
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
from propsync.web.record_links import association_groups

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
PAGE_SIZE = 25
LIST_COLUMNS = {"contacts": ("email", "city", "createdate"),
                "companies": ("domain", "city", "industry"),
                "deals": ("amount", "dealstage", "closedate"),
                "tickets": ("hs_pipeline_stage", "hs_ticket_priority", "createdate")}


@router.get("/records/{objectType}")
def record_list(ctx: CtxDep, objectType: str, q: str = "", after: str = "") -> Response:
    ot = resolve_object_type(objectType).name
    names = TITLE_PROPERTIES[ot] + LIST_COLUMNS[ot]
    found = search_svc.search(ctx.engine, ctx.principal, ot, search_svc.SearchRequest(
        query=q.strip() or None, properties=names, limit=PAGE_SIZE, after=after or None))
    labels = {v.definition.name: v.definition.label
              for v in prop_svc.list_properties(ctx.engine, ctx.principal, ot)}
    rows = [(v, record_title(ot, v.id, v.properties)) for v in found.views]
    start = parse_offset(after or None)
    return render(ctx.request, "records.html", object_type=ot, rows=rows, q=q,
                  total=found.total, next_after=found.next_after, start=start,
                  prev_after=str(max(start - PAGE_SIZE, 0)) if start else None,
                  columns=[c for c in LIST_COLUMNS[ot]], labels=labels, section="records")


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
                  links=association_groups(ctx, ot, view.id), section="records")


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


@router.get("/records/{objectType}/{recordId}/explain/{name}")
def explain_fragment(ctx: CtxDep, objectType: str, recordId: str, name: str) -> Response:
    """The explanation popover's content: candidates, labels, winner, value."""
    ot = resolve_object_type(objectType).name
    synced = _synced(ctx, ot, record_svc.parse_id(recordId), name)
    html = TEMPLATES.get_template("_explain.html").render(s=synced, object_type=ot,
                                                          name=name)
    return HTMLResponse(html)
