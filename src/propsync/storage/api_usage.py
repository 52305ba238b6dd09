"""API calls per account and UTC day (HubSpot's daily limit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from propsync.storage import tables as t
from propsync.storage.db import is_postgres


def calls_of(conn: Connection, account_id: int, day: int) -> int:
    """The account's count of ``day`` (every process's)."""
    usage = t.api_usage_daily
    found = conn.execute(select(usage.c.calls).where(
        usage.c.account_id == account_id, usage.c.day == day)).scalar()
    return int(found or 0)


def add_calls(conn: Connection, account_id: int, day: int, calls: int) -> int:
    """Add ``calls`` to the account's count of ``day``; the count after (every process's)."""
    usage = t.api_usage_daily
    if calls <= 0:
        return calls_of(conn, account_id, day)
    module: Any = postgresql if is_postgres(conn) else sqlite
    stmt = module.insert(usage).values(account_id=account_id, day=day, calls=calls)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "day"], set_={"calls": usage.c.calls + stmt.excluded.calls}
    ).returning(usage.c.calls)
    return int(conn.execute(stmt).scalar_one())
