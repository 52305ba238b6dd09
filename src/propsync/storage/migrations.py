"""Migrations from copy workflows to sync properties (``migrations``, migration 0018): one
row per migration, its state (``domain/migrations.State``), its plan and each step's
results as JSON. Ids come from the ``migrations`` sequence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from propsync.domain.migrations import State
from propsync.storage import tables as t
from propsync.storage.ids import allocate_id

m = t.migrations


@dataclass(frozen=True)
class StoredMigration:
    migration_id: int
    flow_id: int
    proposal: dict[str, Any]
    sync_property: str | None
    state: State
    results: dict[str, Any]
    created_ms: int
    updated_ms: int
    created_by: int | None
    error: str | None


def _stored(row: RowMapping) -> StoredMigration:
    return StoredMigration(int(row["migration_id"]), int(row["flow_id"]),
                           json.loads(row["proposal"]), row["sync_property"],
                           State(row["state"]), json.loads(row["results"]),
                           int(row["created_ms"]), int(row["updated_ms"]),
                           row["created_by"], row["error"])


def insert_migration(conn: Connection, account_id: int, flow_id: int,
                     proposal: dict[str, Any], user_id: int | None, now_ms: int
                     ) -> StoredMigration:
    migration_id = allocate_id(conn, "migrations")
    conn.execute(insert(m).values(
        account_id=account_id, migration_id=migration_id, flow_id=flow_id,
        proposal=json.dumps(proposal, sort_keys=True), sync_property=None,
        state=State.PLANNED.value, results="{}", created_ms=now_ms, updated_ms=now_ms,
        created_by=user_id or None, error=None))
    found = load_migration(conn, account_id, migration_id)
    assert found is not None
    return found


def load_migration(conn: Connection, account_id: int, migration_id: int,
                   lock: bool = False) -> StoredMigration | None:
    stmt = select(m).where(m.c.account_id == account_id, m.c.migration_id == migration_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _stored(row)


def list_migrations(conn: Connection, account_id: int, after: int, limit: int
                    ) -> tuple[list[StoredMigration], bool]:
    """A page of the account's migrations by id (and whether there are more)."""
    rows = conn.execute(select(m).where(m.c.account_id == account_id,
                                        m.c.migration_id > after)
                        .order_by(m.c.migration_id).limit(limit + 1)).mappings().all()
    return [_stored(r) for r in rows[:limit]], len(rows) > limit


def newest_in_states(conn: Connection, account_id: int, states: tuple[State, ...],
                     limit: int) -> list[StoredMigration]:
    """The account's newest ``limit`` migrations in one of ``states``, newest first."""
    rows = conn.execute(select(m).where(
        m.c.account_id == account_id, m.c.state.in_([s.value for s in states]))
        .order_by(m.c.migration_id.desc()).limit(limit)).mappings().all()
    return [_stored(r) for r in rows]


def active_for_flow(conn: Connection, account_id: int, flow_id: int) -> int | None:
    """The migration of this workflow still under way (neither undone nor cleaned up)."""
    found = conn.execute(select(func.min(m.c.migration_id)).where(
        m.c.account_id == account_id, m.c.flow_id == flow_id,
        m.c.state.notin_([State.UNDONE.value, State.CLEANED_UP.value]))).scalar_one()
    return None if found is None else int(found)


def save(conn: Connection, account_id: int, migration_id: int, state: State,
         results: dict[str, Any], now_ms: int, sync_property: str | None = None,
         error: str | None = None) -> None:
    values: dict[str, Any] = {"state": state.value, "results": json.dumps(
        results, sort_keys=True), "updated_ms": now_ms, "error": error}
    if sync_property is not None:
        values["sync_property"] = sync_property
    conn.execute(update(m).where(m.c.account_id == account_id,
                                 m.c.migration_id == migration_id).values(**values))
