"""The executor: runs the next action of due enrollments, one action per enrollment per
transaction, exactly once.

A step claims a batch of due enrollments (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), runs
each one's next action — the enrollments of a flow at the same action together, as
one set-based write — then writes the run log and moves each enrollment on, all in the
transaction of the writes. A worker killed at any instant loses its claim with its
writes, and the next worker runs those actions once; nothing is run twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from propsync.domain.history import ValueSource
from propsync.domain.workflow_rules import (
    Advance,
    EnrollmentState,
    Outcome,
    advance,
    branch_next,
    describe_delay,
)
from propsync.domain.workflows import Action, Delay, SetProperty, StaticBranch
from propsync.storage import enrollments as store
from propsync.storage.enrollments import EnrollmentRow, NewEnrollments
from propsync.storage.records import live_ids
from propsync.storage.workflow_runs import Run, append_runs
from propsync.storage.workflows import StoredFlow, load_flow
from propsync.workflows import set_property
from propsync.workflows.enroller import meeting_criteria
from propsync.workflows.schema import AccountSchema
from propsync.workflows.set_property import Overtaken
from propsync.workflows.values import held

log = logging.getLogger("propsync.workflows")
# Deadlock and serialization failure: the step rolls back and runs again.
TRANSIENT = ("40001", "40P01")


@dataclass(frozen=True)
class Result:
    """What one action did for one enrollment, and where the enrollment goes (``None``:
    it failed)."""

    enrollment: EnrollmentRow
    action_id: str
    outcome: Outcome
    detail: str
    written: int = 0
    step: Advance | None = None


@dataclass
class FlowRun:
    """One flow's share of a step."""

    conn: Connection
    schema: AccountSchema
    stored: StoredFlow
    now_ms: int

    @property
    def account_id(self) -> int:
        return self.schema.account_id

    @property
    def source(self) -> ValueSource:
        return ValueSource("WORKFLOW", str(self.stored.flow_id), self.stored.name[:200] or None)


def run_due(conn: Connection, now_ms: int, limit: int) -> int:
    """Run the next action of up to ``limit`` due enrollments; returns how many ran."""
    claimed = store.claim_due(conn, now_ms, limit)
    by_flow: dict[tuple[int, int], list[EnrollmentRow]] = defaultdict(list)
    for row in claimed:
        by_flow[(row.account_id, row.flow_id)].append(row)
    schemas: dict[int, AccountSchema] = {}
    # Flows in id order: every step takes the rows of flows' counts in the same order.
    for (account_id, flow_id), rows in sorted(by_flow.items()):
        schema = schemas.setdefault(account_id, AccountSchema(conn, account_id))
        try:
            with conn.begin_nested():
                _run_flow(conn, schema, flow_id, rows, now_ms)
        except (Overtaken, OperationalError):
            raise  # the whole step runs again
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in TRANSIENT:
                raise
            _internal_error(conn, rows, now_ms)
        except Exception:
            _internal_error(conn, rows, now_ms)
    return len(claimed)


def _internal_error(conn: Connection, rows: list[EnrollmentRow], now_ms: int) -> None:
    """A bug must not hold an enrollment (and the worker) in a loop: the flow's share of
    the step is rolled back to its savepoint, and its enrollments fail, saying so."""
    log.exception("workflow %s: running an action failed", rows[0].flow_id)
    store.finish(conn, rows[0].account_id, [r.enrollment_id for r in rows],
                 EnrollmentState.FAILED, now_ms,
                 "propsync could not run this action (an internal error; see the server log)")


def _run_flow(conn: Connection, schema: AccountSchema, flow_id: int,
              rows: list[EnrollmentRow], now_ms: int) -> None:
    stored = load_flow(conn, schema.account_id, flow_id)
    if stored is None or not stored.enabled:
        # Turning a flow off cancels its enrollments in the same transaction; this is for
        # an enrollment that was being written while it happened.
        reason = "the workflow was deleted" if stored is None else "the workflow is off"
        store.finish(conn, schema.account_id, [r.enrollment_id for r in rows],
                     EnrollmentState.CANCELLED, now_ms, reason)
        return
    run = FlowRun(conn, schema, stored, now_ms)
    live = live_ids(conn, schema.account_id, {r.record_id for r in rows})
    gone = [r.enrollment_id for r in rows if r.record_id not in live]
    store.finish(conn, schema.account_id, gone, EnrollmentState.CANCELLED, now_ms,
                 "the record was archived or deleted")
    by_action: dict[str | None, list[EnrollmentRow]] = defaultdict(list)
    for row in rows:
        if row.record_id in live:
            by_action[row.next_action_id].append(row)
    results: list[Result] = []
    for action_id, group in by_action.items():
        results += _run_action(run, action_id, group)
    _settle(run, results)


