"""Automation → Workflows: the list, a workflow's page, turning it on and off (with what
that does to records, said before it is done), enrolling a record by hand, deleting.

Every read and change goes through ``services.workflows`` (definitions) and the workflow
engine's services (counts, run log, enrollments); pages show the controls the viewer's
role may use, and the services refuse the rest.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.errors import PropsyncError
from propsync.domain.objects import OBJECT_TYPES
from propsync.domain.workflow_rules import Admission
from propsync.domain.workflow_usage import occurrences
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services import search as search_svc
from propsync.services import workflow_clones as clone_svc
from propsync.services import workflow_runs as run_svc
from propsync.services import workflows as flow_svc
from propsync.services.workflow_summaries import flow_summaries
from propsync.web import flow_words
from propsync.web.core import TITLE_PROPERTIES, Ctx, CtxDep, FormDep, WebRoute, record_title, render
from propsync.web.records import titles
from propsync.web.workflow_editor import BASE, StoredFlow, association_phrase, definition_json

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
PAGE_SIZE = 100
RUNS_SHOWN = 25
FOUND_SHOWN = 10
# What a finished change says; the address carries a key, never text of its own.
NOTICES = {"created": "Workflow created. It is off: turn it on when it is ready.",
           "saved": "Changes saved.", "on": "Workflow turned on.",
           "on-existing": "Workflow turned on; the records that met its trigger are enrolled.",
           "off": "Workflow turned off.", "deleted": "Workflow deleted.",
           "cloned": "Workflow cloned. The clone is off: check it, then turn it on.",
           "enrolled": "Record enrolled: its actions run shortly.",
           "pending": "The record is part-way through this workflow: it goes through it again "
                      "once that enrollment ends."}


@router.get("/automation")
def automation_home() -> Response:
    return RedirectResponse(BASE, status_code=303)


@router.get("/automation/workflows")
def workflow_list(ctx: CtxDep, after: str = "", done: str = "") -> Response:
    page = flow_svc.list_flows(ctx.engine, ctx.principal, after or None, PAGE_SIZE)
    counts = flow_summaries(ctx.engine, ctx.principal, [f.flow_id for f in page.flows])
    return render(ctx.request, "workflows.html", flows=page.flows, counts=counts,
                  next_after=page.next_after, after=after, notice=NOTICES.get(done, ""),
                  section="automation")


def words_of(ctx: Ctx, stored: StoredFlow) -> flow_words.Words:
    """The flow in words, with the account's property labels and association labels."""
    labels: dict[tuple[str, str], str] = {}

    def label(object_type: str, name: str) -> str:
        if not labels.get((object_type, "")):
            labels[(object_type, "")] = "loaded"
            for v in prop_svc.list_properties(ctx.engine, ctx.principal, object_type):
                labels[(object_type, v.definition.name)] = v.definition.label
        return labels.get((object_type, name), name)

    ends = {(t.category, t.type_id): (association_phrase(t), t.to_type)
            for tt in OBJECT_TYPES
            for t in label_svc.list_labels(ctx.engine, ctx.principal, stored.object_type, tt)}
    return flow_words.describe(stored.flow, label, ends)


def _page_values(ctx: Ctx, stored: StoredFlow, before: str = "", find: str = ""
                 ) -> dict[str, Any]:
    flow_id = str(stored.flow_id)
    words = words_of(ctx, stored)
    runs = run_svc.list_runs(ctx.engine, ctx.principal, flow_id, before or None, RUNS_SHOWN)
    return {"stored": stored, "words": words, "definition": definition_json(stored),
            "counts": run_svc.flow_summary(ctx.engine, ctx.principal, flow_id),
            "runs": runs.runs, "older": runs.next_after, "newer": bool(before),
            "run_titles": titles(ctx, stored.object_type, sorted({r.record_id
                                                                  for r in runs.runs})),
            "step_numbers": {a: f"Step {i + 1}" for i, (a, _) in enumerate(words.steps)},
            "find": find, "found": found_records(ctx, stored.object_type, find),
            "section": "automation"}


def found_records(ctx: Ctx, object_type: str, text: str) -> list[tuple[int, str]]:
    """The records a manual enrollment may mean by ``text``: the one with that id, then
    those whose name or other searchable text matches."""
    text = text.strip()
    if not text or not ctx.principal.manages_properties:
        return []
    by_id = titles(ctx, object_type, [int(text)]) if text.isascii() and text.isdigit() and \
        len(text) < 19 else {}
    found = search_svc.search(ctx.engine, ctx.principal, object_type, search_svc.SearchRequest(
        query=text[:200], properties=TITLE_PROPERTIES[object_type], limit=FOUND_SHOWN))
    matches = {v.id: record_title(object_type, v.id, v.properties) for v in found.views}
    return list({**by_id, **matches}.items())[:FOUND_SHOWN]


@router.get("/automation/workflows/{flowId}")
def workflow_page(ctx: CtxDep, flowId: str, done: str = "", before: str = "",
                  find: str = "") -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    return render(ctx.request, "workflow.html", notice=NOTICES.get(done, ""), error=None,
                  **_page_values(ctx, stored, before, find))


