"""HubSpot's Automation v4 workflows API: ``/automation/v4/flows`` (scope ``automation``).

Bodies are read by the service (``services/workflows.py``): the supported subset of a
flow, else a 400 naming the part that is not supported. A flow fetched from HubSpot is
accepted as it is: the server's fields in it (``id``, ``revisionId`` on POST,
``createdAt``, ...) are ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES, NextPage, Paging, StandardError
from propsync.api.schemas.flows import (
    FlowBatchIn,
    FlowBatchOut,
    FlowIn,
    FlowList,
    FlowOut,
    FlowPutIn,
    flow_out,
    listing_out,
)
from propsync.clock import now_ms
from propsync.domain.properties import format_ms
from propsync.services import workflows as svc

router = APIRouter(prefix="/automation/v4/flows", tags=["Workflows"],
                   responses=ERROR_RESPONSES)
_FLOW = {"model": FlowOut, "description": "The flow."}


@router.get("", response_model=FlowList, response_model_exclude_none=True)
def list_flows(engine: EngineDep, principal: PrincipalDep, after: str | None = None,
               limit: Annotated[int, Query(ge=1, le=svc.MAX_PAGE)] = svc.MAX_PAGE
               ) -> FlowList:
    """The account's flows, a page at a time, by id."""
    page = svc.list_flows(engine, principal, after, limit)
    out = FlowList(results=[listing_out(f) for f in page.flows])
    if page.next_after is not None:
        out.paging = Paging(next=NextPage(after=page.next_after))
    return out


@router.post("", status_code=201, response_model=None, responses={201: _FLOW})
def create_flow(body: FlowIn, engine: EngineDep, principal: PrincipalDep) -> JSONResponse:
    """Create a flow (revision 1); ``isEnabled: true`` turns it on at once."""
    saved = svc.create_flow(engine, principal, body.body())
    return JSONResponse(flow_out(saved), status_code=201,
                        headers={"Location": f"/automation/v4/flows/{saved.flow_id}"})


@router.post("/batch/read", response_model=FlowBatchOut,
             responses={207: {"model": FlowBatchOut, "description": "Some were not found."}})
def batch_read(body: FlowBatchIn, engine: EngineDep, principal: PrincipalDep) -> JSONResponse:
    """The flows named; ids the account has no flow of make it a 207."""
    started = now_ms()
    found = svc.read_flows(engine, principal, [i.flowId for i in body.inputs])
    reply: dict[str, Any] = {"status": "COMPLETE", "results": [flow_out(f) for f in found.flows],
                             "startedAt": format_ms(started), "completedAt": format_ms(now_ms())}
    if not found.missing:
        return JSONResponse(reply)
    error = StandardError(category="OBJECT_NOT_FOUND", context={"ids": found.missing},
                          message="Could not get some flows: they may be deleted or not "
                          "exist. Check that ids are valid.")
    reply.update(numErrors=1, errors=[error.model_dump(mode="json", exclude_none=True)])
    return JSONResponse(reply, status_code=207)


@router.get("/{flowId}", response_model=None, responses={200: _FLOW})
def get_flow(flowId: str, engine: EngineDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(flow_out(svc.get_flow(engine, principal, flowId)))


@router.put("/{flowId}", response_model=None, responses={200: _FLOW})
def update_flow(flowId: str, body: FlowPutIn, engine: EngineDep, principal: PrincipalDep
                ) -> JSONResponse:
    """Replace the flow; ``revisionId`` must be its current one (else 409)."""
    return JSONResponse(flow_out(svc.update_flow(engine, principal, flowId, body.body())))


@router.delete("/{flowId}", status_code=204, response_class=Response)
def delete_flow(flowId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    svc.delete_flow(engine, principal, flowId)
    return Response(status_code=204)
