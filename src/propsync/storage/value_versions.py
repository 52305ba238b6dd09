"""Value versions, for workflows' "the last write wins" (``domain/workflow_rules``).

A value's version is the newest of its writes' versions, so it never goes back:
- a user's (or the sync engine's, or a merge's) write: its history entry's (time, id);
- a workflow's write (``workflow_value_versions``): a copy keeps the version of the value
  it copied — a copy carries an edit, it is not a newer one — and a static value is a new
  version. A workflow's history entry says only when it wrote, so it is not counted.

That a version never goes back matters when a slow write commits over a newer one: the
value it leaves is then as new as what it overwrote, so it is copied on, not refused.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, and_, func, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from propsync.domain.workflow_rules import Version
from propsync.storage import tables as t
from propsync.storage.db import is_postgres
from propsync.storage.dialects import pg_ids

h, kept = t.property_history, t.workflow_value_versions
_CHUNK = 500


def versions(conn: Connection, account_id: int, record_ids: Collection[int], property_id: int
             ) -> dict[int, Version]:
    """``{record_id: version}`` of the records' values of the property (records whose
    value was never written are left out)."""
    found: dict[int, Version] = {}
    for chunk in _chunks(record_ids):
        rows = (_pg_versions(conn, account_id, chunk, property_id) if is_postgres(conn) else
                [*_own(conn, account_id, chunk, property_id),
                 *_kept(conn, account_id, chunk, property_id)])
        for rid, version in rows:
            if rid not in found or version > found[rid]:
                found[rid] = version
    return found


# One lookup per record by the primary keys, whatever the statistics say: on tables that
# grew since they were last analyzed, PostgreSQL scanned an account's whole range for
# each batch (20,000 copies: 16.6 s in these reads alone).
_PG_VERSIONS = """
    SELECT x.id, o.timestamp_ms, o.history_id, k.version_ms, k.version_id
    FROM unnest(CAST(:ids AS BIGINT[])) AS x(id)
    LEFT JOIN LATERAL (
        SELECT timestamp_ms, history_id FROM property_history
        WHERE account_id = :a AND record_id = x.id AND property_id = :p
          AND source_type <> 'WORKFLOW'
        ORDER BY timestamp_ms DESC, history_id DESC LIMIT 1) o ON true
    LEFT JOIN LATERAL (
        SELECT version_ms, version_id FROM workflow_value_versions
        WHERE account_id = :a AND record_id = x.id AND property_id = :p OFFSET 0) k ON true
"""


def _pg_versions(conn: Connection, account_id: int, ids: list[int], property_id: int
                 ) -> list[tuple[int, Version]]:
    out: list[tuple[int, Version]] = []
    for rid, ts, hid, ms, vid in conn.execute(text(_PG_VERSIONS), {
            "a": account_id, "p": property_id, "ids": pg_ids(ids)}):
        if ts is not None:
            out.append((int(rid), (int(ts), int(hid))))
        if ms is not None:
            out.append((int(rid), (int(ms), int(vid))))
    return out


def _own(conn: Connection, account_id: int, ids: list[int], property_id: int
         ) -> list[tuple[int, Version]]:
    """The newest (time, id) of the records' history entries not written by a workflow."""
    mine = and_(h.c.account_id == account_id, h.c.record_id.in_(ids),
                h.c.property_id == property_id, h.c.source_type != "WORKFLOW")
    newest = select(h.c.record_id, func.max(h.c.timestamp_ms).label("ts")).where(
        mine).group_by(h.c.record_id).subquery()
    rows = conn.execute(select(h.c.record_id, newest.c.ts, func.max(h.c.history_id)).join(
        newest, and_(h.c.record_id == newest.c.record_id, h.c.timestamp_ms == newest.c.ts))
        .where(mine).group_by(h.c.record_id, newest.c.ts))
    return [(int(rid), (int(ts), int(hid))) for rid, ts, hid in rows]


def _kept(conn: Connection, account_id: int, ids: list[int], property_id: int
          ) -> list[tuple[int, Version]]:
    rows = conn.execute(select(kept.c.record_id, kept.c.version_ms, kept.c.version_id).where(
        kept.c.account_id == account_id, kept.c.record_id.in_(ids),
        kept.c.property_id == property_id))
    return [(int(rid), (int(ms), int(vid))) for rid, ms, vid in rows]


def keep(conn: Connection, account_id: int, property_id: int, written: Mapping[int, Version]
         ) -> None:
    """Record the versions of values a workflow wrote (``{record_id: version}``); a kept
    version is only ever raised."""
    if not written:
        return
    module: Any = postgresql if is_postgres(conn) else sqlite
    stmt = module.insert(kept)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "record_id", "property_id"],
        set_={"version_ms": stmt.excluded.version_ms, "version_id": stmt.excluded.version_id},
        where=tuple_(kept.c.version_ms, kept.c.version_id)
        < tuple_(stmt.excluded.version_ms, stmt.excluded.version_id))
    conn.execute(stmt, [{"account_id": account_id, "record_id": rid,
                         "property_id": property_id, "version_ms": v[0], "version_id": v[1]}
                        for rid, v in sorted(written.items())])


def _chunks(ids: Collection[int]) -> list[list[int]]:
    items = sorted(set(ids))
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]
