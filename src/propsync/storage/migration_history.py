"""Filling a sync property's history from the property it replaces (the migration's
step 7), one range of record ids at a time, each one ``INSERT ... SELECT``.

An entry is copied once: a record whose sync property already holds entries from this
source (``source_type``, ``source_id``) is skipped, and a range is filled in one
transaction, so a record has all its copied entries or none, and running again adds
nothing. Copied entries keep their time, value, user and history id: a history id is
unique within a record's property (the key is account, record, property, id), and the
originals' ids, drawn before the sync property existed, are below every id of the sync
property's own entries, so its history reads newest first as before, and ties in time
resolve as the original's do.
"""

from __future__ import annotations

from sqlalchemy import Connection, exists, insert, literal, select

from propsync.domain.history import ValueSource
from propsync.storage import tables as t

H, R = t.property_history, t.records
_COLUMNS = ["account_id", "record_id", "property_id", "history_id", "timestamp_ms", "value",
            "source_type", "source_id", "source_label", "user_id"]


def next_bound(conn: Connection, account_id: int, object_type: str, after: int, size: int
               ) -> int | None:
    """The id of the ``size``-th record of ``object_type`` after ``after`` (archived ones
    too: their history counts as of a past moment), or None when fewer are left."""
    found = conn.execute(select(R.c.record_id).where(
        R.c.account_id == account_id, R.c.record_id > after, R.c.object_type == object_type)
        .order_by(R.c.record_id).offset(size - 1).limit(1)).scalar()
    return None if found is None else int(found)


def copy_history(conn: Connection, account_id: int, old_id: int, new_id: int, before_ms: int,
                 low: int, high: int | None, source: ValueSource) -> int:
    """Copy the entries of property ``old_id`` dated before ``before_ms`` of the records
    with ids in (``low``, ``high``] to property ``new_id``, with ``source``; returns how
    many were copied."""
    done = H.alias("done")
    already = exists().where(done.c.account_id == account_id,
                             done.c.record_id == H.c.record_id,
                             done.c.property_id == new_id,
                             done.c.source_type == source.source_type,
                             done.c.source_id == source.source_id)
    where = [H.c.account_id == account_id, H.c.property_id == old_id,
             H.c.timestamp_ms < before_ms, H.c.record_id > low, ~already]
    if high is not None:
        where.append(H.c.record_id <= high)
    chosen = select(H.c.account_id, H.c.record_id, literal(new_id), H.c.history_id,
                    H.c.timestamp_ms, H.c.value, literal(source.source_type),
                    literal(source.source_id), literal(source.source_label), H.c.user_id
                    ).where(*where)
    # The rows it added, counted from RETURNING (psycopg's rowcount of an INSERT ... SELECT
    # through SQLAlchemy is -1); at most a batch's records' history.
    added = conn.execute(insert(H).from_select(_COLUMNS, chosen).returning(H.c.record_id))
    return len(added.all())
