"""Associations between records, stored once per direction and type, and user-defined labels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Connection,
    column,
    delete,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
    values,
)

from propsync.domain.associations import (
    BUILT_IN_TYPES,
    FIRST_USER_DEFINED_TYPE_ID,
    USER_DEFINED,
    AssociationType,
)
from propsync.domain.changes import Change, ChangeKind
from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.storage import association_limits as limit_store
from propsync.storage import tables as t
from propsync.storage.changes import append_changes
from propsync.storage.db import is_postgres
from propsync.storage.dialects import insert_ignore

# pg_advisory_xact_lock key class of label writers (distinct from storage.changes' class).
_LABELS_LOCK_CLASS = 0x4C41_0000_0000


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
    """The next free USER_DEFINED type id (hold ``lock_user_types`` to keep it free)."""
    a = t.association_types
    top = conn.execute(
        select(func.max(a.c.type_id)).where(a.c.account_id == account_id)).scalar()
    return max(FIRST_USER_DEFINED_TYPE_ID, (top or 0) + 1)


def insert_user_types(conn: Connection, account_id: int, types: Sequence[AssociationType]) -> None:
    """Store new USER_DEFINED types (a same-type label without inverse is one row)."""
    unique = {ty.type_id: ty for ty in types}.values()
    conn.execute(insert(t.association_types), [
        {"account_id": account_id, "type_id": ty.type_id, "from_type": ty.from_type,
         "to_type": ty.to_type, "inverse_id": ty.inverse_id, "label": ty.label or "",
         "name": ty.name}
        for ty in unique
    ])


def relabel_user_type(conn: Connection, account_id: int, type_id: int, label: str) -> None:
    """Rename one USER_DEFINED type; its associations are unchanged, so nothing is logged."""
    a = t.association_types
    conn.execute(update(a).where(a.c.account_id == account_id, a.c.type_id == type_id)
                 .values(label=label))


def delete_user_types(
    conn: Connection, account_id: int, type_ids: Collection[int], now_ms: int
) -> None:
    """Remove labels and every association of those types; each pair is logged as dissociated."""
    a = t.associations
    rows = conn.execute(select(a.c.from_type, a.c.from_id, a.c.to_type, a.c.to_id).where(
        a.c.account_id == account_id, a.c.type_id.in_(list(type_ids)))).all()
    for table in (t.associations, t.association_types, t.association_limits):
        conn.execute(delete(table).where(
            table.c.account_id == account_id, table.c.type_id.in_(list(type_ids))))
    ends = [((r.from_type, r.from_id), (r.to_type, r.to_id)) for r in rows]
    pairs = sorted({(min(a_end, b_end), max(a_end, b_end)) for a_end, b_end in ends})
    append_changes(conn, account_id, [
        Change(ChangeKind.DISSOCIATED, ft, fid, related_type=tt, related_id=tid)
        for (ft, fid), (tt, tid) in pairs
    ], now_ms)


def lock_user_types(conn: Connection, account_id: int) -> None:
    """Hold off other label writers of the account until commit (SQLite serializes anyway)."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                     {"k": _LABELS_LOCK_CLASS + account_id})


def add_links(
    conn: Connection, account_id: int, links: Sequence[Link],
    types: dict[int, AssociationType], now_ms: int,
) -> None:
    """Store ``links`` in both directions; a record keeps at most one Primary of each kind.

    When ``links`` give one record several Primary records, the last one wins. A Primary
    held by another pair (even with an archived record) moves: that pair loses only that
    type. Records gaining a Primary are locked first, so concurrent writers queue.
    """
    links = _last_primary_wins(links, types)
    claims = [c for c in (_primary_claim(lk, types) for lk in links) if c is not None]
    rows = []
    for link in links:
        inverse = types[link.type.inverse_id]
        rows.append(_row(account_id, link.from_type, link.from_id, link.to_type, link.to_id,
                         link.type.type_id, now_ms))
        rows.append(_row(account_id, link.to_type, link.to_id, link.from_type, link.from_id,
                         inverse.type_id, now_ms))
    limits = limit_store.load_limits(conn, account_id) if rows else {}
    ends = [(lk.from_id, lk.type.type_id) for lk in links] + [
        (lk.to_id, lk.type.inverse_id) for lk in links]
    limited = {key for key in ends if key[1] in limits}
    # One ordered lock over every record whose Primary or limited count this changes, so
    # that concurrent writers queue here and each counts what the others committed.
    _lock_records(conn, account_id, {c.owner for c in claims} | {f for f, _ in limited})
    for claim in claims:
        _release_primary(conn, account_id, claim, types, now_ms)
    insert_ignore(conn, t.associations, rows)
    _refuse_over_limit(conn, account_id, limited, limits, types)
    _record_pairs(conn, account_id, ChangeKind.ASSOCIATED, links, now_ms)


