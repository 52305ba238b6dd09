"""The values of unique properties that live records hold (table ``unique_values``).

The table's primary key ``(account_id, property_id, value_hash)`` is what keeps two records
from holding one value: a claim is an ``INSERT ... ON CONFLICT DO NOTHING``, and a claim
the database skipped is a conflict. Two transactions claiming one value at once on
PostgreSQL: the second waits for the first, then skips (SQLite's writers take turns).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

from sqlalchemy import Connection, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from propsync.domain.errors import ConflictError
from propsync.storage import tables as t
from propsync.storage.db import is_postgres

_CHUNK = 500

# (record_id, property_id, canonical text)
Claim = tuple[int, int, str]


def value_hash(text: str) -> str:
    """The key of a value: the SHA-256 of its canonical text (what the API shows)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def unique_property_ids(conn: Connection, account_id: int, property_ids: Collection[int]
                        ) -> set[int]:
    """The unique properties among ``property_ids``."""
    if not property_ids:
        return set()
    p = t.properties
    return set(conn.execute(select(p.c.property_id).where(
        p.c.account_id == account_id, p.c.has_unique_value.is_(True),
        p.c.property_id.in_(list(property_ids)))).scalars())


def release(conn: Connection, account_id: int, keys: Sequence[tuple[int, int]]) -> None:
    """Free the values that records hold of properties: ``(record_id, property_id)``."""
    u = t.unique_values
    for start in range(0, len(keys), _CHUNK):
        conn.execute(delete(u).where(
            u.c.account_id == account_id,
            tuple_(u.c.record_id, u.c.property_id).in_(keys[start:start + _CHUNK])))


def release_records(conn: Connection, account_id: int, record_ids: Collection[int]) -> None:
    """Free every unique value the records hold (they were archived or erased)."""
    u = t.unique_values
    ids = sorted(record_ids)
    for start in range(0, len(ids), _CHUNK):
        conn.execute(delete(u).where(u.c.account_id == account_id,
                                     u.c.record_id.in_(ids[start:start + _CHUNK])))


def claim(conn: Connection, account_id: int, claims: Sequence[Claim]) -> None:
    """Record that each record holds its value; raise ``ConflictError`` (409, HubSpot's
    "already exists. Existing ID: ...") if another record, or another claim of this call,
    holds one of them."""
    if not claims:
        return
    # in key order, so that two transactions claiming the same values wait for each other
    # instead of each holding one the other needs (a deadlock on PostgreSQL)
    rows = sorted(({"account_id": account_id, "record_id": rid, "property_id": pid,
                    "value_hash": value_hash(text)} for rid, pid, text in claims),
                  key=lambda r: (r["property_id"], r["value_hash"]))
    module = postgresql if is_postgres(conn) else sqlite
    u = t.unique_values
    stmt = module.insert(u).on_conflict_do_nothing().returning(u.c.record_id, u.c.property_id)
    stored = set()
    for start in range(0, len(rows), _CHUNK):
        stored |= {(r[0], r[1]) for r in conn.execute(stmt, rows[start:start + _CHUNK])}
    refused = [c for c in claims if (c[0], c[1]) not in stored]
    if refused:
        raise _conflict(conn, account_id, refused[0], {c[0] for c in claims})


def _conflict(conn: Connection, account_id: int, refused: Claim, own: set[int]
              ) -> ConflictError:
    _, pid, text = refused
    u, p = t.unique_values, t.properties
    holder = conn.execute(select(u.c.record_id).where(
        u.c.account_id == account_id, u.c.property_id == pid,
        u.c.value_hash == value_hash(text))).scalar()
    name = conn.execute(select(p.c.name).where(
        p.c.account_id == account_id, p.c.property_id == pid)).scalar()
    # The value itself is never named (as in HubSpot's "already exists. Existing ID: N"):
    # a restore or a merge claims values the caller did not give and may not be able to view.
    if holder in own:
        return ConflictError(f"Two records of this request would both have one value of "
                             f"{name}, whose values are unique; nothing was changed.",
                             context={"propertyName": [str(name)]})
    return ConflictError(
        f"A record already has this value of {name}, whose values are unique; nothing was "
        f"changed. Existing ID: {holder}",
        context={"id": [str(holder)], "propertyName": [str(name)]})


def holders(conn: Connection, account_id: int, property_id: int, texts: Collection[str]
            ) -> dict[str, int]:
    """``{value: record id}`` of the live records that hold any of ``texts``."""
    by_hash = {value_hash(v): v for v in texts}
    u = t.unique_values
    found: dict[str, int] = {}
    keys = list(by_hash)
    for start in range(0, len(keys), _CHUNK):
        for h, rid in conn.execute(select(u.c.value_hash, u.c.record_id).where(
                u.c.account_id == account_id, u.c.property_id == property_id,
                u.c.value_hash.in_(keys[start:start + _CHUNK]))):
            found[by_hash[h]] = int(rid)
    return found
