"""The migration assistant's dry run: what a sync property not yet defined would hold,
set-based, beside the copy a workflow keeps today. Reads only.

Every live target record's winner comes from the sync engine's own selection
(``sync/apply.winner_select``, the rule of SPEC 3.2), and its value is the winner's source
value; the "copy" is the target record's value of the property the workflow writes. Each
figure is one statement over that set (``_rows``), bounded by ``top``/``sample``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    Text,
    case,
    cast,
    column,
    func,
    literal,
    null,
    select,
    text,
    union_all,
)

from propsync.domain.sync_rule import Selection, SyncDefinition
from propsync.storage import tables as t
from propsync.storage.search import Condition, matching_select
from propsync.sync.apply import winner_select


@dataclass(frozen=True)
class Definition:
    """A sync property that does not exist yet, as the dry run needs it: target type,
    the workflow's copy (``copy_property_id``), the source and its selection."""

    target_type: str
    copy_property_id: int
    source_type: str
    source_property_id: int
    association_type_ids: frozenset[int]
    selection: Selection


@dataclass(frozen=True)
class DryRun:
    """What the sync property would hold, against the workflow's copy today.

    ``differing`` = ``stale`` (both hold a value, not the same) + ``missing`` (no copy,
    the sync property would set one) + ``orphaned`` (a copy the sync property would
    clear); ``sample``: the first differing record ids, ascending."""

    targets: int
    with_value: int
    top_values: list[tuple[str, int]]
    differing: int
    stale: int
    missing: int
    orphaned: int
    sample: list[int]
    excluded: int | None = None  # with an ``Exclusion``: values its workflow leaves out


@dataclass(frozen=True)
class Exclusion:
    """Who a conditional copy's workflow copies for: the enrolled records (the target
    itself, or with ``by_source`` its winner) of ``enrolled_type`` meeting ``reach``
    (search's semantics), or — ``manual_flow_id`` — those enrolled in that flow by hand."""

    by_source: bool
    enrolled_type: str
    reach: Sequence[Sequence[Condition]] = ()
    manual_flow_id: int | None = None


def _rows(account_id: int, d: Definition) -> CTE:
    """One row per live target: ``id``, its winner ``source_id``, the value the sync
    property would hold (``new_value``) and the copy it holds now (``old_value``);
    materialized, so every figure reads the winners once."""
    as_sync = SyncDefinition(account_id, d.copy_property_id, "", "", d.target_type,
                             d.source_type, d.source_property_id, "", d.association_type_ids,
                             d.selection, "", 0, 0, 0, 0, 0)
    winner, params = winner_select(as_sync)
    sql = f"""
        SELECT w.id AS id, w.source_id AS source_id, v.value AS new_value,
               cur.value AS old_value
        FROM (SELECT tg.id AS id, ({winner}) AS source_id
              FROM (SELECT record_id AS id FROM records WHERE account_id = :a
                    AND object_type = :tt AND archived = :no) tg) w
        LEFT JOIN property_values v ON v.account_id = :a AND v.record_id = w.source_id
                                   AND v.property_id = :sp
        LEFT JOIN property_values cur ON cur.account_id = :a AND cur.record_id = w.id
                                     AND cur.property_id = :p"""
    return text(sql).bindparams(**params, tt=d.target_type).columns(
        column("id", BigInteger), column("source_id", BigInteger), column("new_value", Text),
        column("old_value", Text)).cte("x").prefix_with("MATERIALIZED")


def dry_run(conn: Connection, account_id: int, d: Definition, top: int, sample: int,
            exclusion: Exclusion | None = None) -> DryRun:
    """The figures of ``d`` against its copy, in one statement: the winners computed once
    (a materialized CTE), then the counts, the ``top`` values and the first ``sample``
    differing ids as rows of one ``UNION ALL``, tagged by kind."""
    x = _rows(account_id, d)
    differs = x.c.new_value.is_distinct_from(x.c.old_value)
    new_set, old_set = x.c.new_value.is_not(None), x.c.old_value.is_not(None)
    none = cast(null(), Text)

    def counted(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    excluded: ColumnElement[int] = cast(null(), BigInteger)
    if exclusion is not None:
        excluded = counted(new_set & (x.c.source_id if exclusion.by_source else x.c.id)
                           .not_in(_let_through(account_id, exclusion)))
    totals = select(literal("T"), none, func.count(), counted(new_set), counted(differs),
                    counted(new_set & old_set & differs), counted(new_set & ~old_set),
                    counted(~new_set & old_set), excluded)
    n = func.count().label("n")
    top_rows = select(x.c.new_value, n).where(new_set).group_by(x.c.new_value).order_by(
        n.desc(), x.c.new_value).limit(top).subquery()
    zero = cast(literal(0), BigInteger)
    values = select(literal("V"), top_rows.c.new_value, top_rows.c.n, zero, zero, zero, zero,
                    zero, zero)
    ids = select(x.c.id).where(differs).order_by(x.c.id).limit(sample).subquery()
    firsts = select(literal("S"), none, ids.c.id, zero, zero, zero, zero, zero, zero)
    found: dict[str, list[tuple[object, ...]]] = {"T": [], "V": [], "S": []}
    for row in conn.execute(union_all(totals, values, firsts)):
        found[row[0]].append(tuple(row[1:]))
    [(_, targets, with_value, differing, stale, missing, orphaned, left_out)] = found["T"]
    top_values = sorted(((str(v), _int(c)) for v, c, *_ in found["V"]),
                        key=lambda vc: (-vc[1], vc[0]))
    return DryRun(_int(targets), _int(with_value), top_values, _int(differing), _int(stale),
                  _int(missing), _int(orphaned), sorted(_int(i) for _, i, *_ in found["S"]),
                  None if left_out is None else _int(left_out))


def _int(value: object) -> int:
    assert isinstance(value, int | float | Decimal), value
    return int(value)


def _let_through(account_id: int, e: Exclusion) -> Select[tuple[int]]:
    if e.manual_flow_id is not None:
        w = t.workflow_enrollments
        return select(w.c.record_id).where(w.c.account_id == account_id,
                                           w.c.flow_id == e.manual_flow_id)
    return matching_select(account_id, e.enrolled_type, e.reach)
