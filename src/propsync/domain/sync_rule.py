"""Sync properties: their definition, the guard rails of SPEC 3.4, and the rule of SPEC 3.2.

The rule, in one screen: for a non-archived target record, the candidates are
the non-archived source records associated with it through an admitted
association type; with none, the value is empty; otherwise the winner is the
oldest (FIRST_CREATED) or newest (LAST_CREATED) candidate by ``createdAt`` in
milliseconds, a tie going to the smaller id, and the value is the winner's
source value (empty if the winner has none; no fall-back to the next one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from propsync.domain.associations import AssociationType
from propsync.domain.changes import Change, ChangeKind
from propsync.domain.errors import ErrorDetail, ValidationError


class Selection(StrEnum):
    FIRST_CREATED = "FIRST_CREATED"
    LAST_CREATED = "LAST_CREATED"


@dataclass(frozen=True)
class SyncSource:
    """Where a sync property takes its value from."""

    source_type: str
    source_property: str
    association_type_ids: frozenset[int] | None  # None: every association type counts
    selection: Selection | None  # None only when at most one record can qualify

    def admits(self, type_ids: Iterable[int]) -> bool:
        """Does an association carrying ``type_ids`` make its record a candidate?"""
        ids = set(type_ids)
        if self.association_type_ids is None:
            return bool(ids)
        return bool(ids & self.association_type_ids)


@dataclass(frozen=True)
class SyncDefinition:
    """A stored sync property: its ids, its source, and its backfill state."""

    account_id: int
    property_id: int
    name: str
    label: str
    target_type: str
    source_type: str
    source_property_id: int
    source_property: str
    association_type_ids: frozenset[int] | None
    selection: Selection | None
    state: str
    backfill_cursor: int
    backfill_done: int
    backfill_total: int
    backfill_started_ms: int
    generation: int
    # Whether a reader of the change feed watches this property's values (a workflow
    # triggered by a sync value): the engine then records the values it changes.
    watched: bool = False

    @property
    def source(self) -> SyncSource:
        return SyncSource(self.source_type, self.source_property, self.association_type_ids,
                          self.selection)


@dataclass(frozen=True)
class Relevance:
    """Which changes can move a sync value of an account, given its sync properties.

    Writers record only these; with no sync property, they record nothing.
    """

    source_property_ids: frozenset[int]
    type_pairs: frozenset[tuple[str, str]]  # (target type, source type)
    object_types: frozenset[str]

    @classmethod
    def of(cls, definitions: Iterable[SyncDefinition]) -> Relevance:
        return cls.of_sources((d.source_property_id, d.target_type, d.source_type)
                              for d in definitions)

    @classmethod
    def of_sources(cls, sources: Iterable[tuple[int, str, str]]) -> Relevance:
        """From ``(source property id, target type, source type)`` per sync property."""
        rows = list(sources)
        return cls(
            frozenset(pid for pid, _, _ in rows),
            frozenset((target, source) for _, target, source in rows),
            frozenset(t for _, target, source in rows for t in (target, source)),
        )

    def matters(self, change: Change) -> bool:
        if change.kind in (ChangeKind.VALUE, ChangeKind.REPLACED):
            return change.property_id in self.source_property_ids
        if change.kind in (ChangeKind.ASSOCIATED, ChangeKind.DISSOCIATED):
            pair = (change.object_type, change.related_type or "")
            return pair in self.type_pairs or pair[::-1] in self.type_pairs
        return change.object_type in self.object_types


@dataclass(frozen=True)
class Candidate:
    """A source record associated with the target."""

    record_id: int
    created_ms: int
    archived: bool
    type_ids: frozenset[int]


def winner(source: SyncSource, candidates: Iterable[Candidate]) -> Candidate | None:
    """The candidate the rule picks, or ``None`` when no candidate qualifies."""
    admitted = [c for c in candidates if not c.archived and source.admits(c.type_ids)]
    if not admitted:
        return None
    if source.selection is Selection.LAST_CREATED:
        return min(admitted, key=lambda c: (-c.created_ms, c.record_id))
    return min(admitted, key=lambda c: (c.created_ms, c.record_id))


def sync_value(
    source: SyncSource, candidates: Iterable[Candidate], values: Mapping[int, str]
) -> str | None:
    """The value of the sync property: the winner's source value, or empty."""
    chosen = winner(source, candidates)
    return values.get(chosen.record_id) if chosen else None


def is_single_valued(types: Iterable[AssociationType]) -> bool:
    """Do these association types admit at most one record per target (e.g. Primary)?"""
    chosen = list(types)
    return bool(chosen) and all(t.is_primary for t in chosen)


def refuse(
    message: str, code: str = "INVALID_SYNC_SOURCE", **context: list[str]
) -> ValidationError:
    """A guard-rail refusal: ``message`` says what is wrong and what to do instead."""
    return ValidationError(message, [ErrorDetail(message, code, dict(context))])


def check_association_types(
    target_type: str, source_type: str, chosen: list[AssociationType] | None,
    selection: Selection | None,
) -> None:
    """The label filter and selection rule fit the two object types (SPEC 3.4)."""
    if chosen is not None and not chosen:
        raise refuse("associationTypes is an empty list, which would admit no record. Omit it "
                     "(or send null) to sync from any association, or list the labels to use.")
    if target_type == source_type and (chosen is None or any(t.is_default for t in chosen)):
        raise refuse(
            f"A sync property on {target_type} can take its value from another {source_type} "
            "record only through a labelled association (for example a 'Manager' label). "
            "Choose a label in associationTypes, or pick a different source object.")
    for t in chosen or ():
        if (t.from_type, t.to_type) != (target_type, source_type):
            raise refuse(
                f"Association type {t.type_id} ({t.label or 'unlabeled'}) goes from "
                f"{t.from_type} to {t.to_type}; a sync property on {target_type} from "
                f"{source_type} needs types from {target_type} to {source_type}.")
    if selection is None and not is_single_valued(chosen or ()):
        raise refuse(
            "Several associated records can qualify, so say which one to sync from: set "
            "selection to FIRST_CREATED (the oldest) or LAST_CREATED (the newest). It may be "
            "left out only when the labels allow one record, such as Primary.",
            code="SELECTION_REQUIRED")


def would_cycle(edges: Mapping[int, int], new_target: int, new_source: int) -> list[int] | None:
    """The cycle (property ids) that ``new_target`` ← ``new_source`` would close, if any.

    ``edges`` maps each existing sync property id to the property it copies.
    """
    if new_source == new_target:
        return [new_target]
    path = [new_target, new_source]
    current = new_source
    while current in edges:
        current = edges[current]
        path.append(current)
        if current == new_target:
            return path
        if len(path) > len(edges) + 2:
            break
    return None
