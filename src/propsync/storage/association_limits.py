"""Association limits: at most N records one record is associated with by one type."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import Connection, delete, func, select, tuple_

from propsync.storage import tables as t
from propsync.storage.dialects import upsert


def load_limits(conn: Connection, account_id: int) -> dict[int, int]:
    """Type id → the account's limit for it (the built-in Primary is not stored)."""
    lim = t.association_limits
    return {r.type_id: r.max_to_object_ids for r in conn.execute(
        select(lim.c.type_id, lim.c.max_to_object_ids).where(lim.c.account_id == account_id))}


def set_limits(conn: Connection, account_id: int, limits: Mapping[int, int], now_ms: int) -> None:
    """Store (or replace) limits, type id → limit."""
    upsert(conn, t.association_limits, [
        {"account_id": account_id, "type_id": tid, "max_to_object_ids": n, "updated_ms": now_ms}
        for tid, n in limits.items()], ["account_id", "type_id"],
        ["max_to_object_ids", "updated_ms"])


def delete_limits(conn: Connection, account_id: int, type_ids: Collection[int]) -> None:
    lim = t.association_limits
    conn.execute(delete(lim).where(lim.c.account_id == account_id,
                                   lim.c.type_id.in_(list(type_ids))))


def over_limit(
    conn: Connection, account_id: int, keys: Collection[tuple[int, int]],
    limits: Mapping[int, int],
) -> list[tuple[int, int, int]]:
    """``(from_id, type_id, count)`` of the keys whose record has more live associations
    of that type than its limit; one grouped query over every key."""
    if not keys:
        return []
    a, r = t.associations, t.records
    ordered = sorted(keys)
    found: list[tuple[int, int, int]] = []
    for start in range(0, len(ordered), 500):
        found += [(int(f), int(tid), int(n)) for f, tid, n in conn.execute(
            select(a.c.from_id, a.c.type_id, func.count())
            .join(r, (r.c.account_id == a.c.account_id) & (r.c.record_id == a.c.to_id))
            .where(a.c.account_id == account_id, r.c.archived.is_(False),
                   tuple_(a.c.from_id, a.c.type_id).in_(ordered[start:start + 500]))
            .group_by(a.c.from_id, a.c.type_id))]
    return sorted((f, tid, n) for f, tid, n in found if n > limits[tid])
