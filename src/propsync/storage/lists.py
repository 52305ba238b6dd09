"""Lists (``lists``) and their members (``list_memberships``), migration 0015.

Every change of a list's members goes through this module, which keeps the list's
``size`` (its members' count) in the same transaction, so reading a size is one row.
A DYNAMIC list's members are the records that meet its filter: evaluated whole
(``evaluate_whole``: one ``DELETE`` and one ``INSERT ... SELECT``) or for the records
some changes touched (``evaluate_records``: one query asks the filter of them all),
with search's own semantics (``storage/search.py``). A deleted list keeps its row and
members (``deleted_ms``) until it is restored.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from propsync.domain.lists import ListFilter, filter_from_stored
from propsync.storage import tables as t
from propsync.storage.db import is_postgres
from propsync.storage.ids import allocate_id
from propsync.storage.search import Condition, matching_ids, matching_select

L, M, R = t.lists, t.list_memberships, t.records
_CHUNK = 500


@dataclass(frozen=True)
class StoredList:
    list_id: int
    name: str
    object_type: str
    processing_type: str
    filter: ListFilter | None
    status: str
    version: int
    size: int
    next_eval_ms: int | None
    created_ms: int
    updated_ms: int
    filters_updated_ms: int
    created_by: int | None
    updated_by: int | None
    deleted_ms: int | None


def _stored(row: RowMapping) -> StoredList:
    raw = row["filter_branch"]
    return StoredList(
        int(row["list_id"]), row["name"], row["object_type"], row["processing_type"],
        filter_from_stored(json.loads(raw)) if raw else None, row["status"],
        int(row["version"]), int(row["size"]), row["next_eval_ms"], int(row["created_ms"]),
        int(row["updated_ms"]), int(row["filters_updated_ms"]), row["created_by"],
        row["updated_by"], row["deleted_ms"])


def insert_list(conn: Connection, account_id: int, name: str, object_type: str,
                processing_type: str, branch: dict[str, Any] | None, user_id: int | None,
                now_ms: int) -> StoredList:
    list_id = allocate_id(conn, "lists")
    conn.execute(insert(L).values(
        account_id=account_id, list_id=list_id, name=name, object_type=object_type,
        processing_type=processing_type,
        filter_branch=json.dumps(branch, ensure_ascii=False) if branch is not None else None,
        status="COMPLETE" if branch is None else "PROCESSING", version=1, size=0,
        created_ms=now_ms, updated_ms=now_ms, filters_updated_ms=now_ms, created_by=user_id,
        updated_by=user_id))
    found = load_list(conn, account_id, list_id)
    assert found is not None
    return found


def load_list(conn: Connection, account_id: int, list_id: int, deleted: bool = False,
              lock: bool = False) -> StoredList | None:
    """The list (a deleted one only with ``deleted``); ``lock`` locks its row (PostgreSQL),
    so that its members change one transaction at a time."""
    query = select(L).where(L.c.account_id == account_id, L.c.list_id == list_id)
    if not deleted:
        query = query.where(L.c.deleted_ms.is_(None))
    if lock and is_postgres(conn):
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else _stored(row)


def load_by_name(conn: Connection, account_id: int, object_type: str | None, name: str
                 ) -> StoredList | None:
    query = select(L).where(L.c.account_id == account_id, L.c.name == name,
                            L.c.deleted_ms.is_(None))
    if object_type is not None:
        query = query.where(L.c.object_type == object_type)
    row = conn.execute(query.order_by(L.c.list_id).limit(1)).mappings().first()
    return None if row is None else _stored(row)


def load_lists(conn: Connection, account_id: int, list_ids: Collection[int]
               ) -> list[StoredList]:
    wanted = sorted(set(list_ids))
    found: list[StoredList] = []
    for start in range(0, len(wanted), _CHUNK):
        rows = conn.execute(select(L).where(
            L.c.account_id == account_id, L.c.list_id.in_(wanted[start:start + _CHUNK]),
            L.c.deleted_ms.is_(None)).order_by(L.c.list_id)).mappings()
        found.extend(_stored(r) for r in rows)
    return found


def live_lists(conn: Connection, account_id: int, object_types: Collection[str] | None = None,
               lock: bool = False) -> list[StoredList]:
    """The account's lists (of ``object_types``), by id; ``lock`` locks them (PostgreSQL,
    in id order, as every writer of members locks)."""
    query = select(L).where(L.c.account_id == account_id, L.c.deleted_ms.is_(None))
    if object_types is not None:
        query = query.where(L.c.object_type.in_(sorted(object_types)))
    query = query.order_by(L.c.list_id)
    if lock and is_postgres(conn):
        query = query.with_for_update()
    return [_stored(r) for r in conn.execute(query).mappings()]


def count_lists(conn: Connection, account_id: int) -> int:
    return int(conn.execute(select(func.count()).select_from(L).where(
        L.c.account_id == account_id, L.c.deleted_ms.is_(None))).scalar_one())


def search_lists(conn: Connection, account_id: int, query: str | None,
                 object_type: str | None, processing_types: Sequence[str],
                 list_ids: Collection[int] | None, offset: int, count: int
                 ) -> tuple[int, list[StoredList]]:
    """``(total, the page)`` of live lists whose name contains ``query`` (any case), by id."""
    where = [L.c.account_id == account_id, L.c.deleted_ms.is_(None)]
    if query:
        needle = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(L.c.name).like(f"%{needle}%", escape="\\"))
    if object_type is not None:
        where.append(L.c.object_type == object_type)
    if processing_types:
        where.append(L.c.processing_type.in_(list(processing_types)))
    if list_ids is not None:
        where.append(L.c.list_id.in_(sorted(list_ids)))
    total = int(conn.execute(select(func.count()).select_from(L).where(*where)).scalar_one())
    rows = conn.execute(select(L).where(*where).order_by(L.c.list_id).offset(offset)
                        .limit(count)).mappings()
    return total, [_stored(r) for r in rows]


def rename(conn: Connection, account_id: int, list_id: int, name: str, user_id: int | None,
           now_ms: int) -> None:
    conn.execute(update(L).where(L.c.account_id == account_id, L.c.list_id == list_id).values(
        name=name, version=L.c.version + 1, updated_ms=now_ms, updated_by=user_id))


def set_filter(conn: Connection, account_id: int, list_id: int, branch: dict[str, Any],
               user_id: int | None, now_ms: int) -> None:
    """A new filter: the list is evaluated whole again (PROCESSING until then)."""
    conn.execute(update(L).where(L.c.account_id == account_id, L.c.list_id == list_id).values(
        filter_branch=json.dumps(branch, ensure_ascii=False), status="PROCESSING",
        version=L.c.version + 1, updated_ms=now_ms, filters_updated_ms=now_ms,
        updated_by=user_id))


def set_deleted(conn: Connection, account_id: int, stored: StoredList,
                deleted_ms: int | None, now_ms: int) -> None:
    """Delete (``deleted_ms``) or restore (``None``) a list; it keeps its members. A
    restored DYNAMIC list is evaluated whole again: its filter was not followed while it
    was deleted."""
    values: dict[str, Any] = {"deleted_ms": deleted_ms, "updated_ms": now_ms}
    if deleted_ms is None and stored.processing_type == "DYNAMIC":
        values["status"] = "PROCESSING"
    conn.execute(update(L).where(L.c.account_id == account_id,
                                 L.c.list_id == stored.list_id).values(**values))


def set_evaluated(conn: Connection, account_id: int, list_id: int, next_eval_ms: int | None
                  ) -> None:
    conn.execute(update(L).where(L.c.account_id == account_id, L.c.list_id == list_id)
                 .values(status="COMPLETE", next_eval_ms=next_eval_ms))


def due_whole(conn: Connection, now_ms: int) -> tuple[int, int] | None:
    """A list to evaluate whole now: one still PROCESSING, or a DYNAMIC one whose filter
    relative to today has moved; ``(account_id, list_id)``, locked (PostgreSQL: one another
    worker holds is skipped)."""
    query = select(L.c.account_id, L.c.list_id).where(
        L.c.deleted_ms.is_(None),
        (L.c.status == "PROCESSING") | and_(L.c.processing_type == "DYNAMIC",
                                            L.c.next_eval_ms <= now_ms)
    ).order_by(L.c.updated_ms, L.c.account_id, L.c.list_id).limit(1)
    if is_postgres(conn):
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).first()
    return None if row is None else (int(row[0]), int(row[1]))


def has_due_whole(conn: Connection, now_ms: int) -> bool:
    return bool(conn.execute(select(exists().where(
        L.c.deleted_ms.is_(None),
        (L.c.status == "PROCESSING") | and_(L.c.processing_type == "DYNAMIC",
                                            L.c.next_eval_ms <= now_ms)))).scalar_one())


def next_eval_ms(conn: Connection) -> int | None:
    found = conn.execute(select(func.min(L.c.next_eval_ms)).where(
        L.c.deleted_ms.is_(None), L.c.processing_type == "DYNAMIC")).scalar_one()
    return None if found is None else int(found)


# ---- members ----

def _bump(conn: Connection, account_id: int, list_id: int, delta: int) -> None:
    if delta:
        conn.execute(update(L).where(L.c.account_id == account_id, L.c.list_id == list_id)
                     .values(size=L.c.size + delta))


def members_among(conn: Connection, account_id: int, list_id: int, record_ids: Collection[int]
                  ) -> set[int]:
    ids = sorted(set(record_ids))
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(int(x) for x in conn.execute(select(M.c.record_id).where(
            M.c.account_id == account_id, M.c.list_id == list_id,
            M.c.record_id.in_(ids[start:start + _CHUNK]))).scalars())
    return found


def add_members(conn: Connection, account_id: int, list_id: int, record_ids: Collection[int],
                now_ms: int) -> list[int]:
    """Add the records not yet members (the caller checked they are live records of the
    list's type); returns those added."""
    new = sorted(set(record_ids) - members_among(conn, account_id, list_id, record_ids))
    if new:
        conn.execute(insert(M), [{"account_id": account_id, "list_id": list_id,
                                  "record_id": rid, "added_ms": now_ms} for rid in new])
    _bump(conn, account_id, list_id, len(new))
    return new


def remove_members(conn: Connection, account_id: int, list_id: int,
                   record_ids: Collection[int], now_ms: int) -> list[int]:
    """Remove those of ``record_ids`` that are members; returns them."""
    gone = sorted(members_among(conn, account_id, list_id, record_ids))
    for start in range(0, len(gone), _CHUNK):
        conn.execute(delete(M).where(M.c.account_id == account_id, M.c.list_id == list_id,
                                     M.c.record_id.in_(gone[start:start + _CHUNK])))
    _bump(conn, account_id, list_id, -len(gone))
    return gone


def remove_all(conn: Connection, account_id: int, list_id: int) -> int:
    n = conn.execute(delete(M).where(M.c.account_id == account_id,
                                     M.c.list_id == list_id)).rowcount
    conn.execute(update(L).where(L.c.account_id == account_id, L.c.list_id == list_id)
                 .values(size=0))
    return int(n)


def inherit_memberships(conn: Connection, account_id: int, merged: int, kept: int) -> int:
    """Record ``merged`` was merged into ``kept``: ``kept`` joins every list that is not
    DYNAMIC (a DYNAMIC one asks its filter of ``kept``) that ``merged`` is in and it is
    not, with ``merged``'s join time (the same person, a member since then). One
    statement, then the sizes; returns how many memberships began."""
    lists = t.lists
    theirs = M.alias("theirs")
    joining = select(M.c.list_id, M.c.added_ms).where(
        M.c.account_id == account_id, M.c.record_id == merged,
        M.c.list_id.in_(select(lists.c.list_id).where(
            lists.c.account_id == account_id, lists.c.processing_type != "DYNAMIC")),
        ~exists().where(theirs.c.account_id == account_id,
                        theirs.c.list_id == M.c.list_id, theirs.c.record_id == kept)
    ).order_by(M.c.list_id)
    _lock(conn, account_id, select(M.c.list_id).where(M.c.account_id == account_id,
                                                      M.c.record_id == merged))
    found = conn.execute(joining).all()
    if not found:
        return 0
    conn.execute(insert(M), [{"account_id": account_id, "list_id": list_id,
                              "record_id": kept, "added_ms": added} for list_id, added in found])
    conn.execute(update(L).where(L.c.account_id == account_id,
                                 L.c.list_id.in_([list_id for list_id, _ in found]))
                 .values(size=L.c.size + 1))
    return len(found)


def _lock(conn: Connection, account_id: int, list_ids: Select[Any]) -> None:
    """Lock the lists ``list_ids`` selects (PostgreSQL), in id order as every writer of
    members does, before reading or changing their members: then no other writer changes
    them meanwhile, and none that holds a list waits for a member's row held here."""
    if is_postgres(conn):
        conn.execute(select(L.c.list_id).where(L.c.account_id == account_id,
                                               L.c.list_id.in_(list_ids))
                     .order_by(L.c.list_id).with_for_update())


def leave_every_list(conn: Connection, account_id: int, record_ids: Collection[int],
                     kinds: str = "all") -> int:
    """The records leave every list (sizes kept): ``kinds`` "all" (erased), "static" (the
    lists that are not DYNAMIC: archived or merged away, in the transaction that does so,
    so that a later restore and add by hand comes after) or "dynamic" (the list worker,
    when it reads that they were archived or merged away; a DYNAMIC list asks its filter of
    a record restored since)."""
    ids = sorted(set(record_ids))
    lists = t.lists
    removed = 0
    for start in range(0, len(ids), _CHUNK):
        where = and_(M.c.account_id == account_id, M.c.record_id.in_(ids[start:start + _CHUNK]))
        if kinds != "all":
            dynamic = lists.c.processing_type == "DYNAMIC"
            where = and_(where, M.c.list_id.in_(select(lists.c.list_id).where(
                lists.c.account_id == account_id, dynamic if kinds == "dynamic" else ~dynamic)))
        _lock(conn, account_id, select(M.c.list_id).where(where))
        counts = conn.execute(select(M.c.list_id, func.count()).where(where)
                              .group_by(M.c.list_id).order_by(M.c.list_id)).all()
        if not counts:
            continue
        conn.execute(delete(M).where(where))
        for list_id, n in counts:
            conn.execute(update(L).where(L.c.account_id == account_id,
                                         L.c.list_id == list_id).values(size=L.c.size - n))
            removed += int(n)
    return removed


def evaluate_records(conn: Connection, account_id: int, stored: StoredList,
                     groups: Sequence[Sequence[Condition]], record_ids: Collection[int],
                     now_ms: int) -> tuple[int, int]:
    """Make the list's members among ``record_ids`` those that meet ``groups`` now (one
    query asks them all); returns ``(joined, left)``."""
    meeting = matching_ids(conn, account_id, stored.object_type, groups, record_ids)
    current = members_among(conn, account_id, stored.list_id, record_ids)
    joined = add_members(conn, account_id, stored.list_id, meeting - current, now_ms)
    left = remove_members(conn, account_id, stored.list_id, current - meeting, now_ms)
    return len(joined), len(left)


def evaluate_whole(conn: Connection, account_id: int, stored: StoredList,
                   groups: Sequence[Sequence[Condition]], now_ms: int) -> int:
    """Make the list's members exactly the records that meet ``groups`` now: one
    ``DELETE`` of those that do not, one ``INSERT ... SELECT`` of those not yet members
    (who keep their join time), then the size counted once. Returns the size."""
    matching = matching_select(account_id, stored.object_type, groups).subquery()
    conn.execute(delete(M).where(M.c.account_id == account_id, M.c.list_id == stored.list_id,
                                 M.c.record_id.not_in(select(matching.c.record_id))))
    already = exists().where(M.c.account_id == account_id, M.c.list_id == stored.list_id,
                             M.c.record_id == matching.c.record_id)
    conn.execute(insert(M).from_select(
        ["account_id", "list_id", "record_id", "added_ms"],
        select(literal(account_id), literal(stored.list_id), matching.c.record_id,
               literal(now_ms)).where(~already)))
    size = int(conn.execute(select(func.count()).select_from(M).where(
        M.c.account_id == account_id, M.c.list_id == stored.list_id)).scalar_one())
    conn.execute(update(L).where(L.c.account_id == account_id, L.c.list_id == stored.list_id)
                 .values(size=size))
    return size


def member_page(conn: Connection, account_id: int, list_id: int, after: int | None,
                before: int | None, limit: int) -> tuple[list[tuple[int, int]], bool]:
    """Members by record id: ``limit`` after ``after`` (or the last ``limit`` before
    ``before``); ``(rows of (record id, joined ms), whether more follow)``."""
    query = select(M.c.record_id, M.c.added_ms).where(M.c.account_id == account_id,
                                                      M.c.list_id == list_id)
    if before is not None:
        rows = conn.execute(query.where(M.c.record_id < before)
                            .order_by(M.c.record_id.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        return [(int(a), int(b)) for a, b in reversed(rows[:limit])], more
    if after is not None:
        query = query.where(M.c.record_id > after)
    rows = conn.execute(query.order_by(M.c.record_id).limit(limit + 1)).all()
    return [(int(a), int(b)) for a, b in rows[:limit]], len(rows) > limit


def member_page_by_join(conn: Connection, account_id: int, list_id: int,
                        after: tuple[int, int] | None, limit: int
                        ) -> tuple[list[tuple[int, int]], bool]:
    """Members in the order they joined (join time, then record id)."""
    query = select(M.c.record_id, M.c.added_ms).where(M.c.account_id == account_id,
                                                      M.c.list_id == list_id)
    if after is not None:
        at, rid = after
        query = query.where((M.c.added_ms > at) | and_(M.c.added_ms == at,
                                                       M.c.record_id > rid))
    rows = conn.execute(query.order_by(M.c.added_ms, M.c.record_id).limit(limit + 1)).all()
    return [(int(a), int(b)) for a, b in rows[:limit]], len(rows) > limit


def record_lists(conn: Connection, account_id: int, record_id: int
                 ) -> list[tuple[StoredList, int]]:
    """The live lists the record is a member of, with its join time, by list id."""
    rows = conn.execute(select(L, M.c.added_ms).join(M, and_(
        M.c.account_id == L.c.account_id, M.c.list_id == L.c.list_id)).where(
        L.c.account_id == account_id, M.c.record_id == record_id, L.c.deleted_ms.is_(None))
        .order_by(L.c.list_id)).mappings()
    return [(_stored(r), int(r["added_ms"])) for r in rows]


def live_records(conn: Connection, account_id: int, object_type: str,
                 record_ids: Collection[int]) -> set[int]:
    ids = sorted(set(record_ids))
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(int(x) for x in conn.execute(select(R.c.record_id).where(
            R.c.account_id == account_id, R.c.object_type == object_type,
            R.c.archived.is_(False), R.c.record_id.in_(ids[start:start + _CHUNK]))).scalars())
    return found


def all_members(conn: Connection, account_id: int, list_id: int) -> set[int]:
    return {int(x) for x in conn.execute(select(M.c.record_id).where(
        M.c.account_id == account_id, M.c.list_id == list_id)).scalars()}
