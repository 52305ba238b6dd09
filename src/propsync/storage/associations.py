"""Associations between records, stored once per direction and type, and user-defined labels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, tuple_, update

from propsync.domain.associations import (
    BUILT_IN_TYPES,
    FIRST_USER_DEFINED_TYPE_ID,
    USER_DEFINED,
    AssociationType,
)
from propsync.domain.changes import Change, ChangeKind
from propsync.storage import tables as t
from propsync.storage.changes import append_changes
from propsync.storage.dialects import insert_ignore


@dataclass(frozen=True)
class Link:
    """One association type between two records, in the type's direction."""

    from_type: str
    from_id: int
    to_type: str
    to_id: int
    type: AssociationType


def load_types(conn: Connection, account_id: int) -> dict[int, AssociationType]:
    """Every association type of the account: HubSpot's and the user-defined labels."""
    types = dict(BUILT_IN_TYPES)
    a = t.association_types
    for r in conn.execute(select(a).where(a.c.account_id == account_id)):
        types[r.type_id] = AssociationType(
            r.type_id, USER_DEFINED, r.from_type, r.to_type, r.inverse_id, r.label, r.name)
    return types


def next_user_type_id(conn: Connection, account_id: int) -> int:
    a = t.association_types
    top = conn.execute(
        select(func.max(a.c.type_id)).where(a.c.account_id == account_id)).scalar()
    return max(FIRST_USER_DEFINED_TYPE_ID, (top or 0) + 1)


def insert_user_types(conn: Connection, account_id: int, types: Sequence[AssociationType]) -> None:
    unique = {ty.type_id: ty for ty in types}.values()
    conn.execute(insert(t.association_types), [
        {"account_id": account_id, "type_id": ty.type_id, "from_type": ty.from_type,
         "to_type": ty.to_type, "inverse_id": ty.inverse_id, "label": ty.label or "",
         "name": ty.name}
        for ty in unique
    ])


def relabel_user_type(conn: Connection, account_id: int, type_id: int, label: str) -> None:
    a = t.association_types
    conn.execute(update(a).where(a.c.account_id == account_id, a.c.type_id == type_id)
                 .values(label=label))


def delete_user_types(conn: Connection, account_id: int, type_ids: Collection[int]) -> None:
    """Remove labels, and every association of those types."""
    for table in (t.associations, t.association_types):
        conn.execute(delete(table).where(
            table.c.account_id == account_id, table.c.type_id.in_(list(type_ids))))


def add_links(
    conn: Connection, account_id: int, links: Sequence[Link],
    types: dict[int, AssociationType], now_ms: int,
) -> None:
    """Store ``links`` in both directions, moving Primary labels as the rule says."""
    for link in links:
        _release_primary(conn, account_id, link, types, now_ms)
    rows = []
    for link in links:
        inverse = types[link.type.inverse_id]
        rows.append(_row(account_id, link.from_type, link.from_id, link.to_type, link.to_id,
                         link.type.type_id, now_ms))
        rows.append(_row(account_id, link.to_type, link.to_id, link.from_type, link.from_id,
                         inverse.type_id, now_ms))
    insert_ignore(conn, t.associations, rows)
    _record_pairs(conn, account_id, ChangeKind.ASSOCIATED, links, now_ms)


def _row(
    account_id: int, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int,
    now_ms: int,
) -> dict[str, object]:
    return {"account_id": account_id, "from_id": from_id, "to_type": to_type, "to_id": to_id,
            "type_id": type_id, "from_type": from_type, "created_ms": now_ms}


def _release_primary(
    conn: Connection, account_id: int, link: Link, types: dict[int, AssociationType],
    now_ms: int,
) -> None:
    """A record has at most one Primary: the old pair loses that label, keeps the others."""
    if link.type.is_primary:
        owner, owned_type, primary = link.from_id, link.to_type, link.type
        keep = link.to_id
    elif types[link.type.inverse_id].is_primary:
        owner, owned_type, primary = link.to_id, link.from_type, types[link.type.inverse_id]
        keep = link.from_id
    else:
        return
    a = t.associations
    previous = [r[0] for r in conn.execute(select(a.c.to_id).where(
        a.c.account_id == account_id, a.c.from_id == owner, a.c.to_type == owned_type,
        a.c.type_id == primary.type_id, a.c.to_id != keep))]
    if previous:
        owner_type = primary.from_type
        remove_links(conn, account_id, [
            Link(owner_type, owner, owned_type, other, primary) for other in previous
        ], types, now_ms)


