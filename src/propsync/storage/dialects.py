"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from propsync.storage.db import is_postgres
from propsync.storage.ids import allocate_ids


def upsert(
    conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str], update: list[str]
) -> None:
    """Insert ``rows``; where a row with the same ``keys`` exists, overwrite ``update``."""
    if not rows:
        return
    module: Any = postgresql if is_postgres(conn) else sqlite
    stmt = module.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c: stmt.excluded[c] for c in update}
    )
    conn.execute(stmt, rows)


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping any whose key already exists."""
    if not rows:
        return
    module: Any = postgresql if is_postgres(conn) else sqlite
    conn.execute(module.insert(table).on_conflict_do_nothing(), rows)


def pg_ids(ids: Collection[int]) -> str:
    """``ids`` as a PostgreSQL array literal, for ``CAST(:ids AS BIGINT[])``: one string
    built in a join, where binding a list makes the driver adapt each element in Python
    (a query binding 2,000 ids took 4.9 ms as a list, 1.8 ms as the literal)."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


def id_list(conn: Connection, ids: Collection[int]) -> tuple[str, object]:
    """A ``SELECT`` yielding column ``id`` for each of ``ids``, and the value for ``:ids``."""
    if is_postgres(conn):
        return "SELECT unnest(CAST(:ids AS BIGINT[])) AS id", pg_ids(ids)
    return "SELECT CAST(value AS INTEGER) AS id FROM json_each(:ids)", json.dumps(list(ids))


def next_ids_sql(conn: Connection, kind: str, count: int, order_by: str,
                 param: str = "id_base") -> tuple[str, int]:
    """An SQL expression giving each row of an ``INSERT ... SELECT`` a fresh id of ``kind``.

    PostgreSQL draws from the sequence per row; SQLite numbers the (at most ``count``)
    rows from a range allocated up front (bound as ``:param``), ordered by ``order_by``.
    """
    if is_postgres(conn):
        return f"nextval('seq_{kind}')", 0
    base = allocate_ids(conn, kind, count)[0] if count else 0
    return f"(:{param} + ROW_NUMBER() OVER (ORDER BY {order_by}) - 1)", base


def in_ids(conn: Connection, column: str, ids: Collection[int]) -> tuple[str, object]:
    """``column`` is one of ``ids`` (bound as ``:ids``), in a form every planner indexes."""
    if is_postgres(conn):
        return f"{column} = ANY(CAST(:ids AS BIGINT[]))", pg_ids(ids)
    return f"{column} IN (SELECT value FROM json_each(:ids))", json.dumps(list(ids))



def any_of(conn: Connection, column: ColumnElement[int], ids: Collection[int]
           ) -> ColumnElement[bool]:
    """``column`` is one of ``ids``, as a Core condition: on PostgreSQL ``= ANY`` of one
    array parameter, which PostgreSQL plans as an index condition (an ``IN`` list of 200
    parameters, and an array cast from text, were filters on a scan of the account's
    rows when the statistics were stale); on SQLite the ``IN`` list."""
    if is_postgres(conn):
        return column == any_(bindparam(None, [int(i) for i in ids], ARRAY(BigInteger)))
    return column.in_(list(ids))
