"""Records enrolled in workflows (``workflow_enrollments``): one row per enrollment.

The database keeps at most one active enrollment per (flow, record) (a partial unique
index): inserts skip records that have one, so two writers enrolling the same record at
once (a manual enrollment and the feed reader) enroll it once. Workers claim due active
enrollments (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several share the work).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Select

from propsync.domain.workflow_rules import EnrollmentState
from propsync.storage import tables as t
from propsync.storage.db import is_postgres
from propsync.storage.dialects import any_of, in_ids
from propsync.storage.ids import allocate_ids

e, r, c = t.workflow_enrollments, t.records, t.workflow_counts
ACTIVE = EnrollmentState.ACTIVE.value
_CHUNK = 500


@dataclass(frozen=True)
class EnrollmentRow:
    account_id: int
    enrollment_id: int
    flow_id: int
    revision: int
    record_id: int
    state: str
    next_action_id: str | None
    due_ms: int | None
    enrolled_ms: int
    finished_ms: int | None
    reenroll_pending: bool
    cause: str
    reason: str | None


def _row(row: Row[Any]) -> EnrollmentRow:
    m = row._mapping
    return EnrollmentRow(m["account_id"], m["enrollment_id"], m["flow_id"], m["revision"],
                         m["record_id"], m["state"], m["next_action_id"], m["due_ms"],
                         m["enrolled_ms"], m["finished_ms"], bool(m["reenroll_pending"]),
                         m["cause"], m["reason"])


@dataclass(frozen=True)
class NewEnrollments:
    """Who a batch of enrollments is for, and how they start."""

    account_id: int
    flow_id: int
    revision: int
    start_action_id: str | None
    cause: str  # TRIGGER / MANUAL / EXISTING / PENDING
    now_ms: int


def _insert(conn: Connection, new: NewEnrollments, records: Select[tuple[int]], at_most: int,
            only_new: bool) -> list[int]:
    """One ``INSERT ... SELECT``: an active enrollment for each record ``records`` selects
    (at most ``at_most``) that has no active enrollment in the flow (``only_new``: never
    had one); returns the records enrolled."""
    sub = records.subquery()
    if is_postgres(conn):
        new_id: ColumnElement[Any] = func.nextval("seq_enrollments")
    else:
        base = allocate_ids(conn, "enrollments", at_most)[0]
        new_id = literal(base - 1) + func.row_number().over(order_by=sub.c.record_id)
    rows = select(literal(new.account_id), new_id, literal(new.flow_id),
                  literal(new.revision), sub.c.record_id, literal(ACTIVE),
                  literal(new.start_action_id, String), literal(new.now_ms),
                  literal(new.now_ms), literal(False), literal(new.cause)
                  ).where(_unblocked(new, sub.c.record_id, only_new))
    module: Any = postgresql if is_postgres(conn) else sqlite
    stmt = module.insert(e).from_select(
        ["account_id", "enrollment_id", "flow_id", "revision", "record_id", "state",
         "next_action_id", "due_ms", "enrolled_ms", "reenroll_pending", "cause"], rows)
    stmt = stmt.on_conflict_do_nothing().returning(e.c.record_id)
    enrolled = sorted(conn.execute(stmt).scalars())
    _count(conn, new.account_id, {new.flow_id: len(enrolled)}, "enrolled")
    return enrolled


def enroll(conn: Connection, new: NewEnrollments, record_ids: Collection[int],
           only_new: bool) -> list[int]:
    """Enroll each of ``record_ids`` that has no active enrollment in the flow (with
    ``only_new``: that never enrolled in it); returns the records enrolled."""
    enrolled: list[int] = []
    for chunk in _chunks(record_ids):
        records = select(r.c.record_id).where(r.c.account_id == new.account_id,
                                              r.c.record_id.in_(chunk))
        enrolled += _insert(conn, new, records, len(chunk), only_new)
    return sorted(enrolled)


def enroll_selected(conn: Connection, new: NewEnrollments, records: Select[tuple[int]],
                    only_new: bool) -> int:
    """Enroll every record ``records`` selects (one ``INSERT ... SELECT``) that has no
    active enrollment (``only_new``: never enrolled); returns how many enrolled."""
    at_most = 0 if is_postgres(conn) else count_selected(conn, new, records, only_new)
    if not is_postgres(conn) and at_most == 0:
        return 0
    return len(_insert(conn, new, records, at_most, only_new))


def count_selected(conn: Connection, new: NewEnrollments, records: Select[tuple[int]],
                   only_new: bool) -> int:
    """How many of the records ``records`` selects ``enroll_selected`` would enroll."""
    sub = records.subquery()
    return int(conn.execute(select(func.count()).select_from(sub).where(
        _unblocked(new, sub.c.record_id, only_new))).scalar_one())


def _unblocked(new: NewEnrollments, record_id: ColumnElement[int], only_new: bool
               ) -> ColumnElement[bool]:
    """The record has no active enrollment in the flow (``only_new``: none at all). The
    ``OFFSET 0`` keeps it a lookup per record by the index on (account, flow, record):
    as an anti-join, PostgreSQL planned it on a new flow's statistics (no enrollments) as
    a walk through the flow's enrollments per record, the statement's own included, so
    enrolling 20,000 records took 21 s (with the lookup: see docs/ARCHITECTURE.md)."""
    blocking = select(e.c.record_id).where(
        e.c.account_id == new.account_id, e.c.flow_id == new.flow_id,
        e.c.record_id == record_id)
    if not only_new:
        blocking = blocking.where(e.c.state == ACTIVE)
    return ~blocking.offset(0).exists()


def mark_pending(conn: Connection, account_id: int, flow_id: int, record_ids: Collection[int]
                 ) -> list[int]:
    """Remember a re-enrollment on the records' active enrollments; returns the records
    that had one."""
    ids = sorted(set(record_ids))
    marked: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        marked += conn.execute(update(e).where(
            e.c.account_id == account_id, e.c.flow_id == flow_id, e.c.state == ACTIVE,
            e.c.record_id.in_(ids[start:start + _CHUNK])).values(reenroll_pending=True)
            .returning(e.c.record_id)).scalars()
    return sorted(marked)


def active_records(conn: Connection, account_id: int, flow_id: int,
                   record_ids: Collection[int]) -> set[int]:
    """The records among ``record_ids`` with an active enrollment in the flow."""
    ids = sorted(set(record_ids))
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(conn.execute(select(e.c.record_id).where(
            e.c.account_id == account_id, e.c.flow_id == flow_id, e.c.state == ACTIVE,
            e.c.record_id.in_(ids[start:start + _CHUNK]))).scalars())
    return found


def claim_due(conn: Connection, now_ms: int, limit: int) -> list[EnrollmentRow]:
    """Active enrollments whose next action is due, earliest first, locked for this
    transaction (on PostgreSQL others skip them: several workers share the work)."""
    query = select(e).where(e.c.state == ACTIVE, e.c.due_ms <= now_ms).order_by(
        e.c.due_ms).limit(limit)
    if is_postgres(conn):
        query = query.with_for_update(skip_locked=True)
    return [_row(row) for row in conn.execute(query)]


def next_due_ms(conn: Connection) -> int | None:
    """When the earliest active enrollment is due (None: none is active)."""
    due = conn.execute(select(func.min(e.c.due_ms)).where(e.c.state == ACTIVE)).scalar()
    return None if due is None else int(due)


def advance(conn: Connection, account_id: int, ids: Collection[int], next_action_id: str | None,
            due_ms: int) -> None:
    """Move the enrollments to ``next_action_id``, due at ``due_ms``."""
    for chunk in _chunks(ids):
        conn.execute(update(e).where(e.c.account_id == account_id,
                                     any_of(conn, e.c.enrollment_id, chunk))
                     .values(next_action_id=next_action_id, due_ms=due_ms))


def finish(conn: Connection, account_id: int, ids: Collection[int], state: EnrollmentState,
           now_ms: int, reason: str | None = None) -> None:
    """End the active enrollments among ``ids`` (completed, failed or cancelled)."""
    assert state is not EnrollmentState.ACTIVE
    ended: Counter[int] = Counter()
    for chunk in _chunks(ids):
        ended.update(conn.execute(update(e).where(
            e.c.account_id == account_id, e.c.state == ACTIVE,
            any_of(conn, e.c.enrollment_id, chunk)).values(
            state=state.value, next_action_id=None, due_ms=None, finished_ms=now_ms,
            reason=reason).returning(e.c.flow_id)).scalars())
    _count(conn, account_id, ended, state.value.lower())


def cancel_flow(conn: Connection, account_id: int, flow_id: int, now_ms: int, reason: str
                ) -> int:
    """Cancel every active enrollment of the flow (turned off or deleted), pending
    re-enrollments included; returns how many."""
    cancelled = int(conn.execute(update(e).where(
        e.c.account_id == account_id, e.c.flow_id == flow_id, e.c.state == ACTIVE).values(
        state=EnrollmentState.CANCELLED.value, next_action_id=None, due_ms=None,
        finished_ms=now_ms, reason=reason, reenroll_pending=False)).rowcount)
    _count(conn, account_id, {flow_id: cancelled}, "cancelled")
    return cancelled


def cancel_records(conn: Connection, account_id: int, flow_id: int,
                   record_ids: Collection[int], now_ms: int, reason: str) -> list[int]:
    """Cancel the records' active enrollments in the flow; returns the records cancelled."""
    ids = sorted(set(record_ids))
    cancelled: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        cancelled += conn.execute(update(e).where(
            e.c.account_id == account_id, e.c.flow_id == flow_id, e.c.state == ACTIVE,
            e.c.record_id.in_(ids[start:start + _CHUNK])).values(
            state=EnrollmentState.CANCELLED.value, next_action_id=None, due_ms=None,
            finished_ms=now_ms, reason=reason, reenroll_pending=False)
            .returning(e.c.record_id)).scalars()
    _count(conn, account_id, {flow_id: len(cancelled)}, "cancelled")
    return sorted(cancelled)


