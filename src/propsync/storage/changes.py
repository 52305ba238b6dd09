"""The change log: appended in the writer's transaction, consumed by the sync engine.

A writer records only the changes that can move a sync value of its account
(``Relevance``): with no sync property defined, it records nothing. To make that
safe while a sync property is being defined, writers hold a shared per-account
lock (PostgreSQL advisory lock) from the moment they read the definitions, and
defining a sync property takes it exclusively: a write either committed before
the definition (the backfill sees it) or sees the definition (and records).
On SQLite, writers are serialized anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, text

from propsync.domain.changes import Change
from propsync.domain.sync_rule import Relevance
from propsync.storage import tables as t
from propsync.storage.db import TXN_CACHE, is_postgres, mark_sync_work
from propsync.storage.ids import allocate_ids

_LOCK_CLASS = 0x5059_0000_0000


def relevance(conn: Connection, account_id: int) -> Relevance:
    """The account's relevance filter, read once per write transaction under the shared lock."""
    memo: dict[int, Relevance] = conn.info.setdefault(TXN_CACHE, {})
    if account_id not in memo:
        if is_postgres(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"),
                         {"k": _LOCK_CLASS + account_id})
        # Only what relevance needs, as plain SQL: this runs in every write transaction.
        rows = conn.execute(text(
            "SELECT source_property_id, target_type, source_type FROM sync_properties "
            "WHERE account_id = :a"), {"a": account_id})
        memo[account_id] = Relevance.of_sources((pid, tt, st) for pid, tt, st in rows)
    return memo[account_id]


def lock_definitions(conn: Connection, account_id: int) -> None:
    """Wait for in-flight writers of the account, and hold them off until commit."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_CLASS + account_id})


def append_changes(
    conn: Connection, account_id: int, changes: Sequence[Change], now_ms: int
) -> None:
    """Record the relevant ``changes``; they commit or roll back with the write."""
    if not changes:
        return
    wanted = relevance(conn, account_id)
    kept = [c for c in changes if wanted.matters(c)]
    if not kept:
        return
    ids = allocate_ids(conn, "changes", len(kept))
    conn.execute(insert(t.change_log), [
        {"account_id": account_id, "change_id": cid, "created_ms": now_ms, "kind": c.kind.value,
         "object_type": c.object_type, "record_id": c.record_id, "property_id": c.property_id,
         "related_type": c.related_type, "related_id": c.related_id}
        for cid, c in zip(ids, kept, strict=True)
    ])
    mark_sync_work(conn)
