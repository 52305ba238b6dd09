"""Comparing a clone with its original (the migration's step 5): lists by members, reports
by figures and the records that move between groups, workflows by definition.

The caller names the original and the clone, and optionally the replaced property
(``old_property``) and the one in its place (``new_property``); without them, they are
read off the definitions (the one property the original reads and the clone does not,
and the other way round). Every record that differs is explained, most often as a
stale copy: the copy property's value and the sync value disagree.

Access: a list comparison needs ``crm.lists.read``, a report comparison
``business-intelligence``, a workflow comparison ``automation``; with each, the schema
and record read scopes of the assets' object type (record ids and values are shown).
An asset that reads a property the caller may not view is refused whole (403, naming no
property), as the lists and reports services refuse it; the values shown are only the
replaced property's and its replacement's, each only if the caller may view it. Every
answer is bounded: a page of records per side (``limit``), a sample per group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import (
    AUTOMATION,
    BUSINESS_INTELLIGENCE,
    LISTS_READ,
    Principal,
    object_scope,
    schema_scope,
)
from propsync.domain.errors import (
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.domain.migration_compare import Explanation, Side, explain_member, explain_move
from propsync.domain.properties import PropertyDefinition
from propsync.domain.record_ids import parse_record_id
from propsync.domain.reports import Figures, Group, ReportSpec, parse_as_of, replaced
from propsync.domain.usage import Replacement
from propsync.domain.workflow_usage import object_types_using, replaced_definition
from propsync.services import workflows as flows
from propsync.services.reports import ReportChecker, report_figures
from propsync.services.schema import Catalogue
from propsync.services.workflow_checks import require_schemas
from propsync.services.workflow_usage import association_ends
from propsync.storage import lists as list_store
from propsync.storage import migration_compare as store
from propsync.storage import reports as report_store
from propsync.storage.associations import load_types
from propsync.storage.db import read_transaction
from propsync.storage.lists import StoredList
from propsync.storage.reports import FigureQuery, Grouping, StoredReport
from propsync.storage.search import condition_for

MAX_PAGE, DEFAULT_PAGE = 100, 20  # records a side of a list comparison shows
MAX_SAMPLE, DEFAULT_SAMPLE = 20, 5  # records a group of a report comparison shows
MAX_NAME = 100


def _refusal(path: str, what: str, code: str) -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])


def _restricted(what: str) -> PermissionDeniedError:
    message = (f"{what} reads a property whose values you may not view, so it is not "
               "compared for you.")
    return PermissionDeniedError(message, [ErrorDetail(message, "PROPERTY_VIEW_RESTRICTED")])


def _id(raw: str, what: str) -> int:
    found = parse_record_id(raw)
    if found is None:
        raise NotFoundError(f"No {what} {raw[:40]!r} exists in this account.")
    return found


@dataclass(frozen=True)
class Pair:
    """The replaced property and the one in its place, as far as the caller may see."""

    old: PropertyDefinition | None
    new: PropertyDefinition | None

    @property
    def labels(self) -> tuple[str, str] | None:
        if self.old is None or self.new is None:
            return None
        return (f"{self.old.label} ({self.old.name})", f"{self.new.label} ({self.new.name})")

    @property
    def replacement(self) -> tuple[str, str] | None:
        return None if self.old is None or self.new is None else (self.old.name,
                                                                  self.new.name)


def _pair(catalogue: Catalogue, first: list[str], second: list[str], old: str | None,
          new: str | None) -> Pair:
    """The properties named (both, or neither: then read off the two definitions'
    property names, when exactly one differs each way)."""
    if (old is None) != (new is None):
        raise _refusal("oldProperty" if old is None else "newProperty", "name both the "
                       "replaced property (oldProperty) and the one in its place "
                       "(newProperty), or neither.", "INVALID_REPLACEMENT")
    if old is None or new is None:
        gone = [n for n in first if n not in second]
        came = [n for n in second if n not in first]
        if len(gone) != 1 or len(came) != 1:
            return Pair(None, None)
        old, new = gone[0], came[0]  # both viewable: the definitions were checked whole
    return Pair(_viewable(catalogue, old, "oldProperty"),
                _viewable(catalogue, new, "newProperty"))


def _viewable(catalogue: Catalogue, name: str, path: str) -> PropertyDefinition:
    if len(name) > MAX_NAME:
        raise _refusal(path, f"a property name has at most {MAX_NAME} characters.",
                       "INVALID_REPLACEMENT")
    prop = catalogue.visible.get(name)
    if prop is None and name in catalogue.by_name:
        message = f"{path}: you may not view this property's values."
        raise PermissionDeniedError(message, [ErrorDetail(
            message, "PROPERTY_VIEW_RESTRICTED", {"path": [path]})])
    if prop is None:
        raise _refusal(path, f"{catalogue.object_type} has no property named "
                       f"{name[:MAX_NAME]!r}.", "PROPERTY_DOESNT_EXIST")
    return prop


# ---- lists ----

@dataclass(frozen=True)
class DifferingMember:
    record_id: int
    old_value: str | None  # None also when the caller is shown no values
    new_value: str | None
    explanation: Explanation


@dataclass(frozen=True)
class MemberSide:
    """The members of one list that the other lacks."""

    total: int  # exact
    stale: int  # of them, the records whose two values differ
    records: list[DifferingMember]  # a page, by record id
    next_after: str | None


@dataclass(frozen=True)
class ListComparison:
    original: StoredList
    clone: StoredList
    pair: Pair
    definitions_match: bool  # the clone's filter is the original's with the replacement
    notes: list[str]
    only_in_original: MemberSide
    only_in_clone: MemberSide

    @property
    def same(self) -> bool:
        return not self.only_in_original.total and not self.only_in_clone.total


def compare_lists(engine: Engine, principal: Principal, original_id: str, clone_id: str,
                  old_property: str | None = None, new_property: str | None = None,
                  limit: int = DEFAULT_PAGE, original_after: str | None = None,
                  clone_after: str | None = None) -> ListComparison:
    """The members of each list that the other lacks (exact counts, a page of each by
    record id from its cursor), each with the two values and why it differs."""
    principal.require(LISTS_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise _refusal("limit", f"a whole number from 1 to {MAX_PAGE}.", "INVALID_LIMIT")
    cursors = [_cursor(original_after, "originalAfter"), _cursor(clone_after, "cloneAfter")]
    with read_transaction(engine) as conn:
        lists: list[StoredList] = []
        for raw in (original_id, clone_id):
            found = list_store.load_list(conn, principal.account_id, _id(raw, "list"))
            if found is None:
                raise NotFoundError(f"No list {raw[:40]!r} exists in this account.")
            lists.append(found)
        original, clone = lists
        _require_types(principal, [original.object_type, clone.object_type])
        ot = _same_type(original.object_type, clone.object_type, "lists")
        catalogue = Catalogue.load(conn, principal, ot)
        names: list[list[str]] = []
        for stored in lists:
            used = list(stored.filter.property_names) if stored.filter else []
            if any(n not in catalogue.visible and n in catalogue.by_name for n in used):
                raise _restricted(f"List {stored.list_id}")
            names.append(used)
        pair = _pair(catalogue, names[0], names[1], old_property, new_property)
        old_id = pair.old.id if pair.old else None
        new_id = pair.new.id if pair.new else None
        sides = [store.members_only_in(conn, principal.account_id, a.list_id, b.list_id,
                                       old_id, new_id, after, limit)
                 for a, b, after in ((original, clone, cursors[0]),
                                     (clone, original, cursors[1]))]
    facts = [Side(s.list_id, s.processing_type, s.status) for s in lists]
    shown = [_member_side(d, in_original, facts, pair)
             for d, in_original in zip(sides, (True, False), strict=True)]
    match = _lists_match(original, clone, pair)
    notes = _list_notes(lists, match)
    return ListComparison(original, clone, pair, match, notes, shown[0], shown[1])


def _member_side(d: store.MemberDifference, in_original: bool, facts: list[Side],
                 pair: Pair) -> MemberSide:
    records = [DifferingMember(row.record_id, row.old_value, row.new_value,
                               explain_member(in_original, facts[0], facts[1], pair.labels,
                                              row.old_value, row.new_value))
               for row in d.rows]
    return MemberSide(d.total, d.stale, records,
                      str(d.rows[-1].record_id) if d.more and d.rows else None)


def _lists_match(original: StoredList, clone: StoredList, pair: Pair) -> bool:
    if original.processing_type != clone.processing_type:
        return False
    if original.filter is None or clone.filter is None:
        return original.filter is None and clone.filter is None
    branch = original.filter.branch
    if pair.replacement is not None:
        branch = renamed_branch(branch, *pair.replacement)
    return bool(branch == clone.filter.branch)


def renamed_branch(branch: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """A filter branch with property ``new`` wherever a PROPERTY filter names ``old``."""
    out = dict(branch)
    out["filterBranches"] = [renamed_branch(b, old, new)
                             for b in branch.get("filterBranches") or []]
    out["filters"] = [{**f, "property": new} if f.get("property") == old else dict(f)
                      for f in branch.get("filters") or []]
    return out


def _list_notes(lists: list[StoredList], match: bool) -> list[str]:
    notes = [f"List {s.list_id} is still being evaluated (PROCESSING): its members are not "
             "final; compare again once it is COMPLETE." for s in lists
             if s.status != "COMPLETE"]
    notes += [f"List {s.list_id} is a {s.processing_type} list: its members are not chosen "
              "by its filter now." for s in lists if s.processing_type != "DYNAMIC"]
    if not match:
        notes.append("The clone's definition is not the original's with one property "
                     "replaced: differences may come from that, too.")
    return notes


def _cursor(raw: str | None, name: str) -> int | None:
    if raw in (None, ""):
        return None
    assert raw is not None
    found = parse_record_id(raw)
    if found is None:
        raise _refusal(name, "a paging cursor from a previous page (a record id).",
                       "INVALID_PAGING")
    return found


def _require_types(principal: Principal, types: list[str]) -> None:
    principal.require(*sorted({schema_scope(t) for t in types}),
                      *sorted({object_scope(t) for t in types}))


def _same_type(a: str, b: str, what: str) -> str:
    if a != b:
        raise _refusal("otherId", f"the {what} are of {a} and of {b}; compare two of the "
                       "same object type.", "DIFFERENT_OBJECT_TYPES")
    return a


# ---- reports ----

@dataclass(frozen=True)
class MovedRecord:
    record_id: int
    counted_in_original: bool
    original_key: str | None
    counted_in_clone: bool
    clone_key: str | None
    old_value: str | None
    new_value: str | None
    explanation: Explanation


@dataclass(frozen=True)
class GroupDifference:
    kind: str  # VALUE / NO_VALUE / OTHER
    key: str | None
    label: str
    original: Group | None  # None: no such group in the original
    clone: Group | None
    left: int  # records the original counts here that the clone counts elsewhere or not
    joined: int  # records the clone counts here that the original counts elsewhere or not
    records: list[MovedRecord]  # a sample


@dataclass(frozen=True)
class ReportComparison:
    original: StoredReport
    clone: StoredReport
    pair: Pair
    definitions_match: bool
    as_of_ms: int | None
    original_figures: Figures
    clone_figures: Figures
    differences: list[GroupDifference]  # the groups whose figures differ
    moved: int  # every record counted differently, exact
    notes: list[str]

    @property
    def same(self) -> bool:
        return not self.differences


def compare_reports(engine: Engine, principal: Principal, original_id: str, clone_id: str,
                    old_property: str | None = None, new_property: str | None = None,
                    as_of: str | None = None, sample: int = DEFAULT_SAMPLE
                    ) -> ReportComparison:
    """Both reports' figures (now, or as of a past moment), the groups whose figures
    differ, and for each a sample of the records that left or joined it."""
    principal.require(BUSINESS_INTELLIGENCE)
    if not 1 <= sample <= MAX_SAMPLE:
        raise _refusal("sample", f"a whole number from 1 to {MAX_SAMPLE}.", "INVALID_LIMIT")
    as_of_ms = None if as_of is None else parse_as_of(as_of, now_ms())
    with read_transaction(engine) as conn:
        reports: list[StoredReport] = []
        for raw in (original_id, clone_id):
            found = report_store.load_report(conn, principal.account_id, _id(raw, "report"))
            if found is None:
                raise NotFoundError(f"No report {raw[:40]!r} exists in this account.")
            reports.append(found)
        original, clone = reports
        _require_types(principal, [original.object_type, clone.object_type])
        _same_type(original.object_type, clone.object_type, "reports")
        try:
            results = [report_figures(conn, principal, r.spec, as_of_ms) for r in reports]
        except PermissionDeniedError:
            raise _restricted("One of the reports") from None
        catalogue = Catalogue.load(conn, principal, original.object_type)
        pair = _pair(catalogue, original.spec.property_names(), clone.spec.property_names(),
                     old_property, new_property)
        differing = _differing(results[0], results[1])
        keys = [d[1] for d in differing if d[0] != "OTHER"]
        queries = [_figure_query(conn, principal, r.spec, as_of_ms) for r in reports]
        moves = store.moved_records(conn, principal.account_id, queries[0], queries[1], keys,
                                    pair.old.id if pair.old else None,
                                    pair.new.id if pair.new else None, sample)
    records = [MovedRecord(m.record_id, m.counted_first, m.key_first, m.counted_second,
                           m.key_second, m.old_value, m.new_value,
                           explain_move(pair.labels, m.counted_first, m.key_first,
                                        m.counted_second, m.key_second, m.old_value,
                                        m.new_value))
               for m in moves.sample]
    differences = [GroupDifference(
        kind, key, _label_of(a, b, key), a, b,
        moves.left.get(key, 0) if kind != "OTHER" else 0,
        moves.joined.get(key, 0) if kind != "OTHER" else 0,
        [] if kind == "OTHER" else _sampled(records, key, sample))
        for kind, key, a, b in differing]
    match = _reports_match(original, clone, pair)
    notes = [] if match else ["The clone's definition is not the original's with one "
                              "property replaced: differences may come from that, too."]
    if any(kind == "OTHER" for kind, *_ in differing):
        notes.append("The groups folded into (other) differ; the records of those groups "
                     "are not sampled (raise maxGroups to see them as groups).")
    return ReportComparison(original, clone, pair, match, as_of_ms, results[0], results[1],
                            differences, moves.total, notes)


def _differing(a: Figures, b: Figures
               ) -> list[tuple[str, str | None, Group | None, Group | None]]:
    """(kind, key, the original's group, the clone's) of the groups whose figures differ:
    the original's order, then the clone's groups the original lacks."""
    first = {(g.kind, g.key): g for g in a.groups}
    second = {(g.kind, g.key): g for g in b.groups}
    order = list(first) + [k for k in second if k not in first]
    out = []
    for kind, key in order:
        x, y = first.get((kind, key)), second.get((kind, key))
        if x is None or y is None or (x.records, x.value, x.folded) != \
                (y.records, y.value, y.folded):
            out.append((kind, key, x, y))
    return out


def _label_of(a: Group | None, b: Group | None, key: str | None) -> str:
    found = a or b
    return found.label if found is not None else str(key)


def _sampled(records: list[MovedRecord], key: str | None, per_group: int
             ) -> list[MovedRecord]:
    left = [m for m in records if m.counted_in_original and m.original_key == key]
    joined = [m for m in records if m.counted_in_clone and m.clone_key == key]
    chosen = {m.record_id: m for m in left[:per_group] + joined[:per_group]}
    return [chosen[i] for i in sorted(chosen)]


def _reports_match(original: StoredReport, clone: StoredReport, pair: Pair) -> bool:
    a = dict(original.spec.definition)
    if pair.replacement is not None:
        a = replaced(a, *pair.replacement)
    b = dict(clone.spec.definition)
    a.pop("name", None)
    b.pop("name", None)
    return a == b


def _figure_query(conn: Connection, principal: Principal, spec: ReportSpec,
                  as_of_ms: int | None) -> FigureQuery:
    """The query ``services/reports.report_figures`` runs for ``spec`` (its records and
    groups), for the records that move between groups."""
    checker = ReportChecker(conn, principal, spec)
    props = checker.viewable_for_run()
    group_by = props[spec.group_by]
    measured = props.get(spec.measure_property) if spec.measure_property else None
    synced = set(checker.catalogue.synced) if as_of_ms is None else set()
    groups = [[condition_for(props[f.property_name], props[f.property_name].id in synced, f)
               for f in g] for g in spec.groups]
    return FigureQuery(
        spec.object_type,
        Grouping(None if group_by.calculated else group_by.id,
                 group_by.name if group_by.calculated else None, spec.date_bucket),
        spec.measure, None if measured is None else measured.id, groups, spec.max_groups,
        as_of_ms, {p.id: p.type for p in props.values() if not p.calculated}, spec.list_id)


# ---- workflows ----

@dataclass(frozen=True)
class FlowComparison:
    original_id: str
    clone_id: str
    equal: bool  # the clone's definition is the original's with the replacement
    differences: list[str]  # the top-level members that differ otherwise


def compare_flows(engine: Engine, principal: Principal, original_id: str, clone_id: str,
                  old_property: str, new_property: str) -> FlowComparison:
    """Whether the clone's definition is the original's with ``old_property`` replaced by
    ``new_property`` (of the object type the original uses it on), name and on/off
    aside."""
    principal.require(AUTOMATION)
    with read_transaction(engine) as conn:
        original = flows.existing(conn, principal.account_id, original_id)
        clone = flows.existing(conn, principal.account_id, clone_id)
        ends = association_ends(conn, principal.account_id)
        require_schemas(principal, [original.flow, clone.flow],
                        load_types(conn, principal.account_id))
    using = object_types_using(original.flow, ends, old_property)
    expected = dict(original.definition)
    if len(using) == 1:
        expected = replaced_definition(expected, original.flow, ends,
                                       Replacement(using[0], old_property, new_property))
    got = dict(clone.definition)
    skip = {"name", "isEnabled"}
    differences = sorted(k for k in set(expected) | set(got)
                         if k not in skip and expected.get(k) != got.get(k))
    if len(using) != 1:
        differences.insert(0, f"the original uses {old_property!r} on "
                           f"{len(using)} object types" if using else
                           f"the original does not use {old_property!r}")
    return FlowComparison(str(original.flow_id), str(clone.flow_id), not differences,
                          differences)
