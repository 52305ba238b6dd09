"""Property history: one row per value change, newest first when read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import Connection, insert, select

from propsync.domain.history import HistoryEntry, ValueSource
from propsync.storage import tables as t
from propsync.storage.ids import allocate_ids

# (record_id, property_id, value or None)
HistoryRow = tuple[int, int, str | None]


def append_history(
    conn: Connection, account_id: int, rows: Sequence[HistoryRow], source: ValueSource,
    now_ms: int,
) -> None:
    if not rows:
        return
    ids = allocate_ids(conn, "history", len(rows))
    conn.execute(insert(t.property_history), [
        {"account_id": account_id, "record_id": rid, "property_id": pid, "history_id": hid,
         "timestamp_ms": now_ms, "value": value, "source_type": source.source_type,
         "source_id": source.source_id, "source_label": source.source_label,
         "user_id": source.user_id}
        for hid, (rid, pid, value) in zip(ids, rows, strict=True)
    ])


def load_history(
    conn: Connection, account_id: int, record_ids: Collection[int], property_ids: Collection[int]
) -> dict[int, dict[int, list[HistoryEntry]]]:
    """``{record_id: {property_id: [entries, newest first]}}``."""
    h = t.property_history
    result: dict[int, dict[int, list[HistoryEntry]]] = defaultdict(lambda: defaultdict(list))
    if not record_ids or not property_ids:
        return result
    rows = conn.execute(
        select(h.c.record_id, h.c.property_id, h.c.value, h.c.timestamp_ms, h.c.source_type,
               h.c.source_id, h.c.source_label, h.c.user_id)
        .where(h.c.account_id == account_id, h.c.record_id.in_(list(record_ids)),
               h.c.property_id.in_(list(property_ids)))
        .order_by(h.c.history_id.desc())
    )
    for r in rows:
        source = ValueSource(r.source_type, r.source_id, r.source_label, r.user_id)
        result[r.record_id][r.property_id].append(HistoryEntry(r.value, r.timestamp_ms, source))
    return result
