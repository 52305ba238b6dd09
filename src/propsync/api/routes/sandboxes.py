"""propsync's sandboxes (Enterprise): ``/propsync/v1/sandboxes``.

Scopes: HubSpot's user-provisioning scopes, as a sandbox is a new account holding a copy
of this one's users: ``settings.users.read`` to list, ``settings.users.write`` to create
and delete. Creating and deleting also need the super-admin role. A create copies within
the request: at most 20,000 records (a larger account is refused with 400: ask for a
sample, or run ``propsync sandbox create`` on the server) and within the request's time
budget; the sync engine may still be recomputing a sample's sync values when it answers
(``syncValuesPending``)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.sandboxes import (
    SandboxCreated,
    SandboxIn,
    SandboxList,
    sandbox_created,
    sandbox_out,
)
from propsync.services import sandboxes as svc

router = APIRouter(prefix="/propsync/v1/sandboxes", tags=["Sandboxes"],
                   responses=ERROR_RESPONSES)


@router.get("", response_model=SandboxList)
def list_sandboxes(engine: EngineDep, principal: PrincipalDep) -> SandboxList:
    """This account's sandboxes, newest first."""
    return SandboxList(results=[sandbox_out(s) for s in svc.list_sandboxes(engine, principal)])


@router.post("", status_code=201, response_model=SandboxCreated)
def create_sandbox(body: SandboxIn, engine: EngineDep, principal: PrincipalDep
                   ) -> JSONResponse:
    """Copy this (Enterprise) account into a new sandbox: schema, labels, sync properties,
    workflows (turned off), lists, reports, users and records (all, or a sample kept
    whole). The reply carries a token for your user in the sandbox, shown only now."""
    made = svc.create_sandbox(engine, principal, body.records, body.name)
    return JSONResponse(sandbox_created(made).model_dump(mode="json"), status_code=201,
                        headers={"Location": f"/propsync/v1/sandboxes/{made.account_id}"})


@router.delete("/{sandboxId}", status_code=204, response_class=Response)
def delete_sandbox(sandboxId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Delete a sandbox of this account, every row of it; this account is not touched."""
    svc.delete_sandbox(engine, principal, sandboxId)
    return Response(status_code=204)
