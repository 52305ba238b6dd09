"""Id allocation: a PostgreSQL sequence per kind, or a counter row on SQLite."""

from __future__ import annotations

from sqlalchemy import Connection, text

from propsync.storage.db import is_postgres


def allocate_ids(conn: Connection, kind: str, count: int = 1) -> list[int]:
    """``count`` fresh ids for ``kind`` (one of ``tables.SEQUENCES``), ascending."""
    if count <= 0:
        return []
    if is_postgres(conn):
        rows = conn.execute(
            text(f"SELECT nextval('seq_{kind}') FROM generate_series(1, :n)"), {"n": count}
        )
        return sorted(r[0] for r in rows)
    last = conn.execute(
        text("UPDATE id_sequences SET next_value = next_value + :n WHERE name = :k "
             "RETURNING next_value"),
        {"n": count, "k": kind},
    ).scalar_one()
    return list(range(last - count, last))


def allocate_id(conn: Connection, kind: str) -> int:
    return allocate_ids(conn, kind, 1)[0]
