"""Bodies of propsync's workflow run endpoints: runs, a flow's counts, enrollments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from propsync.api.schemas.common import Model, NextPage, Paging
from propsync.domain.properties import format_ms
from propsync.services.workflow_runs import (
    EnrollmentPage,
    FlowSummary,
    RecordWorkflow,
    RunsPage,
)
from propsync.storage.enrollments import EnrollmentRow
from propsync.storage.workflow_runs import Run


class RunOut(Model):
    id: str
    flowId: str
    revisionId: str = Field(description="The flow's revision that ran.")
    enrollmentId: str
    recordId: str = Field(description="The enrolled record.")
    actionId: str
    outcome: Literal["DONE", "SKIPPED", "FAILED"]
    detail: str = Field(description="What the action did, in words (no property value).")
    written: int = Field(description="Values the action changed.")
    ranAt: str


def run_out(run: Run) -> RunOut:
    return RunOut(id=str(run.run_id), flowId=str(run.flow_id), revisionId=str(run.revision),
                  enrollmentId=str(run.enrollment_id), recordId=str(run.record_id),
                  actionId=run.action_id, outcome=run.outcome,
                  detail=run.detail, written=run.written, ranAt=format_ms(run.at_ms))


class RunPage(Model):
    results: list[RunOut]
    paging: Paging | None = None


def run_page(page: RunsPage) -> RunPage:
    paging = Paging(next=NextPage(after=page.next_after)) if page.next_after else None
    return RunPage(results=[run_out(r) for r in page.runs], paging=paging)


class SummaryOut(Model):
    flowId: str
    enrolled: int = Field(description="Enrollments ever started.")
    active: int
    completed: int
    failed: int
    cancelled: int
    lastRunAt: str | None = Field(description="When an action of the flow last ran.")


def summary_out(s: FlowSummary) -> SummaryOut:
    return SummaryOut(flowId=str(s.flow_id), enrolled=s.enrolled, active=s.active,
                      completed=s.completed, failed=s.failed, cancelled=s.cancelled,
                      lastRunAt=format_ms(s.last_run_ms) if s.last_run_ms else None)


class EnrollIn(Model):
    recordId: str = Field(description="The id of the record to enroll.", max_length=100)


class EnrollOut(Model):
    recordId: str
    status: Literal["ENROLLED", "PENDING"] = Field(
        description="ENROLLED now, or PENDING: it is enrolled already and goes through the "
        "flow again when that enrollment ends.")


class CountOut(Model):
    count: int = Field(description="Records that meet the criteria and are not enrolled.")


class EnrolledOut(Model):
    enrolled: int


class EnrollmentOut(Model):
    id: str
    flowId: str
    recordId: str
    state: Literal["ACTIVE", "COMPLETED", "FAILED", "CANCELLED"]
    cause: str = Field(description="TRIGGER, MANUAL, EXISTING or PENDING (a re-enrollment "
                       "remembered while the record was enrolled).")
    nextActionId: str | None
    dueAt: str | None
    enrolledAt: str
    finishedAt: str | None
    reenrollPending: bool
    reason: str | None


def enrollment_out(e: EnrollmentRow) -> EnrollmentOut:
    return EnrollmentOut(
        id=str(e.enrollment_id), flowId=str(e.flow_id), recordId=str(e.record_id),
        state=e.state, cause=e.cause, nextActionId=e.next_action_id,
        dueAt=format_ms(e.due_ms) if e.due_ms is not None else None,
        enrolledAt=format_ms(e.enrolled_ms),
        finishedAt=format_ms(e.finished_ms) if e.finished_ms is not None else None,
        reenrollPending=e.reenroll_pending, reason=e.reason)


class EnrollmentList(Model):
    results: list[EnrollmentOut]
    paging: Paging | None = None


def enrollment_page(page: EnrollmentPage) -> EnrollmentList:
    paging = Paging(next=NextPage(after=page.next_after)) if page.next_after else None
    return EnrollmentList(results=[enrollment_out(e) for e in page.enrollments], paging=paging)


class RecordWorkflowOut(Model):
    flowId: str
    name: str
    valuesWritten: int = Field(description="History entries of the record's values the "
                               "workflow wrote (also as an associated record).")
    enrollments: list[EnrollmentOut]
    runs: list[RunOut] = Field(description="The latest runs of the record's enrollments.")


class RecordWorkflowsOut(Model):
    results: list[RecordWorkflowOut]


def record_workflows_out(found: list[RecordWorkflow]) -> RecordWorkflowsOut:
    return RecordWorkflowsOut(results=[RecordWorkflowOut(
        flowId=str(w.flow_id), name=w.name, valuesWritten=w.values_written,
        enrollments=[enrollment_out(e) for e in w.enrollments],
        runs=[run_out(r) for r in w.runs]) for w in found])
