"""The change feed: every reader reads the change log from its own cursor, in commit order.

Writers append the changes some reader needs (storage/changes.py), in their own
transaction. A reader (``"sync"``, ``"workflows"``...) has a cursor in ``change_readers``:
``read`` locks it and returns the rows after it, ``advance`` moves it in the caller's
transaction, so that committing the work done with a batch is what acknowledges it (a
reader that crashes rolls back both and reads the batch again; nothing is lost or done
twice). ``prune`` deletes, now and then, the rows every reader holding rows has passed.

Commit order. On SQLite writers take turns (``BEGIN IMMEDIATE``) and allocate change ids
in the transaction, so ids are in commit order and ``txid`` stays 0. On PostgreSQL ids
come from a sequence, and a transaction holding a smaller id can commit after one holding
a larger id: a cursor on ids would pass the first before it commits and skip it forever.
So rows carry their writer's transaction id (``txid``, the column's default), are read in
``(txid, change_id)`` order, and only when every transaction with a smaller id that could
write them has finished: ``txid`` below the horizon of a snapshot taken before the reading
transaction locks anything (locking assigns it an id of its own) — the snapshot's
``xmin``, except that transactions running in other databases of the server are left
out. No row can appear behind the cursor any more. A transaction still running holds the
rows of later ones back until it ends: ``has_unread`` counts them, ``read`` leaves them
for the next read.

Which readers hold rows: the sync engine always; any other reader while it watches
something (``change_watches``, in any account). A reader that watches nothing needs no row
(every row a writer recorded for it was recorded under a watch), so it holds none back;
its cursor stays where it was, and its next read skips to what is left.

Scale-out (PostgreSQL): ``read`` takes the reader's cursor row ``FOR UPDATE SKIP LOCKED``
and answers ``None`` while another transaction holds it, so one worker reads a reader's
feed at a time and the others do other work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from propsync.clock import now_ms
from propsync.domain.changes import Change, ChangeKind, Watch
from propsync.domain.feed import READERS, SYNC_READER
from propsync.storage.changes import forget_interests, lock_definitions
from propsync.storage.db import is_postgres

__all__ = ["READERS", "FeedBatch", "Position", "Unread", "advance", "has_unread", "prune",
           "read", "set_watches", "take", "unread", "unread_count", "unread_sql", "watched"]

_COLUMNS = ("c.account_id, c.txid, c.change_id, c.kind, c.object_type, c.record_id, "
            "c.property_id, c.related_type, c.related_id, c.created_ms")

# PostgreSQL: the horizon below which every transaction that could write this database's
# change log has ended, from the statement's snapshot (taken before anything is locked):
# the smallest transaction id it saw running, leaving out those running in another
# database (a shared server's other databases, other test runs...), which cannot write
# here; with none left, the snapshot's xmax. A transaction that ended after the snapshot
# is in no database's list any more, so it counts as this one's (its rows are not in the
# snapshot), and so does one whose session this role may not see. So is this
# transaction's own id, if it has one already.
_HORIZON_PG = """
    SELECT LEAST(coalesce(min(x::text::bigint),
                          pg_snapshot_xmax(pg_current_snapshot())::text::bigint),
                 pg_current_xact_id_if_assigned()::text::bigint) AS horizon
    FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a
                      WHERE a.backend_xid = xid(x) AND a.datid IS DISTINCT FROM
                          (SELECT oid FROM pg_database WHERE datname = current_database()))
"""

# PostgreSQL, one statement: lock the cursor (nothing when another transaction holds it)
# and read the rows after it below the horizon. A cursor that another reader moved and
# committed after the snapshot is locked in its newest version; the rows after it below
# the horizon had all committed before the snapshot, so it sees them. ``take`` also moves
# the cursor past them in the same statement (``moved``).
_READ_PG = """
    WITH cur AS (SELECT txid, change_id FROM change_readers WHERE reader = :r
                 FOR UPDATE SKIP LOCKED),
         h AS ({horizon}),
         got AS (SELECT {columns} FROM cur CROSS JOIN h CROSS JOIN LATERAL (
             SELECT {columns} FROM change_log c
             WHERE (c.txid, c.change_id) > (cur.txid, cur.change_id) AND c.txid < h.horizon
             ORDER BY c.txid, c.change_id LIMIT :n) c){moved}
    SELECT cur.txid AS cur_txid, cur.change_id AS cur_change, got.*
    FROM cur LEFT JOIN got ON true ORDER BY got.txid, got.change_id
