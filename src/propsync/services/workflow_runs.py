"""Running workflows, as the API and the UI see it: enroll a record by hand, enroll every
record that meets a flow's criteria now (and count them first), the run log, a flow's
counts, and which workflows touched a record.

Reading needs the ``automation`` scope and the read scope of the flow's object type (runs
name records); enrolling also needs the role that changes workflows. A flow's enrollments
are cancelled when it is turned off or deleted (``cancel_enrollments``, called by
``services/workflows.py`` in the transaction of that change).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import AUTOMATION, Principal, object_scope
from propsync.domain.errors import ErrorDetail, NotFoundError, ValidationError
from propsync.domain.objects import resolve_object_type
from propsync.domain.record_ids import parse_record_id
from propsync.domain.workflow_rules import Admission, EnrollmentState, admit_manual
from propsync.storage import enrollments as store
from propsync.storage import workflow_runs as runs_store
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.enrollments import EnrollmentRow, NewEnrollments
from propsync.storage.records import load_records
from propsync.storage.workflow_runs import Run
from propsync.storage.workflows import StoredFlow, load_flow
from propsync.workflows import enroller
from propsync.workflows.schema import CriteriaUnavailable

MAX_RUNS_PAGE = 200


@dataclass(frozen=True)
class ManualEnrollment:
    record_id: int
    admission: Admission  # ENROLL: enrolled now; PENDING: again once the active one ends


@dataclass(frozen=True)
class RunsPage:
    runs: list[Run]
    next_after: str | None  # the cursor of the next (older) page


@dataclass(frozen=True)
class EnrollmentPage:
    enrollments: list[EnrollmentRow]
    next_after: str | None  # the cursor of the next (older) page


@dataclass(frozen=True)
class FlowSummary:
    flow_id: int
    enrolled: int  # every enrollment ever
    active: int
    completed: int
    failed: int
    cancelled: int
    last_run_ms: int | None

    @classmethod
    def of(cls, flow_id: int, counts: Counter[str], last_run_ms: int | None) -> FlowSummary:
        return cls(flow_id, counts["enrolled"], counts[EnrollmentState.ACTIVE],
                   counts[EnrollmentState.COMPLETED], counts[EnrollmentState.FAILED],
                   counts[EnrollmentState.CANCELLED], last_run_ms)


@dataclass(frozen=True)
class RecordWorkflow:
    """A workflow that enrolled the record or wrote one of its values."""

    flow_id: int
    name: str
    enrollments: list[EnrollmentRow]  # of this record, newest first
    values_written: int  # history entries on the record with the flow as their source
    runs: list[Run]  # latest runs of this record's enrollments, newest first


def enroll_record(engine: Engine, principal: Principal, flow_id: str, record_id: str
                  ) -> ManualEnrollment:
    """Enroll a record by hand (whatever the criteria; also a record that enrolled
    before). While it is enrolled, it goes through the flow again once that ends."""
    with write_transaction(engine) as conn:
        stored = _flow(conn, principal, flow_id, manage=True)
        _require_on(stored)
        rid = _record(conn, principal, stored, record_id)
        active = store.active_records(conn, principal.account_id, stored.flow_id, [rid])
        admission = admit_manual(bool(active))
        if admission is Admission.PENDING:
            store.mark_pending(conn, principal.account_id, stored.flow_id, [rid])
        else:
            store.enroll(conn, _new(stored, principal, "MANUAL"), [rid], only_new=False)
    return ManualEnrollment(rid, admission)


def count_would_enroll(engine: Engine, principal: Principal, flow_id: str) -> int:
    """How many records ``enroll_existing`` would enroll now (the UI's confirmation)."""
    with read_transaction(engine) as conn:
        stored = _flow(conn, principal, flow_id, manage=False)
        return _existing(conn, principal, stored, count_only=True)


def enroll_existing(engine: Engine, principal: Principal, flow_id: str) -> int:
    """Enroll every record that meets the flow's criteria now and is not enrolled (in a
    flow that does not re-enroll: never was); returns how many. The flow must be on."""
    with write_transaction(engine) as conn:
        stored = _flow(conn, principal, flow_id, manage=True)
        _require_on(stored)
        return _existing(conn, principal, stored, count_only=False)


def flow_changed(conn: Connection, account_id: int, before: StoredFlow,
                 after: StoredFlow | None) -> int:
    """A flow was saved (``after``) or deleted (``None``): if it was on and is no more,
    cancel its active enrollments, in the caller's transaction; returns how many."""
    if after is None:
        return cancel_enrollments(conn, account_id, before.flow_id, "the workflow was deleted")
    if before.enabled and not after.enabled:
        return cancel_enrollments(conn, account_id, before.flow_id,
                                  "the workflow was turned off")
    return 0


def cancel_enrollments(conn: Connection, account_id: int, flow_id: int, reason: str) -> int:
    """Cancel the flow's active enrollments (it was turned off or deleted), in the
    caller's transaction; returns how many."""
    return store.cancel_flow(conn, account_id, flow_id, now_ms(), reason)


def list_runs(engine: Engine, principal: Principal, flow_id: str, after: str | None,
              limit: int) -> RunsPage:
    """A page of the flow's run log, newest first; ``after`` is the cursor a page gave."""
    if not 1 <= limit <= MAX_RUNS_PAGE:
        raise ValidationError(f"'limit' is between 1 and {MAX_RUNS_PAGE}, not {limit}.")
    before = _cursor(after)
    with read_transaction(engine) as conn:
        stored = _flow(conn, principal, flow_id, manage=False)
        found = runs_store.list_runs(conn, principal.account_id, stored.flow_id, before,
                                     limit + 1)
    page = found[:limit]
    return RunsPage(page, str(page[-1].run_id) if len(found) > limit else None)


def list_enrollments(engine: Engine, principal: Principal, flow_id: str, state: str | None,
                     after: str | None, limit: int) -> EnrollmentPage:
    """A page of the flow's enrollments (in ``state``, if given), newest first."""
    if not 1 <= limit <= MAX_RUNS_PAGE:
        raise ValidationError(f"'limit' is between 1 and {MAX_RUNS_PAGE}, not {limit}.")
    if state is not None and state not in {s.value for s in EnrollmentState}:
        raise ValidationError(f"'state' is one of {', '.join(s.value for s in EnrollmentState)}"
                              f", not {state[:40]!r}.")
    before = _cursor(after)
    with read_transaction(engine) as conn:
        stored = _flow(conn, principal, flow_id, manage=False)
        found = store.list_enrollments(conn, principal.account_id, stored.flow_id, state,
                                       before, limit + 1)
    page = found[:limit]
    return EnrollmentPage(page, str(page[-1].enrollment_id) if len(found) > limit else None)


def flow_summary(engine: Engine, principal: Principal, flow_id: str) -> FlowSummary:
    """The flow's enrollments by state, and when an action of it last ran."""
    with read_transaction(engine) as conn:
        stored = _flow(conn, principal, flow_id, manage=False)
        return summary_of(conn, principal.account_id, stored.flow_id)


def summary_of(conn: Connection, account_id: int, flow_id: int) -> FlowSummary:
    """``flow_summary`` inside a caller's transaction (a list page's rows)."""
    return FlowSummary.of(flow_id, store.counts(conn, account_id, flow_id),
                          runs_store.last_run_ms(conn, account_id, flow_id))


def record_workflows(engine: Engine, principal: Principal, object_type: str, record_id: str
                     ) -> list[RecordWorkflow]:
    """The workflows that enrolled the record or wrote its values, newest first."""
    principal.require(AUTOMATION)
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot))
    rid = parse_record_id(record_id)
    with read_transaction(engine) as conn:
        if rid is None or rid not in load_records(conn, principal.account_id, ot, [rid]):
            raise NotFoundError(f"No {ot} record has the id {record_id[:40]!r}.")
        enrolled = store.load_for_record(conn, principal.account_id, rid)
        written = runs_store.flows_that_wrote(conn, principal.account_id, rid)
        ran = runs_store.runs_of_record(conn, principal.account_id, rid, 200)
        ids = {e.flow_id for e in enrolled} | set(written)
        names = runs_store.flow_names(conn, principal.account_id, ids)
    newest = {e.flow_id: e.enrollment_id for e in reversed(enrolled)}
    order = sorted(ids, key=lambda f: (-newest.get(f, 0), -f))
    return [RecordWorkflow(f, names.get(f, ""), [e for e in enrolled if e.flow_id == f],
                           written.get(f, 0), [r for r in ran if r.flow_id == f][:20])
            for f in order]


