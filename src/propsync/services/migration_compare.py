"""Comparing a clone with its original (the migration's step 5): lists by members (here),
reports by figures and the records that move between groups
(``services/report_compare.py``), workflows by definition (here).

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

from sqlalchemy import Engine

from propsync.domain.auth import (
    AUTOMATION,
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
from propsync.domain.migration_compare import Explanation, Side, explain_member
from propsync.domain.properties import PropertyDefinition
from propsync.domain.record_ids import parse_record_id
from propsync.domain.usage import Replacement
from propsync.domain.workflow_usage import object_types_using, replaced_definition
from propsync.services import workflows as flows
from propsync.services.schema import Catalogue
from propsync.services.workflow_checks import require_schemas
from propsync.services.workflow_usage import association_ends
from propsync.storage import lists as list_store
from propsync.storage import migration_compare as store
from propsync.storage.associations import load_types
from propsync.storage.db import read_transaction
from propsync.storage.lists import StoredList

MAX_PAGE, DEFAULT_PAGE = 100, 20  # records a side of a list comparison shows
MAX_NAME = 100


def refusal(path: str, what: str, code: str) -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])


def restricted(what: str) -> PermissionDeniedError:
    message = (f"{what} reads a property whose values you may not view, so it is not "
               "compared for you.")
    return PermissionDeniedError(message, [ErrorDetail(message, "PROPERTY_VIEW_RESTRICTED")])


def asset_id(raw: str, what: str) -> int:
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


def replaced_pair(catalogue: Catalogue, first: list[str], second: list[str], old: str | None,
          new: str | None) -> Pair:
    """The properties named (both, or neither: then read off the two definitions'
    property names, when exactly one differs each way)."""
    if (old is None) != (new is None):
        raise refusal("oldProperty" if old is None else "newProperty", "name both the "
                       "replaced property (oldProperty) and the one in its place "
                       "(newProperty), or neither.", "INVALID_REPLACEMENT")
    if old is None or new is None:
        gone = [n for n in first if n not in second]
        came = [n for n in second if n not in first]
        if len(gone) != 1 or len(came) != 1:
            return Pair(None, None)
        old, new = gone[0], came[0]  # both viewable: the definitions were checked whole
    return Pair(catalogue.viewable(old, "oldProperty"),
                catalogue.viewable(new, "newProperty"))


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
        raise refusal("limit", f"a whole number from 1 to {MAX_PAGE}.", "INVALID_LIMIT")
    cursors = [_cursor(original_after, "originalAfter"), _cursor(clone_after, "cloneAfter")]
    with read_transaction(engine) as conn:
        lists: list[StoredList] = []
        for raw in (original_id, clone_id):
            found = list_store.load_list(conn, principal.account_id, asset_id(raw, "list"))
            if found is None:
                raise NotFoundError(f"No list {raw[:40]!r} exists in this account.")
            lists.append(found)
        original, clone = lists
        require_types(principal, [original.object_type, clone.object_type])
        ot = same_type(original.object_type, clone.object_type, "lists")
        catalogue = Catalogue.load(conn, principal, ot)
        names: list[list[str]] = []
        for stored in lists:
            used = list(stored.filter.property_names) if stored.filter else []
            if any(n not in catalogue.visible and n in catalogue.by_name for n in used):
                raise restricted(f"List {stored.list_id}")
            names.append(used)
        pair = replaced_pair(catalogue, names[0], names[1], old_property, new_property)
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
        raise refusal(name, "a paging cursor from a previous page (a record id).",
                       "INVALID_PAGING")
    return found


def require_types(principal: Principal, types: list[str]) -> None:
    principal.require(*sorted({schema_scope(t) for t in types}),
                      *sorted({object_scope(t) for t in types}))


def same_type(a: str, b: str, what: str) -> str:
    if a != b:
        raise refusal("otherId", f"the {what} are of {a} and of {b}; compare two of the "
                       "same object type.", "DIFFERENT_OBJECT_TYPES")
    return a


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
