"""Comparing a report with its clone (the migration's step 5): both reports' figures
(now, or as of a past moment), the groups whose figures differ, and for each how many
records left and joined it and a sample of them with the replaced property's value and
the one in its place, and why (``domain/migration_compare.explain_move``).

Access as ``services/migration_compare.py`` says: ``business-intelligence`` with the
report type's schema and record read scopes; a report reading a property the caller may
not view is refused whole (403, naming no property), as running it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import BUSINESS_INTELLIGENCE, Principal
from propsync.domain.errors import NotFoundError, PermissionDeniedError
from propsync.domain.migration_compare import Explanation, explain_move
from propsync.domain.reports import Figures, Group, parse_as_of, replaced
from propsync.services.migration_compare import (
    Pair,
    asset_id,
    refusal,
    replaced_pair,
    require_types,
    restricted,
    same_type,
)
from propsync.services.reports import figure_query, report_figures
from propsync.services.schema import Catalogue
from propsync.storage import migration_compare as store
from propsync.storage import reports as report_store
from propsync.storage.db import read_transaction
from propsync.storage.reports import StoredReport

MAX_SAMPLE, DEFAULT_SAMPLE = 20, 5  # records a group of a report comparison shows


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
        raise refusal("sample", f"a whole number from 1 to {MAX_SAMPLE}.", "INVALID_LIMIT")
    as_of_ms = None if as_of is None else parse_as_of(as_of, now_ms())
    with read_transaction(engine) as conn:
        original, clone = (_report(conn, principal, raw) for raw in (original_id, clone_id))
        require_types(principal, [original.object_type, clone.object_type])
        same_type(original.object_type, clone.object_type, "reports")
        try:
            results = [report_figures(conn, principal, r.spec, as_of_ms)
                       for r in (original, clone)]
        except PermissionDeniedError:
            raise restricted("One of the reports") from None
        pair = replaced_pair(Catalogue.load(conn, principal, original.object_type),
                             original.spec.property_names(), clone.spec.property_names(),
                             old_property, new_property)
        differing = _differing(results[0], results[1])
        queries = [figure_query(conn, principal, r.spec, as_of_ms)[0] for r in (original, clone)]
        moves = store.moved_records(conn, principal.account_id, queries[0], queries[1],
                                    [d[1] for d in differing if d[0] != "OTHER"],
                                    pair.old.id if pair.old else None,
                                    pair.new.id if pair.new else None, sample)
    match = _reports_match(original, clone, pair)
    notes = [] if match else ["The clone's definition is not the original's with one "
                              "property replaced: differences may come from that, too."]
    if any(kind == "OTHER" for kind, *_ in differing):
        notes.append("The groups folded into (other) differ; the records of those groups "
                     "are not sampled (raise maxGroups to see them as groups).")
    return ReportComparison(original, clone, pair, match, as_of_ms, results[0], results[1],
                            _differences(differing, moves, pair, sample), moves.total, notes)


def _report(conn: Connection, principal: Principal, raw: str) -> StoredReport:
    found = report_store.load_report(conn, principal.account_id, asset_id(raw, "report"))
    if found is None:
        raise NotFoundError(f"No report {raw[:40]!r} exists in this account.")
    return found


def _differences(differing: list[tuple[str, str | None, Group | None, Group | None]],
                 moves: store.Moves, pair: Pair, sample: int) -> list[GroupDifference]:
    """Each differing group with the records that left and joined it, explained."""
    records = [MovedRecord(m.record_id, m.counted_first, m.key_first, m.counted_second,
                           m.key_second, m.old_value, m.new_value,
                           explain_move(pair.labels, m.counted_first, m.key_first,
                                        m.counted_second, m.key_second, m.old_value,
                                        m.new_value))
               for m in moves.sample]
    return [GroupDifference(
        kind, key, _label_of(a, b, key), a, b,
        moves.left.get(key, 0) if kind != "OTHER" else 0,
        moves.joined.get(key, 0) if kind != "OTHER" else 0,
        [] if kind == "OTHER" else _sampled(records, key, sample))
        for kind, key, a, b in differing]


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