"""
_MOVED_PG = """,
         moved AS (UPDATE change_readers r SET txid = e.txid, change_id = e.change_id,
                       updated_ms = :now
                   FROM (SELECT txid, change_id FROM got
                         ORDER BY txid DESC, change_id DESC LIMIT 1) e
                   WHERE r.reader = :r RETURNING 1)"""
# SQLite, one statement: the cursor, then the rows after it. Every SQLite row and cursor
# has txid 0 (nothing else is ever written there), which lets SQLite seek the index with
# the cursor read in the same statement (a row comparison with it would scan).
_READ_SQLITE = f"""
    SELECT 0 AS part, NULL AS account_id, r.txid, r.change_id, NULL AS kind,
           NULL AS object_type, NULL AS record_id, NULL AS property_id,
           NULL AS related_type, NULL AS related_id, NULL AS created_ms
    FROM change_readers r WHERE r.reader = :r
    UNION ALL
    SELECT * FROM (SELECT 1, {_COLUMNS} FROM change_log c WHERE c.txid = 0
        AND c.change_id > (SELECT change_id FROM change_readers WHERE reader = :r)
        ORDER BY c.change_id LIMIT :n)
    ORDER BY 1, 4
"""
_READ_PG_ONLY = _READ_PG.format(horizon=_HORIZON_PG, columns=_COLUMNS, moved="")
_READ_PG_TAKE = _READ_PG.format(horizon=_HORIZON_PG, columns=_COLUMNS, moved=_MOVED_PG)

# Rows after the cursor ``r``, in a form each store answers with a seek in the
# (txid, change_id) index: PostgreSQL takes the row comparison as an index condition;
# SQLite takes the two ranges of the OR.
_AFTER_PG = "(c.txid, c.change_id) > (r.txid, r.change_id)"
_AFTER_SQLITE = "((c.txid = r.txid AND c.change_id > r.change_id) OR c.txid > r.txid)"


def _after(conn: Connection) -> str:
    return _AFTER_PG if is_postgres(conn) else _AFTER_SQLITE


def unread_sql(conn: Connection, reader_param: str) -> str:
    """An SQL expression: whether a row follows the cursor of the reader named by the
    bound parameter ``reader_param`` (for a read that asks several things at once)."""
    if is_postgres(conn):  # ordered, so that the first row after the cursor is a seek
        return (f"EXISTS (SELECT 1 FROM change_readers r CROSS JOIN LATERAL (SELECT 1 "
                f"FROM change_log c WHERE {_AFTER_PG} ORDER BY c.txid, c.change_id LIMIT 1) "
                f"c WHERE r.reader = :{reader_param})")
    return (f"EXISTS (SELECT 1 FROM change_readers r JOIN change_log c ON {_AFTER_SQLITE} "
            f"WHERE r.reader = :{reader_param})")


@dataclass(frozen=True, order=True)
class Position:
    """A place in the feed: after the row ``(txid, change_id)``."""

    txid: int
    change_id: int


@dataclass(frozen=True)
class FeedBatch:
    """Rows a reader read, in commit order: ``(account_id, change)`` each. ``end`` is the
    position of the last row (``start`` when there was none); ``advance`` moves the
    reader's cursor there."""

    reader: str
    start: Position
    end: Position
    rows: list[tuple[int, Change]]
    # When each row was recorded (its writer's time): a workflow turned on counts only the
    # changes recorded since.
    recorded_ms: list[int] = field(default_factory=list)


def read(conn: Connection, reader: str, limit: int) -> FeedBatch | None:
    """Lock ``reader``'s cursor for this transaction and return up to ``limit`` rows after
    it, in commit order; ``None`` when another transaction holds the cursor (PostgreSQL).
    A batch with no rows when nothing is visible yet. Call it before the transaction
    writes: rows of transactions that started after this one's first write are left for
    a later read."""
    return _read(conn, reader, limit, advance=False)


def take(conn: Connection, reader: str, limit: int) -> FeedBatch | None:
    """``read`` and ``advance`` at once (on PostgreSQL in the read's statement): for a
    reader whose work with the batch commits in this same transaction (the sync worker),
    as ``read`` then ``advance`` would. The batch comes back already advanced."""
    return _read(conn, reader, limit, advance=True)


def _read(conn: Connection, reader: str, limit: int, advance: bool) -> FeedBatch | None:
    if is_postgres(conn):
        sql = _READ_PG_TAKE if advance else _READ_PG_ONLY
        found = conn.execute(text(sql), {"r": reader, "n": limit, "now": now_ms()}).all()
        if not found:
            return None
        start = Position(found[0].cur_txid, found[0].cur_change)
        rows = [r for r in found if r.change_id is not None]
    else:
        found = conn.execute(text(_READ_SQLITE), {"r": reader, "n": limit}).all()
        if not found or found[0].part != 0:
            raise KeyError(f"no change reader named {reader!r}")
        start = Position(found[0].txid, found[0].change_id)
        rows = list(found[1:])
    end = Position(rows[-1].txid, rows[-1].change_id) if rows else start
    batch = FeedBatch(reader, start, end, [
        (r.account_id, Change(ChangeKind(r.kind), r.object_type, r.record_id, r.property_id,
                              r.related_type, r.related_id)) for r in rows],
        [int(r.created_ms) for r in rows])
    if advance and not is_postgres(conn):
        _advance(conn, batch)
    return batch


