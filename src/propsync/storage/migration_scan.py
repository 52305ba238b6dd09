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

from sqlalchemy import (
    Connection,
    Integer,
    Subquery,
    Text,
    case,
    column,
    func,
    select,
    text,
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


def _rows(account_id: int, d: Definition) -> Subquery:
    """One row per live target: ``id``, its winner ``source_id``, the value the sync
    property would hold (``new_value``) and the copy it holds now (``old_value``)."""
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
        column("id", Integer), column("source_id", Integer), column("new_value", Text),
        column("old_value", Text)).subquery("x")


def dry_run(conn: Connection, account_id: int, d: Definition, top: int, sample: int
            ) -> DryRun:
    """The figures of ``d`` against its copy, in four bounded statements."""
    x = _rows(account_id, d)
    differs = x.c.new_value.is_distinct_from(x.c.old_value)
    new_set, old_set = x.c.new_value.is_not(None), x.c.old_value.is_not(None)

    def counted(cond: object) -> object:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)  # type: ignore[arg-type]

    targets, with_value, differing, stale, missing, orphaned = conn.execute(select(
        func.count(), counted(new_set), counted(differs),
        counted(new_set & old_set & differs), counted(new_set & ~old_set),
        counted(~new_set & old_set))).one()  # type: ignore[call-overload]
    n = func.count().label("n")
    top_values = [(str(value), int(count)) for value, count in conn.execute(
        select(x.c.new_value, n).where(new_set).group_by(x.c.new_value)
        .order_by(n.desc(), x.c.new_value).limit(top))]
    ids = [int(i) for i in conn.execute(
        select(x.c.id).where(differs).order_by(x.c.id).limit(sample)).scalars()]
    return DryRun(int(targets), int(with_value), top_values, int(differing), int(stale),
                  int(missing), int(orphaned), ids)


def count_excluded(conn: Connection, account_id: int, d: Definition, by_source: bool,
                   enrolled_type: str, reach: Sequence[Sequence[Condition]] | None,
                   manual_flow_id: int | None) -> int:
    """Target records the sync property would give a value that the workflow does not
    copy for: their enrolled record (the target itself, or with ``by_source`` its winner)
    does not meet ``reach`` (search's semantics), or — ``manual_flow_id`` — was never
    enrolled in that flow."""
    x = _rows(account_id, d)
    key = x.c.source_id if by_source else x.c.id
    if manual_flow_id is not None:
        e = t.workflow_enrollments
        let_through = select(e.c.record_id).where(e.c.account_id == account_id,
                                                  e.c.flow_id == manual_flow_id)
    else:
        let_through = matching_select(account_id, enrolled_type, reach or ())
    return int(conn.execute(select(func.count()).select_from(x).where(
        x.c.new_value.is_not(None), key.not_in(let_through))).scalar_one())
