"""propsync's own workflow endpoints: what flows did (runs, counts), enrollment by hand,
enrolling the records that meet a flow's criteria, and the workflows of a record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.workflow_runs import (
    CountOut,
    EnrolledOut,
    EnrollIn,
    EnrollmentList,
    EnrollOut,
    RecordWorkflowsOut,
    RunPage,
    SummaryOut,
    enrollment_page,
    record_workflows_out,
    run_page,
    summary_out,
)
from propsync.domain.workflow_rules import Admission
from propsync.services import workflow_runs as svc

router = APIRouter(prefix="/propsync/v1/workflows", tags=["Workflows"],
                   responses=ERROR_RESPONSES)


@router.get("/{flowId}/runs", response_model=RunPage, response_model_exclude_none=True)
def runs(flowId: str, engine: EngineDep, principal: PrincipalDep,
         after: Annotated[str | None, Query(max_length=40)] = None,
         limit: Annotated[int, Query()] = 50) -> RunPage:
    """The flow's run log, newest first: one row per action run, with its outcome."""
    return run_page(svc.list_runs(engine, principal, flowId, after, limit))


@router.get("/{flowId}/summary", response_model=SummaryOut)
def summary(flowId: str, engine: EngineDep, principal: PrincipalDep) -> SummaryOut:
    """The flow's enrollments by state, and when an action of it last ran."""
    return summary_out(svc.flow_summary(engine, principal, flowId))


@router.get("/{flowId}/enrollments", response_model=EnrollmentList,
            response_model_exclude_none=True)
def enrollments(flowId: str, engine: EngineDep, principal: PrincipalDep,
                state: Annotated[str | None, Query(max_length=20)] = None,
                after: Annotated[str | None, Query(max_length=40)] = None,
                limit: Annotated[int, Query()] = 50) -> EnrollmentList:
    """The flow's enrollments (in one state: ACTIVE, COMPLETED, FAILED or CANCELLED),
    newest first."""
    return enrollment_page(svc.list_enrollments(engine, principal, flowId, state, after, limit))


@router.post("/{flowId}/enrollments", response_model=EnrollOut)
def enroll(flowId: str, body: EnrollIn, engine: EngineDep, principal: PrincipalDep
           ) -> EnrollOut:
    """Enroll a record by hand (whatever the criteria). One already enrolled goes through
    the flow again when its enrollment ends."""
    done = svc.enroll_record(engine, principal, flowId, body.recordId)
    return EnrollOut(recordId=str(done.record_id),
                     status="PENDING" if done.admission is Admission.PENDING else "ENROLLED")


@router.get("/{flowId}/enrollments/existing", response_model=CountOut)
def count_existing(flowId: str, engine: EngineDep, principal: PrincipalDep) -> CountOut:
    """How many records meet the flow's criteria now and are not enrolled."""
    return CountOut(count=svc.count_would_enroll(engine, principal, flowId))


@router.post("/{flowId}/enrollments/existing", response_model=EnrolledOut)
def enroll_existing(flowId: str, engine: EngineDep, principal: PrincipalDep) -> EnrolledOut:
    """Enroll every record that meets the flow's criteria now and is not enrolled."""
    return EnrolledOut(enrolled=svc.enroll_existing(engine, principal, flowId))


@router.get("/records/{objectType}/{recordId}", response_model=RecordWorkflowsOut)
def record_workflows(objectType: str, recordId: str, engine: EngineDep,
                     principal: PrincipalDep) -> RecordWorkflowsOut:
    """The workflows that enrolled the record or wrote its values, newest first."""
    return record_workflows_out(svc.record_workflows(engine, principal, objectType, recordId))
