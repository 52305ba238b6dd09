"""Sync property definitions, their queue of targets to recompute, and backfill state."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Select,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from propsync.domain.feed import SYNC_READER
from propsync.domain.sync_rule import Selection, SyncDefinition, SyncSource
from propsync.storage import feed
from propsync.storage import tables as t
from propsync.storage.db import is_postgres
from propsync.storage.dialects import id_list, insert_ignore

BACKFILLING = "BACKFILLING"
LIVE = "LIVE"


def _build_sync_select() -> Select[Any]:
    sp, p, src = t.sync_properties, t.properties, t.properties.alias("src")
    w = t.change_watches
    watched = exists().where(w.c.account_id == sp.c.account_id,
                             w.c.object_type == sp.c.target_type,
                             w.c.property_id == sp.c.property_id).label("watched")
    return (
        select(sp, p.c.name, p.c.label, src.c.name.label("source_name"), watched)
        .join(p, (p.c.account_id == sp.c.account_id) & (p.c.property_id == sp.c.property_id))
        .join(src, (src.c.account_id == sp.c.account_id)
              & (src.c.property_id == sp.c.source_property_id))
    )


# Built once: every worker step reads the definitions, and building the join anew each
# time cost more than running it.
_SYNC_SELECT = _build_sync_select()


def load_sync_properties(conn: Connection, account_id: int) -> list[SyncDefinition]:
    """Every sync property of the account, in id order."""
    sp = t.sync_properties
    rows = conn.execute(_SYNC_SELECT.where(sp.c.account_id == account_id)
                        .order_by(sp.c.property_id))
    return [_to_sync(r) for r in rows]


def _to_sync(r: Row[Any]) -> SyncDefinition:
    row = r._mapping
    ids = row["association_type_ids"]
    selection = row["selection"]
    return SyncDefinition(
        account_id=row["account_id"], property_id=row["property_id"], name=row["name"],
        label=row["label"], target_type=row["target_type"], source_type=row["source_type"],
        source_property_id=row["source_property_id"], source_property=row["source_name"],
        association_type_ids=frozenset(int(i) for i in ids.split()) if ids is not None else None,
        selection=Selection(selection) if selection else None, state=row["state"],
        backfill_cursor=row["backfill_cursor"], backfill_done=row["backfill_done"],
        backfill_total=row["backfill_total"], backfill_started_ms=row["backfill_started_ms"],
        generation=row["generation"], watched=bool(row["watched"]),
    )


def save_definition(
    conn: Connection, account_id: int, property_id: int, target_type: str,
    source_property_id: int, source: SyncSource, now_ms: int,
) -> None:
    """Insert or redefine a sync property; either way it starts a full backfill."""
    values = {
        "target_type": target_type, "source_type": source.source_type,
        "source_property_id": source_property_id,
        "association_type_ids": (" ".join(str(i) for i in sorted(source.association_type_ids))
                                 if source.association_type_ids is not None else None),
        "selection": source.selection.value if source.selection else None,
        "state": BACKFILLING, "backfill_cursor": 0, "backfill_done": 0,
        "backfill_total": count_targets(conn, account_id, target_type),
        "backfill_started_ms": now_ms, "updated_ms": now_ms,
    }
    sp = t.sync_properties
    key = (sp.c.account_id == account_id) & (sp.c.property_id == property_id)
    if conn.execute(select(sp.c.generation).where(key)).first() is None:
        conn.execute(insert(sp).values(account_id=account_id, property_id=property_id,
                                       created_ms=now_ms, generation=1, **values))
    else:
        conn.execute(update(sp).where(key).values(generation=sp.c.generation + 1, **values))
        # The backfill recomputes every target, winners included: pending copies are moot.
        fo = t.sync_fanouts
        conn.execute(delete(fo).where(fo.c.account_id == account_id,
                                      fo.c.property_id == property_id))


def delete_definition(conn: Connection, account_id: int, property_id: int) -> None:
    for table in (t.sync_targets, t.sync_fanouts, t.sync_properties):
        conn.execute(delete(table).where(table.c.account_id == account_id,
                                         table.c.property_id == property_id))


def count_targets(conn: Connection, account_id: int, target_type: str) -> int:
    r = t.records
    return int(conn.execute(select(func.count()).where(
        r.c.account_id == account_id, r.c.object_type == target_type,
        r.c.archived.is_(False))).scalar_one())


def enqueue_targets(
    conn: Connection, account_id: int, property_id: int, target_ids: Collection[int], now_ms: int
) -> None:
    """Queue explicit targets of one sync property for recomputation (deduplicated)."""
    insert_ignore(conn, t.sync_targets, [
        {"account_id": account_id, "property_id": property_id, "target_id": tid,
         "queued_ms": now_ms} for tid in sorted(set(target_ids))])


def enqueue_associated(
    conn: Connection, prop: SyncDefinition, source_ids: Collection[int],
    inverse_type_ids: frozenset[int] | None, now_ms: int,
) -> None:
    """Queue every target associated with any of ``source_ids`` (one set-based INSERT)."""
    if not source_ids:
        return
    type_filter = _type_filter(inverse_type_ids)
    params: dict[str, object] = {"a": prop.account_id, "p": prop.property_id, "now": now_ms,
                                 "tt": prop.target_type}
    ids_sql, ids_param = id_list(conn, source_ids)
    params["ids"] = ids_param
    conflict = "ON CONFLICT DO NOTHING"
    conn.execute(text(
        "INSERT INTO sync_targets (account_id, property_id, target_id, queued_ms) "
        "SELECT DISTINCT :a, :p, a.to_id, :now FROM associations a "
        f"WHERE a.account_id = :a AND a.from_id IN ({ids_sql}) AND a.to_type = :tt {type_filter} "
        f"{conflict}"
    ), params)


def enqueue_fanouts(
    conn: Connection, prop: SyncDefinition, source_ids: Collection[int], now_ms: int
) -> None:
    """The values of ``source_ids`` changed: copy them to the targets they win.

    A fan-out job per source walks the targets whose stored winner it is; a job that
    is already under way starts over, so the last pass reads the newest value.
    """
    if not source_ids:
        return
    rows = [{"account_id": prop.account_id, "property_id": prop.property_id, "source_id": sid,
             "cursor": 0, "queued_ms": now_ms} for sid in sorted(set(source_ids))]
    module: Any = postgresql if is_postgres(conn) else sqlite
    stmt = module.insert(t.sync_fanouts)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["account_id", "property_id", "source_id"],
        set_={"cursor": 0, "queued_ms": stmt.excluded.queued_ms}), rows)


def enqueue_won_targets(
    conn: Connection, prop: SyncDefinition, source_ids: Collection[int], most: int, now_ms: int
) -> list[int]:
    """Queue the targets won by each of ``source_ids`` that wins at most ``most`` of them
    for recomputation; returns the others (each worth a fan-out job of its own).

    Both statements look the sources up one by one (``LATERAL``, ``LIMIT``/``OFFSET 0``),
    whatever PostgreSQL's statistics say about a fresh sync property.
    """
    if not source_ids or most <= 0:
        return sorted(set(source_ids))
    ids_sql, ids_param = id_list(conn, sorted(set(source_ids)))
    params = {"a": prop.account_id, "p": prop.property_id, "now": now_ms, "ids": ids_param,
              "over": most + 1}
    won = ("SELECT v.record_id FROM property_values v WHERE v.account_id = :a "
           "AND v.property_id = :p AND v.source_id = s.id")
    large = [r[0] for r in conn.execute(text(
        f"SELECT s.id FROM ({ids_sql}) s WHERE (SELECT count(*) FROM ({won} LIMIT :over) c) "
        "> :over - 1"), params)]
    small = sorted(set(source_ids) - set(large))
    if small:
        small_sql, small_param = id_list(conn, small)
        rows = (f"FROM ({small_sql}) s CROSS JOIN LATERAL ({won} OFFSET 0) w WHERE true"
                if is_postgres(conn) else
                f"FROM property_values w WHERE w.account_id = :a AND w.property_id = :p "
                f"AND w.source_id IN ({small_sql})")
        conn.execute(text(
            "INSERT INTO sync_targets (account_id, property_id, target_id, queued_ms) "
            f"SELECT DISTINCT :a, :p, w.record_id, :now {rows} ON CONFLICT DO NOTHING"),
            {**params, "ids": small_param})
    return large


def _type_filter(type_ids: frozenset[int] | None) -> str:
    """``a.type_id`` among the admitted types (nothing when every type counts)."""
    if type_ids is None:
        return ""
    return f"AND a.type_id IN ({', '.join(str(i) for i in sorted(type_ids)) or 'NULL'})"


@dataclass(frozen=True)
class Fanout:
    account_id: int
    property_id: int
    source_id: int
    cursor: int


def claim_fanout(conn: Connection) -> Fanout | None:
    """A fan-out job, locked for this transaction (skipping busy ones): jobs not started
    go first, so that a large fan-out under way does not hold back single edits."""
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""
    row = conn.execute(text(
        "SELECT account_id, property_id, source_id, cursor FROM sync_fanouts "
        f"ORDER BY cursor, queued_ms LIMIT 1{lock}")).first()
    return Fanout(*row) if row else None


def _won_after(job: Fanout) -> Select[Any]:
    """The targets (by id, after the job's cursor) whose stored winner is its source."""
    v = t.property_values
    return select(v.c.record_id).where(
        v.c.account_id == job.account_id, v.c.property_id == job.property_id,
        v.c.source_id == job.source_id, v.c.source_id.is_not(None),
        v.c.record_id > job.cursor).order_by(v.c.record_id)


def fanout_batch(conn: Connection, job: Fanout, limit: int) -> list[int]:
    """The job's next ``limit`` targets."""
    return list(conn.execute(_won_after(job).limit(limit)).scalars().all())


def fanout_bound(conn: Connection, job: Fanout, limit: int) -> int | None:
    """The job's ``limit``-th next target; ``None`` when fewer remain (the next batch is
    the last)."""
    return conn.execute(_won_after(job).offset(limit - 1).limit(1)).scalar()


def advance_fanout(conn: Connection, job: Fanout, cursor: int, finished: bool) -> None:
    fo = t.sync_fanouts
    key = (fo.c.account_id == job.account_id, fo.c.property_id == job.property_id,
           fo.c.source_id == job.source_id)
    if finished:
        conn.execute(delete(fo).where(*key))
    else:
        conn.execute(update(fo).where(*key).values(cursor=cursor))


def claim_targets(conn: Connection, limit: int) -> tuple[int, int, list[int]] | None:
    """Take up to ``limit`` queued targets of one sync property: ``(account, property, ids)``.

    One statement deletes them in the caller's transaction (so a crash puts them back) and
    returns them; on PostgreSQL, rows another worker holds are skipped, not waited for.
    """
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""
    rows = conn.execute(text(
        "DELETE FROM sync_targets WHERE (account_id, property_id, target_id) IN ("
        "SELECT account_id, property_id, target_id FROM sync_targets "
        "WHERE (account_id, property_id) = (SELECT account_id, property_id FROM sync_targets "
        f"ORDER BY account_id, property_id, target_id LIMIT 1{lock}) "
        f"ORDER BY target_id LIMIT :n{lock}) "
        "RETURNING account_id, property_id, target_id"), {"n": limit}).all()
    if not rows:
        return None
    return rows[0][0], rows[0][1], sorted(r[2] for r in rows)


def claim_backfill(conn: Connection) -> SyncDefinition | None:
    """A sync property that is backfilling, locked for this transaction (skipping busy ones)."""
    sp = t.sync_properties
    stmt = _SYNC_SELECT.where(sp.c.state == BACKFILLING).order_by(sp.c.updated_ms).limit(1)
    if is_postgres(conn):
        stmt = stmt.with_for_update(skip_locked=True, of=sp)
    row = conn.execute(stmt).first()
    return _to_sync(row) if row else None


def _live_after(prop: SyncDefinition) -> Select[Any]:
    """The live targets (by id) after the backfill's cursor."""
    r = t.records
    return select(r.c.record_id).where(
        r.c.account_id == prop.account_id, r.c.object_type == prop.target_type,
        r.c.archived.is_(False), r.c.record_id > prop.backfill_cursor).order_by(r.c.record_id)


def next_backfill_ids(conn: Connection, prop: SyncDefinition, limit: int) -> list[int]:
    """The backfill's next ``limit`` targets."""
    return list(conn.execute(_live_after(prop).limit(limit)).scalars().all())


def backfill_bound(conn: Connection, prop: SyncDefinition, limit: int) -> int | None:
    """The backfill's ``limit``-th next target; ``None`` when fewer remain."""
    return conn.execute(_live_after(prop).offset(limit - 1).limit(1)).scalar()


def advance_backfill(
    conn: Connection, prop: SyncDefinition, cursor: int, done: int, finished: bool, now_ms: int
) -> None:
    sp = t.sync_properties
    conn.execute(update(sp).where(
        sp.c.account_id == prop.account_id, sp.c.property_id == prop.property_id,
        sp.c.generation == prop.generation,
    ).values(backfill_cursor=cursor, backfill_done=prop.backfill_done + done,
             state=LIVE if finished else BACKFILLING, updated_ms=now_ms))


def waiting_work(conn: Connection) -> tuple[bool, bool, bool, bool]:
    """Whether any account has changes the sync engine has not read (rows after its
    cursor in the change feed, storage/feed.py), queued targets, fan-out jobs, or a
    backfilling sync property (the worker's four kinds of step), in one read."""
    row = conn.execute(text(
        f"SELECT {feed.unread_sql(conn, 'sync')}, "
        "EXISTS (SELECT 1 FROM sync_targets), EXISTS (SELECT 1 FROM sync_fanouts), "
        "EXISTS (SELECT 1 FROM sync_properties WHERE state = :b)"),
        {"b": BACKFILLING, "sync": SYNC_READER}).one()
    return bool(row[0]), bool(row[1]), bool(row[2]), bool(row[3])


@dataclass(frozen=True)
class Pending:
    changes: int
    targets: int
    oldest_ms: int | None


def pending(conn: Connection, account_id: int) -> Pending:
    """How much sync work the account has waiting, and since when: ``changes`` are the
    account's rows of the change feed after the sync engine's cursor (not yet planned)."""
    st, fo = t.sync_targets, t.sync_fanouts
    unread = feed.unread(conn, SYNC_READER, account_id)
    changes, oldest_change = unread.count, unread.oldest_ms
    targets, oldest_target = conn.execute(select(func.count(), func.min(st.c.queued_ms)).where(
        st.c.account_id == account_id)).one()
    fanouts, oldest_fanout = conn.execute(select(func.count(), func.min(fo.c.queued_ms)).where(
        fo.c.account_id == account_id)).one()
    stamps = [s for s in (oldest_change, oldest_target, oldest_fanout) if s is not None]
    return Pending(int(changes), int(targets) + int(fanouts), min(stamps) if stamps else None)


@dataclass(frozen=True)
class Waiting:
    """One sync property's planned work: targets queued to recompute, fan-out jobs (each
    copies one source's new value to the targets it wins) and values it holds."""

    queued: int
    fanouts: int
    filled: int | None


def waiting_by_property(conn: Connection, account_id: int, property_ids: Collection[int],
                        filled_of: Collection[int] | None = None) -> dict[int, Waiting]:
    """``Waiting`` of each of ``property_ids``: three grouped counts, whatever their number
    (a change feed row is no property's until the worker plans it: see ``pending``). The
    values held, which reads every value of the property, are counted only for
    ``filled_of`` (default: all); the others' ``filled`` is ``None``."""
    st, fo, v = t.sync_targets, t.sync_fanouts, t.property_values
    ids = list(property_ids)
    counted = ids if filled_of is None else [i for i in ids if i in set(filled_of)]
    counts: list[dict[int, int]] = []
    for table, among in ((st, ids), (fo, ids), (v, counted)):
        rows = conn.execute(select(table.c.property_id, func.count())
                            .where(table.c.account_id == account_id,
                                   table.c.property_id.in_(among))
                            .group_by(table.c.property_id)) if among else None
        counts.append({int(i): int(n) for i, n in rows or ()})
    queued, fanouts, filled = counts
    return {i: Waiting(queued.get(i, 0), fanouts.get(i, 0),
                       filled.get(i, 0) if i in counted else None) for i in ids}


def queued_ids(conn: Connection, account_id: int, property_id: int) -> Sequence[int]:
    st = t.sync_targets
    return list(conn.execute(select(st.c.target_id).where(
        st.c.account_id == account_id, st.c.property_id == property_id)).scalars())


def linked_records(
    conn: Connection, account_id: int, record_id: int, other_type: str
) -> dict[int, list[int]]:
    """``{other_id: [type ids]}`` for every record of ``other_type`` linked to ``record_id``,
    archived ones included (what ``explain`` shows)."""
    a = t.associations
    found: dict[int, list[int]] = {}
    rows = conn.execute(select(a.c.to_id, a.c.type_id).where(
        a.c.account_id == account_id, a.c.from_id == record_id, a.c.to_type == other_type)
        .order_by(a.c.to_id, a.c.type_id))
    for to_id, type_id in rows:
        found.setdefault(to_id, []).append(type_id)
    return found
