"""From recorded changes to the targets each sync property must recompute (pure).

A change names what moved; the plan names, per sync property, explicit targets to
re-select, source records whose associated targets must all be re-selected (the
source was archived, restored or merged), and source records whose new value is
copied to the targets they currently win (fan-out). Copying only to current winners
is right while other changes are in flight because any change that moves a winner
re-selects that target itself, after reading the state it left behind. A value that
appears where there was none re-selects every target associated with the source instead:
the targets it wins hold no value, so no stored winner names them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from propsync.domain.changes import Change, ChangeKind
from propsync.domain.sync_rule import SyncDefinition

_SOURCE_LIFECYCLE = (ChangeKind.ARCHIVED, ChangeKind.RESTORED, ChangeKind.MERGED)
_TARGET_LIFECYCLE = (ChangeKind.CREATED, ChangeKind.RESTORED)


@dataclass
class Plan:
    """Per sync property id: explicit targets, sources whose targets all recompute, and
    sources whose value goes to the targets they win."""

    targets: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    via_sources: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    fanouts: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    @property
    def is_empty(self) -> bool:
        return not any(self.targets.values()) and not any(self.via_sources.values()) and \
            not any(self.fanouts.values())


def plan(changes: Iterable[Change], definitions: Iterable[SyncDefinition]) -> Plan:
    """What the changes of one account require of its sync properties (SPEC 3.3)."""
    defs = list(definitions)
    result = Plan()
    for change in changes:
        for d in defs:
            _plan_one(change, d, result)
    return result


def _plan_one(change: Change, d: SyncDefinition, result: Plan) -> None:
    kind, here = change.kind, change.object_type
    if kind in (ChangeKind.VALUE, ChangeKind.REPLACED):
        if here == d.source_type and change.property_id == d.source_property_id:
            found = result.fanouts if kind is ChangeKind.REPLACED else result.via_sources
            found[d.property_id].add(change.record_id)
    elif kind in (ChangeKind.ASSOCIATED, ChangeKind.DISSOCIATED):
        _plan_association(change, d, result)
    else:
        if kind in _TARGET_LIFECYCLE and here == d.target_type:
            result.targets[d.property_id].add(change.record_id)
        if kind in _SOURCE_LIFECYCLE and here == d.source_type:
            result.via_sources[d.property_id].add(change.record_id)


def _plan_association(change: Change, d: SyncDefinition, result: Plan) -> None:
    """The target end of a changed association re-selects (both ends for same-type pairs)."""
    ends = ((change.object_type, change.record_id), (change.related_type, change.related_id))
    (type_a, id_a), (type_b, id_b) = ends
    if (type_a, type_b) == (d.target_type, d.source_type):
        result.targets[d.property_id].add(id_a)
    if (type_b, type_a) == (d.target_type, d.source_type) and id_b is not None:
        result.targets[d.property_id].add(id_b)


def inverse_ids(
    definition: SyncDefinition, inverses: Mapping[int, int]
) -> frozenset[int] | None:
    """The admitted types as seen from the source end (for finding a source's targets)."""
    if definition.association_type_ids is None:
        return None
    return frozenset(inverses[i] for i in definition.association_type_ids if i in inverses)


def dependents(definitions: Iterable[SyncDefinition], property_id: int) -> list[SyncDefinition]:
    """Sync properties that copy ``property_id`` (the next links of a chain)."""
    return [d for d in definitions if d.source_property_id == property_id]


def records_changes(definitions: Iterable[SyncDefinition], prop: SyncDefinition) -> bool:
    """Whether the values ``prop`` writes are recorded as changes: another sync property
    copies it (a chain), or a reader of the feed watches it. Neither: nothing is written."""
    return prop.watched or any(d.source_property_id == prop.property_id for d in definitions)
