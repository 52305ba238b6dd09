"""CRM properties v3: property definitions (ordinary and sync) and property groups."""

from __future__ import annotations

from fastapi import APIRouter, Response

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.properties import (
    GroupCreate,
    GroupList,
    GroupOut,
    GroupUpdate,
    PropertyCreate,
    PropertyList,
    PropertyOut,
    PropertyUpdate,
    group_out,
    property_out,
)
from propsync.services import properties as svc
from propsync.services import property_groups as groups
from propsync.services.sync_properties import type_categories
from propsync.text_guard import STORABLE_TEXT

router = APIRouter(tags=["Properties"], responses=ERROR_RESPONSES,
                   dependencies=[STORABLE_TEXT])
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
