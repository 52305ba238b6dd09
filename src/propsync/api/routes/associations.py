"""CRM associations v4: pairs of records with their association types (labels and limits:
``association_schema.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.associations import (
    AssociatedObject,
    AssociationPage,
    BatchArchive,
    BatchDefaultAssociations,
    BatchLabels,
    BatchMulti,
    BatchPairs,
    BatchReadIn,
    DefaultAssociation,
    LabelsBetweenObjectPair,
    MultiAssociated,
    spec_of,
)
from propsync.api.schemas.common import ERROR_RESPONSES, NextPage, Paging, StandardError
from propsync.api.schemas.objects import AssociationSpecIn
from propsync.clock import now_ms
from propsync.domain.associations import default_type
from propsync.domain.errors import NotFoundError
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import format_ms
from propsync.services import associations as svc

router = APIRouter(tags=["Associations"], responses=ERROR_RESPONSES)
OBJ = "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations"
BATCH = "/crm/v4/associations/{fromObjectType}/{toObjectType}"


def _partial(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    """The 207 a batch answers when some inputs named no record."""
    return {207: {"model": model, "description": "Some inputs named no record."}}


def _missing_error(missing: list[str]) -> list[StandardError]:
    return [StandardError(category="OBJECT_NOT_FOUND", message="No record has these ids: "
                          f"{', '.join(missing)}.", context={"ids": missing})]


def _reply(model: Any, missing: list[str], status: int, partial: int = 207) -> JSONResponse:
    """The batch envelope; missing inputs add one error listing them, with ``partial``."""
    if missing:
        model.numErrors = 1
        model.errors = _missing_error(missing)
        status = partial
    return JSONResponse(model.model_dump(mode="json", by_alias=True, exclude_none=True),
                        status_code=status)


@router.put(OBJ + "/default/{toObjectType}/{toObjectId}", response_model=BatchDefaultAssociations)
def associate_default(fromObjectType: str, fromObjectId: str, toObjectType: str,
                      toObjectId: str, engine: EngineDep, principal: PrincipalDep) -> Any:
    """Associate two records with the unlabeled default type."""
    started = now_ms()
    result = svc.associate(engine, principal, fromObjectType, toObjectType,
                           [svc.PairInput(fromObjectId, toObjectId)], default_only=True)
    if result.missing:
        raise NotFoundError(f"No record has the id {', '.join(result.missing)}.",
                            context={"ids": result.missing})
    return _default_reply(fromObjectType, toObjectType, result, started)


def _default_reply(from_type: str, to_type: str, result: svc.PairsResult, started: int) -> Any:
    ft, tt = resolve_object_type(from_type).name, resolve_object_type(to_type).name
    forward, backward = default_type(ft, tt), default_type(tt, ft)
    assert forward is not None and backward is not None
    results = []
    for f, t, _ in result.applied:
        for a, b, ty in ((f, t, forward), (t, f, backward)):
            results.append(DefaultAssociation.model_validate({
                "from": {"id": str(a)}, "to": {"id": str(b)},
                "associationSpec": {"associationCategory": ty.category,
                                    "associationTypeId": ty.type_id}}))
    body = BatchDefaultAssociations(results=results, startedAt=format_ms(started),
                                    completedAt=format_ms(now_ms()))
    # HubSpot's SDK knows only 200 here: its errors travel inside that body.
    return _reply(body, result.missing, 200, partial=200)


@router.put(OBJ + "/{toObjectType}/{toObjectId}", status_code=201,
            response_model=LabelsBetweenObjectPair)
def associate_labelled(
    fromObjectType: str, fromObjectId: str, toObjectType: str, toObjectId: str,
    body: Annotated[list[AssociationSpecIn], Body()], engine: EngineDep,
    principal: PrincipalDep,
) -> LabelsBetweenObjectPair:
    """Associate two records with the given types (labels); other labels are kept."""
    pair = svc.PairInput(fromObjectId, toObjectId,
                         [svc.TypeSpec(s.associationCategory, s.associationTypeId) for s in body])
    result = svc.associate(engine, principal, fromObjectType, toObjectType, [pair])
    if result.missing:
        raise NotFoundError(f"No record has the id {', '.join(result.missing)}.",
                            context={"ids": result.missing})
    return _labels_out(fromObjectType, toObjectType, *result.applied[0])


def _labels_out(from_type: str, to_type: str, f: int, t: int, labels: list[str]
                ) -> LabelsBetweenObjectPair:
    return LabelsBetweenObjectPair(
        fromObjectTypeId=resolve_object_type(from_type).type_id, fromObjectId=f,
        toObjectTypeId=resolve_object_type(to_type).type_id, toObjectId=t, labels=labels)


@router.get(OBJ + "/{toObjectType}", response_model=AssociationPage,
            response_model_exclude_unset=True)
def list_associations(
    fromObjectType: str, fromObjectId: str, toObjectType: str, engine: EngineDep,
    principal: PrincipalDep, after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> AssociationPage:
    """The records this one is associated with, each with every type between them."""
    page, next_after = svc.list_associations(engine, principal, fromObjectType, fromObjectId,
                                             toObjectType, after, limit)
    out = AssociationPage(results=[AssociatedObject(
        toObjectId=to, associationTypes=[spec_of(t) for t in types]) for to, types in page])
    if next_after is not None:
        out.paging = Paging(next=NextPage(after=next_after))
    return out


@router.delete(OBJ + "/{toObjectType}/{toObjectId}", status_code=204, response_class=Response)
def dissociate(fromObjectType: str, fromObjectId: str, toObjectType: str, toObjectId: str,
               engine: EngineDep, principal: PrincipalDep) -> Response:
    """Remove every association type between the two records (404 unless both exist)."""
    svc.dissociate_pair(engine, principal, fromObjectType, fromObjectId, toObjectType,
                        toObjectId)
    return Response(status_code=204)


@router.post(BATCH + "/batch/create", status_code=201, response_model=BatchLabels,
             responses=_partial(BatchLabels))
def batch_create(fromObjectType: str, toObjectType: str, body: BatchPairs, engine: EngineDep,
                 principal: PrincipalDep) -> Any:
    """Add the given types between each pair (201); pairs naming no record make it a 207."""
    started = now_ms()
    pairs = [svc.PairInput(i.from_.id, i.to.id, [svc.TypeSpec(
        s.associationCategory, s.associationTypeId) for s in i.types]) for i in body.inputs]
    result = svc.associate(engine, principal, fromObjectType, toObjectType, pairs)
    out = BatchLabels(results=[_labels_out(fromObjectType, toObjectType, *r)
                               for r in result.applied],
                      startedAt=format_ms(started), completedAt=format_ms(now_ms()))
    return _reply(out, result.missing, 201)


@router.post(BATCH + "/batch/associate/default", response_model=BatchDefaultAssociations)
def batch_default(fromObjectType: str, toObjectType: str, body: BatchPairs, engine: EngineDep,
                  principal: PrincipalDep) -> Any:
    """Associate each pair with the default type; missing records are listed in `errors`."""
    started = now_ms()
    pairs = [svc.PairInput(i.from_.id, i.to.id) for i in body.inputs]
    result = svc.associate(engine, principal, fromObjectType, toObjectType, pairs,
                           default_only=True)
    return _default_reply(fromObjectType, toObjectType, result, started)


@router.post(BATCH + "/batch/read", response_model=BatchMulti,
             responses=_partial(BatchMulti))
def batch_read(fromObjectType: str, toObjectType: str, body: BatchReadIn, engine: EngineDep,
               principal: PrincipalDep) -> Any:
    """A page of the records each id is associated with, after its own ``after``; ids
    naming no record make it a 207."""
    started = now_ms()
    found, missing = svc.read_batch(engine, principal, fromObjectType, toObjectType,
                                    [(i.id, i.after) for i in body.inputs])
    out = BatchMulti(results=[MultiAssociated.model_validate({
        "from": {"id": str(page.from_id)},
        "to": [AssociatedObject(toObjectId=to, associationTypes=[spec_of(t) for t in types])
               for to, types in page.links],
        "paging": Paging(next=NextPage(after=page.next_after)) if page.next_after else None,
    }) for page in found], startedAt=format_ms(started), completedAt=format_ms(now_ms()))
    return _reply(out, missing, 200)


@router.post(BATCH + "/batch/archive", status_code=204, response_class=Response)
def batch_archive(fromObjectType: str, toObjectType: str, body: BatchArchive,
                  engine: EngineDep, principal: PrincipalDep) -> Response:
    """Remove every type between each pair; ids naming no record are ignored."""
    pairs = [(i.from_.id, to.id) for i in body.inputs for to in i.to]
    svc.dissociate(engine, principal, fromObjectType, toObjectType, pairs)
    return Response(status_code=204)


@router.post(BATCH + "/batch/labels/archive", status_code=204, response_class=Response)
def batch_archive_labels(fromObjectType: str, toObjectType: str, body: BatchPairs,
                         engine: EngineDep, principal: PrincipalDep) -> Response:
    """Remove only the given labels; the pairs keep their other labels.

    Removing the unlabeled default type removes the whole pair, as HubSpot does.
    """
    pairs = [svc.PairInput(i.from_.id, i.to.id, [svc.TypeSpec(
        s.associationCategory, s.associationTypeId) for s in i.types]) for i in body.inputs]
    svc.remove_labels(engine, principal, fromObjectType, toObjectType, pairs)
    return Response(status_code=204)
