"""Counts of failed sign-ins per key (an e-mail address or a client address)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from propsync.storage import tables as t
from propsync.storage.db import is_postgres
from propsync.storage.dialects import insert_ignore, upsert


@dataclass(frozen=True)
class Count:
    failures: int
    blocked_until_ms: int
    updated_ms: int


def locked_count(conn: Connection, key_hash: str, now_ms: int) -> Count:
    """The key's count, its row locked until the transaction ends (PostgreSQL; a SQLite
    writer holds the whole database), so that parallel attempts are counted one by one."""
    st = t.signin_throttle
    insert_ignore(conn, st, [{"key_hash": key_hash, "failures": 0, "blocked_until_ms": 0,
                              "updated_ms": now_ms}])
    query = select(st.c.failures, st.c.blocked_until_ms, st.c.updated_ms).where(
        st.c.key_hash == key_hash)
    if is_postgres(conn):
        query = query.with_for_update()
    row = conn.execute(query).one()
    return Count(row.failures, row.blocked_until_ms, row.updated_ms)


def save(conn: Connection, key_hash: str, count: Count) -> None:
    upsert(conn, t.signin_throttle, [{
        "key_hash": key_hash, "failures": count.failures,
        "blocked_until_ms": count.blocked_until_ms, "updated_ms": count.updated_ms}],
        ["key_hash"], ["failures", "blocked_until_ms", "updated_ms"])


def forget(conn: Connection, key_hash: str) -> None:
    st = t.signin_throttle
    conn.execute(delete(st).where(st.c.key_hash == key_hash))


def forget_older_than(conn: Connection, before_ms: int) -> None:
    """Drop counts untouched since ``before_ms`` (they would start afresh anyway)."""
    st = t.signin_throttle
    conn.execute(delete(st).where(st.c.updated_ms < before_ms))
