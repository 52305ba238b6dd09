"""Reports (``reports``, migration 0016): saved definitions, and their figures as one
GROUP BY query.

The figures of a report are one statement: the live records of the object type that
match the filters (search's conditions, ``storage/search.groups_clause``), each joined to
its value of the group-by property and of the measured one, grouped by the value (a date
by its UTC bucket), then ranked so that the biggest ``max_groups`` groups come back
whole, "(no value)" apart, and every other group folded into one row. So a report never
reads a record into Python, and never returns more than ``max_groups + 2`` rows, however
many groups there are.

As of a past moment, values are read from ``property_history`` instead (each record's
last entry for the property at that moment; a cleared value is no value), and the records
are those created by then and not archived then. Filters are asked of those values too
(the same conditions, their ``property_values`` replaced by the values of that moment).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    TIMESTAMP,
    BigInteger,
    ColumnElement,
    Connection,
    Float,
    FromClause,
    Integer,
    RowMapping,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.sql import visitors

from propsync.domain.reports import GroupRow, ReportSpec, parse_report
from propsync.storage import tables as t
from propsync.storage.ids import allocate_id
from propsync.storage.search import COLUMNS, Condition, groups_clause

r, v, h = t.records, t.property_values, t.property_history


# -- saved reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredReport:
    report_id: int
    spec: ReportSpec
    created_ms: int
    updated_ms: int
    created_by: int | None
    updated_by: int | None

    @property
    def object_type(self) -> str:
        return self.spec.object_type

    @property
    def name(self) -> str:
        return self.spec.name


def _stored(row: RowMapping) -> StoredReport:
    return StoredReport(int(row["report_id"]), parse_report(json.loads(row["definition"])),
                        int(row["created_ms"]), int(row["updated_ms"]), row["created_by"],
                        row["updated_by"])


def insert_report(conn: Connection, account_id: int, spec: ReportSpec, user_id: int | None,
                  now_ms: int) -> StoredReport:
    """Store a new report under a fresh id (sequence ``reports``)."""
    report_id = allocate_id(conn, "reports")
    conn.execute(insert(t.reports), [{
        "account_id": account_id, "report_id": report_id, "object_type": spec.object_type,
        "name": spec.name, "definition": json.dumps(spec.definition), "created_ms": now_ms,
        "updated_ms": now_ms, "created_by": user_id, "updated_by": user_id}])
    found = load_report(conn, account_id, report_id)
    assert found is not None
    return found


def update_report(conn: Connection, account_id: int, report_id: int, spec: ReportSpec,
                  user_id: int | None, now_ms: int) -> StoredReport | None:
    """Replace the report's definition (its object type stays); None if it is gone."""
    rp = t.reports
    done = conn.execute(update(rp).where(
        rp.c.account_id == account_id, rp.c.report_id == report_id).values(
        name=spec.name, definition=json.dumps(spec.definition), updated_ms=now_ms,
        updated_by=user_id))
    return load_report(conn, account_id, report_id) if done.rowcount else None


def delete_report(conn: Connection, account_id: int, report_id: int) -> bool:
    rp = t.reports
    return bool(conn.execute(delete(rp).where(
        rp.c.account_id == account_id, rp.c.report_id == report_id)).rowcount)


def load_report(conn: Connection, account_id: int, report_id: int) -> StoredReport | None:
    rp = t.reports
    row = conn.execute(select(rp).where(rp.c.account_id == account_id,
                                        rp.c.report_id == report_id)).mappings().first()
    return None if row is None else _stored(row)


def list_reports(conn: Connection, account_id: int, object_types: Collection[str],
                 after: int, limit: int) -> tuple[list[StoredReport], bool]:
    """Up to ``limit`` reports of ``object_types`` with ids above ``after``, by id, and
    whether more follow."""
    rp = t.reports
    rows = conn.execute(select(rp).where(
        rp.c.account_id == account_id, rp.c.object_type.in_(sorted(object_types)),
        rp.c.report_id > after).order_by(rp.c.report_id).limit(limit + 1)).mappings().all()
    return [_stored(row) for row in rows[:limit]], len(rows) > limit


