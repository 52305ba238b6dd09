"""propsync's own sync endpoints: account status, one property's status, explain."""

from __future__ import annotations

from fastapi import APIRouter

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.sync import (
    ExplainOut,
    SyncPropertyStatusOut,
    SyncStatusOut,
    account_status_out,
    explain_out,
    status_out,
)
from propsync.services import sync_properties as svc
from propsync.services.records import parse_id
from propsync.text_guard import STORABLE_TEXT

router = APIRouter(prefix="/propsync/v1", tags=["Sync"], responses=ERROR_RESPONSES,
                   dependencies=[STORABLE_TEXT])


@router.get("/sync/status", response_model=SyncStatusOut)
def sync_status(engine: EngineDep, principal: PrincipalDep) -> SyncStatusOut:
    """How much sync work is pending for the account; zero means every value is current."""
    categories = svc.type_categories(engine, principal)
    return account_status_out(svc.account_status(engine, principal), categories)


@router.get("/sync-properties/{objectType}/{propertyName}", response_model=SyncPropertyStatusOut)
def sync_property(
    objectType: str, propertyName: str, engine: EngineDep, principal: PrincipalDep
) -> SyncPropertyStatusOut:
    """A sync property's definition, state, backfill progress and records filled."""
    status = svc.property_status(engine, principal, objectType, propertyName)
    return status_out(status, svc.type_categories(engine, principal))


@router.get("/sync-properties/{objectType}/{propertyName}/explain/{recordId}",
            response_model=ExplainOut)
def explain(
    objectType: str, propertyName: str, recordId: str, engine: EngineDep,
    principal: PrincipalDep,
) -> ExplainOut:
    """Why a record's sync value is what it is: candidates, labels, winner, value."""
    rid = parse_id(recordId)
    result = svc.explain(engine, principal, objectType, propertyName, rid)
    return explain_out(result, rid, svc.type_categories(engine, principal))
