"""HubSpot's Lists v3 shapes: a list (``PublicObjectList``), a search hit, members with
their join time, a membership change's answer.

A list's filter branch is read by the service (``domain/lists.py``: the supported subset,
else a 400 naming the part), so request bodies reach it as JSON; these models describe
the answers, for the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from propsync.api.schemas.common import Model, Paging
from propsync.domain.lists import OBJECT_TYPE_IDS
from propsync.domain.properties import format_ms
from propsync.storage.lists import StoredList


class _Body(Model):
    """A request body read by the service (which names any part it does not take); the
    members are declared for the OpenAPI document, and left out ones stay out."""

    model_config = ConfigDict(extra="allow")

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class ListCreateIn(_Body):
    """HubSpot's ``ListCreateRequest``."""

    name: Any = None
    objectTypeId: Any = None
    processingType: Any = None
    filterBranch: Any = None
    listFolderId: Any = None
    customProperties: Any = None
    membershipSettings: Any = None
    listPermissions: Any = None


class ListSearchIn(_Body):
    """HubSpot's ``ListSearchRequest``."""

    query: Any = None
    offset: Any = None
    count: Any = None
    processingTypes: Any = None
    objectTypeId: Any = None
    listIds: Any = None
    additionalProperties: Any = None
    sort: Any = None


class FilterUpdateIn(_Body):
    """HubSpot's ``ListFilterUpdateRequest``."""

    filterBranch: Any = None


class MembershipChangeIn(_Body):
    """HubSpot's ``MembershipChangeRequest``."""

    recordIdsToAdd: Any = None
    recordIdsToRemove: Any = None


class CloneIn(_Body):
    """propsync's clone: an optional name, and a property to put in another's place."""

    name: Any = None
    replace: Any = None


class ListOut(Model):
    """HubSpot's ``PublicObjectList``."""

    model_config = ConfigDict(extra="allow")

    listId: str
    listVersion: int
    name: str
    objectTypeId: str
    processingStatus: str
    processingType: str
    size: int | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    filtersUpdatedAt: str | None = None
    createdById: str | None = None
    updatedById: str | None = None
    deletedAt: str | None = None
    filterBranch: dict[str, Any] | None = None


class ListReply(Model):
    list: ListOut


class ListUpdateReply(Model):
    updatedList: ListOut


class ListsReply(Model):
    lists: list[ListOut]


class SearchHit(ListOut):
    additionalProperties: dict[str, str]


class ListSearchReply(Model):
    lists: list[SearchHit]
    total: int
    offset: int
    hasMore: bool


class MemberOut(Model):
    recordId: str
    membershipTimestamp: str


class PrevPage(Model):
    before: str
    link: str | None = None


class MemberPaging(Model):
    next: Any = None
    prev: PrevPage | None = None


class MemberPage(Model):
    results: list[MemberOut]
    total: int | None = None
    paging: MemberPaging | Paging | None = None


class MembershipsChanged(Model):
    recordsIdsAdded: list[str]
    recordIdsRemoved: list[str]
    recordIdsMissing: list[str]


class RecordListOut(Model):
    listId: str
    listVersion: int
    firstAddedTimestamp: str
    lastAddedTimestamp: str
    isPublicList: bool = True


class RecordListsReply(Model):
    results: list[RecordListOut]
    total: int


def list_out(stored: StoredList, include_filters: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "listId": str(stored.list_id), "listVersion": stored.version, "name": stored.name,
        "objectTypeId": OBJECT_TYPE_IDS[stored.object_type],
        "processingStatus": stored.status, "processingType": stored.processing_type,
        "size": stored.size, "createdAt": format_ms(stored.created_ms),
        "updatedAt": format_ms(stored.updated_ms),
        "filtersUpdatedAt": format_ms(stored.filters_updated_ms),
    }
    if stored.created_by is not None:
        out["createdById"] = str(stored.created_by)
    if stored.updated_by is not None:
        out["updatedById"] = str(stored.updated_by)
    if stored.deleted_ms is not None:
        out["deletedAt"] = format_ms(stored.deleted_ms)
    if include_filters and stored.filter is not None:
        out["filterBranch"] = stored.filter.branch
    return out


def search_hit(stored: StoredList) -> dict[str, Any]:
    out = list_out(stored)
    del out["size"]
    out["additionalProperties"] = {"hs_list_size": str(stored.size),
                                   "hs_list_reference_count": "0"}
    return out