def reports_of_type(conn: Connection, account_id: int, object_type: str
                    ) -> list[StoredReport]:
    """Every report of ``object_type`` (for "Used in"), by id."""
    rp = t.reports
    rows = conn.execute(select(rp).where(rp.c.account_id == account_id,
                                         rp.c.object_type == object_type)
                        .order_by(rp.c.report_id)).mappings()
    return [_stored(row) for row in rows]


def reports_counting_list(conn: Connection, account_id: int, list_id: int
                          ) -> list[StoredReport]:
    """The reports that count the members of list ``list_id``, by id (an account's reports
    are few: ``MAX_REPORTS``)."""
    rp = t.reports
    rows = conn.execute(select(rp).where(rp.c.account_id == account_id)
                        .order_by(rp.c.report_id)).mappings()
    return [r for r in map(_stored, rows) if r.spec.list_id == list_id]


def count_reports(conn: Connection, account_id: int) -> int:
    rp = t.reports
    return int(conn.execute(select(func.count()).where(
        rp.c.account_id == account_id)).scalar_one())


# -- the figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """What a report groups by: a stored property (``property_id``) or a records column
    (``column``: a calculated property); a date one by ``bucket``."""

    property_id: int | None
    column: str | None
    bucket: str | None  # DAY / WEEK / MONTH / QUARTER for a date or date-time


@dataclass(frozen=True)
class FigureQuery:
    object_type: str
    grouping: Grouping
    measure: str  # COUNT / SUM / AVERAGE
    measure_property_id: int | None
    groups: Sequence[Sequence[Condition]]  # the filters (for as-of: built with synced=False)
    max_groups: int
    as_of_ms: int | None = None
    # As of a moment: the types of the stored properties the report reads, to read their
    # values' numbers back from history's text ({property_id: "number" / "date" / ...}).
    types: Mapping[int, str] | None = None
    list_id: int | None = None  # only the list's members (as they are now)


def group_rows(conn: Connection, account_id: int, q: FigureQuery) -> list[GroupRow]:
    """The report's groups, as one statement (see the module's docstring)."""
    dates = DATES[conn.dialect.name == "sqlite"]
    values = v if q.as_of_ms is None else values_at(account_id, q, dates)
    where = records_where(account_id, q, values)
    reader = ValueReader(account_id, q.as_of_ms, dict(q.types or {}), dates)
    key = group_key(q.grouping, reader, dates, "gv")
    if q.measure_property_id is not None:
        measure = reader.number(q.measure_property_id, "mv")
        measured: ColumnElement[Any] = func.count(measure)
        total: ColumnElement[Any] = func.sum(measure)
    else:
        measured, total = literal_column("0"), cast(null(), Float)
    joined = reader.joined
    g = select(key.label("key"), func.count().label("records"), measured.label("measured"),
               total.label("total")).select_from(joined).where(where).group_by(key) \
        .subquery("g")
    metric = {"COUNT": g.c.records, "SUM": func.coalesce(g.c.total, 0.0),
              "AVERAGE": g.c.total / func.nullif(g.c.measured, 0)}[q.measure]
    rank = func.row_number().over(partition_by=g.c.key.is_(None),
                                  order_by=[metric.is_(None), metric.desc(), g.c.key])
    # A CTE, read by both halves of the UNION: the grouping runs once (as a subquery it
    # ran once per half, which doubled a report's time).
    ranked = select(g, rank.label("rn")).cte("ranked")
    kept = select(ranked.c.key, ranked.c.records, ranked.c.measured, ranked.c.total,
                  literal(1).label("kept"), literal(0).label("folded")).where(
        or_(ranked.c.key.is_(None), ranked.c.rn <= q.max_groups))
    rest = select(cast(null(), String), func.coalesce(func.sum(ranked.c.records), 0),
                  func.coalesce(func.sum(ranked.c.measured), 0), func.sum(ranked.c.total),
                  literal(0), func.count()).where(ranked.c.key.is_not(None),
                                                  ranked.c.rn > q.max_groups)
    return [GroupRow(row[0], int(row[1]), int(row[2]),
                     None if row[3] is None else float(row[3]), bool(row[4]), int(row[5]))
            for row in conn.execute(union_all(kept, rest))]


def records_where(account_id: int, q: FigureQuery, values: FromClause
                   ) -> ColumnElement[bool]:
    """The records a report counts: live ones of its type that match its filters (as of
    a moment: created by then and not archived then, matching then).

    A report restricted to a list counts its members as they are now, also as of a past
    moment (memberships keep no history)."""
    clauses = [r.c.account_id == account_id, r.c.object_type == q.object_type]
    if q.list_id is not None:
        m = t.list_memberships
        clauses.append(r.c.record_id.in_(select(m.c.record_id).where(
            m.c.account_id == account_id, m.c.list_id == q.list_id)))
    filters = groups_clause(account_id, q.groups)
    if q.as_of_ms is None:
        clauses.append(r.c.archived.is_(False))
    else:
        clauses += [r.c.created_ms <= q.as_of_ms,
                    or_(r.c.archived.is_(False),
                        func.coalesce(r.c.archived_ms, 0) > q.as_of_ms)]
        filters = _over(filters, values)
    return and_(*clauses, filters)


def _over(clause: ColumnElement[bool], values: FromClause) -> ColumnElement[bool]:
    """``clause`` with every column of ``property_values`` read from ``values`` instead."""
    def swap(element: Any, **_: Any) -> Any:
        if getattr(element, "table", None) is v and hasattr(element, "name"):
            return values.c[element.name]
        return None
    return visitors.replacement_traverse(clause, {}, swap)


def values_at(account_id: int, q: FigureQuery, dates: Dates) -> FromClause:
    """Each record's value of each property the report reads, as of ``q.as_of_ms``: its
    last history entry by then (a cleared value: none), with the number a comparison
    needs, in ``property_values``' columns; read once (a materialized CTE)."""
    assert q.as_of_ms is not None and q.types is not None
    last = func.row_number().over(partition_by=[h.c.record_id, h.c.property_id],
                                  order_by=[h.c.timestamp_ms.desc(), h.c.history_id.desc()])
    entries = select(h.c.account_id, h.c.record_id, h.c.property_id, h.c.value,
                     last.label("rn")).where(
        h.c.account_id == account_id, h.c.property_id.in_(sorted(q.types)),
        h.c.timestamp_ms <= q.as_of_ms).subquery("entries")
    numbers = [pid for pid, kind in q.types.items() if kind == "number"]
    moments = [pid for pid, kind in q.types.items() if kind in ("date", "datetime")]
    num = case((entries.c.property_id.in_(numbers), cast(entries.c.value, Float)),
               (entries.c.property_id.in_(moments), dates.epoch_ms(entries.c.value)),
               else_=cast(null(), Float))
    at = select(entries.c.account_id, entries.c.record_id, entries.c.property_id,
                entries.c.value, num.label("num"), cast(null(), BigInteger).label("source_id")
                ).where(entries.c.rn == 1, entries.c.value.is_not(None))
    return at.cte("values_at").prefix_with("MATERIALIZED")


