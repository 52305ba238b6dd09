"""The migration's comparisons (step 5), set-based: a list against its clone by members,
a report against its clone by the records that change group.

Lists: the members of one list that the other lacks, counted exactly (one
``NOT EXISTS`` count) and a page of them by record id, each with the values of the
replaced property and of the one in its place. Reports: each record's group under both
definitions (``storage/reports``' own record filter and group key, so "counted and in
which group" means exactly what the figures mean), the records whose group, membership or
measured value differs counted per group they left or joined, and a bounded sample of
them per group (``row_number()`` over each group), all in one statement each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    FromClause,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from propsync.storage import tables as t
from propsync.storage.reports import (  # the figures' own pieces: the same meaning here
    DATES,
    FigureQuery,
    ValueReader,
    group_key,
    records_where,
    values_at,
)

M, R, V, H = t.list_memberships, t.records, t.property_values, t.property_history


@dataclass(frozen=True)
class MemberRow:
    record_id: int
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class MemberDifference:
    """Members of one list the other lacks: how many (``total``; ``stale``: of them, those
    whose two values differ), and a page by record id."""

    total: int
    stale: int
    rows: list[MemberRow]
    more: bool


def members_only_in(conn: Connection, account_id: int, list_id: int, other_id: int,
                    old_id: int | None, new_id: int | None, after: int | None, limit: int
                    ) -> MemberDifference:
    """The members of ``list_id`` that are not members of ``other_id``."""
    m, o = M.alias("m"), M.alias("o")
    ov, nv = V.alias("ov"), V.alias("nv")
    lacking = ~exists().where(o.c.account_id == account_id, o.c.list_id == other_id,
                              o.c.record_id == m.c.record_id)
    joined: FromClause = m.join(R, and_(R.c.account_id == m.c.account_id,
                                        R.c.record_id == m.c.record_id))
    old_value: ColumnElement[Any] = cast(null(), String)
    new_value: ColumnElement[Any] = cast(null(), String)
    if old_id is not None:
        joined = joined.outerjoin(ov, and_(ov.c.account_id == account_id,
                                           ov.c.record_id == m.c.record_id,
                                           ov.c.property_id == old_id))
        old_value = ov.c.value
    if new_id is not None:
        joined = joined.outerjoin(nv, and_(nv.c.account_id == account_id,
                                           nv.c.record_id == m.c.record_id,
                                           nv.c.property_id == new_id))
        new_value = nv.c.value
    where = and_(m.c.account_id == account_id, m.c.list_id == list_id,
                 R.c.archived.is_(False), lacking)
    differs = old_value.is_distinct_from(new_value) if old_id is not None and \
        new_id is not None else false()
    total, stale = conn.execute(select(
        func.count(), func.coalesce(func.sum(case((differs, 1), else_=0)), 0))
        .select_from(joined).where(where)).one()
    page = select(m.c.record_id, old_value.label("old"), new_value.label("new")) \
        .select_from(joined).where(where)
    if after is not None:
        page = page.where(m.c.record_id > after)
    rows = conn.execute(page.order_by(m.c.record_id).limit(limit + 1)).all()
    return MemberDifference(int(total), int(stale),
                            [MemberRow(int(a), b, c) for a, b, c in rows[:limit]],
                            len(rows) > limit)


@dataclass(frozen=True)
class MovedRow:
    """A record counted differently by the two reports: in which group of each (``None``
    with ``counted_*`` False: not counted there), and the replaced property's values."""

    record_id: int
    counted_first: bool
    key_first: str | None
    counted_second: bool
    key_second: str | None
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class Moves:
    total: int  # every record counted differently
    left: dict[str | None, int]  # group key (of the first report) → records that left it
    joined: dict[str | None, int]  # group key (of the second) → records that joined it
    sample: list[MovedRow]  # up to ``per_group`` a group and direction, by record id


