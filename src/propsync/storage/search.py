"""Search as one set-based query: an OR of AND-groups of EXISTS over stored values."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import (
    ColumnElement,
    Connection,
    SelectBase,
    and_,
    case,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql import Select

from propsync.domain.filters import Filter, invalid, like_pattern, token_pattern
from propsync.domain.properties import PropertyDefinition, normalize_value
from propsync.storage import tables as t

r, v = t.records, t.property_values


@dataclass(frozen=True)
class Condition:
    """One filter, resolved: a stored property (by id) or a records column, and a test."""

    property_id: int | None  # None: ``column`` on records
    column: str | None
    numeric: bool
    operator: str
    operand: object = None
    high: object = None
    operands: tuple[object, ...] = ()
    synced: bool = False  # a sync property's (every value is indexed: storage/tables.py)


# The calculated properties a filter or sort reads from ``records``.
COLUMNS = {"createdate": "created_ms", "lastmodifieddate": "updated_ms",
           "hs_lastmodifieddate": "updated_ms", "hs_object_id": "record_id"}


def condition_for(prop: PropertyDefinition, synced: bool, f: Filter) -> Condition:
    """A filter on ``prop`` resolved for the query: its operands as the property stores
    them (a 400 ``INVALID_FILTER_VALUE`` for an operand that cannot be compared with it)."""
    column = COLUMNS.get(prop.name) if prop.calculated else None
    pid = None if prop.calculated else prop.id
    if f.operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return Condition(pid, column, False, f.operator)
    if f.operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        return Condition(pid, column, False, f.operator,
                         operands=tuple(token_pattern(f.value or "")))
    if f.operator in ("STARTS_WITH", "ENDS_WITH"):  # lists' (domain/filter_branches.py)
        return Condition(pid, column, False, f.operator,
                         operands=(like_pattern(f.value or "", f.operator == "STARTS_WITH"),))
    numeric = prop.is_numeric
    convert = (lambda raw: _number(prop, raw)) if numeric else (lambda raw: _text(prop, raw))
    return Condition(pid, column, numeric, f.operator,
                     convert(f.value) if f.value is not None else None,
                     convert(f.high_value) if f.high_value is not None else None,
                     tuple(convert(x) for x in f.values), synced=synced)


def _number(prop: PropertyDefinition, raw: str) -> float:
    stored = normalize_value(prop, raw)
    if stored is None or stored.number is None:
        raise invalid(f"{raw!r} is not a valid value to compare with {prop.name!r}.",
                      "INVALID_FILTER_VALUE")
    return stored.number


def _text(prop: PropertyDefinition, raw: str) -> str:
    if prop.type == "bool":
        stored = normalize_value(prop, raw)
        return stored.text if stored else ""
    return str(raw).lower()


@dataclass(frozen=True)
class SortKey:
    property_id: int | None
    column: str | None
    numeric: bool
    descending: bool


def _test(expr: ColumnElement[object], c: Condition) -> ColumnElement[bool]:
    op = c.operator
    if op in ("EQ", "NEQ"):
        return expr == c.operand
    if op in ("IN", "NOT_IN"):
        return expr.in_(list(c.operands))
    if op == "BETWEEN":
        return and_(expr >= c.operand, expr <= c.high)
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        return or_(*[expr.like(p) for p in c.operands])
    if op in ("STARTS_WITH", "ENDS_WITH"):
        return expr.like(str(c.operands[0]), escape="\\")
    return {"LT": expr < c.operand, "LTE": expr <= c.operand, "GT": expr > c.operand,
            "GTE": expr >= c.operand}[op]


_NEGATED = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN",
            "NOT_HAS_PROPERTY": "HAS_PROPERTY", "NOT_BETWEEN": "BETWEEN"}


def _condition(account_id: int, c: Condition, sqlite: bool = False) -> ColumnElement[bool]:
    if c.property_id is None:
        assert c.column is not None
        if c.operator in ("HAS_PROPERTY",):
            return true()
        if c.operator == "NOT_HAS_PROPERTY":
            return false()
        positive = Condition(None, c.column, True, _NEGATED.get(c.operator, c.operator),
                             c.operand, c.high, c.operands)
        test = _test(r.c[c.column], positive)
        return not_(test) if c.operator in _NEGATED else test
    if c.operator in _NEGATED:
        inner = Condition(c.property_id, None, c.numeric, _NEGATED[c.operator], c.operand,
                          c.high, c.operands, c.synced)
        return not_(_condition(account_id, inner, sqlite))
    if c.operator in (_BY_NUMBER if c.numeric else _BY_TEXT) and (
            c.operand is not None or c.operands):
        return _in_indexed_values(account_id, c)
    if c.operator == "CONTAINS_TOKEN" and c.operands:
        patterns = [str(p) for p in c.operands]
        return r.c.record_id.in_(_containing(account_id, [c.property_id], patterns,
                                             _test(func.lower(v.c.value), c), sqlite))
    match = [v.c.account_id == account_id, v.c.record_id == r.c.record_id,
             v.c.property_id == c.property_id]
    if c.operator != "HAS_PROPERTY":
        expr = v.c.num if c.numeric else func.lower(v.c.value)
        match.append(_test(expr, c))
    return exists(select(v.c.record_id).where(*match))


# What the value indexes answer (storage/tables.py): a number or date by any comparison, a
# text by equality (its index holds the first 100 lower-case characters); the words of a
# text by its trigrams.
_BY_NUMBER = ("EQ", "IN", "LT", "LTE", "GT", "GTE", "BETWEEN")
_BY_TEXT = ("EQ", "IN")


# Values of one IN filter per UNION: SQLite refuses a compound SELECT of more than 500
# terms (SQLITE_MAX_COMPOUND_SELECT), and a build may set it lower; a longer list is an OR
# of such unions.
UNION_TERMS = 100


def _in_indexed_values(account_id: int, c: Condition) -> ColumnElement[bool]:
    """The records whose value passes ``c``, found through the value indexes (as an ``IN``
    list, which SQLite evaluates once from the index, where it would run an ``EXISTS`` once
    per record of the type). ``IN`` is a union of one equality per value: given a list,
    SQLite without statistics walks a property's every value instead (``ix_..._synced_from``
    for a sync property)."""
    if c.operator != "IN":
        return r.c.record_id.in_(_indexed_values(account_id, c))
    equalities = [_indexed_values(account_id, replace(c, operator="EQ", operand=o,
                                                      operands=()))
                  for o in c.operands]
    return or_(*[r.c.record_id.in_(union_all(*equalities[i:i + UNION_TERMS]))
                 for i in range(0, len(equalities), UNION_TERMS)])


def _indexed_values(account_id: int, c: Condition) -> SelectBase:
    """The records whose value passes ``c`` (not ``IN``) by the value indexes. The index's
    own condition is repeated, so that both planners know they may use it; a text matches
    on its indexed prefix, then on the whole value."""
    match = [v.c.account_id == account_id, v.c.property_id == c.property_id]
    if c.numeric:
        match += [v.c.num.is_not(None), _test(v.c.num, c)]
    else:
        # Spelled out, not bound: a planner matches an index expression by its text.
        prefix = func.substr(func.lower(v.c.value), literal_column("1"),
                             literal_column(str(t.TEXT_PREFIX)))
        match += [v.c.num.is_(None), prefix == str(c.operand)[:t.TEXT_PREFIX],
                  _test(func.lower(v.c.value), c)]
    return select(v.c.record_id).where(*match)


# A LIKE pattern's wildcards, and the run of other characters the trigram index needs to
# look a pattern up (shorter ones would read the whole index).
_WILDCARDS = re.compile(r"[%_]")
_TRIGRAM = 3


def _containing(account_id: int, property_ids: list[int], patterns: Sequence[str],
                test: ColumnElement[bool], sqlite: bool) -> SelectBase:
    """The records with a value of ``property_ids`` passing ``test``, which holds only if
    the lower-cased value is ``LIKE`` one of ``patterns``: the ordinary values found
    through their trigrams (``VALUE_TRIGRAMS``), the sync values (which have none, so that
    the engine's writes do not pay for them) read by property, each then tested whole, so
    the answer is ``test``'s.

    The trigrams are looked up by ``%run%`` (``_lookups``). PostgreSQL's planner reads its
    GIN index for them; SQLite reads its FTS5 table, joined to the values by rowid, when
    every run has three characters (a shorter one would read the table whole: the values
    of the properties are read instead)."""
    lookups = _lookups(patterns)
    match = [v.c.account_id == account_id, v.c.property_id.in_(property_ids), test]
    synced = select(v.c.record_id).where(v.c.source_id.is_not(None), *match)
    if not sqlite:
        looked_up = ([] if set(lookups) == set(patterns)
                     else [or_(*[func.lower(v.c.value).like(p) for p in lookups])])
        return union_all(select(v.c.record_id).where(v.c.source_id.is_(None), *looked_up,
                                                     *match), synced)
    if min(len(p) for p in lookups) < _TRIGRAM + 2:
        return select(v.c.record_id).where(*match)
    # One LIKE per read of the FTS5 table: given an OR of them, SQLite reads it whole. The
    # values are found by rowid, from the trigrams: ``+ 0`` keeps SQLite's planner from
    # reading the values by (account, property) and the trigrams once per value instead.
    words = t.value_trigrams
    reads = [select(v.c.record_id)
             .select_from(words.join(v, literal_column("property_values.rowid") == words.c.rowid))
             .where(words.c.lowered.like(p), (v.c.account_id + 0) == account_id,
                    (v.c.property_id + 0).in_(property_ids), test)
             for p in lookups]
    return union_all(*reads, synced)


def _lookups(patterns: Sequence[str]) -> list[str]:
    """``%run%`` for a run of characters without wildcards that every value matching a
    pattern contains: one for all the patterns when their runs share one (a token's four
    patterns do), else one per pattern (its longest run)."""
    runs = [max(_WILDCARDS.split(p), key=len) for p in patterns]
    shortest = min(runs, key=len)
    for common in (shortest, shortest.strip()):
        if all(common in run for run in runs):
            return [f"%{common}%"]
    return [f"%{run}%" for run in dict.fromkeys(runs)]


def groups_clause(account_id: int, groups: Sequence[Sequence[Condition]],
                  sqlite: bool = False) -> ColumnElement[bool]:
    """``groups`` (an OR of AND groups) as one condition on a row of ``records``: what
    search, workflows and reports filter records by (a group without filters matches
    every record, as in HubSpot; no groups match every record). ``sqlite``: the form
    SQLite answers best (``_containing``); the default works on both stores."""
    if not groups:
        return true()
    return or_(*[and_(true(), *[_condition(account_id, c, sqlite) for c in g]) for g in groups])


def _where(account_id: int, object_type: str, groups: Sequence[Sequence[Condition]],
           query: tuple[list[int], str] | None, sqlite: bool) -> ColumnElement[bool]:
    clauses = [r.c.account_id == account_id, r.c.object_type == object_type,
               r.c.archived.is_(False)]
    if groups:
        clauses.append(groups_clause(account_id, groups, sqlite))
    if query is not None:
        matching = _matching_text(account_id, *query, sqlite)
        if not sqlite:
            # Read whole, once: PostgreSQL would otherwise merge it with the records in id
            # order to stop early at the page's end, and walk every value of the account
            # (the page carries its total, so there is no early end).
            matching = select(matching.cte("matching").prefix_with("MATERIALIZED"))
        clauses.append(r.c.record_id.in_(matching))
    return and_(*clauses)


# The letters outside ASCII that Python (and propsync's lower() on SQLite) lowers to
# ASCII ones: İ (to i and a combining dot) and the Kelvin sign K (to k).
_LOWERED_TO_ASCII = ("\u0130", "\u212a")


def _matching_text(account_id: int, property_ids: list[int], text: str, sqlite: bool
                   ) -> SelectBase:
    """The records with a value of ``property_ids`` that contains ``text`` (any case), as
    one set read through the values' trigrams (``_containing``): an ``IN`` list that both
    stores evaluate once, where an ``EXISTS`` was probed once per record of the type.

    SQLite's own ``LIKE`` folds ASCII letters, without calling propsync's ``lower()`` (a
    Python function) once per value; so for an ASCII ``text`` the Python ``lower()`` is
    asked only of the values with a letter it lowers to ASCII, which ``LIKE`` alone would
    miss. A value that matches natively matches as Python lowers it too."""
    needle = text.lower()
    pattern = f"%{needle}%"
    test: ColumnElement[bool] = func.lower(v.c.value).like(pattern)
    if sqlite and needle.isascii():
        test = or_(v.c.value.like(pattern),
                   and_(or_(*[v.c.value.like(f"%{c}%") for c in _LOWERED_TO_ASCII]), test))
    return _containing(account_id, property_ids, [pattern], test, sqlite)


def _order(account_id: int, sorts: Sequence[SortKey]) -> list[ColumnElement[object]]:
    order: list[ColumnElement[object]] = []
    for s in sorts:
        if s.property_id is None:
            assert s.column is not None
            expr: ColumnElement[object] = r.c[s.column]
        else:
            column = v.c.num if s.numeric else func.lower(v.c.value)
            expr = select(column).where(
                v.c.account_id == account_id, v.c.record_id == r.c.record_id,
                v.c.property_id == s.property_id).scalar_subquery()
        order.append(case((expr.is_(None), 1), else_=0))  # records without a value come last
        order.append(expr.desc() if s.descending else expr.asc())
    order.append(r.c.record_id.asc())
    return order


def search_ids(
    conn: Connection, account_id: int, object_type: str,
    groups: Sequence[Sequence[Condition]], sorts: Sequence[SortKey],
    query: tuple[list[int], str] | None, offset: int, limit: int,
) -> tuple[int, list[int]]:
    """``(total, ids of the page)`` of the records matching, in the requested order.

    The page carries the total (``count(*) OVER ()``), so the filters are evaluated once;
    only a page past the end counts again."""
    where = _where(account_id, object_type, groups, query, conn.dialect.name == "sqlite")
    rows = conn.execute(select(r.c.record_id, func.count().over()).where(where)
                        .order_by(*_order(account_id, sorts)).offset(offset).limit(limit)
                        ).all()
    if rows:
        return int(rows[0][1]), [int(row[0]) for row in rows]
    if offset == 0 and limit > 0:
        return 0, []
    total = conn.execute(select(func.count()).select_from(r).where(where)).scalar_one()
    return int(total), []


def matching_ids(conn: Connection, account_id: int, object_type: str,
                 groups: Sequence[Sequence[Condition]], candidates: Collection[int]
                 ) -> set[int]:
    """The live records of ``object_type`` among ``candidates`` that match ``groups``, with
    search's semantics (the same query, restricted to the candidates)."""
    where = _where(account_id, object_type, groups, None, conn.dialect.name == "sqlite")
    ids = sorted(set(candidates))
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        found.update(conn.execute(select(r.c.record_id).where(
            where, r.c.record_id.in_(ids[start:start + 500]))).scalars())
    return found


def matching_select(account_id: int, object_type: str, groups: Sequence[Sequence[Condition]]
                    ) -> Select[tuple[int]]:
    """Every live record of ``object_type`` matching ``groups``, as a ``SELECT`` of
    ``record_id`` to build on (an ``INSERT ... SELECT``, a count)."""
    return select(r.c.record_id).where(_where(account_id, object_type, groups, None, False))
