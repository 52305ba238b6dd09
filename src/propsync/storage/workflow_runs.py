"""The workflows' run log (``workflow_runs``): one row per action run, appended in the
transaction of the run itself, so the log says exactly what committed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, distinct, func, insert, select

from propsync.storage import tables as t
from propsync.storage.ids import allocate_ids

w, h, f = t.workflow_runs, t.property_history, t.workflows


@dataclass(frozen=True)
class Run:
    """One action run of one enrollment."""

    flow_id: int
    revision: int
    enrollment_id: int
    record_id: int
    action_id: str
    outcome: str  # DONE / SKIPPED / FAILED
    detail: str  # in words; names properties, never a value
    written: int = 0  # values changed
    run_id: int = 0  # given when appended
    at_ms: int = 0


def append_runs(conn: Connection, account_id: int, runs: Sequence[Run], now_ms: int) -> None:
    if not runs:
        return
    ids = allocate_ids(conn, "runs", len(runs))
    conn.execute(insert(w), [
        {"account_id": account_id, "run_id": rid, "flow_id": run.flow_id,
         "revision": run.revision, "enrollment_id": run.enrollment_id,
         "record_id": run.record_id, "action_id": run.action_id, "at_ms": now_ms,
         "outcome": run.outcome, "detail": run.detail, "written": run.written}
        for rid, run in zip(ids, runs, strict=True)])


def _run(row: object) -> Run:
    m = row._mapping  # type: ignore[attr-defined]
    return Run(m["flow_id"], m["revision"], m["enrollment_id"], m["record_id"], m["action_id"],
               m["outcome"], m["detail"], m["written"], m["run_id"], m["at_ms"])


def list_runs(conn: Connection, account_id: int, flow_id: int, before: int | None, limit: int
              ) -> list[Run]:
    """Up to ``limit`` runs of the flow, newest first, older than run ``before``."""
    query = select(w).where(w.c.account_id == account_id, w.c.flow_id == flow_id)
    if before is not None:
        query = query.where(w.c.run_id < before)
    return [_run(row) for row in conn.execute(query.order_by(w.c.run_id.desc()).limit(limit))]


def last_run_ms(conn: Connection, account_id: int, flow_id: int) -> int | None:
    """When the flow's latest action ran (the newest row, by the index on run ids)."""
    at = conn.execute(select(w.c.at_ms).where(w.c.account_id == account_id,
                                              w.c.flow_id == flow_id)
                      .order_by(w.c.run_id.desc()).limit(1)).scalar()
    return None if at is None else int(at)


def runs_of_record(conn: Connection, account_id: int, record_id: int, limit: int
                   ) -> list[Run]:
    """The latest runs of enrollments of the record, newest first."""
    return [_run(row) for row in conn.execute(select(w).where(
        w.c.account_id == account_id, w.c.record_id == record_id)
        .order_by(w.c.run_id.desc()).limit(limit))]


def flows_that_wrote(conn: Connection, account_id: int, record_id: int) -> dict[int, int]:
    """``{flow id: values written}`` for every workflow whose writes the record's history
    shows (``sourceType`` WORKFLOW, ``sourceId`` the flow's id): also the writes to it as
    an associated record of another enrolled record."""
    rows = conn.execute(select(h.c.source_id, func.count(distinct(h.c.history_id))).where(
        h.c.account_id == account_id, h.c.record_id == record_id,
        h.c.source_type == "WORKFLOW").group_by(h.c.source_id))
    return {int(source): int(n) for source, n in rows if source and source.isdigit()}


def flow_names(conn: Connection, account_id: int, flow_ids: Collection[int]) -> dict[int, str]:
    """The flows' names, deleted flows' included (their runs and writes still name them)."""
    ids = sorted(set(flow_ids))
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        names.update({int(fid): str(name) for fid, name in conn.execute(select(
            f.c.flow_id, f.c.name).where(f.c.account_id == account_id,
                                         f.c.flow_id.in_(ids[start:start + 500])))})
    return names
