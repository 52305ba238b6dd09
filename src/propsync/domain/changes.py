"""What a write records in the change log, in the same transaction as the write.

The change log is a feed: each reader (the sync engine, workflows...) reads it in commit
order from its own cursor. A write records a change when some reader needs it: the sync
engine's ``Relevance`` (domain/sync_rule.py) or a reader's ``Watch`` (``Interests``,
domain/feed.py). Nothing else tells a reader that something moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class ChangeKind(StrEnum):
    VALUE = "value"  # a value was set where there was none (or may have been none)
    REPLACED = "replaced"  # a stored value was changed or cleared
    CREATED = "created"  # a record was created
    ARCHIVED = "archived"
    RESTORED = "restored"
    MERGED = "merged"  # record_id was merged into related_id
    ASSOCIATED = "associated"  # a type was added between record_id and related_id
    DISSOCIATED = "dissociated"  # a type was removed between record_id and related_id


@dataclass(frozen=True)
class Change:
    """One recorded change. ``REPLACED`` is the narrower ``VALUE``: the record had a value
    before, so every target copying it stored it as its winner (a fan-out finds them)."""

    kind: ChangeKind
    object_type: str
    record_id: int
    property_id: int | None = None
    related_type: str | None = None
    related_id: int | None = None


VALUE_KINDS = frozenset({ChangeKind.VALUE, ChangeKind.REPLACED})
LIFECYCLE_KINDS = frozenset({ChangeKind.CREATED, ChangeKind.ARCHIVED, ChangeKind.RESTORED,
                             ChangeKind.MERGED})


@dataclass(frozen=True, order=True)
class Watch:
    """What a reader asks writers to record: the value changes (kinds ``value`` and
    ``replaced``) of ``property_id`` on records of ``object_type``, or with
    ``property_id=None`` the lifecycle changes (created, archived, restored, merged) of
    records of ``object_type``."""

    object_type: str
    property_id: int | None = None


@dataclass(frozen=True)
class Watches:
    """An account's watches, every reader's together, as writers test them."""

    values: frozenset[tuple[str, int]] = frozenset()  # (object type, property id)
    lifecycles: frozenset[str] = frozenset()  # object types

    @classmethod
    def of(cls, watches: Iterable[Watch]) -> Watches:
        chosen = list(watches)
        return cls(frozenset((w.object_type, w.property_id) for w in chosen
                             if w.property_id is not None),
                   frozenset(w.object_type for w in chosen if w.property_id is None))

    def __bool__(self) -> bool:
        return bool(self.values or self.lifecycles)

    def matters(self, change: Change) -> bool:
        if change.kind in VALUE_KINDS:
            return change.property_id is not None and \
                (change.object_type, change.property_id) in self.values
        if change.kind in LIFECYCLE_KINDS:
            return change.object_type in self.lifecycles
        return False

    def watches_value(self, object_type: str, property_id: int) -> bool:
        """Whether a change of this property's values is watched (the sync engine asks it
        of the values it writes)."""
        return (object_type, property_id) in self.values