def group_key(grouping: Grouping, reader: ValueReader, dates: Dates, alias: str
              ) -> ColumnElement[Any]:
    """The value a record is grouped by: a records column, or a property's value (its
    number's bucket for a date) read by ``reader`` (joined as ``alias`` now)."""
    if grouping.property_id is None:
        assert grouping.column is not None
        column = r.c[COLUMNS.get(grouping.column, grouping.column)]
        if grouping.bucket is None:
            return cast(column, String)
        return dates.bucket(column, grouping.bucket)
    if grouping.bucket is None:
        return reader.value(grouping.property_id, alias)
    return dates.bucket(reader.number(grouping.property_id, alias), grouping.bucket)


class ValueReader:
    """A record's value of a property, now (``property_values`` joined by its key) or as
    of a moment: its last history entry by then, asked per record through the history's
    key (account, record, property) — not a join with the materialized history CTE,
    which SQLite, without statistics, scanned once per record (a report as of a date
    took 0.73 s at 4,000 contacts, 14-19 s at 20,000; per record: 0.025 s at 4,000).
    ``joined``: the records with what ``value`` and ``number`` joined (now)."""

    def __init__(self, account_id: int, as_of_ms: int | None, types: dict[int, str],
                 dates: Dates) -> None:
        self.account_id, self.as_of_ms, self.types, self.dates = (account_id, as_of_ms,
                                                                   types, dates)
        self.joined: FromClause = r
        self._aliases: dict[str, FromClause] = {}

    def _now(self, pid: int, alias: str) -> FromClause:
        if alias not in self._aliases:
            pv = v.alias(alias)
            self.joined = self.joined.outerjoin(pv, and_(
                pv.c.account_id == self.account_id, pv.c.record_id == r.c.record_id,
                pv.c.property_id == pid))
            self._aliases[alias] = pv
        return self._aliases[alias]

    def _then(self, pid: int) -> ColumnElement[Any]:
        e = h.alias()
        return select(e.c.value).where(
            e.c.account_id == self.account_id, e.c.record_id == r.c.record_id,
            e.c.property_id == pid, e.c.timestamp_ms <= self.as_of_ms,
        ).order_by(e.c.timestamp_ms.desc(), e.c.history_id.desc()).limit(1) \
            .scalar_subquery()

    def value(self, pid: int | None, alias: str) -> ColumnElement[Any]:
        if pid is None:
            return cast(null(), String)
        if self.as_of_ms is None:
            return self._now(pid, alias).c.value
        return self._then(pid)

    def number(self, pid: int | None, alias: str) -> ColumnElement[Any]:
        if pid is None:
            return cast(null(), Float)
        if self.as_of_ms is None:
            return self._now(pid, alias).c.num
        text = self._then(pid)
        if self.types.get(pid) in ("date", "datetime"):
            return self.dates.epoch_ms(text)
        return cast(text, Float)



