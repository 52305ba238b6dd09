"""The change log: appended in the writer's transaction, read by every reader of the feed.

A writer records only the changes some reader of its account needs (``Interests``): the
sync engine's (``Relevance``: what can move a sync value) and the other readers' watches
(``change_watches``). With no sync property and no watch, it records nothing. To make that
safe while interests change, writers hold a shared per-account lock (PostgreSQL advisory
lock) from the moment they read them, and defining a sync property or setting watches
takes it exclusively: a write either committed before the change of interests (a backfill
sees it) or sees the new interests (and records). On SQLite, writers are serialized
anyway. Readers read the log through storage/feed.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, text

from propsync.domain.changes import Change, Watch
from propsync.domain.feed import Interests
from propsync.storage import tables as t
from propsync.storage.db import TXN_CACHE, is_postgres, mark_sync_work
from propsync.storage.ids import allocate_ids

_LOCK_CLASS = 0x5059_0000_0000
_MEMO = "interests"

# Only what the interests need, as plain SQL, in one read: this runs in every write
# transaction. A watch is a row whose source type is NULL.
_INTERESTS = (
    "SELECT source_property_id, target_type, source_type FROM sync_properties "
    "WHERE account_id = :a UNION ALL "
    "SELECT property_id, object_type, NULL FROM change_watches WHERE account_id = :a")


def relevance(conn: Connection, account_id: int) -> Interests:
    """The account's interests (what writers record), read once per write transaction
    under the shared lock."""
    memo: dict[int, Interests] = conn.info.setdefault(TXN_CACHE, {}).setdefault(_MEMO, {})
    if account_id not in memo:
        if is_postgres(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"),
                         {"k": _LOCK_CLASS + account_id})
        sources, watches = [], []
        for pid, object_type, source_type in conn.execute(text(_INTERESTS), {"a": account_id}):
            if source_type is None:
                watches.append(Watch(object_type, pid))
            else:
                sources.append((pid, object_type, source_type))
        memo[account_id] = Interests.of(sources, watches)
    return memo[account_id]


def forget_interests(conn: Connection, account_id: int) -> None:
    """This transaction changed the account's interests: read them again if it writes."""
    conn.info.get(TXN_CACHE, {}).get(_MEMO, {}).pop(account_id, None)


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