# The counts of a flow's enrollments live in ``workflow_counts``, changed in the
# transactions that insert and end enrollments: reading them is one row. Counted from an
# index, a flow of 1,000,000 enrollments took 0.15 s (PostgreSQL) to 0.29 s (SQLite).
_COUNTED = ("enrolled", "completed", "failed", "cancelled")


def _count(conn: Connection, account_id: int, by_flow: Mapping[int, int], counter: str
           ) -> None:
    """Add ``by_flow``'s numbers to each flow's ``counter`` (flows in id order, so two
    transactions never wait for each other's rows the other way round)."""
    assert counter in _COUNTED
    rows = [{"account_id": account_id, "flow_id": fid, **dict.fromkeys(_COUNTED, 0),
             counter: n} for fid, n in sorted(by_flow.items()) if n]
    if not rows:
        return
    module: Any = postgresql if is_postgres(conn) else sqlite
    stmt = module.insert(c)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["account_id", "flow_id"],
        set_={counter: c.c[counter] + stmt.excluded[counter]}), rows)


def counts(conn: Connection, account_id: int, flow_id: int) -> Counter[str]:
    """The flow's enrollments by state (``ACTIVE``, ``COMPLETED``, ...) and in all
    (``enrolled``): one row."""
    row = conn.execute(select(*(c.c[n] for n in _COUNTED)).where(
        c.c.account_id == account_id, c.c.flow_id == flow_id)).first()
    if row is None:
        return Counter()
    enrolled, completed, failed, cancelled = (int(x) for x in row)
    return Counter({"enrolled": enrolled, EnrollmentState.COMPLETED.value: completed,
                    EnrollmentState.FAILED.value: failed,
                    EnrollmentState.CANCELLED.value: cancelled,
                    EnrollmentState.ACTIVE.value: enrolled - completed - failed - cancelled})


