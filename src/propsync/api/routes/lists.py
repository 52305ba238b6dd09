"""HubSpot's Lists v3 API (``/crm/v3/lists``; scopes ``crm.lists.read`` /
``crm.lists.write``), and propsync's own clone (``/propsync/v1/lists/{listId}/clone``).

Bodies are read by the service (``services/lists.py``), which names any part outside the
supported subset in a 400. Folders, id mapping, conversion schedules and size history are
not implemented (their paths answer 404/405 like any unknown path).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import JSONResponse

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.lists import (
    CloneIn,
    FilterUpdateIn,
    ListCreateIn,
    ListReply,
    ListSearchIn,
    ListSearchReply,
    ListsReply,
    ListUpdateReply,
    MemberPage,
    MembershipChangeIn,
    MembershipsChanged,
    RecordListsReply,
    list_out,
    search_hit,
)
from propsync.domain.lists import invalid
from propsync.domain.properties import format_ms
from propsync.services import list_members as members_svc
from propsync.services import lists as svc

router = APIRouter(tags=["Lists"], responses=ERROR_RESPONSES)
_BASE = "/crm/v3/lists"
_IDS = Annotated[list[Any], Body(max_length=svc.MAX_CHANGE)]


@router.post(_BASE, response_model=ListReply)
def create_list(engine: EngineDep, principal: PrincipalDep, body: ListCreateIn
                ) -> JSONResponse:
    """Create a DYNAMIC, SNAPSHOT or MANUAL list; one with a filter starts PROCESSING."""
    return JSONResponse({"list": list_out(svc.create_list(engine, principal, body.body()),
                                          True)})


@router.get(_BASE, response_model=ListsReply)
def get_lists(engine: EngineDep, principal: PrincipalDep,
              listIds: Annotated[list[str] | None, Query(max_length=svc.MAX_IDS)] = None,
              includeFilters: bool = False) -> JSONResponse:
    """The lists named by ``listIds`` that exist (and the caller may see)."""
    ids = [x for v in listIds or [] for x in v.split(",") if x]  # repeated, or commas
    found = svc.get_lists(engine, principal, ids)
    return JSONResponse({"lists": [list_out(s, includeFilters) for s in found]})


@router.post(f"{_BASE}/search", response_model=ListSearchReply)
def search_lists(engine: EngineDep, principal: PrincipalDep, body: ListSearchIn
                 ) -> JSONResponse:
    """Lists whose name contains ``query``, ``count`` at a time from ``offset``."""
    page = svc.search_lists(engine, principal, body.body())
    return JSONResponse({"lists": [search_hit(s) for s in page.lists], "total": page.total,
                         "offset": page.offset, "hasMore": page.has_more})


@router.get(f"{_BASE}/object-type-id/{{objectTypeId}}/name/{{listName}}",
            response_model=ListReply)
def get_by_name(objectTypeId: str, listName: str, engine: EngineDep, principal: PrincipalDep,
                includeFilters: bool = False) -> JSONResponse:
    stored = svc.get_by_name(engine, principal, objectTypeId, listName)
    return JSONResponse({"list": list_out(stored, includeFilters)})


@router.get(f"{_BASE}/records/{{objectTypeId}}/{{recordId}}/memberships",
            response_model=RecordListsReply)
def record_memberships(objectTypeId: str, recordId: str, engine: EngineDep,
                       principal: PrincipalDep) -> JSONResponse:
    """The lists the record is a member of."""
    found = members_svc.record_memberships(engine, principal, objectTypeId, recordId)
    return JSONResponse({"results": [
        {"listId": str(s.list_id), "listVersion": s.version, "isPublicList": True,
         "firstAddedTimestamp": format_ms(at), "lastAddedTimestamp": format_ms(at)}
        for s, at in found], "total": len(found)})


@router.get(f"{_BASE}/{{listId}}", response_model=ListReply)
def get_list(listId: str, engine: EngineDep, principal: PrincipalDep,
             includeFilters: bool = False) -> JSONResponse:
    return JSONResponse({"list": list_out(svc.get_list(engine, principal, listId),
                                          includeFilters)})


@router.delete(f"{_BASE}/{{listId}}", status_code=204, response_class=Response)
def delete_list(listId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Delete the list (it can be restored)."""
    svc.delete_list(engine, principal, listId)
    return Response(status_code=204)


