"""One account's content as canonical JSON (``propsync export``): the same content gives
the same bytes, so two exports compare byte for byte (a sandbox's use never touches its
source: export the source before and after).

The document is one JSON object written a row at a time (memory stays bounded whatever the
account's size: rows are streamed from one read snapshot):

    {"format": "propsync-account-export", "version": 1, "account": {...},
     "tables": {
      "users": {"columns": [...], "rows": [
       [...],
       ...]},
      ...}}

Tables come in a fixed order, each table's rows in primary-key order, each row an array of
its columns' values as stored (ids and epoch-millisecond timestamps included). Left out:
secrets (password hashes, the tokens table, sessions) and operational state that moves
without the account's content changing (API usage counts, the change feed and its
watches, the sync engine's queues).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Connection, Table, select

from propsync.storage import tables as t

FORMAT = "propsync-account-export"
VERSION = 1
# Tables (and columns) left out of an export, with why.
LEFT_OUT: dict[str, str] = {
    "tokens": "secrets (hashes of bearer tokens), and last use moves with every call",
    "sessions": "secrets (hashes of session cookies)",
    "api_usage_daily": "counts of API calls, not content",
    "change_log": "the change feed: pruned as its readers pass it",
    "change_watches": "what the feed's readers ask writers to record, not content",
    "sync_targets": "the sync engine's queue",
    "sync_fanouts": "the sync engine's queue",
}
LEFT_OUT_COLUMNS: dict[str, frozenset[str]] = {"users": frozenset({"password_hash"})}
_ROWS_PER_FETCH = 1000


def exported_tables() -> list[Table]:
    """The tables an export holds, by name (a fixed order), ``accounts`` apart."""
    return sorted((tb for tb in t.metadata.tables.values()
                   if "account_id" in tb.c and tb.name != "accounts"
                   and tb.name not in LEFT_OUT), key=lambda tb: tb.name)


def export_account(conn: Connection, account_id: int, out: IO[str]) -> int:
    """Write the account's export to ``out``; returns the rows written. ``None`` for an
    account that does not exist is the caller's to refuse."""
    a = t.accounts
    account = conn.execute(select(a).where(a.c.account_id == account_id)).mappings().one()
    out.write(f'{{"format": {_dump(FORMAT)}, "version": {VERSION}, '
              f'"account": {_dump(dict(account))},\n "tables": {{')
    count = 0
    for i, tb in enumerate(exported_tables()):
        columns = [c for c in tb.columns if c.name != "account_id"
                   and c.name not in LEFT_OUT_COLUMNS.get(tb.name, frozenset())]
        out.write(f'{"," if i else ""}\n  {_dump(tb.name)}: {{"columns": '
                  f'{_dump([c.name for c in columns])}, "rows": [')
        first = True
        for row in _rows(conn, tb, account_id, columns):
            out.write(f'{"" if first else ","}\n   {_dump(list(row))}')
            first = False
            count += 1
        out.write("]}")
    out.write("}}\n")
    return count


def _rows(conn: Connection, tb: Table, account_id: int, columns: list[Any]
          ) -> Iterator[Any]:
    key = [c for c in tb.primary_key.columns if c.name != "account_id"] or columns
    query = select(*columns).where(tb.c.account_id == account_id).order_by(*key)
    result = conn.execution_options(stream_results=True, yield_per=_ROWS_PER_FETCH
                                    ).execute(query)
    for partition in result.partitions():
        yield from partition


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
