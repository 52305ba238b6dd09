"""Settings → Association labels: the labels between two object types, and the custom
ones an admin creates, renames and deletes.

Every change goes through ``services.labels`` (the API's own rules and refusals: a label
or name already used is refused, a label a sync property filters on cannot be deleted,
only admins with property settings may change labels); everyone else sees the list only.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.associations import USER_DEFINED
from propsync.domain.errors import PropsyncError, ValidationError
from propsync.domain.objects import OBJECT_TYPES, resolve_object_type
from propsync.domain.record_ids import parse_record_id
from propsync.services import labels as svc
from propsync.services.names import propose_name
from propsync.web.core import Ctx, CtxDep, FormDep, WebRoute, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
PAGE = "/ui/settings/labels"
# What a finished change says; the query carries a key, never text of its own.
NOTICES = {"created": "Label created.", "renamed": "Label renamed.",
           "deleted": "Label deleted, with its associations."}


def _types(from_type: str, to_type: str) -> tuple[str, str]:
    ft = from_type if from_type in OBJECT_TYPES else "contacts"
    tt = to_type if to_type in OBJECT_TYPES else "companies"
    return resolve_object_type(ft).name, resolve_object_type(tt).name


@router.get("/settings/labels")
def labels_page(ctx: CtxDep, fromObjectType: str = "contacts", toObjectType: str = "companies",
                done: str = "") -> Response:
    ft, tt = _types(fromObjectType, toObjectType)
    return _page(ctx, ft, tt, notice=NOTICES.get(done, ""))


def _page(ctx: Ctx, ft: str, tt: str, notice: str = "",
          error: PropsyncError | None = None) -> Response:
    types = svc.list_labels(ctx.engine, ctx.principal, ft, tt)
    inverse = {t.type_id: t.label for t in svc.list_labels(ctx.engine, ctx.principal, tt, ft)}
    rows = [(t, inverse.get(t.inverse_id) if t.inverse_id != t.type_id else None)
            for t in types]
    return render(ctx.request, "labels.html", status=error.status if error else 200,
                  from_type=ft, to_type=tt, rows=rows, custom=USER_DEFINED, notice=notice,
                  error=error, section="settings")


def _done(ctx: Ctx, ft: str, tt: str, key: str, change: Callable[[], object]) -> Response:
    """Make ``change``; then the page again with the notice ``key``, or with the refusal."""
    try:
        change()
    except PropsyncError as exc:
        return _page(ctx, ft, tt, error=exc)
    query = urlencode({"fromObjectType": ft, "toObjectType": tt, "done": key})
    return RedirectResponse(f"{PAGE}?{query}", status_code=303)


def _type_id(raw: str) -> int:
    found = parse_record_id(raw)
    if found is None:
        raise ValidationError(f"{raw!r} is not a label id.")
    return found


@router.post("/settings/labels/{fromObjectType}/{toObjectType}")
def create_label(ctx: CtxDep, form: FormDep, fromObjectType: str, toObjectType: str
                 ) -> Response:
    ft, tt = resolve_object_type(fromObjectType).name, resolve_object_type(toObjectType).name
    label = form.get("label")
    name = form.get("name") or propose_name(label) or "?"
    return _done(ctx, ft, tt, "created", lambda: svc.create_label(
        ctx.engine, ctx.principal, ft, tt, label, name, form.get("inverse_label") or None))


@router.post("/settings/labels/{fromObjectType}/{toObjectType}/{typeId}/rename")
def rename_label(ctx: CtxDep, form: FormDep, fromObjectType: str, toObjectType: str,
                 typeId: str) -> Response:
    ft, tt = resolve_object_type(fromObjectType).name, resolve_object_type(toObjectType).name
    return _done(ctx, ft, tt, "renamed", lambda: svc.update_label(
        ctx.engine, ctx.principal, ft, tt, _type_id(typeId), form.get("label"),
        form.get("inverse_label") or None))


@router.post("/settings/labels/{fromObjectType}/{toObjectType}/{typeId}/delete")
def delete_label(ctx: CtxDep, form: FormDep, fromObjectType: str, toObjectType: str,
                 typeId: str) -> Response:
    ft, tt = resolve_object_type(fromObjectType).name, resolve_object_type(toObjectType).name
    return _done(ctx, ft, tt, "deleted", lambda: svc.delete_label(
        ctx.engine, ctx.principal, ft, tt, _type_id(typeId)))
