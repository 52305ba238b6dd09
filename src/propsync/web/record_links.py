"""A record's associations on its page: listed with their labels; add, relabel, remove."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.associations import AssociationType
from propsync.domain.errors import ValidationError
from propsync.domain.objects import OBJECT_TYPES, resolve_object_type
from propsync.services import associations as assoc_svc
from propsync.services import labels as label_svc
from propsync.services import records as record_svc
from propsync.services.views import ReadSpec
from propsync.web.core import TITLE_PROPERTIES, Ctx, CtxDep, Form, FormDep, WebRoute, record_title

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
SHOWN = 100  # associated records listed per object type


@dataclass(frozen=True)
class Linked:
    record_id: int
    title: str
    labels: list[AssociationType]  # labelled types only

    def has(self, t: AssociationType) -> bool:
        return any(x.type_id == t.type_id for x in self.labels)


@dataclass(frozen=True)
class LinkGroup:
    to_type: str
    items: list[Linked]
    choices: list[AssociationType]  # the labels this pair of objects has


def association_groups(ctx: Ctx, ot: str, record_id: int) -> list[LinkGroup]:
    """For each object type, the records this one is associated with and the labels."""
    groups = []
    for tt in OBJECT_TYPES:
        page, _ = assoc_svc.list_associations(ctx.engine, ctx.principal, ot, str(record_id),
                                              tt, None, SHOWN)
        ids = [str(to_id) for to_id, _ in page]
        names = {v.id: record_title(tt, v.id, v.properties) for v in record_svc.batch_read(
            ctx.engine, ctx.principal, tt, ids, ReadSpec(TITLE_PROPERTIES[tt])).views}
        items = [Linked(to_id, names.get(to_id, f"{tt} {to_id}"), [t for t in types if t.label])
                 for to_id, types in page]
        choices = [t for t in label_svc.list_labels(ctx.engine, ctx.principal, ot, tt)
                   if t.label]
        groups.append(LinkGroup(tt, items, choices))
    return groups


def _back(ot: str, rid: str, notice: str) -> Response:
    return RedirectResponse(f"/ui/records/{ot}/{rid}?notice={notice}#associations",
                            status_code=303)


def _spec(t: AssociationType) -> assoc_svc.TypeSpec:
    return assoc_svc.TypeSpec(t.category, t.type_id)


def _chosen(ctx: Ctx, ot: str, tt: str, form: Form) -> list[AssociationType]:
    wanted = set(form.getlist("label_ids"))
    return [t for t in label_svc.list_labels(ctx.engine, ctx.principal, ot, tt)
            if t.label and str(t.type_id) in wanted]


@router.post("/records/{objectType}/{recordId}/associations/add")
def add_association(ctx: CtxDep, form: FormDep, objectType: str, recordId: str) -> Response:
    ot, tt = resolve_object_type(objectType).name, resolve_object_type(form.get("to_type")).name
    recordId = str(record_svc.parse_id(recordId))  # a page for no record: not found
    to_id = form.get("to_id")
    if not to_id:
        raise ValidationError(f"Give the id of the {OBJECT_TYPES[tt].singular} to associate.")
    chosen = _chosen(ctx, ot, tt, form)
    pair = assoc_svc.PairInput(recordId, to_id, [_spec(t) for t in chosen])
    result = assoc_svc.associate(ctx.engine, ctx.principal, ot, tt, [pair],
                                 default_only=not chosen)
    if result.missing:
        raise ValidationError(f"No {tt} record has the id {to_id}; nothing was associated.")
    return _back(ot, recordId, "association-added")


@router.post("/records/{objectType}/{recordId}/associations/relabel")
def relabel(ctx: CtxDep, form: FormDep, objectType: str, recordId: str) -> Response:
    """Make the pair carry exactly the checked labels (the association itself stays)."""
    ot, tt = resolve_object_type(objectType).name, resolve_object_type(form.get("to_type")).name
    recordId = str(record_svc.parse_id(recordId))
    to_id = form.get("to_id")
    page, _ = assoc_svc.list_associations(ctx.engine, ctx.principal, ot, recordId, tt, None,
                                          10_000)
    current = {t.type_id for rid, types in page if str(rid) == to_id for t in types if t.label}
    wanted = _chosen(ctx, ot, tt, form)
    add = [_spec(t) for t in wanted if t.type_id not in current]
    drop = [_spec(t) for t in label_svc.list_labels(ctx.engine, ctx.principal, ot, tt)
            if t.type_id in current and t.type_id not in {w.type_id for w in wanted}]
    if add:
        assoc_svc.associate(ctx.engine, ctx.principal, ot, tt,
                            [assoc_svc.PairInput(recordId, to_id, add)])
    if drop:
        assoc_svc.remove_labels(ctx.engine, ctx.principal, ot, tt,
                                [assoc_svc.PairInput(recordId, to_id, drop)])
    return _back(ot, recordId, "labels-saved")


@router.post("/records/{objectType}/{recordId}/associations/remove")
def remove(ctx: CtxDep, form: FormDep, objectType: str, recordId: str) -> Response:
    ot, tt = resolve_object_type(objectType).name, resolve_object_type(form.get("to_type")).name
    recordId = str(record_svc.parse_id(recordId))
    assoc_svc.dissociate_pair(ctx.engine, ctx.principal, ot, recordId, tt, form.get("to_id"))
    return _back(ot, recordId, "association-removed")
