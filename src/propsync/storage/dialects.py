"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from propsync.storage.db import is_postgres


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
