"""Where a value change came from, as property history reports it."""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_TYPES = ("API", "UI", "IMPORT", "WORKFLOW", "SYNC", "MERGE", "CRM_UI", "INTEGRATION",
                "MIGRATION")  # MIGRATION: copied from another property (the migration)


@dataclass(frozen=True)
class ValueSource:
    """``sourceType`` and ``sourceId`` of a history entry, and the user who acted, if any."""

    source_type: str
    source_id: str | None = None
    source_label: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class HistoryEntry:
    value: str | None
    timestamp_ms: int
    source: ValueSource
