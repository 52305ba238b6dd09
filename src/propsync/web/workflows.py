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
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services import workflows as flow_svc
from propsync.storage.workflows import StoredFlow
from propsync.web import flow_words
from propsync.web.core import Ctx, CtxDep, FormDep, WebRoute, render
from propsync.web.workflow_editor import BASE, association_phrase, definition_json

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
PAGE_SIZE = 100
# What a finished change says; the address carries a key, never text of its own.
NOTICES = {"created": "Workflow created. It is off: turn it on when it is ready.",
           "saved": "Changes saved.", "on": "Workflow turned on.",
           "on-existing": "Workflow turned on; the records that met its trigger are enrolled.",
           "off": "Workflow turned off.", "deleted": "Workflow deleted.",
           "enrolled": "Record enrolled: its actions run shortly."}


@router.get("/automation")
def automation_home() -> Response:
    return RedirectResponse(BASE, status_code=303)


@router.get("/automation/workflows")
def workflow_list(ctx: CtxDep, after: str = "", done: str = "") -> Response:
    page = flow_svc.list_flows(ctx.engine, ctx.principal, after or None, PAGE_SIZE)
    return render(ctx.request, "workflows.html", flows=page.flows, next_after=page.next_after,
                  after=after, notice=NOTICES.get(done, ""), section="automation")


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


def _page_values(ctx: Ctx, stored: StoredFlow) -> dict[str, Any]:
    return {"stored": stored, "words": words_of(ctx, stored),
            "definition": definition_json(stored), "section": "automation"}


@router.get("/automation/workflows/{flowId}")
def workflow_page(ctx: CtxDep, flowId: str, done: str = "") -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    return render(ctx.request, "workflow.html", notice=NOTICES.get(done, ""), error=None,
                  **_page_values(ctx, stored))


def _with_error(ctx: Ctx, flow_id: str, exc: PropsyncError) -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flow_id)
    return render(ctx.request, "workflow.html", status=exc.status, notice="", error=exc,
                  **_page_values(ctx, stored))


@router.post("/automation/workflows/{flowId}/delete")
def delete_workflow(ctx: CtxDep, form: FormDep, flowId: str) -> Response:
    try:
        flow_svc.delete_flow(ctx.engine, ctx.principal, flowId)
    except PropsyncError as exc:
        return _with_error(ctx, flowId, exc)
    return RedirectResponse(f"{BASE}?done=deleted", status_code=303)
