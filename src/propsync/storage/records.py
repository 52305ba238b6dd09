"""Records and their stored values.

Every function that changes something returns (or appends) the ``Change``s it
caused, and the caller records them in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, select, text, tuple_, update

from propsync.domain.changes import Change, ChangeKind
from propsync.domain.history import ValueSource
from propsync.domain.properties import StoredValue
from propsync.storage import lists
from propsync.storage import tables as t
from propsync.storage import unique_values as uv
from propsync.storage.changes import append_changes
from propsync.storage.db import is_postgres
from propsync.storage.dialects import pg_ids, upsert
from propsync.storage.history import HistoryRow, append_history
from propsync.storage.ids import allocate_ids

_CHUNK = 500


@dataclass(frozen=True)
class RecordRow:
    id: int
    object_type: str
    created_ms: int
    updated_ms: int
    archived: bool
    archived_ms: int | None
    merged_into: int | None


# (record_id, property_id, new value or None to clear)
ValueWrite = tuple[int, int, StoredValue | None]


def insert_records(
    conn: Connection, account_id: int, object_type: str, count: int, now_ms: int
) -> list[int]:
    """Create ``count`` empty records; returns their ids in creation order."""
    if count <= 0:
        return []
    ids = allocate_ids(conn, "records", count)
    conn.execute(insert(t.records), [
        {"account_id": account_id, "record_id": rid, "object_type": object_type,
         "created_ms": now_ms, "updated_ms": now_ms, "archived": False}
        for rid in ids
    ])
    append_changes(conn, account_id,
                   [Change(ChangeKind.CREATED, object_type, rid) for rid in ids], now_ms)
    return ids


def load_records(
    conn: Connection, account_id: int, object_type: str, ids: Collection[int]
) -> dict[int, RecordRow]:
    """The records of ``object_type`` among ``ids`` (archived ones included).

    The type is checked here, not in SQL: given it, SQLite's planner (which has no
    statistics) may prefer the type index to the key and scan every record of the type.
    """
    r = t.records
    found: dict[int, RecordRow] = {}
    id_list = list(ids)
    for start in range(0, len(id_list), _CHUNK):
        rows = conn.execute(select(r).where(
            r.c.account_id == account_id, r.c.record_id.in_(id_list[start:start + _CHUNK])))
        for row in rows:
            if row.object_type == object_type:
                found[row.record_id] = _record(row)
    return found


def _record(row: Row[Any]) -> RecordRow:
    return RecordRow(
        id=row.record_id, object_type=row.object_type, created_ms=row.created_ms,
        updated_ms=row.updated_ms, archived=bool(row.archived), archived_ms=row.archived_ms,
        merged_into=row.merged_into,
    )


def list_record_ids(
    conn: Connection, account_id: int, object_type: str, after: int, limit: int, archived: bool
) -> list[RecordRow]:
    """One page of records in id order, starting after ``after``."""
    r = t.records
    rows = conn.execute(
        select(r)
        .where(r.c.account_id == account_id, r.c.object_type == object_type,
               r.c.archived == archived, r.c.record_id > after)
        .order_by(r.c.record_id)
        .limit(limit)
    )
    return [_record(row) for row in rows]


def load_values(
    conn: Connection, account_id: int, record_ids: Collection[int],
    property_ids: Collection[int] | None = None,
) -> dict[int, dict[int, str]]:
    """``{record_id: {property_id: value}}`` for the given records (and properties)."""
    result: dict[int, dict[int, str]] = defaultdict(dict)
    for rid, pid, value, _ in _value_rows(conn, account_id, record_ids, property_ids):
        result[rid][pid] = value
    return result


def load_stored_values(
    conn: Connection, account_id: int, record_ids: Collection[int]
) -> dict[int, dict[int, StoredValue]]:
    """Every stored value of the records, with its comparable number."""
    result: dict[int, dict[int, StoredValue]] = defaultdict(dict)
    for rid, pid, value, num in _value_rows(conn, account_id, record_ids, None):
        result[rid][pid] = StoredValue(value, num)
    return result


def _value_rows(
    conn: Connection, account_id: int, record_ids: Collection[int],
    property_ids: Collection[int] | None,
) -> Iterator[tuple[int, int, str, float | None]]:
    """The stored ``(record_id, property_id, value, num)`` rows, looked up record by record.

    PostgreSQL plans a plain ``record_id IN (...)`` on the statistics of the moment, and
    right after a sync property is created they say it has no values: it then walks the
    property's whole index (a million rows) filtering on the ids. A lateral lookup per id,
    kept apart by ``OFFSET 0``, always probes the key.
    """
    ids = list(dict.fromkeys(record_ids))
    pids = None if property_ids is None else list(property_ids)
    if is_postgres(conn):
        for start in range(0, len(ids), _CHUNK * 10):
            yield from conn.execute(text(
                "SELECT v.record_id, v.property_id, v.value, v.num "
                "FROM unnest(CAST(:ids AS BIGINT[])) AS r(id) CROSS JOIN LATERAL ("
                "SELECT record_id, property_id, value, num FROM property_values "
                "WHERE account_id = :a AND record_id = r.id"
                + ("" if pids is None else " AND property_id = ANY(CAST(:pids AS BIGINT[]))")
                + " OFFSET 0) v"), {"a": account_id, "ids": pg_ids(ids[start:start + _CHUNK * 10]),
                                    "pids": None if pids is None else pg_ids(pids)})
        return
    v = t.property_values
    for start in range(0, len(ids), _CHUNK):
        stmt = select(v.c.record_id, v.c.property_id, v.c.value, v.c.num).where(
            v.c.account_id == account_id, v.c.record_id.in_(ids[start:start + _CHUNK]))
        if pids is not None:
            stmt = stmt.where(v.c.property_id.in_(pids))
        yield from conn.execute(stmt)


def write_values(
    conn: Connection, account_id: int, object_type: str, writes: Sequence[ValueWrite],
    source: ValueSource, now_ms: int,
) -> list[Change]:
    """Apply ``writes``, skipping those that change nothing; history and change log follow.

    Returns the changes recorded (one per value that really changed).
    """
    current = load_values(conn, account_id, {w[0] for w in writes}, {w[1] for w in writes})
    final: dict[tuple[int, int], StoredValue | None] = {}
    for rid, pid, new in writes:
        final[(rid, pid)] = new
    changed = [
        (rid, pid, new) for (rid, pid), new in final.items()
        if (new.text if new else None) != current.get(rid, {}).get(pid)
    ]
    if not changed:
        return []
    _claim_unique(conn, account_id, changed)
    _store(conn, account_id, changed)
    history: list[HistoryRow] = [(rid, pid, new.text if new else None) for rid, pid, new in changed]
    append_history(conn, account_id, history, source, now_ms)
    touch_records(conn, account_id, {rid for rid, _, _ in changed}, now_ms)
    changes = [Change(ChangeKind.VALUE if current.get(rid, {}).get(pid) is None
                      else ChangeKind.REPLACED, object_type, rid, pid)
               for rid, pid, _ in changed]
    append_changes(conn, account_id, changes, now_ms)
    return changes


def _claim_unique(conn: Connection, account_id: int, changed: Sequence[ValueWrite]) -> None:
    """Move the claims of changed values of unique properties (archived records hold none);
    raises ``ConflictError`` when another record holds a new value."""
    unique = uv.unique_property_ids(conn, account_id, {pid for _, pid, _ in changed})
    touched = [w for w in changed if w[1] in unique]
    if not touched:
        return
    uv.release(conn, account_id, [(rid, pid) for rid, pid, _ in touched])
    live = live_ids(conn, account_id, {rid for rid, _, _ in touched})
    uv.claim(conn, account_id, [(rid, pid, new.text) for rid, pid, new in touched
                                if new is not None and rid in live])


def live_ids(conn: Connection, account_id: int, ids: Collection[int]) -> set[int]:
    """The records among ``ids`` that exist and are not archived."""
    r = t.records
    id_list = sorted(ids)
    found: set[int] = set()
    for start in range(0, len(id_list), _CHUNK):
        found |= set(conn.execute(select(r.c.record_id).where(
            r.c.account_id == account_id, r.c.record_id.in_(id_list[start:start + _CHUNK]),
            r.c.archived.is_(False))).scalars())
    return found


def _store(conn: Connection, account_id: int, changed: Sequence[ValueWrite]) -> None:
    v = t.property_values
    cleared = [(rid, pid) for rid, pid, new in changed if new is None]
    for start in range(0, len(cleared), _CHUNK):
        conn.execute(delete(v).where(
            v.c.account_id == account_id,
            tuple_(v.c.record_id, v.c.property_id).in_(cleared[start:start + _CHUNK])))
    upsert(conn, v, [
        {"account_id": account_id, "record_id": rid, "property_id": pid, "value": new.text,
         "num": new.number}
        for rid, pid, new in changed if new is not None
    ], keys=["account_id", "record_id", "property_id"], update=["value", "num"])


def touch_records(conn: Connection, account_id: int, ids: Collection[int], now_ms: int) -> None:
    """Set ``updated_ms`` (never backwards) on the records."""
    r = t.records
    id_list = sorted(ids)
    for start in range(0, len(id_list), _CHUNK):
        conn.execute(
            update(r)
            .where(r.c.account_id == account_id, r.c.record_id.in_(id_list[start:start + _CHUNK]),
                   r.c.updated_ms < now_ms)
            .values(updated_ms=now_ms)
        )


def set_archived(
    conn: Connection, account_id: int, object_type: str, ids: Collection[int], archived: bool,
    now_ms: int, merged_into: int | None = None,
) -> list[int]:
    """Archive (or restore) the records among ``ids`` not already so; returns those changed."""
    r = t.records
    id_list = sorted(ids)
    changed: list[int] = []
    for start in range(0, len(id_list), _CHUNK):
        chunk = id_list[start:start + _CHUNK]
        where = and_(r.c.account_id == account_id, r.c.object_type == object_type,
                     r.c.record_id.in_(chunk), r.c.archived == (not archived))
        changed += [row[0] for row in conn.execute(select(r.c.record_id).where(where))]
        conn.execute(update(r).where(where).values(
            archived=archived, archived_ms=now_ms if archived else None,
            merged_into=merged_into, updated_ms=now_ms))
    if archived:
        uv.release_records(conn, account_id, changed)
        if merged_into is not None:
            for rid in changed:
                lists.inherit_memberships(conn, account_id, rid, merged_into)
        lists.leave_every_list(conn, account_id, changed, "static")
    else:
        _reclaim(conn, account_id, changed)
    kind = ChangeKind.MERGED if merged_into else (
        ChangeKind.ARCHIVED if archived else ChangeKind.RESTORED)
    append_changes(conn, account_id, [
        Change(kind, object_type, rid, related_type=object_type if merged_into else None,
               related_id=merged_into) for rid in changed], now_ms)
    return changed


def _reclaim(conn: Connection, account_id: int, ids: Collection[int]) -> None:
    """Restored records claim their values of unique properties again (or conflict)."""
    if not ids:
        return
    values = load_stored_values(conn, account_id, ids)
    unique = uv.unique_property_ids(conn, account_id,
                                    {pid for held in values.values() for pid in held})
    uv.claim(conn, account_id, [(rid, pid, v.text) for rid, held in values.items()
                                for pid, v in held.items() if pid in unique])