def _flow(conn: Connection, principal: Principal, flow_id: str, manage: bool) -> StoredFlow:
    """The account's flow; the caller may read workflows and records of its type (and,
    with ``manage``, change workflows)."""
    principal.require(AUTOMATION)
    if manage:
        principal.require_property_settings()
    fid = parse_record_id(flow_id)
    stored = load_flow(conn, principal.account_id, fid) if fid is not None else None
    if stored is None:
        raise NotFoundError(f"No workflow {flow_id[:40]!r} exists in this account.")
    principal.require(object_scope(stored.object_type))
    return stored


def _require_on(stored: StoredFlow) -> None:
    if not stored.enabled:
        message = (f"Workflow {stored.flow_id} is off: turn it on before enrolling records "
                   "in it.")
        raise ValidationError(message, [ErrorDetail(message, "FLOW_OFF")])


def _record(conn: Connection, principal: Principal, stored: StoredFlow, raw: str) -> int:
    rid = parse_record_id(raw)
    rows = load_records(conn, principal.account_id, stored.object_type,
                        [rid] if rid is not None else [])
    if rid is None or rid not in rows or rows[rid].archived:
        raise NotFoundError(f"No {stored.object_type} record has the id {str(raw)[:40]!r} "
                            f"(workflow {stored.flow_id} enrolls {stored.object_type}).",
                            context={"recordId": [str(raw)[:40]]})
    return rid


def _new(stored: StoredFlow, principal: Principal, cause: str) -> NewEnrollments:
    return NewEnrollments(principal.account_id, stored.flow_id, stored.revision,
                          stored.flow.start_action_id, cause, now_ms())


def _existing(conn: Connection, principal: Principal, stored: StoredFlow, count_only: bool
              ) -> int:
    if stored.flow.enrollment.kind != "LIST_BASED":
        raise ValidationError(f"Workflow {stored.flow_id} enrolls records only by hand: it "
                              "has no criteria to enroll existing records by.")
    try:
        return enroller.enroll_existing(conn, stored, principal.account_id, now_ms(),
                                        count_only)
    except CriteriaUnavailable as exc:
        raise ValidationError(f"Workflow {stored.flow_id}'s criteria cannot be evaluated: "
                              f"{exc}. Edit the workflow.") from None


def _cursor(after: str | None) -> int | None:
    if after in (None, ""):
        return None
    found = parse_record_id(after or "")
    if found is None:
        message = "'after' must be a paging cursor from a previous page."
        raise ValidationError(message, [ErrorDetail(message, "INVALID_PAGING")])
    return found
