"""The association schema (HubSpot's associations v4 schema): labels between two object
types, and association limits (definitions/configurations).

HubSpot publishes it under ``/crm/associations/v4/...``; its SDK (12.x) still calls
``/crm/v4/associations/...``. Both prefixes are served by the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.association_schema import (
    BatchLimitsIn,
    BatchLimitsOut,
    BatchLimitUpdatesOut,
    BatchSpecsIn,
    LimitList,
    limit_out,
    update_out,
)
from propsync.api.schemas.associations import LabelCreate, LabelList, LabelUpdate, spec_of
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.clock import now_ms
from propsync.domain.properties import format_ms
from propsync.services import association_limits as limits
from propsync.services import labels as label_svc
from propsync.services.associations import TypeSpec

router = APIRouter(tags=["Association schema"], responses=ERROR_RESPONSES)
PREFIXES = ("/crm/associations/v4", "/crm/v4/associations")  # HubSpot's spec, its SDK
PAIR = "/{fromObjectType}/{toObjectType}"
CONFIGS = "/definitions/configurations"


def route(method: str, path: str, **options: Any) -> Callable[[Any], Any]:
    """Register a handler at ``path`` under both prefixes."""
    def register(handler: Any) -> Any:
        for prefix in PREFIXES:
            router.add_api_route(prefix + path, handler, methods=[method], **options)
        return handler
    return register


@route("GET", PAIR + "/labels", response_model=LabelList, response_model_exclude_none=False)
def list_labels(fromObjectType: str, toObjectType: str, engine: EngineDep,
                principal: PrincipalDep) -> LabelList:
    """Every association type from one object type to the other, HubSpot's included."""
    types = label_svc.list_labels(engine, principal, fromObjectType, toObjectType)
    return LabelList(results=[spec_of(t) for t in types])


@route("POST", PAIR + "/labels", response_model=LabelList)
def create_label(fromObjectType: str, toObjectType: str, body: LabelCreate, engine: EngineDep,
                 principal: PrincipalDep) -> LabelList:
    """Create a USER_DEFINED label (and its inverse); a name or label in use is a 409."""
    types = label_svc.create_label(engine, principal, fromObjectType, toObjectType, body.label,
                                   body.name, body.inverseLabel)
    return LabelList(results=[spec_of(t) for t in types])


@route("PUT", PAIR + "/labels", status_code=204, response_class=Response)
def update_label(fromObjectType: str, toObjectType: str, body: LabelUpdate, engine: EngineDep,
                 principal: PrincipalDep) -> Response:
    """Rename a USER_DEFINED label (and its inverse); a label in use is a 409."""
    label_svc.update_label(engine, principal, fromObjectType, toObjectType,
                           body.associationTypeId, body.label, body.inverseLabel)
    return Response(status_code=204)


@route("DELETE", PAIR + "/labels/{associationTypeId}", status_code=204, response_class=Response)
def delete_label(fromObjectType: str, toObjectType: str, associationTypeId: int,
                 engine: EngineDep, principal: PrincipalDep) -> Response:
    """Delete a USER_DEFINED label, its limits and every association of it."""
    label_svc.delete_label(engine, principal, fromObjectType, toObjectType, associationTypeId)
    return Response(status_code=204)


@route("GET", CONFIGS + "/all", response_model=LimitList, response_model_exclude_none=True)
def list_all_limits(engine: EngineDep, principal: PrincipalDep) -> LimitList:
    """Every association limit between object types the token may read the schemas of,
    with the built-in "at most one Primary"."""
    return LimitList(results=[limit_out(v) for v in limits.list_all(engine, principal)])


@route("GET", CONFIGS + PAIR, response_model=LimitList, response_model_exclude_none=True)
def list_limits(fromObjectType: str, toObjectType: str, engine: EngineDep,
                principal: PrincipalDep) -> LimitList:
    """The limits of the association types from one object type to the other."""
    views = limits.list_pair(engine, principal, fromObjectType, toObjectType)
    return LimitList(results=[limit_out(v) for v in views])


def _inputs(body: BatchLimitsIn) -> list[limits.LimitInput]:
    return [limits.LimitInput(TypeSpec(i.category, i.typeId), i.maxToObjectIds)
            for i in body.inputs]


@route("POST", CONFIGS + PAIR + "/batch/create", status_code=201,
       response_model=BatchLimitsOut, response_model_exclude_none=True)
def create_limits(fromObjectType: str, toObjectType: str, body: BatchLimitsIn,
                  engine: EngineDep, principal: PrincipalDep) -> BatchLimitsOut:
    """Limit how many records one record may be associated with by each type; all or
    nothing (a type that has a limit already is a 409)."""
    started = now_ms()
    views = limits.create_limits(engine, principal, fromObjectType, toObjectType, _inputs(body))
    return BatchLimitsOut(results=[limit_out(v) for v in views], startedAt=format_ms(started),
                          completedAt=format_ms(now_ms()))


@route("POST", CONFIGS + PAIR + "/batch/update", response_model=BatchLimitUpdatesOut)
def update_limits(fromObjectType: str, toObjectType: str, body: BatchLimitsIn,
                  engine: EngineDep, principal: PrincipalDep) -> BatchLimitUpdatesOut:
    """Change existing limits; all or nothing (a type without a limit is a 404). Records
    already over a lowered limit keep their associations and cannot gain more."""
    started = now_ms()
    views = limits.update_limits(engine, principal, fromObjectType, toObjectType, _inputs(body))
    return BatchLimitUpdatesOut(results=[update_out(v) for v in views],
                                startedAt=format_ms(started), completedAt=format_ms(now_ms()))


@route("POST", CONFIGS + PAIR + "/batch/purge", status_code=204, response_class=Response)
def purge_limits(fromObjectType: str, toObjectType: str, body: BatchSpecsIn,
                 engine: EngineDep, principal: PrincipalDep) -> Response:
    """Remove the limits of the given types (types without one are ignored)."""
    limits.purge_limits(engine, principal, fromObjectType, toObjectType,
                        [TypeSpec(i.category, i.typeId) for i in body.inputs])
    return Response(status_code=204)
