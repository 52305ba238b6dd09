"""Bodies of the sync property endpoints: ``syncSource``, status and explain."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from propsync.api.schemas.common import Model
from propsync.api.schemas.objects import AssociationSpecIn
from propsync.domain.properties import format_ms
from propsync.domain.sync_rule import SyncDefinition
from propsync.services.sync_properties import (
    AccountStatus,
    Explanation,
    PropertyStatus,
    SourceRequest,
)

SelectionName = Literal["FIRST_CREATED", "LAST_CREATED"]


class SyncSourceBody(Model):
    """Where a sync property copies its value from (propsync's extension of Property)."""

    objectType: str = Field(description="The source object type, e.g. companies.")
    propertyName: str = Field(description="The property of the source object to copy.")
    associationTypes: list[AssociationSpecIn] | None = Field(
        default=None, description="Only these association types count; omit for all labels.")
    selection: SelectionName | None = Field(
        default=None, description="Which record wins when several qualify.")

    def to_request(self) -> SourceRequest:
        types = None if self.associationTypes is None else [
            (t.associationCategory, t.associationTypeId) for t in self.associationTypes]
        return SourceRequest(self.objectType, self.propertyName, types, self.selection)


def sync_source_of(d: SyncDefinition, categories: dict[int, str]) -> SyncSourceBody:
    types = None if d.association_type_ids is None else [
        AssociationSpecIn(associationCategory=categories.get(i, "HUBSPOT_DEFINED"),
                          associationTypeId=i)
        for i in sorted(d.association_type_ids)]
    return SyncSourceBody(objectType=d.source_type, propertyName=d.source_property,
                          associationTypes=types,
                          selection=d.selection.value if d.selection else None)


class Progress(Model):
    done: int
    total: int


class SyncPropertyStatusOut(Model):
    objectType: str
    name: str
    label: str
    syncSource: SyncSourceBody
    state: Literal["BACKFILLING", "LIVE"]
    backfill: Progress
    filled: int = Field(description="Target records that currently hold a value.")
    queued: int = Field(description="Target records waiting to be recomputed.")
    backfillStartedAt: str


def status_out(s: PropertyStatus, categories: dict[int, str]) -> SyncPropertyStatusOut:
    d = s.definition
    return SyncPropertyStatusOut(
        objectType=d.target_type, name=d.name, label=d.label,
        syncSource=sync_source_of(d, categories), state=d.state,
        backfill=Progress(done=min(d.backfill_done, d.backfill_total), total=d.backfill_total),
        filled=s.filled, queued=s.queued, backfillStartedAt=format_ms(d.backfill_started_ms))


class SyncStatusOut(Model):
    pendingChanges: int
    oldestPendingAgeMs: int | None
    properties: list[SyncPropertyStatusOut]


def account_status_out(s: AccountStatus, categories: dict[int, str]) -> SyncStatusOut:
    return SyncStatusOut(pendingChanges=s.pending, oldestPendingAgeMs=s.oldest_pending_age_ms,
                         properties=[status_out(p, categories) for p in s.properties])


class CandidateOut(Model):
    id: str
    createdAt: str
    archived: bool
    associationTypes: list[int]
    admitted: bool
    reason: str


class ExplainOut(Model):
    objectType: str
    recordId: str
    syncProperty: str
    syncSource: SyncSourceBody
    candidates: list[CandidateOut]
    winner: str | None
    value: str | None = Field(description="The value the rule gives now.")
    storedValue: str | None = Field(description="The value stored on the record now.")
    upToDate: bool
    explanation: str


def explain_out(e: Explanation, record_id: int, categories: dict[int, str]) -> ExplainOut:
    d = e.definition
    return ExplainOut(
        objectType=d.target_type, recordId=str(record_id), syncProperty=d.name,
        syncSource=sync_source_of(d, categories),
        candidates=[CandidateOut(id=str(c.record_id), createdAt=format_ms(c.created_ms),
                                 archived=c.archived, associationTypes=sorted(c.type_ids),
                                 admitted=ok, reason=why) for c, ok, why in e.candidates],
        winner=str(e.winner.record_id) if e.winner else None, value=e.value,
        storedValue=e.stored, upToDate=e.value == e.stored, explanation=_sentence(e))


def _sentence(e: Explanation) -> str:
    d = e.definition
    admitted = sum(1 for _, ok, _ in e.candidates if ok)
    if e.winner is None:
        return (f"No associated {d.source_type} record qualifies, so {d.name} is empty.")
    rule = {"LAST_CREATED": "the most recently created", None: "the only qualifying"}.get(
        d.selection.value if d.selection else None, "the first created")
    value = repr(e.value) if e.value is not None else "empty"
    return (f"{admitted} associated {d.source_type} record(s) qualify; {d.name} copies "
            f"{d.source_property} from {rule} one, record {e.winner.record_id}: {value}.")
