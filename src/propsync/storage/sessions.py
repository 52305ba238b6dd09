"""Signed-in web sessions, found by the hash of their id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, or_, select, update

from propsync.storage import tables as t


@dataclass(frozen=True)
class StoredSession:
    user_id: int
    csrf: str
    created_ms: int
    seen_ms: int


def insert_session(conn: Connection, account_id: int, session_hash: str, user_id: int,
                   csrf: str, now_ms: int) -> None:
    conn.execute(insert(t.sessions).values(
        account_id=account_id, session_hash=session_hash, user_id=user_id, csrf=csrf,
        created_ms=now_ms, seen_ms=now_ms))


def find_session(conn: Connection, account_id: int, session_hash: str) -> StoredSession | None:
    s = t.sessions
    row = conn.execute(select(s.c.user_id, s.c.csrf, s.c.created_ms, s.c.seen_ms).where(
        s.c.account_id == account_id, s.c.session_hash == session_hash)).first()
    return StoredSession(row.user_id, row.csrf, row.created_ms, row.seen_ms) if row else None


def touch_session(conn: Connection, account_id: int, session_hash: str, now_ms: int) -> None:
    s = t.sessions
    conn.execute(update(s).where(s.c.account_id == account_id,
                                 s.c.session_hash == session_hash).values(seen_ms=now_ms))


def delete_session(conn: Connection, account_id: int, session_hash: str) -> None:
    s = t.sessions
    conn.execute(delete(s).where(s.c.account_id == account_id, s.c.session_hash == session_hash))


def delete_sessions_of(conn: Connection, account_id: int, user_id: int,
                       created_before_ms: int | None = None,
                       seen_before_ms: int | None = None) -> None:
    """End the user's sessions: all of them, or (given the bounds) the expired ones."""
    s = t.sessions
    query = delete(s).where(s.c.account_id == account_id, s.c.user_id == user_id)
    if created_before_ms is not None and seen_before_ms is not None:
        query = query.where(or_(s.c.created_ms < created_before_ms,
                                s.c.seen_ms < seen_before_ms))
    conn.execute(query)
