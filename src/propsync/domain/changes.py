"""What a write records in the change log, in the same transaction as the write.

The sync engine consumes exactly these; nothing else tells it that something moved.
"""

from __future__ import annotations

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
