"""Recompute every sync value from scratch, independently of the engine, and compare.

The expected value comes from the pure rule (``domain.sync_rule``) over data read
in batches, not from the SQL the engine uses, so a bug in the engine shows up here
as a difference. The winner stored beside each value is checked too: fan-outs
trust it, so a wrong one would make a later source edit go astray. The search indexes
are checked beside the values (``storage.indexes``): an index that misses rows makes
searches miss records whose values are all right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from propsync.clock import now_ms
from propsync.domain.sync_rule import Candidate, SyncDefinition, sync_value, winner
from propsync.storage import indexes
from propsync.storage import sync as store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.sync.apply import recompute
from propsync.sync.planner import records_changes


@dataclass(frozen=True)
class Difference:
    account_id: int
    property_name: str
    target_type: str
    record_id: int
    expected: str | None
    actual: str | None


def verify(
    engine: Engine, account_id: int | None = None, batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> list[Difference]:
    """Every sync value that differs from the rule computed from scratch."""
    found: list[Difference] = []
    with read_transaction(engine) as conn:
        for definition in _definitions(conn, account_id):
            for ids in _target_batches(conn, definition, batch):
                found += _diff(conn, definition, ids)
                if progress:
                    progress(len(ids))
    return found


def repair(engine: Engine, differences: list[Difference]) -> int:
    """Recompute the targets that differ; returns how many were recomputed."""
    by_prop: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for d in differences:
        by_prop[(d.account_id, d.target_type, d.property_name)].append(d.record_id)
    for (account_id, _, name), ids in by_prop.items():
        with write_transaction(engine) as conn:
            defs = store.load_sync_properties(conn, account_id)
            prop = next(d for d in defs if d.name == name and d.target_type == _)
            recompute(conn, prop, ids, now_ms(), records_changes(defs, prop))
    return sum(len(ids) for ids in by_prop.values())


def verify_indexes(engine: Engine) -> list[indexes.IndexProblem]:
    """Every way the search indexes disagree with their tables (the whole database)."""
    return indexes.check_indexes(engine)


def repair_indexes(engine: Engine, problems: list[indexes.IndexProblem]) -> list[str]:
    """Rebuild the indexes ``problems`` name; returns their names. A problem that names no
    index is left as it is (no rebuild mends it)."""
    names = sorted({p.index for p in problems if p.index is not None})
    indexes.rebuild_indexes(engine, names)
    return names


def _definitions(conn: Connection, account_id: int | None) -> Iterator[SyncDefinition]:
    a = t.accounts
    query = select(a.c.account_id).order_by(a.c.account_id)
    if account_id is not None:
        query = query.where(a.c.account_id == account_id)
    for (aid,) in conn.execute(query).all():
        yield from store.load_sync_properties(conn, aid)


def _target_batches(conn: Connection, d: SyncDefinition, size: int) -> Iterator[list[int]]:
    r = t.records
    cursor = 0
    while True:
        ids = list(conn.execute(select(r.c.record_id).where(
            r.c.account_id == d.account_id, r.c.object_type == d.target_type,
            r.c.archived.is_(False), r.c.record_id > cursor,
        ).order_by(r.c.record_id).limit(size)).scalars())
        if not ids:
            return
        yield ids
        cursor = ids[-1]


def _diff(conn: Connection, d: SyncDefinition, ids: list[int]) -> list[Difference]:
    a, r = t.associations, t.records
    links: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for from_id, to_id, type_id in conn.execute(select(a.c.from_id, a.c.to_id, a.c.type_id).where(
            a.c.account_id == d.account_id, a.c.from_id.in_(ids), a.c.to_type == d.source_type)):
        links[from_id][to_id].add(type_id)
    sources = {s for per in links.values() for s in per}
    rows = {i: (c, bool(arch)) for i, c, arch in conn.execute(
        select(r.c.record_id, r.c.created_ms, r.c.archived).where(
            r.c.account_id == d.account_id, r.c.record_id.in_(sources)))} if sources else {}
    values = {k: value for k, (value, _) in
              _values(conn, d.account_id, d.source_property_id, sources).items()}
    stored = _values(conn, d.account_id, d.property_id, ids)
    out = []
    for tid in ids:
        candidates = [Candidate(s, rows[s][0], rows[s][1], frozenset(types))
                      for s, types in links.get(tid, {}).items() if s in rows]
        expected = sync_value(d.source, candidates, values)
        actual, actual_winner = stored.get(tid, (None, None))
        if expected != actual:
            out.append(Difference(d.account_id, d.name, d.target_type, tid, expected, actual))
        elif actual is not None:
            chosen = winner(d.source, candidates)
            if chosen is None or chosen.record_id != actual_winner:
                out.append(Difference(
                    d.account_id, d.name, d.target_type, tid,
                    f"{expected} (from record {chosen.record_id if chosen else None})",
                    f"{actual} (from record {actual_winner})"))
    return out


def _values(
    conn: Connection, account_id: int, property_id: int, ids: Collection[int]
) -> dict[int, tuple[str, int | None]]:
    """``{record id: (value, stored winner)}`` of one property."""
    v = t.property_values
    id_list = list(ids)
    found: dict[int, tuple[str, int | None]] = {}
    for start in range(0, len(id_list), 5000):
        found.update((rid, (value, source)) for rid, value, source in conn.execute(
            select(v.c.record_id, v.c.value, v.c.source_id).where(
                v.c.account_id == account_id, v.c.property_id == property_id,
                v.c.record_id.in_(id_list[start:start + 5000]))))
    return found
