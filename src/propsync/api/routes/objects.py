"""CRM objects v3: records of contacts, companies, deals and tickets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import (
    ERROR_RESPONSES,
    MAX_NAMES,
    NextPage,
    Paging,
    StandardError,
)
from propsync.api.schemas.objects import (
    BatchCreate,
    BatchIds,
    BatchRead,
    BatchResponse,
    BatchUpdate,
    BatchUpsert,
    BatchUpsertResponse,
    GdprDeleteIn,
    GdprDeletion,
    GdprDeletionPage,
    MergeIn,
    ObjectCreate,
    ObjectPage,
    ObjectUpdate,
    SimplePublicObject,
    SimplePublicUpsertObject,
    to_public,
)
from propsync.clock import now_ms
from propsync.domain.auth import Principal
from propsync.domain.errors import ErrorDetail, NotFoundError, ValidationError
from propsync.domain.history import ValueSource
from propsync.domain.properties import format_ms
from propsync.services import gdpr, upserts
from propsync.services import records as svc
from propsync.services.associations import AssociationInput, TypeSpec
from propsync.services.views import ReadSpec

router = APIRouter(tags=["Objects"], responses=ERROR_RESPONSES)
PATH = "/crm/v3/objects/{objectType}"

ListParam = Annotated[list[str] | None, Query()]


def names(values: list[str] | None, what: str = "properties") -> list[str]:
    """``?properties=a,b&properties=c`` → ``["a", "b", "c"]``; at most ``MAX_NAMES``."""
    found = [n.strip() for v in values or () for n in v.split(",") if n.strip()]
    if len(found) > MAX_NAMES:
        message = f"At most {MAX_NAMES:,} names are allowed in '{what}', not {len(found):,}."
        raise ValidationError(message, [ErrorDetail(message, "INVALID_INPUT", in_=what)])
    return found


def read_spec(
    properties: list[str] | None, with_history: list[str] | None = None,
    associations: list[str] | None = None,
) -> ReadSpec:
    return ReadSpec(names(properties), names(with_history, "propertiesWithHistory"),
                    names(associations, "associations"))


def api_source(principal: Principal) -> ValueSource:
    return ValueSource("API", f"userId:{principal.user_id}", None, principal.user_id)


@router.get(PATH, response_model=ObjectPage, response_model_exclude_unset=True)
def list_objects(
    objectType: str, engine: EngineDep, principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10, after: str | None = None,
    properties: ListParam = None, propertiesWithHistory: ListParam = None,
    associations: ListParam = None, archived: bool = False,
) -> ObjectPage:
    views, next_after = svc.list_records(
        engine, principal, objectType, read_spec(properties, propertiesWithHistory, associations),
        after, limit, archived)
    page = ObjectPage(results=[to_public(v) for v in views])
    if next_after is not None:
        page.paging = Paging(next=NextPage(after=next_after))
    return page


@router.post(PATH, status_code=201, response_model=SimplePublicObject,
             response_model_exclude_unset=True)
def create_object(
    objectType: str, body: ObjectCreate, engine: EngineDep, principal: PrincipalDep
) -> SimplePublicObject:
    created = svc.create_records(engine, principal, objectType, [_record_input(body)],
                                 api_source(principal))
    return to_public(created[0])


def _record_input(body: ObjectCreate) -> svc.RecordInput:
    return svc.RecordInput(body.properties, [
        AssociationInput(a.to.id, [TypeSpec(t.associationCategory, t.associationTypeId)
                                   for t in a.types])
        for a in body.associations
    ])


@router.get(PATH + "/{objectId}", response_model=SimplePublicObject,
            response_model_exclude_unset=True)
def get_object(
    objectType: str, objectId: str, engine: EngineDep, principal: PrincipalDep,
    properties: ListParam = None, propertiesWithHistory: ListParam = None,
    associations: ListParam = None, archived: bool = False, idProperty: str | None = None,
) -> SimplePublicObject:
    view = svc.get_record(engine, principal, objectType, objectId,
                          read_spec(properties, propertiesWithHistory, associations), archived,
                          idProperty)
    return to_public(view)


@router.patch(PATH + "/{objectId}", response_model=SimplePublicObject,
              response_model_exclude_unset=True)
def update_object(
    objectType: str, objectId: str, body: ObjectUpdate, engine: EngineDep,
    principal: PrincipalDep,
) -> SimplePublicObject:
    record_id = str(svc.parse_id(objectId))
    result = svc.update_records(engine, principal, objectType, [(record_id, body.properties)],
                                api_source(principal))
    if result.missing:
        raise NotFoundError(f"No {objectType} record has the id {objectId}.")
    return to_public(result.views[0])


@router.delete(PATH + "/{objectId}", status_code=204, response_class=Response)
def archive_object(
    objectType: str, objectId: str, engine: EngineDep, principal: PrincipalDep
) -> Response:
    svc.archive_records(engine, principal, objectType, [str(svc.parse_id(objectId))])
    return Response(status_code=204)


@router.post("/propsync/v1/objects/{objectType}/{objectId}/restore",
             response_model=SimplePublicObject, response_model_exclude_unset=True,
             tags=["propsync"])
def restore_object(
    objectType: str, objectId: str, engine: EngineDep, principal: PrincipalDep
) -> SimplePublicObject:
    """Bring an archived record back, with its values and associations (propsync only)."""
    return to_public(svc.restore_record(engine, principal, objectType, objectId))


@router.post(PATH + "/merge", response_model=SimplePublicObject,
             response_model_exclude_unset=True)
def merge_objects(
    objectType: str, body: MergeIn, engine: EngineDep, principal: PrincipalDep
) -> SimplePublicObject:
    view = svc.merge_records(engine, principal, objectType, body.primaryObjectId,
                             body.objectIdToMerge)
    return to_public(view)


def batch_reply(result: svc.BatchResult, started: int, status: int = 200) -> JSONResponse:
    """HubSpot's batch envelope; missing inputs make it a 207 with one error listing them."""
    body = BatchResponse(status="COMPLETE", results=[to_public(v) for v in result.views],
                         startedAt=format_ms(started), completedAt=format_ms(now_ms()))
    return _envelope(body, result.missing, status)


