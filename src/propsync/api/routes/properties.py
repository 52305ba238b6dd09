"""CRM properties v3: property definitions (ordinary and sync) and property groups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.properties import (
    BatchPropertiesOut,
    BatchPropertyCreate,
    BatchPropertyNames,
    BatchPropertyRead,
    GroupCreate,
    GroupList,
    GroupOut,
    GroupUpdate,
    PropertyCreate,
    PropertyList,
    PropertyOut,
    PropertyUpdate,
    batch_error,
    group_out,
    property_out,
)
from propsync.clock import now_ms
from propsync.domain.properties import format_ms
from propsync.services import properties as svc
from propsync.services import property_batches as batches
from propsync.services import property_groups as groups
from propsync.services.sync_properties import type_categories

router = APIRouter(tags=["Properties"], responses=ERROR_RESPONSES)
PATH = "/crm/v3/properties/{objectType}"


@router.get(PATH, response_model=PropertyList, response_model_exclude_none=True)
def list_properties(objectType: str, engine: EngineDep, principal: PrincipalDep,
                    archived: bool = False) -> PropertyList:
    """Every property (no paging). Deleted properties are not kept: ``archived=true`` lists none."""
    views = svc.list_properties(engine, principal, objectType)
    categories = type_categories(engine, principal)
    return PropertyList(results=[] if archived else [property_out(v, categories) for v in views])


@router.post(PATH, status_code=201, response_model=PropertyOut, response_model_exclude_none=True)
def create_property(objectType: str, body: PropertyCreate, engine: EngineDep,
                    principal: PrincipalDep) -> PropertyOut:
    """Create a property; with ``syncSource`` it is a read-only sync property."""
    view = svc.create_property(engine, principal, objectType, body.to_input())
    return property_out(view, type_categories(engine, principal))


_BATCH_PARTIAL: dict[int | str, dict[str, Any]] = {
    207: {"model": BatchPropertiesOut, "description": "Some inputs failed (see errors)."}}


def _batch_reply(engine: EngineDep, principal: PrincipalDep, outcome: batches.BatchOutcome,
                 started: int, status: int) -> JSONResponse:
    """HubSpot's batch envelope: a 207 with one ``errors`` entry per failed input."""
    categories = type_categories(engine, principal)
    body = BatchPropertiesOut(results=[property_out(v, categories) for v in outcome.views],
                              startedAt=format_ms(started), completedAt=format_ms(now_ms()))
    if outcome.errors:
        body.numErrors = len(outcome.errors)
        body.errors = [batch_error(e) for e in outcome.errors]
        status = 207
    return JSONResponse(body.model_dump(mode="json", by_alias=True, exclude_none=True),
                        status_code=status)


@router.post(PATH + "/batch/create", status_code=201, response_model=BatchPropertiesOut,
             responses=_BATCH_PARTIAL)
def batch_create(objectType: str, body: BatchPropertyCreate, engine: EngineDep,
                 principal: PrincipalDep) -> Any:
    """Create each input as the single create would; failed inputs make it a 207."""
    started = now_ms()
    outcome = batches.create_properties(engine, principal, objectType,
                                        [i.to_input() for i in body.inputs])
    return _batch_reply(engine, principal, outcome, started, 201)


@router.post(PATH + "/batch/read", response_model=BatchPropertiesOut, responses=_BATCH_PARTIAL)
def batch_read(objectType: str, body: BatchPropertyRead, engine: EngineDep,
               principal: PrincipalDep) -> Any:
    """The named properties; names the type has no property of make it a 207.

    propsync keeps no sensitive properties: ``dataSensitivity`` other than
    ``non_sensitive`` finds none."""
    started = now_ms()
    none_kept = body.archived or body.dataSensitivity not in (None, "non_sensitive")
    outcome = batches.read_properties(engine, principal, objectType,
                                      [i.name for i in body.inputs], none_kept)
    return _batch_reply(engine, principal, outcome, started, 200)


@router.post(PATH + "/batch/archive", status_code=204, response_class=Response)
def batch_archive(objectType: str, body: BatchPropertyNames, engine: EngineDep,
                  principal: PrincipalDep) -> Response:
    """Delete the named properties, all or nothing; unknown names are ignored (204)."""
    batches.archive_properties(engine, principal, objectType, [i.name for i in body.inputs])
    return Response(status_code=204)


@router.get(PATH + "/groups", response_model=GroupList)
def list_groups(objectType: str, engine: EngineDep, principal: PrincipalDep) -> GroupList:
    return GroupList(results=[group_out(g) for g in groups.list_groups(engine, principal,
                                                                     objectType)])


@router.post(PATH + "/groups", status_code=201, response_model=GroupOut)
def create_group(objectType: str, body: GroupCreate, engine: EngineDep,
                 principal: PrincipalDep) -> GroupOut:
    return group_out(groups.create_group(engine, principal, objectType, body.name, body.label,
                                      body.displayOrder))


@router.get(PATH + "/groups/{groupName}", response_model=GroupOut)
def get_group(objectType: str, groupName: str, engine: EngineDep,
              principal: PrincipalDep) -> GroupOut:
    return group_out(groups.get_group(engine, principal, objectType, groupName))


@router.patch(PATH + "/groups/{groupName}", response_model=GroupOut)
def update_group(objectType: str, groupName: str, body: GroupUpdate, engine: EngineDep,
                 principal: PrincipalDep) -> GroupOut:
    return group_out(groups.update_group(engine, principal, objectType, groupName, body.label,
                                      body.displayOrder))


@router.delete(PATH + "/groups/{groupName}", status_code=204, response_class=Response)
def delete_group(objectType: str, groupName: str, engine: EngineDep,
                 principal: PrincipalDep) -> Response:
    """Delete an empty, non-default group (400 otherwise)."""
    groups.delete_group(engine, principal, objectType, groupName)
    return Response(status_code=204)


@router.get(PATH + "/{propertyName}", response_model=PropertyOut,
            response_model_exclude_none=True)
def get_property(objectType: str, propertyName: str, engine: EngineDep,
                 principal: PrincipalDep) -> PropertyOut:
    view = svc.get_property(engine, principal, objectType, propertyName)
    return property_out(view, type_categories(engine, principal))


@router.patch(PATH + "/{propertyName}", response_model=PropertyOut,
              response_model_exclude_none=True)
def update_property(objectType: str, propertyName: str, body: PropertyUpdate,
                    engine: EngineDep, principal: PrincipalDep) -> PropertyOut:
    """Change a property; a new ``syncSource`` recomputes every value of a sync property."""
    view = svc.update_property(engine, principal, objectType, propertyName, body.to_patch())
    return property_out(view, type_categories(engine, principal))


@router.delete(PATH + "/{propertyName}", status_code=204, response_class=Response)
def delete_property(objectType: str, propertyName: str, engine: EngineDep,
                    principal: PrincipalDep) -> Response:
    svc.delete_property(engine, principal, objectType, propertyName)
    return Response(status_code=204)
