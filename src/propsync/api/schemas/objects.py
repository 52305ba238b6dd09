"""Bodies of the CRM objects v3 endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from propsync.api.schemas.common import Inputs, Model, Names, Paging, StandardError
from propsync.domain.history import HistoryEntry
from propsync.domain.properties import format_ms
from propsync.services.views import RecordView

PropertyValue = str | int | float | bool | None


class AssociationSpecIn(Model):
    associationCategory: str
    associationTypeId: int


class PublicObjectId(Model):
    id: str


class AssociationIn(Model):
    to: PublicObjectId
    types: list[AssociationSpecIn]


class ObjectCreate(Model):
    properties: dict[str, PropertyValue] = Field(default_factory=dict)
    associations: list[AssociationIn] = Field(default_factory=list)


class ObjectUpdate(Model):
    properties: dict[str, PropertyValue]


class ObjectUpdateWithId(ObjectUpdate):
    id: str
    idProperty: str | None = None


class BatchCreate(Model):
    inputs: Annotated[Inputs[ObjectCreate], Field(min_length=1)]


class BatchUpdate(Model):
    inputs: Inputs[ObjectUpdateWithId]


class BatchIds(Model):
    inputs: Inputs[PublicObjectId]


class BatchRead(Model):
    inputs: Inputs[PublicObjectId]
    properties: Names = Field(default_factory=list)
    propertiesWithHistory: Names = Field(default_factory=list)
    idProperty: str | None = None


class UpsertIn(Model):
    id: str
    idProperty: str | None = None
    objectWriteTraceId: str | None = None
    properties: dict[str, PropertyValue]


class BatchUpsert(Model):
    inputs: Annotated[Inputs[UpsertIn], Field(min_length=1)]


class GdprDeleteIn(Model):
    objectId: str
    idProperty: str | None = None


class MergeIn(Model):
    primaryObjectId: str
    objectIdToMerge: str


class ValueWithHistory(Model):
    """One entry of a property's history (HubSpot's ``ValueWithTimestamp``): a cleared value
    is ``""``, and a member with nothing to say is left out, never null."""

    value: str
    timestamp: str
    sourceType: str
    sourceId: str | None = None
    sourceLabel: str | None = None
    updatedByUserId: int | None = None


class AssociatedId(Model):
    id: str
    type: str


class AssociationsPage(Model):
    results: list[AssociatedId]
    paging: Paging | None = None


class SimplePublicObject(Model):
    id: str
    properties: dict[str, str | None]
    propertiesWithHistory: dict[str, list[ValueWithHistory]] | None = None
    associations: dict[str, AssociationsPage] | None = None
    createdAt: str
    updatedAt: str
    archived: bool
    archivedAt: str | None = None


class SimplePublicUpsertObject(SimplePublicObject):
    new: bool
    objectWriteTraceId: str | None = None


class ObjectPage(Model):
    results: list[SimplePublicObject]
    paging: Paging | None = None


class BatchResponse(Model):
    status: Literal["PENDING", "PROCESSING", "CANCELED", "COMPLETE"] = "COMPLETE"
    results: list[SimplePublicObject]
    startedAt: str
    completedAt: str
    numErrors: int | None = None
    errors: list[StandardError] | None = None
    requestedAt: str | None = None
    links: dict[str, str] | None = None


class BatchUpsertResponse(BatchResponse):
    results: list[SimplePublicUpsertObject]  # type: ignore[assignment]


def to_public(view: RecordView) -> SimplePublicObject:
    """The API shape of a record view: members that do not apply are left out."""
    data: dict[str, Any] = {
        "id": str(view.id), "properties": view.properties,
        "createdAt": format_ms(view.created_ms), "updatedAt": format_ms(view.updated_ms),
        "archived": view.archived,
    }
    if view.archived and view.archived_ms is not None:
        data["archivedAt"] = format_ms(view.archived_ms)
    if view.history is not None:
        data["propertiesWithHistory"] = {
            name: [history_entry(e) for e in entries] for name, entries in view.history.items()
        }
    if view.associations is not None:
        data["associations"] = {
            to_type: AssociationsPage(results=[AssociatedId(id=str(i), type=n) for i, n in found])
            for to_type, found in view.associations.items()
        }
    return SimplePublicObject(**data)


class GdprDeletion(Model):
    """One GDPR delete: which record, when, by whom; no value of the record is kept."""

    id: str
    objectType: str
    objectId: str
    deletedAt: str
    userId: str | None = None
    idProperty: str | None = None


class GdprDeletionPage(Model):
    results: list[GdprDeletion]
    paging: Paging | None = None


def history_entry(entry: HistoryEntry) -> ValueWithHistory:
    """The API shape of a history entry: only the members that have a value are set, so
    that a reply serialised with ``exclude_unset`` leaves the others out."""
    optional = {"sourceId": entry.source.source_id, "sourceLabel": entry.source.source_label,
                "updatedByUserId": entry.source.user_id}
    return ValueWithHistory(value=entry.value or "", timestamp=format_ms(entry.timestamp_ms),
                            sourceType=entry.source.source_type,
                            **{k: v for k, v in optional.items() if v is not None})
