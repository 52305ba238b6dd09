"""propsync's own "Used in": where a property is used, and cloning a workflow with one
property put in another's place."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.flows import FlowOut, flow_out
from propsync.api.schemas.property_usage import CloneIn, UsageOut, usage_out
from propsync.services.property_usage import property_usage
from propsync.services.workflow_clones import clone_flow

router = APIRouter(prefix="/propsync/v1", tags=["Used in"], responses=ERROR_RESPONSES)


@router.get("/properties/{objectType}/{propertyName}/usage", response_model=UsageOut)
def usage(objectType: str, propertyName: str, engine: EngineDep, principal: PrincipalDep
          ) -> UsageOut:
    """Every sync property, workflow, list and report that uses the property, each with
    where in it (``parts``) and its page. Needs the schema read scope of the property's
    object type; uses in assets the token may not read are counted in ``hidden``, not
    named. A property in use cannot be deleted, restricted or changed to another type."""
    return usage_out(property_usage(engine, principal, objectType, propertyName))


@router.post("/workflows/{flowId}/clone", status_code=201, response_model=None,
             responses={201: {"model": FlowOut, "description": "The new flow (off)."}})
def clone(flowId: str, body: CloneIn, engine: EngineDep, principal: PrincipalDep
          ) -> JSONResponse:
    """A new workflow, turned off, from this one's definition; with ``replace`` every use
    of ``replace.property`` (enrollment filters, re-enrollment triggers, properties read,
    written and branched on, of the object type each belongs to) names ``replace.with``
    instead. Refused (400) when the two do not compare alike, or the clone would write a
    sync property."""
    saved = clone_flow(engine, principal, flowId, body.request())
    return JSONResponse(flow_out(saved), status_code=201,
                        headers={"Location": f"/automation/v4/flows/{saved.flow_id}"})