def moved_records(conn: Connection, account_id: int, first: FigureQuery,
                  second: FigureQuery, keys: Sequence[str | None], old_id: int | None,
                  new_id: int | None, per_group: int) -> Moves:
    """The records the two reports (of one object type) count differently: in one and
    not the other, in another group, or measured by another value. Counted per group
    among ``keys`` (the groups whose figures differ) and sampled there."""
    assert first.object_type == second.object_type
    moved = _moved(conn, account_id, first, second, old_id, new_id)
    total = int(conn.execute(select(func.count()).select_from(moved)).scalar_one())
    left: dict[str | None, int] = {}
    joined: dict[str | None, int] = {}
    if not total or not keys:
        return Moves(total, left, joined, [])
    ends_of = (("L", moved.c.in_a, moved.c.key_a), ("J", moved.c.in_b, moved.c.key_b))
    sides = union_all(*[
        select(literal_column(f"'{side}'").label("side"), key.label("key"),
               moved.c.record_id, moved.c.in_a, moved.c.key_a, moved.c.in_b, moved.c.key_b,
               moved.c.old, moved.c.new).where(counted == 1, _among(key, keys))
        for side, counted, key in ends_of]).subquery("sides")
    for side, key, n in conn.execute(select(sides.c.side, sides.c.key, func.count())
                                     .group_by(sides.c.side, sides.c.key)):
        (left if side == "L" else joined)[key] = int(n)
    rank = func.row_number().over(partition_by=[sides.c.side, sides.c.key],
                                  order_by=sides.c.record_id)
    ranked = select(sides, rank.label("rn")).subquery("ranked")
    rows = conn.execute(select(ranked).where(ranked.c.rn <= per_group)
                        .order_by(ranked.c.record_id, ranked.c.side)).mappings()
    sample: dict[int, MovedRow] = {}  # a record sampled for the group it left and joined
    for row in rows:
        sample.setdefault(int(row["record_id"]), MovedRow(
            int(row["record_id"]), bool(row["in_a"]), row["key_a"], bool(row["in_b"]),
            row["key_b"], row["old"], row["new"]))
    return Moves(total, left, joined, list(sample.values()))


def _moved(conn: Connection, account_id: int, first: FigureQuery, second: FigureQuery,
           old_id: int | None, new_id: int | None) -> CTE:
    """Each record either report counts, with whether and where each counts it and the
    two shown values, kept when the two differ (a CTE)."""
    dates = DATES[conn.dialect.name == "sqlite"]
    values: FromClause = V
    if first.as_of_ms is not None:  # the filters' values then (as the figures read them)
        values = values_at(account_id, replace(first, types={
            **(first.types or {}), **(second.types or {})}), dates)
    reader = ValueReader(account_id, first.as_of_ms, {**(first.types or {}),
                                                      **(second.types or {})}, dates)
    ends = []
    for n, q in enumerate((first, second)):
        key = group_key(q.grouping, reader, dates, f"g{n}")
        ends.append((records_where(account_id, q, values), key,
                     reader.number(q.measure_property_id, f"m{n}")))
    old, new = reader.value(old_id, "p0"), reader.value(new_id, "p1")
    (where_a, key_a, measure_a), (where_b, key_b, measure_b) = ends
    each = select(
        R.c.record_id, case((where_a, 1), else_=0).label("in_a"), key_a.label("key_a"),
        case((where_b, 1), else_=0).label("in_b"), key_b.label("key_b"),
        measure_a.label("measure_a"), measure_b.label("measure_b"),
        old.label("old"), new.label("new"),
    ).select_from(reader.joined).where(R.c.account_id == account_id,
                                       R.c.object_type == first.object_type,
                                       or_(where_a, where_b)).cte("each_record")
    same = and_(each.c.in_a == 1, each.c.in_b == 1,
                each.c.key_a.is_not_distinct_from(each.c.key_b),
                each.c.measure_a.is_not_distinct_from(each.c.measure_b))
    return select(each).where(~same).cte("moved")


def _among(key: ColumnElement[Any], keys: Sequence[str | None]) -> ColumnElement[bool]:
    named = sorted({k for k in keys if k is not None})
    clauses: list[ColumnElement[bool]] = []
    if named:
        clauses.append(key.in_(named))
    if None in keys:
        clauses.append(key.is_(None))
    return or_(false(), *clauses)