def _run_action(run: FlowRun, action_id: str | None, rows: list[EnrollmentRow]
                ) -> list[Result]:
    if action_id is None:  # a flow without actions: the enrollment is complete
        return [Result(r, "", Outcome.DONE, "", step=Advance(None, run.now_ms)) for r in rows]
    action = run.stored.flow.actions.get(action_id)
    if action is None:
        return failed(rows, action_id, f"action {action_id} is no longer in the workflow "
                      "(it was edited while the record was enrolled)")
    return run_action(run, action, rows)


def run_action(run: FlowRun, action: Action, rows: list[EnrollmentRow]) -> list[Result]:
    """Run ``action`` for the enrollments ``rows`` (all at that action)."""
    if isinstance(action, Delay):
        step = advance(action, run.now_ms)
        detail = f"waits {describe_delay(action.delay_ms)}"
        return [Result(r, action.action_id, Outcome.DONE, detail, step=step) for r in rows]
    if isinstance(action, StaticBranch):
        return _branch(run, action, rows)
    assert isinstance(action, SetProperty)
    return [Result(r, action.action_id, o.outcome, o.detail, o.written, o.step)
            for r, o in zip(rows, set_property.apply(run, action, rows), strict=True)]


def _branch(run: FlowRun, action: StaticBranch, rows: list[EnrollmentRow]) -> list[Result]:
    """Each enrollment goes on by its record's value (a deleted property has none)."""
    object_type = run.stored.object_type
    prop = run.schema.property(object_type, action.property_name)
    values = {} if prop is None else held(run.conn, run.account_id, object_type,
                                          [r.record_id for r in rows], prop)
    results = []
    for row in rows:
        value = values.get(row.record_id)
        next_id = branch_next(action, prop, value.text if value else None)
        where = f"goes on to action {next_id}" if next_id else "ends the enrollment"
        results.append(Result(row, action.action_id, Outcome.DONE,
                              f"branch on {action.property_name}: {where}",
                              step=advance(action, run.now_ms, next_id)))
    return results


def failed(rows: Sequence[EnrollmentRow], action_id: str, detail: str) -> list[Result]:
    return [Result(r, action_id, Outcome.FAILED, detail) for r in rows]


def _settle(run: FlowRun, results: list[Result]) -> None:
    """Log the runs and move every enrollment on: to its next action, or to its end (a
    failed or completed one with a re-enrollment pending starts again)."""
    account_id, flow = run.account_id, run.stored
    append_runs(run.conn, account_id, [
        Run(flow.flow_id, flow.revision, x.enrollment.enrollment_id, x.enrollment.record_id,
            x.action_id, x.outcome.value, x.detail, x.written)
        for x in results if x.action_id], run.now_ms)
    moves: dict[tuple[str, int], list[int]] = defaultdict(list)
    ended: list[Result] = []
    for x in results:
        if x.step is None or x.step.next_action_id is None:
            ended.append(x)
        else:
            moves[(x.step.next_action_id, x.step.due_ms)].append(x.enrollment.enrollment_id)
    for (next_id, due_ms), ids in moves.items():
        store.advance(run.conn, account_id, ids, next_id, due_ms)
    failures: dict[str, list[int]] = defaultdict(list)
    for x in ended:
        if x.step is None:
            failures[x.detail].append(x.enrollment.enrollment_id)
    for detail, ids in failures.items():
        store.finish(run.conn, account_id, ids, EnrollmentState.FAILED, run.now_ms, detail)
    store.finish(run.conn, account_id, [x.enrollment.enrollment_id for x in ended
                                        if x.step is not None],
                 EnrollmentState.COMPLETED, run.now_ms)
    _restart_pending(run, [x.enrollment.record_id for x in ended
                           if x.enrollment.reenroll_pending])


def _restart_pending(run: FlowRun, record_ids: list[int]) -> None:
    """A re-enrollment remembered while the record was enrolled starts now, if the record
    still meets the criteria (a manual flow has none)."""
    if not record_ids:
        return
    flow = run.stored.flow
    wanted = set(record_ids)
    if flow.enrollment.kind == "LIST_BASED":
        wanted = meeting_criteria(run.schema, run.stored, wanted)
    new = NewEnrollments(run.account_id, run.stored.flow_id, run.stored.revision,
                         flow.start_action_id, "PENDING", run.now_ms)
    store.enroll(run.conn, new, wanted, only_new=False)