def advance(conn: Connection, batch: FeedBatch) -> None:
    """Move the reader's cursor to the end of ``batch``, in the caller's transaction."""
    _advance(conn, batch)


def _advance(conn: Connection, batch: FeedBatch) -> None:
    if batch.end == batch.start:
        return
    conn.execute(text("UPDATE change_readers SET txid = :t, change_id = :c, updated_ms = :now "
                      "WHERE reader = :r"),
                 {"t": batch.end.txid, "c": batch.end.change_id, "now": now_ms(),
                  "r": batch.reader})


def has_unread(conn: Connection, reader: str) -> bool:
    """Whether any row follows ``reader``'s cursor (visible to ``read`` yet or not): one
    index probe."""
    return bool(conn.execute(text(f"SELECT {unread_sql(conn, 'r')}"),
                             {"r": reader}).scalar_one())


@dataclass(frozen=True)
class Unread:
    count: int
    oldest_ms: int | None  # when the oldest of them was recorded


def unread(conn: Connection, reader: str, account_id: int) -> Unread:
    """How many of the account's rows follow ``reader``'s cursor, and the oldest's time."""
    count, oldest = conn.execute(text(
        f"SELECT count(*), min(c.created_ms) FROM change_readers r JOIN change_log c "
        f"ON {_after(conn)} WHERE r.reader = :r AND c.account_id = :a"),
        {"r": reader, "a": account_id}).one()
    return Unread(int(count), oldest)


def unread_count(conn: Connection, reader: str, account_id: int) -> int:
    """How many of the account's rows ``reader`` has not read yet."""
    return unread(conn, reader, account_id).count


# The readers that hold rows back: the sync engine, and any reader that watches something.
_HOLDERS = ("SELECT r.txid, r.change_id FROM change_readers r WHERE r.reader = :sync "
            "OR EXISTS (SELECT 1 FROM change_watches w WHERE w.reader = r.reader) "
            "ORDER BY r.txid, r.change_id LIMIT 1")


def prune(conn: Connection, limit: int) -> int:
    """Delete up to ``limit`` of the oldest rows that every reader holding rows has
    passed; returns how many. Run it in a transaction of its own, now and then (the
    worker does), not in a request. On PostgreSQL rows another pruner is deleting are
    skipped, not waited for."""
    bound = conn.execute(text(_HOLDERS), {"sync": SYNC_READER}).first()
    if bound is None:
        return 0
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""
    return int(conn.execute(text(
        "DELETE FROM change_log WHERE (account_id, change_id) IN ("
        "SELECT c.account_id, c.change_id FROM change_log c "
        "WHERE (c.txid, c.change_id) <= (:t, :c) "
        f"ORDER BY c.txid, c.change_id LIMIT :n{lock})"),
        {"t": bound.txid, "c": bound.change_id, "n": limit}).rowcount)


def watched(conn: Connection, account_id: int, object_type: str, property_id: int) -> bool:
    """Whether some reader watches the values of ``property_id`` on ``object_type``."""
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM change_watches WHERE account_id = :a "
        "AND object_type = :t AND property_id = :p)"),
        {"a": account_id, "t": object_type, "p": property_id}).scalar_one())


def set_watches(conn: Connection, account_id: int, reader: str,
                watches: Iterable[Watch]) -> None:
    """Replace ``reader``'s watches in the account. It takes the account's definitions
    lock exclusively (as defining a sync property does; the caller may hold it already),
    so every write either committed before and is not recorded for these watches, or
    sees them and records. The sync engine's interests are its sync properties, not
    watches."""
    if reader == SYNC_READER:
        raise ValueError("the sync engine's interests are its sync properties")
    if conn.execute(text("SELECT 1 FROM change_readers WHERE reader = :r"),
                    {"r": reader}).first() is None:
        raise KeyError(f"no change reader named {reader!r}")
    lock_definitions(conn, account_id)
    conn.execute(text("DELETE FROM change_watches WHERE account_id = :a AND reader = :r"),
                 {"a": account_id, "r": reader})
    rows = [{"a": account_id, "r": reader, "t": w.object_type, "p": w.property_id}
            for w in sorted(set(watches), key=lambda w: (w.object_type, w.property_id or 0))]
    if rows:
        conn.execute(text("INSERT INTO change_watches (account_id, reader, object_type, "
                          "property_id) VALUES (:a, :r, :t, :p)"), rows)
    forget_interests(conn, account_id)