class Dates:
    """How one store spells a UTC date bucket of epoch milliseconds, and reads a stored
    date or date-time's text back as epoch milliseconds. Every constant is spelled out
    (not bound), so that the GROUP BY repeats the select list's expression exactly."""

    def bucket(self, ms: ColumnElement[Any], bucket: str) -> ColumnElement[str]:
        raise NotImplementedError

    def epoch_ms(self, text: ColumnElement[Any]) -> ColumnElement[float]:
        raise NotImplementedError


def _const(text: str) -> ColumnElement[Any]:
    return literal_column(f"'{text}'")


class _SqliteDates(Dates):
    def bucket(self, ms: ColumnElement[Any], bucket: str) -> ColumnElement[str]:
        seconds = ms.op("/")(literal_column("1000.0"))
        epoch = _const("unixepoch")
        if bucket == "DAY":
            return func.date(seconds, epoch, type_=String)
        if bucket == "WEEK":  # to the next Sunday (or this one), then back to its Monday
            return func.date(seconds, epoch, _const("weekday 0"), _const("-6 days"),
                             type_=String)
        if bucket == "MONTH":
            return func.strftime(_const("%Y-%m"), seconds, epoch, type_=String)
        month = cast(func.strftime(_const("%m"), seconds, epoch), Integer)
        quarter = month.op("+")(literal_column("2")).op("/")(literal_column("3"))  # whole
        return func.strftime(_const("%Y"), seconds, epoch, type_=String).concat(
            _const("-Q")).concat(cast(quarter, String))

    def epoch_ms(self, text: ColumnElement[Any]) -> ColumnElement[float]:
        days = func.julianday(text).op("-")(literal_column("2440587.5"))
        return func.round(days.op("*")(literal_column("86400000.0")), type_=Float)


class _PostgresDates(Dates):
    def bucket(self, ms: ColumnElement[Any], bucket: str) -> ColumnElement[str]:
        seconds = ms.op("/")(literal_column("1000.0"))
        moment = func.timezone(_const("UTC"), func.to_timestamp(seconds))
        if bucket == "WEEK":  # ISO weeks start on Monday
            return func.to_char(func.date_trunc(_const("week"), moment), _const("YYYY-MM-DD"),
                                type_=String)
        spelling = {"DAY": "YYYY-MM-DD", "MONTH": "YYYY-MM", "QUARTER": 'YYYY-"Q"Q'}[bucket]
        return func.to_char(moment, _const(spelling), type_=String)

    def epoch_ms(self, text: ColumnElement[Any]) -> ColumnElement[float]:
        # A stored date-time's text is always UTC ("...Z"), which a timestamp without time
        # zone reads as it is; its epoch is then counted from 1970-01-01 UTC.
        seconds = func.extract("epoch", cast(text, TIMESTAMP))
        return cast(seconds.op("*")(literal_column("1000")), Float)


DATES: dict[bool, Dates] = {True: _SqliteDates(), False: _PostgresDates()}