def _refuse_over_limit(
    conn: Connection, account_id: int, keys: Collection[tuple[int, int]],
    limits: dict[int, int], types: dict[int, AssociationType],
) -> None:
    """400 (and the caller's transaction rolls back) if a record now has more associations
    of a type than the account's limit for it."""
    over = limit_store.over_limit(conn, account_id, keys, limits)
    if not over:
        return
    record, type_id, count = over[0]
    ty = types[type_id]
    what = f"label {ty.label!r}" if ty.label else f"type {type_id}"
    message = (f"{ty.from_type} record {record} would have {count} associations of {what} "
               f"with {ty.to_type}; this account allows at most {limits[type_id]}. Remove "
               "some first, or raise the limit (association configurations). Nothing was "
               "changed.")
    raise ValidationError(message, [ErrorDetail(
        message, "ASSOCIATION_LIMIT_EXCEEDED",
        {"fromObjectId": [str(f) for f, _, _ in over],
         "associationTypeId": sorted({str(tid) for _, tid, _ in over})})])


@dataclass(frozen=True)
class _PrimaryClaim:
    """``owner`` (a record of ``primary.from_type``) takes ``keep`` as its Primary."""

    owner: int
    keep: int
    primary: AssociationType


def _primary_claim(link: Link, types: dict[int, AssociationType]) -> _PrimaryClaim | None:
    """The Primary ``link`` gives, from whichever end it was written."""
    if link.type.is_primary:
        return _PrimaryClaim(link.from_id, link.to_id, link.type)
    inverse = types[link.type.inverse_id]
    if inverse.is_primary:
        return _PrimaryClaim(link.to_id, link.from_id, inverse)
    return None


def _last_primary_wins(
    links: Sequence[Link], types: dict[int, AssociationType]
) -> list[Link]:
    """``links`` without the Primary links that a later link of the same owner overrides."""
    winner: dict[tuple[int, int], int] = {}
    kept: list[Link] = []
    for link in reversed(links):
        claim = _primary_claim(link, types)
        if claim is not None:
            key = (claim.owner, claim.primary.type_id)
            if winner.setdefault(key, claim.keep) != claim.keep:
                continue
        kept.append(link)
    return kept[::-1]


def _lock_records(conn: Connection, account_id: int, ids: Collection[int]) -> None:
    """Row locks on ``ids`` in id order (PostgreSQL; SQLite has one writer at a time)."""
    if not ids or not is_postgres(conn):
        return
    r = t.records
    conn.execute(select(r.c.record_id).where(
        r.c.account_id == account_id, r.c.record_id.in_(sorted(ids)))
        .order_by(r.c.record_id).with_for_update())


def _row(
    account_id: int, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int,
    now_ms: int,
) -> dict[str, object]:
    return {"account_id": account_id, "from_id": from_id, "to_type": to_type, "to_id": to_id,
            "type_id": type_id, "from_type": from_type, "created_ms": now_ms}


def _release_primary(
    conn: Connection, account_id: int, claim: _PrimaryClaim,
    types: dict[int, AssociationType], now_ms: int,
) -> None:
    """The owner's other Primary pairs (archived records included) lose that type only."""
    a, primary = t.associations, claim.primary
    previous = [r[0] for r in conn.execute(select(a.c.to_id).where(
        a.c.account_id == account_id, a.c.from_id == claim.owner,
        a.c.to_type == primary.to_type, a.c.type_id == primary.type_id,
        a.c.to_id != claim.keep))]
    remove_links(conn, account_id, [
        Link(primary.from_type, claim.owner, primary.to_type, other, primary)
        for other in previous
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


def load_link_pages(
    conn: Connection, account_id: int, starts: Collection[tuple[int, int]], to_type: str,
    limit: int,
) -> dict[tuple[int, int], dict[int, list[int]]]:
    """For each ``(from_id, after)``: ``{to_id: [type ids]}`` of the first ``limit``
    non-archived records after ``after``, in ``to_id`` order; one statement for them all."""
    if not starts:
        return {}
    a, r = t.associations, t.records
    wanted = values(column("from_id", BigInteger), column("after", BigInteger),
                    name="wanted").data(list(starts)).cte("wanted")
    ranked = (
        select(wanted.c.from_id, wanted.c.after, a.c.to_id, a.c.type_id,
               func.dense_rank().over(partition_by=(wanted.c.from_id, wanted.c.after),
                                      order_by=a.c.to_id).label("n"))
        .join(a, (a.c.account_id == account_id) & (a.c.from_id == wanted.c.from_id)
              & (a.c.to_type == to_type) & (a.c.to_id > wanted.c.after))
        .join(r, (r.c.account_id == a.c.account_id) & (r.c.record_id == a.c.to_id))
        .where(r.c.archived.is_(False))
    ).subquery()
    stmt = (select(ranked.c.from_id, ranked.c.after, ranked.c.to_id, ranked.c.type_id)
            .where(ranked.c.n <= limit)
            .order_by(ranked.c.from_id, ranked.c.after, ranked.c.to_id, ranked.c.type_id))
    result: dict[tuple[int, int], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for from_id, after, to_id, type_id in conn.execute(stmt):
        result[(from_id, after)][to_id].append(type_id)
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