def forget_records(conn: Connection, account_id: int, record_ids: Collection[int]) -> None:
    """Delete the records' enrollments (a GDPR erase), and take them off the counts."""
    for chunk in _chunks(record_ids):
        gone = conn.execute(e.delete().where(
            e.c.account_id == account_id, e.c.record_id.in_(chunk)).returning(
            e.c.flow_id, e.c.state)).all()
        _count(conn, account_id, _less(f for f, _ in gone), "enrolled")
        for state in (EnrollmentState.COMPLETED, EnrollmentState.FAILED,
                      EnrollmentState.CANCELLED):
            _count(conn, account_id, _less(f for f, st in gone if st == state.value),
                   state.value.lower())


def _less(flow_ids: Iterable[int]) -> dict[int, int]:
    return {fid: -n for fid, n in Counter(flow_ids).items()}


def list_enrollments(conn: Connection, account_id: int, flow_id: int, state: str | None = None,
                     before: int | None = None, limit: int = 100) -> list[EnrollmentRow]:
    """The flow's enrollments (in ``state``, if given), newest first, older than
    enrollment ``before``."""
    query = select(e).where(e.c.account_id == account_id, e.c.flow_id == flow_id)
    if state is not None:
        query = query.where(e.c.state == state)
    if before is not None:
        query = query.where(e.c.enrollment_id < before)
    return [_row(row) for row in conn.execute(
        query.order_by(e.c.enrollment_id.desc()).limit(limit))]


def load_for_record(conn: Connection, account_id: int, record_id: int, limit: int = 200
                    ) -> list[EnrollmentRow]:
    """The record's enrollments in every flow, newest first."""
    return [_row(row) for row in conn.execute(select(e).where(
        e.c.account_id == account_id, e.c.record_id == record_id)
        .order_by(e.c.enrollment_id.desc()).limit(limit))]


def load_enrollments(conn: Connection, account_id: int, flow_id: int,
                     record_ids: Sequence[int]) -> list[EnrollmentRow]:
    """The enrollments of ``record_ids`` in the flow, newest first."""
    where, bound = in_ids(conn, "record_id", record_ids)
    rows = conn.execute(text(
        f"SELECT * FROM workflow_enrollments WHERE account_id = :a AND flow_id = :f AND {where}"
        " ORDER BY enrollment_id DESC"), {"a": account_id, "f": flow_id, "ids": bound})
    return [_row(row) for row in rows]


def _chunks(ids: Collection[int]) -> list[list[int]]:
    items = sorted(set(ids))
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]
