"""Bodies of the migration's comparisons (``GET /propsync/v1/lists/{listId}/compare/
{otherListId}`` and ``GET /propsync/v1/reports/{reportId}/compare/{otherReportId}``):
propsync's own shape, in HubSpot's manner (camelCase, ids as strings, ``paging.next.after``).
"""

from __future__ import annotations

from propsync.api.schemas.common import Model, NextPage, Paging
from propsync.domain.properties import format_ms
from propsync.domain.reports import Group
from propsync.services.migration_compare import DifferingMember, ListComparison, MemberSide
from propsync.services.report_compare import MovedRecord, ReportComparison
from propsync.storage.lists import StoredList


class ComparedList(Model):
    id: str
    name: str
    processingType: str
    processingStatus: str
    size: int


class DifferingMemberOut(Model):
    recordId: str
    oldValue: str | None
    newValue: str | None
    reason: str  # STALE_COPY / LIST_PROCESSING / MEMBERS_NOT_BY_FILTER / OTHER
    explanation: str


class MemberSideOut(Model):
    total: int  # exact
    staleCopies: int  # of them, the records whose two values differ
    results: list[DifferingMemberOut]
    paging: Paging | None = None


class ListComparisonOut(Model):
    original: ComparedList
    clone: ComparedList
    oldProperty: str | None
    newProperty: str | None
    definitionsMatch: bool
    same: bool
    notes: list[str]
    onlyInOriginal: MemberSideOut
    onlyInClone: MemberSideOut


def _list(s: StoredList) -> ComparedList:
    return ComparedList(id=str(s.list_id), name=s.name, processingType=s.processing_type,
                        processingStatus=s.status, size=s.size)


def _member(m: DifferingMember) -> DifferingMemberOut:
    return DifferingMemberOut(recordId=str(m.record_id), oldValue=m.old_value,
                              newValue=m.new_value, reason=m.explanation.reason,
                              explanation=m.explanation.text)


def _side(s: MemberSide) -> MemberSideOut:
    return MemberSideOut(total=s.total, staleCopies=s.stale,
                         results=[_member(m) for m in s.records],
                         paging=Paging(next=NextPage(after=s.next_after))
                         if s.next_after else None)


def list_comparison_out(c: ListComparison) -> ListComparisonOut:
    return ListComparisonOut(
        original=_list(c.original), clone=_list(c.clone),
        oldProperty=c.pair.old.name if c.pair.old else None,
        newProperty=c.pair.new.name if c.pair.new else None,
        definitionsMatch=c.definitions_match, same=c.same, notes=c.notes,
        onlyInOriginal=_side(c.only_in_original), onlyInClone=_side(c.only_in_clone))


class ComparedReport(Model):
    id: str
    name: str


class Figure(Model):
    records: int
    value: float | None


class Placement(Model):
    counted: bool
    key: str | None  # the group's key (null: "(no value)", or not counted)


class MovedRecordOut(Model):
    recordId: str
    original: Placement
    clone: Placement
    oldValue: str | None
    newValue: str | None
    reason: str
    explanation: str


class GroupDifferenceOut(Model):
    kind: str  # VALUE / NO_VALUE / OTHER
    key: str | None
    label: str
    original: Figure | None  # null: no such group in the original
    clone: Figure | None
    left: int
    joined: int
    records: list[MovedRecordOut]


class ReportComparisonOut(Model):
    original: ComparedReport
    clone: ComparedReport
    oldProperty: str | None
    newProperty: str | None
    definitionsMatch: bool
    same: bool
    asOf: str | None
    totals: dict[str, Figure]  # "original", "clone"
    movedRecords: int  # every record the two count differently, exact
    differences: list[GroupDifferenceOut]
    notes: list[str]


def _figure(g: Group | None) -> Figure | None:
    return None if g is None else Figure(records=g.records, value=g.value)


def _moved(m: MovedRecord) -> MovedRecordOut:
    return MovedRecordOut(
        recordId=str(m.record_id),
        original=Placement(counted=m.counted_in_original,
                           key=m.original_key if m.counted_in_original else None),
        clone=Placement(counted=m.counted_in_clone,
                        key=m.clone_key if m.counted_in_clone else None),
        oldValue=m.old_value, newValue=m.new_value, reason=m.explanation.reason,
        explanation=m.explanation.text)


def report_comparison_out(c: ReportComparison) -> ReportComparisonOut:
    return ReportComparisonOut(
        original=ComparedReport(id=str(c.original.report_id), name=c.original.name),
        clone=ComparedReport(id=str(c.clone.report_id), name=c.clone.name),
        oldProperty=c.pair.old.name if c.pair.old else None,
        newProperty=c.pair.new.name if c.pair.new else None,
        definitionsMatch=c.definitions_match, same=c.same,
        asOf=None if c.as_of_ms is None else format_ms(c.as_of_ms),
        totals={"original": Figure(records=c.original_figures.records,
                                   value=c.original_figures.value),
                "clone": Figure(records=c.clone_figures.records,
                                value=c.clone_figures.value)},
        movedRecords=c.moved,
        differences=[GroupDifferenceOut(
            kind=d.kind, key=d.key, label=d.label, original=_figure(d.original),
            clone=_figure(d.clone), left=d.left, joined=d.joined,
            records=[_moved(m) for m in d.records]) for d in c.differences],
        notes=c.notes)
