"""Erasing records for good (GDPR delete), and the audit of it (``gdpr_deletions``).

A record's row, values, history, unique values, associations and list memberships are
deleted in one transaction. The sync values that other records copied from it are not
touched by hand: removing its associations records ``DISSOCIATED`` changes (and the
targets that still name it as their winner are queued too), so the sync engine
recomputes them by the rule (the next eligible source, or no value). The ``SYNC``
history entries that name it as their source (they hold its values) are deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, text

from propsync.storage import tables as t
from propsync.storage import unique_values as uv
from propsync.storage.associations import remove_pairs
from propsync.storage.db import mark_sync_work
from propsync.storage.dialects import id_list
from propsync.storage.enrollments import forget_records
from propsync.storage.ids import allocate_ids
from propsync.storage.lists import leave_every_list
from propsync.storage.sync import load_sync_properties


@dataclass(frozen=True)
class Erasure:
    """One audit entry: which record of which type was erased, when, by whom, and by which
    property the caller named it (the name, never the value)."""

    entry_id: int
    object_type: str
    record_id: int
    at_ms: int
    user_id: int | None
    id_property: str | None


def erase_records(conn: Connection, account_id: int, object_type: str, ids: Collection[int],
                  now_ms: int) -> None:
    """Delete the records and everything that holds their data; queue what copied it."""
    ids = sorted(ids)
    linked = _unlink(conn, account_id, object_type, ids, now_ms)
    _forget_copies(conn, account_id, object_type, ids, linked, now_ms)
    uv.release_records(conn, account_id, ids)
    forget_records(conn, account_id, ids)  # enrollments, off the flows' counts
    leave_every_list(conn, account_id, ids)  # list memberships, off the lists' sizes
    for table in (t.property_values, t.property_history, t.workflow_value_versions,
                  t.workflow_runs, t.records):
        for start in range(0, len(ids), 500):
            conn.execute(delete(table).where(table.c.account_id == account_id,
                                             table.c.record_id.in_(ids[start:start + 500])))


def _unlink(conn: Connection, account_id: int, object_type: str, ids: Sequence[int],
            now_ms: int) -> dict[str, set[int]]:
    """Remove every association of the records (recording the changes); returns the
    records they were associated with, by type."""
    a = t.associations
    pairs: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for start in range(0, len(ids), 500):
        rows = conn.execute(select(a.c.from_id, a.c.to_type, a.c.to_id).where(
            a.c.account_id == account_id, a.c.from_id.in_(ids[start:start + 500])))
        for from_id, to_type, to_id in rows:
            pairs[to_type].add((from_id, to_id))
    for to_type, found in pairs.items():
        remove_pairs(conn, account_id, object_type, to_type, sorted(found), now_ms)
    return {to_type: {to for _, to in found} for to_type, found in pairs.items()}


def _forget_copies(conn: Connection, account_id: int, object_type: str, ids: Sequence[int],
                   linked: dict[str, set[int]], now_ms: int) -> None:
    """Per sync property copying ``object_type``: queue the targets whose value came from
    the records, and delete the ``SYNC`` history entries that name them as the source."""
    ids_sql, ids_param = id_list(conn, ids)
    for d in load_sync_properties(conn, account_id):
        if d.source_type != object_type:
            continue
        params = {"a": account_id, "p": d.property_id, "now": now_ms, "ids": ids_param}
        queued = conn.execute(text(
            "INSERT INTO sync_targets (account_id, property_id, target_id, queued_ms) "
            "SELECT DISTINCT :a, :p, v.record_id, :now FROM property_values v "
            f"WHERE v.account_id = :a AND v.property_id = :p AND v.source_id IN ({ids_sql}) "
            "ON CONFLICT DO NOTHING"), params).rowcount
        if queued:
            mark_sync_work(conn)
        _delete_sync_history(conn, account_id, d.property_id,
                             [f"{d.name}:{object_type}:{rid}" for rid in ids],
                             sorted(linked.get(d.target_type, ())))


def _delete_sync_history(conn: Connection, account_id: int, property_id: int,
                         sources: list[str], targets: list[int]) -> None:
    h = t.property_history
    for start in range(0, len(targets), 500):
        conn.execute(delete(h).where(
            h.c.account_id == account_id, h.c.record_id.in_(targets[start:start + 500]),
            h.c.property_id == property_id, h.c.source_type == "SYNC",
            h.c.source_id.in_(sources)))


def log_erasures(conn: Connection, account_id: int, object_type: str, ids: Sequence[int],
                 now_ms: int, user_id: int | None, id_property: str | None) -> None:
    """Record that the records were erased (no value of theirs is kept)."""
    entry_ids = allocate_ids(conn, "history", len(ids))
    if not ids:
        return
    conn.execute(insert(t.gdpr_deletions), [
        {"account_id": account_id, "entry_id": eid, "object_type": object_type,
         "record_id": rid, "at_ms": now_ms, "user_id": user_id, "id_property": id_property}
        for eid, rid in zip(entry_ids, ids, strict=True)])


def load_erasures(conn: Connection, account_id: int, object_type: str, after: int,
                  limit: int) -> list[Erasure]:
    """One page of the audit of ``object_type``, oldest first, after entry ``after``."""
    g = t.gdpr_deletions
    rows = conn.execute(select(g).where(
        g.c.account_id == account_id, g.c.object_type == object_type, g.c.entry_id > after)
        .order_by(g.c.entry_id).limit(limit))
    return [Erasure(r.entry_id, r.object_type, r.record_id, r.at_ms, r.user_id, r.id_property)
            for r in rows]


def records_with_text(conn: Connection, account_id: int, object_type: str, property_id: int,
                      value: str) -> list[int]:
    """The records of ``object_type`` (archived ones too) whose value of the property is
    ``value``, letter case aside (no index: this reads the property's values)."""
    v, r = t.property_values, t.records
    return list(conn.execute(select(v.c.record_id).join(r, (r.c.account_id == v.c.account_id)
                                                        & (r.c.record_id == v.c.record_id))
                             .where(v.c.account_id == account_id, v.c.property_id == property_id,
                                    func.lower(v.c.value) == value.lower(),
                                    r.c.object_type == object_type)
                             .order_by(v.c.record_id)).scalars())
