"""The reads an action needs, each one statement for a whole batch of enrollments: the
associated records of a type, the record a data source fetches, values with their
versions (``storage/value_versions.py``: the last write wins by them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select, text

from propsync.domain.properties import PropertyDefinition
from propsync.domain.workflow_rules import Version
from propsync.services.views import calculated_value
from propsync.storage import tables as t
from propsync.storage.db import is_postgres
from propsync.storage.dialects import pg_ids
from propsync.storage.records import load_records, load_values
from propsync.storage.value_versions import versions

a, r, h = t.associations, t.records, t.property_history
_CHUNK = 500


@dataclass(frozen=True)
class Held:
    """A record's value of one property and its version (``None``: a calculated value,
    which has none)."""

    text: str
    version: Version | None


def associated(conn: Connection, account_id: int, from_ids: Collection[int], type_id: int
               ) -> dict[int, list[int]]:
    """``{from_id: [live records associated by type_id, in id order]}``."""
    found: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(from_ids):
        for from_id, to_id in _linked(conn, account_id, chunk, type_id, None):
            found[from_id].append(to_id)
    return found


def fetched(conn: Connection, account_id: int, from_ids: Collection[int], type_id: int,
            last_created: bool) -> dict[int, int]:
    """``{from_id: the record a data source fetches}``: of the live records associated by
    ``type_id``, the first created (or the last), ties by id — as sync properties choose."""
    found: dict[int, int] = {}
    for chunk in _chunks(from_ids):
        found.update(_linked(conn, account_id, chunk, type_id, last_created))
    return found


# PostgreSQL: one lookup per enrolled record (its associations by the primary key, each
# record by its own), whatever the statistics say; planned as one join over stale
# statistics, it walked the account's associations of the type for every batch
# (20,000 fetches: 16.4 s).
_PG_LINKED = """
    SELECT x.id, l.to_id FROM unnest(CAST(:ids AS BIGINT[])) AS x(id)
    CROSS JOIN LATERAL (
        SELECT a.to_id FROM associations a JOIN records r
          ON r.account_id = a.account_id AND r.record_id = a.to_id
        WHERE a.account_id = :a AND a.from_id = x.id AND a.type_id = :t AND NOT r.archived
        ORDER BY {order}) l
"""


def _linked(conn: Connection, account_id: int, ids: list[int], type_id: int,
            last_created: bool | None) -> list[tuple[int, int]]:
    """``(from_id, to_id)`` of the live records linked by ``type_id``: all of them in id
    order (``last_created`` None), or the first or last created of each."""
    if is_postgres(conn):
        order = ("a.to_id" if last_created is None else
                 "r.created_ms DESC, r.record_id DESC LIMIT 1" if last_created else
                 "r.created_ms, r.record_id LIMIT 1")
        rows = conn.execute(text(_PG_LINKED.format(order=order)),
                            {"a": account_id, "t": type_id, "ids": pg_ids(ids)})
        return [(int(f), int(to)) for f, to in rows]
    link = select(a.c.from_id, a.c.to_id).join(
        r, and_(r.c.account_id == a.c.account_id, r.c.record_id == a.c.to_id)).where(
        a.c.account_id == account_id, a.c.from_id.in_(ids), a.c.type_id == type_id,
        r.c.archived.is_(False))
    if last_created is None:
        return [(int(f), int(to)) for f, to in conn.execute(
            link.order_by(a.c.from_id, a.c.to_id))]
    created = (r.c.created_ms.desc(), r.c.record_id.desc()) if last_created else (
        r.c.created_ms.asc(), r.c.record_id.asc())
    ranked = link.add_columns(func.row_number().over(
        partition_by=a.c.from_id, order_by=created).label("n")).subquery()
    return [(int(f), int(to)) for f, to in conn.execute(
        select(ranked.c.from_id, ranked.c.to_id).where(ranked.c.n == 1))]


def held(conn: Connection, account_id: int, object_type: str, record_ids: Collection[int],
         prop: PropertyDefinition) -> dict[int, Held]:
    """The records' values of ``prop`` with their versions (records without a value are
    left out); a calculated property's value is read from the record."""
    if prop.calculated:
        rows = load_records(conn, account_id, object_type, record_ids)
        out = {}
        for rid, row in rows.items():
            text = calculated_value(prop, row)
            if text is not None:
                out[rid] = Held(text, None)
        return out
    values = load_values(conn, account_id, record_ids, [prop.id])
    stamped = versions(conn, account_id, list(values), prop.id)
    return {rid: Held(by_prop[prop.id], stamped.get(rid)) for rid, by_prop in values.items()
            if prop.id in by_prop}


def _chunks(ids: Collection[int]) -> list[list[int]]:
    items = sorted(set(ids))
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]