def _envelope(body: BatchResponse, missing: list[str], status: int) -> JSONResponse:
    if missing:
        body.numErrors = 1
        body.errors = [StandardError(
            status="error", category="OBJECT_NOT_FOUND", message="Could not get some "
            "objects: they may be deleted or not exist. Check that ids are valid.",
            context={"ids": missing})]
        status = 207
    return JSONResponse(body.model_dump(mode="json", exclude_none=False, exclude_unset=True,
                                        by_alias=True), status_code=status)


BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    207: {"model": BatchResponse, "description": "Some inputs failed."}}


@router.post(PATH + "/batch/read", response_model=BatchResponse,
             responses=BATCH_RESPONSES)
def batch_read(
    objectType: str, body: BatchRead, engine: EngineDep, principal: PrincipalDep,
    archived: bool = False,
) -> JSONResponse:
    started = now_ms()
    spec = ReadSpec(body.properties, body.propertiesWithHistory)
    result = svc.batch_read(engine, principal, objectType, [i.id for i in body.inputs], spec,
                            archived, body.idProperty)
    return batch_reply(result, started)


@router.post(PATH + "/batch/create", status_code=201, response_model=BatchResponse,
             responses=BATCH_RESPONSES)
def batch_create(
    objectType: str, body: BatchCreate, engine: EngineDep, principal: PrincipalDep
) -> JSONResponse:
    started = now_ms()
    views = svc.create_records(engine, principal, objectType,
                               [_record_input(i) for i in body.inputs], api_source(principal))
    return batch_reply(svc.BatchResult(views), started, 201)


@router.post(PATH + "/batch/update", response_model=BatchResponse,
             responses=BATCH_RESPONSES)
def batch_update(
    objectType: str, body: BatchUpdate, engine: EngineDep, principal: PrincipalDep
) -> JSONResponse:
    started = now_ms()
    result = svc.update_records(engine, principal, objectType,
                                [(i.id, i.properties) for i in body.inputs],
                                api_source(principal))
    return batch_reply(result, started)


@router.post(PATH + "/batch/archive", status_code=204, response_class=Response)
def batch_archive(
    objectType: str, body: BatchIds, engine: EngineDep, principal: PrincipalDep
) -> Response:
    svc.archive_records(engine, principal, objectType, [i.id for i in body.inputs])
    return Response(status_code=204)


@router.post(PATH + "/batch/upsert", response_model=BatchUpsertResponse,
             responses={207: {"model": BatchUpsertResponse, "description": "Some inputs failed."}})
def batch_upsert(
    objectType: str, body: BatchUpsert, engine: EngineDep, principal: PrincipalDep
) -> JSONResponse:
    """Create or update each input, named by a value of its unique ``idProperty`` (or by
    record id, which only updates: an unknown record id is reported, not created)."""
    started = now_ms()
    result = upserts.upsert_records(engine, principal, objectType, [
        upserts.UpsertInput(i.id, i.idProperty, i.properties) for i in body.inputs],
        api_source(principal))
    traces = [body.inputs[index].objectWriteTraceId for index in result.written]
    results = [SimplePublicUpsertObject(**to_public(v).model_dump(exclude_unset=True), new=new,
                                        **({"objectWriteTraceId": trace} if trace else {}))
               for v, new, trace in zip(result.views, result.new, traces, strict=True)]
    reply = BatchUpsertResponse(status="COMPLETE", results=results,
                                startedAt=format_ms(started), completedAt=format_ms(now_ms()))
    return _envelope(reply, result.missing, 200)


@router.post("/crm/v3/objects/contacts/gdpr-delete", status_code=204, response_class=Response)
def gdpr_delete(body: GdprDeleteIn, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Erase a contact for good: its values, history and associations; the sync values
    copied from it are recomputed by the engine. The audit keeps that it happened."""
    gdpr.gdpr_delete(engine, principal, body.objectId, body.idProperty)
    return Response(status_code=204)


@router.get("/propsync/v1/objects/{objectType}/gdpr-deletions",
            response_model=GdprDeletionPage, response_model_exclude_unset=True,
            tags=["propsync"])
def list_gdpr_deletions(
    objectType: str, engine: EngineDep, principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 100, after: str | None = None,
) -> GdprDeletionPage:
    """The GDPR deletes of the type, oldest first (admins; propsync only)."""
    rows, next_after = gdpr.list_erasures(engine, principal, objectType, after, limit)
    page = GdprDeletionPage(results=[GdprDeletion(
        id=str(r.entry_id), objectType=r.object_type, objectId=str(r.record_id),
        deletedAt=format_ms(r.at_ms), **({"userId": str(r.user_id)} if r.user_id else {}),
        **({"idProperty": r.id_property} if r.id_property else {})) for r in rows])
    if next_after is not None:
        page.paging = Paging(next=NextPage(after=next_after))
    return page
