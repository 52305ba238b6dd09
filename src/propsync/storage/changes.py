"""The change log: appended in the writer's transaction, consumed by the sync engine."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert

from propsync.domain.changes import Change
from propsync.storage import tables as t
from propsync.storage.ids import allocate_ids


def append_changes(
    conn: Connection, account_id: int, changes: Sequence[Change], now_ms: int
) -> None:
    """Record ``changes``; they commit or roll back with the write that caused them."""
    if not changes:
        return
    ids = allocate_ids(conn, "changes", len(changes))
    conn.execute(insert(t.change_log), [
        {"account_id": account_id, "change_id": cid, "created_ms": now_ms, "kind": c.kind.value,
         "object_type": c.object_type, "record_id": c.record_id, "property_id": c.property_id,
         "related_type": c.related_type, "related_id": c.related_id}
        for cid, c in zip(ids, changes, strict=True)
    ])