def _with_error(ctx: Ctx, flow_id: str, exc: PropsyncError) -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flow_id)
    return render(ctx.request, "workflow.html", status=exc.status, notice="", error=exc,
                  **_page_values(ctx, stored))


def _done(flow_id: int | str, key: str) -> Response:
    return RedirectResponse(f"{BASE}/{flow_id}?done={key}", status_code=303)


@router.post("/automation/workflows/{flowId}/enroll")
def enroll(ctx: CtxDep, form: FormDep, flowId: str) -> Response:
    try:
        done = run_svc.enroll_record(ctx.engine, ctx.principal, flowId, form.get("record_id"))
    except PropsyncError as exc:
        return _with_error(ctx, flowId, exc)
    return _done(flowId, "pending" if done.admission is Admission.PENDING else "enrolled")


def _toggle_page(ctx: Ctx, stored: StoredFlow, turning_on: bool,
                 error: PropsyncError | None = None) -> Response:
    flow_id = str(stored.flow_id)
    existing = (run_svc.count_would_enroll(ctx.engine, ctx.principal, flow_id)
                if turning_on and stored.flow.enrollment.kind == "LIST_BASED" else 0)
    active = 0 if turning_on else run_svc.flow_summary(ctx.engine, ctx.principal,
                                                       flow_id).active
    return render(ctx.request, "workflow_toggle.html", status=error.status if error else 200,
                  stored=stored, turning_on=turning_on, existing=existing, active=active,
                  error=error, section="automation")


@router.get("/automation/workflows/{flowId}/turn-on")
def turn_on_page(ctx: CtxDep, flowId: str) -> Response:
    """Says how many records meet the trigger now, and asks whether to enroll them."""
    ctx.principal.require_property_settings()
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    if stored.enabled:
        return _done(flowId, "on")
    return _toggle_page(ctx, stored, True)


@router.post("/automation/workflows/{flowId}/turn-on")
def turn_on(ctx: CtxDep, form: FormDep, flowId: str) -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    try:
        flow_svc.set_enabled(ctx.engine, ctx.principal, flowId, True)
        if form.get("existing") == "enroll":
            run_svc.enroll_existing(ctx.engine, ctx.principal, flowId)
    except PropsyncError as exc:
        return _toggle_page(ctx, stored, True, exc)
    return _done(flowId, "on-existing" if form.get("existing") == "enroll" else "on")


@router.get("/automation/workflows/{flowId}/turn-off")
def turn_off_page(ctx: CtxDep, flowId: str) -> Response:
    """Says how many active enrollments turning the flow off cancels."""
    ctx.principal.require_property_settings()
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    if not stored.enabled:
        return _done(flowId, "off")
    return _toggle_page(ctx, stored, False)


@router.post("/automation/workflows/{flowId}/turn-off")
def turn_off(ctx: CtxDep, form: FormDep, flowId: str) -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    try:
        flow_svc.set_enabled(ctx.engine, ctx.principal, flowId, False)
    except PropsyncError as exc:
        return _toggle_page(ctx, stored, False, exc)
    return _done(flowId, "off")


@router.post("/automation/workflows/{flowId}/delete")
def delete_workflow(ctx: CtxDep, form: FormDep, flowId: str) -> Response:
    try:
        flow_svc.delete_flow(ctx.engine, ctx.principal, flowId)
    except PropsyncError as exc:
        return _with_error(ctx, flowId, exc)
    return RedirectResponse(f"{BASE}?done=deleted", status_code=303)


def _clone_page(ctx: Ctx, stored: StoredFlow, error: PropsyncError | None = None,
                chosen: tuple[str, str, str] = ("", "", "")) -> Response:
    """The clone form: a name, and optionally a property the flow uses to replace, with
    the properties of the object types it uses properties of to choose from."""
    ends = {t.type_id: t.to_type for tt in OBJECT_TYPES
            for t in label_svc.list_labels(ctx.engine, ctx.principal, stored.object_type, tt)}
    used = sorted({(ot, name) for ot, name, _ in occurrences(stored.flow, ends)})
    choices = {ot: prop_svc.list_properties(ctx.engine, ctx.principal, ot)
               for ot in sorted({ot for ot, _ in used})}
    labels = {(ot, v.definition.name): v.definition.label
              for ot, views in choices.items() for v in views}
    return render(ctx.request, "workflow_clone.html", status=error.status if error else 200,
                  stored=stored, used=used, labels=labels, choices=choices, error=error,
                  chosen=chosen, section="automation")


@router.get("/automation/workflows/{flowId}/clone")
def clone_page(ctx: CtxDep, flowId: str) -> Response:
    ctx.principal.require_property_settings()
    return _clone_page(ctx, flow_svc.get_flow(ctx.engine, ctx.principal, flowId))


@router.post("/automation/workflows/{flowId}/clone")
def clone_workflow(ctx: CtxDep, form: FormDep, flowId: str) -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    name, old, new = (form.get("name") or "").strip(), form.get("replace") or "", \
        form.get("with") or ""
    try:
        saved = clone_svc.clone_flow(ctx.engine, ctx.principal, flowId, clone_svc.CloneRequest(
            name or None, old or None, (new or None) if old else None))
    except PropsyncError as exc:
        return _clone_page(ctx, stored, exc, (name, old, new))
    return _done(saved.flow_id, "cloned")