def remove_links(
    conn: Connection, account_id: int, links: Sequence[Link],
    types: dict[int, AssociationType], now_ms: int,
) -> None:
    """Remove the given types between the given pairs, in both directions."""
    keys = []
    for link in links:
        keys.append((link.from_id, link.to_id, link.type.type_id))
        keys.append((link.to_id, link.from_id, types[link.type.inverse_id].type_id))
    a = t.associations
    for start in range(0, len(keys), 500):
        conn.execute(delete(a).where(
            a.c.account_id == account_id,
            tuple_(a.c.from_id, a.c.to_id, a.c.type_id).in_(keys[start:start + 500])))
    _record_pairs(conn, account_id, ChangeKind.DISSOCIATED, links, now_ms)


def remove_pairs(
    conn: Connection, account_id: int, from_type: str, to_type: str,
    pairs: Sequence[tuple[int, int]], now_ms: int,
) -> None:
    """Remove every association type between each pair."""
    a = t.associations
    keys = [(f, to) for f, to in pairs] + [(to, f) for f, to in pairs]
    for start in range(0, len(keys), 500):
        conn.execute(delete(a).where(
            a.c.account_id == account_id,
            tuple_(a.c.from_id, a.c.to_id).in_(keys[start:start + 500])))
    changes = [Change(ChangeKind.DISSOCIATED, from_type, f, related_type=to_type, related_id=to)
               for f, to in pairs]
    append_changes(conn, account_id, changes, now_ms)


def _record_pairs(
    conn: Connection, account_id: int, kind: ChangeKind, links: Sequence[Link], now_ms: int
) -> None:
    seen = {(lk.from_type, lk.from_id, lk.to_type, lk.to_id) for lk in links}
    append_changes(conn, account_id, [
        Change(kind, ft, fid, related_type=tt, related_id=tid) for ft, fid, tt, tid in sorted(seen)
    ], now_ms)


def load_links(
    conn: Connection, account_id: int, from_ids: Collection[int], to_type: str,
    after: int = 0, limit: int | None = None,
) -> dict[int, dict[int, list[int]]]:
    """``{from_id: {to_id: [type ids]}}`` to non-archived records, in ``to_id`` order.

    With ``limit``, at most that many distinct ``to_id`` per call (for paging one record).
    """
    a, r = t.associations, t.records
    stmt = (
        select(a.c.from_id, a.c.to_id, a.c.type_id)
        .join(r, (r.c.account_id == a.c.account_id) & (r.c.record_id == a.c.to_id))
        .where(a.c.account_id == account_id, a.c.from_id.in_(list(from_ids)),
               a.c.to_type == to_type, a.c.to_id > after, r.c.archived.is_(False))
        .order_by(a.c.from_id, a.c.to_id, a.c.type_id)
    )
    if limit is not None:
        wanted = (
            select(a.c.to_id).join(r, (r.c.account_id == a.c.account_id)
                                   & (r.c.record_id == a.c.to_id))
            .where(a.c.account_id == account_id, a.c.from_id.in_(list(from_ids)),
                   a.c.to_type == to_type, a.c.to_id > after, r.c.archived.is_(False))
            .group_by(a.c.to_id).order_by(a.c.to_id).limit(limit)
        )
        stmt = stmt.where(a.c.to_id.in_(wanted.scalar_subquery()))
    result: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for from_id, to_id, type_id in conn.execute(stmt):
        result[from_id][to_id].append(type_id)
    return result


def move_links(
    conn: Connection, account_id: int, from_record: int, into_record: int,
    types: dict[int, AssociationType], now_ms: int,
) -> None:
    """Give ``into_record`` every association ``from_record`` has (merge), then drop the old."""
    a = t.associations
    rows = list(conn.execute(select(a).where(
        a.c.account_id == account_id, a.c.from_id == from_record)))
    links = [Link(r.from_type, into_record, r.to_type, r.to_id, types[r.type_id])
             for r in rows if r.to_id != into_record and r.type_id in types]
    pairs = sorted({(r.to_type, r.to_id) for r in rows})
    for to_type, to_id in pairs:
        remove_pairs(conn, account_id, rows[0].from_type, to_type, [(from_record, to_id)], now_ms)
    # The survivor's own Primary wins over the merged record's.
    own_primary = {
        r.type_id for r in conn.execute(select(a.c.type_id).where(
            a.c.account_id == account_id, a.c.from_id == into_record))
        if types.get(r.type_id) and types[r.type_id].is_primary
    }
    add_links(conn, account_id,
              [lk for lk in links if lk.type.type_id not in own_primary], types, now_ms)