@router.put(f"{_BASE}/{{listId}}/restore", status_code=204, response_class=Response)
def restore_list(listId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    svc.restore_list(engine, principal, listId)
    return Response(status_code=204)


@router.put(f"{_BASE}/{{listId}}/update-list-name", response_model=ListUpdateReply)
def rename_list(listId: str, engine: EngineDep, principal: PrincipalDep,
                listName: Annotated[str | None, Query(max_length=1000)] = None,
                includeFilters: bool = False) -> JSONResponse:
    stored = svc.rename_list(engine, principal, listId, listName)
    return JSONResponse({"updatedList": list_out(stored, includeFilters)})


@router.put(f"{_BASE}/{{listId}}/update-list-filters", response_model=ListUpdateReply)
def update_filters(listId: str, engine: EngineDep, principal: PrincipalDep,
                   body: FilterUpdateIn, enrollObjectsInWorkflows: bool = False
                   ) -> JSONResponse:
    """A DYNAMIC list's new filter; it is evaluated whole again (PROCESSING)."""
    if enrollObjectsInWorkflows:
        raise invalid("enrollObjectsInWorkflows", "enrolling a list's records in workflows "
                      "is not supported by propsync's lists.", "UNSUPPORTED_LIST_PART")
    if body.filterBranch is None:
        raise invalid("filterBranch", "the request names the new filterBranch.",
                      "MISSING_FILTER")
    stored = svc.update_filters(engine, principal, listId, body.filterBranch)
    return JSONResponse({"updatedList": list_out(stored, True)})


def _members(page: members_svc.MemberPage) -> dict[str, Any]:
    out: dict[str, Any] = {"results": [{"recordId": str(rid),
                                        "membershipTimestamp": format_ms(at)}
                                       for rid, at in page.members], "total": page.total}
    paging: dict[str, Any] = {}
    if page.next_after is not None:
        paging["next"] = {"after": page.next_after}
    if page.prev_before is not None:
        paging["prev"] = {"before": page.prev_before}
    if paging:
        out["paging"] = paging
    return out


@router.get(f"{_BASE}/{{listId}}/memberships", response_model=MemberPage)
def members(listId: str, engine: EngineDep, principal: PrincipalDep,
            after: Annotated[str | None, Query(max_length=40)] = None,
            before: Annotated[str | None, Query(max_length=40)] = None,
            limit: Annotated[int, Query()] = 100) -> JSONResponse:
    """The list's members by record id, with the time each joined."""
    return JSONResponse(_members(members_svc.member_page(engine, principal, listId, after, before,
                                                 limit)))


@router.get(f"{_BASE}/{{listId}}/memberships/join-order", response_model=MemberPage)
def members_by_join(listId: str, engine: EngineDep, principal: PrincipalDep,
                    after: Annotated[str | None, Query(max_length=60)] = None,
                    before: Annotated[str | None, Query(max_length=60)] = None,
                    limit: Annotated[int, Query()] = 100) -> JSONResponse:
    """The list's members in the order they joined."""
    if before:
        raise invalid("before", "paging backwards in join order is not supported by "
                      "propsync's lists; page forwards with 'after'.",
                      "UNSUPPORTED_LIST_PART")
    return JSONResponse(_members(members_svc.member_page(engine, principal, listId, after, None,
                                                 limit, by_join=True)))


def _changed(change: members_svc.MembershipChange) -> dict[str, Any]:
    return {"recordsIdsAdded": [str(i) for i in change.added],
            "recordIdsRemoved": [str(i) for i in change.removed],
            "recordIdsMissing": change.missing}


@router.put(f"{_BASE}/{{listId}}/memberships/add", response_model=MembershipsChanged)
def add_members(listId: str, engine: EngineDep, principal: PrincipalDep, body: _IDS
                ) -> JSONResponse:
    return JSONResponse(_changed(members_svc.change_members(engine, principal, listId, body, [])))


@router.put(f"{_BASE}/{{listId}}/memberships/remove", response_model=MembershipsChanged)
def remove_members(listId: str, engine: EngineDep, principal: PrincipalDep, body: _IDS
                   ) -> JSONResponse:
    return JSONResponse(_changed(members_svc.change_members(engine, principal, listId, [], body)))


@router.put(f"{_BASE}/{{listId}}/memberships/add-and-remove",
            response_model=MembershipsChanged)
def add_and_remove(listId: str, engine: EngineDep, principal: PrincipalDep,
                   body: MembershipChangeIn) -> JSONResponse:
    add, remove = body.recordIdsToAdd, body.recordIdsToRemove
    if not isinstance(add, list) or not isinstance(remove, list):
        raise invalid("body", "recordIdsToAdd and recordIdsToRemove are lists of record "
                      "ids.")
    changed = members_svc.change_members(engine, principal, listId, add, remove)
    return JSONResponse(_changed(changed))


@router.delete(f"{_BASE}/{{listId}}/memberships", status_code=204, response_class=Response)
def remove_all(listId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    members_svc.remove_all_members(engine, principal, listId)
    return Response(status_code=204)


@router.post("/propsync/v1/lists/{listId}/clone", response_model=ListReply)
def clone_list(listId: str, engine: EngineDep, principal: PrincipalDep,
               body: CloneIn | None = None) -> JSONResponse:
    """A copy of the list, optionally named, with ``replace: {property, with}`` putting
    another property in the old one's place in its filter."""
    stored = svc.clone_list(engine, principal, listId, body.body() if body else {})
    return JSONResponse({"list": list_out(stored, True)})
