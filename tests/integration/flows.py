"""Workflow tests' facade: flow definitions in HubSpot's shape, a World that saves them
and runs the engines until nothing is left to do, and reads of runs and enrollments."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from propsync.clock import now_ms
from propsync.domain.changes import Watch
from propsync.domain.history import HistoryEntry
from propsync.domain.objects import resolve_object_type
from propsync.domain.workflows import parse_flow
from propsync.services import properties as props
from propsync.services import workflow_runs as run_svc
from propsync.services import workflows as flow_service
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.enrollments import EnrollmentRow, list_enrollments
from propsync.storage.feed import set_watches
from propsync.storage.history import load_history
from propsync.storage.properties import find_property, load_properties
from propsync.storage.workflow_runs import Run, list_runs
from propsync.storage.workflows import NewFlow, insert_flow, load_enabled
from propsync.sync.worker import SyncWorker
from propsync.workflows.runner import WorkflowConfig, WorkflowWorker
from tests.integration.world import World
from tests.patience import WAIT_GUARD_S

TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tickets": "0-5"}

# A contact flow that branches on lifecyclestage: the web editor cannot show a branch, so
# its pages show it read-only (tests/ui, tests/e2e).
BRANCHING = {"type": "CONTACT_FLOW", "objectTypeId": "0-1", "flowType": "WORKFLOW",
             "name": "Branching", "isEnabled": False, "startActionId": "1", "actions": [
                 {"type": "STATIC_BRANCH", "actionId": "1", "inputValue": {
                     "type": "OBJECT_PROPERTY", "propertyName": "lifecyclestage"},
                  "staticBranches": [{"branchValue": "lead", "connection": {
                      "edgeType": "STANDARD", "nextActionId": "2"}}]},
                 {"type": "SINGLE_CONNECTION", "actionId": "2", "actionTypeId": "0-5",
                  "fields": {"property_name": "jobtitle", "value": {
                      "type": "STATIC_VALUE", "staticValue": "Lead"}}}]}


def equals(prop: str, value: str) -> dict[str, Any]:
    return {"filterType": "PROPERTY", "property": prop, "operation": {
        "operationType": "STRING", "operator": "IS_EQUAL_TO", "value": value}}


def known(prop: str) -> dict[str, Any]:
    return {"filterType": "PROPERTY", "property": prop, "operation": {
        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}


def static(text: str) -> dict[str, Any]:
    return {"type": "STATIC_VALUE", "staticValue": text}


def copied(prop: str) -> dict[str, Any]:
    return {"type": "OBJECT_PROPERTY", "propertyName": prop}


def fetched(source: str, prop: str) -> dict[str, Any]:
    return {"type": "FETCHED_OBJECT_PROPERTY", "propertyToken": f"{{{{ {source}.{prop} }}}}"}


def association(type_id: int, user_defined: bool = False) -> dict[str, Any]:
    return {"associationCategory": "USER_DEFINED" if user_defined else "HUBSPOT_DEFINED",
            "associationTypeId": type_id}


def _next(next_id: str | None) -> dict[str, Any] | None:
    return None if next_id is None else {"edgeType": "STANDARD", "nextActionId": next_id}


def set_property(action_id: str, prop: str, value: dict[str, Any], next_id: str | None = None,
                 to: dict[str, Any] | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"property_name": prop, "value": value}
    if to is not None:
        fields["association"] = to
    action = {"type": "SINGLE_CONNECTION", "actionId": action_id, "actionTypeId": "0-5",
              "fields": fields}
    if next_id is not None:
        action["connection"] = _next(next_id)
    return action


def delay(action_id: str, seconds: int, next_id: str | None = None) -> dict[str, Any]:
    action = {"type": "SINGLE_CONNECTION", "actionId": action_id, "actionTypeId": "0-1",
              "fields": {"delta": str(seconds), "time_unit": "SECONDS"}}
    if next_id is not None:
        action["connection"] = _next(next_id)
    return action


def branch(action_id: str, prop: str, branches: dict[str, str | None],
           default: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "STATIC_BRANCH", "actionId": action_id,
        "inputValue": {"type": "OBJECT_PROPERTY", "propertyName": prop},
        "staticBranches": [{"branchValue": v, "connection": _next(n)} if n else
                           {"branchValue": v} for v, n in branches.items()]}
    if default is not None:
        action["defaultBranch"] = _next(default)
    return action


def source(name: str, object_type: str, type_id: int, last: bool = False,
           user_defined: bool = False) -> dict[str, Any]:
    return {"type": "ASSOCIATION", "name": name, "objectTypeId": TYPE_IDS[object_type],
            **association(type_id, user_defined),
            "sortBy": {"property": "createdate", "order": "DESC" if last else "ASC"}}


def flow(object_type: str, actions: Sequence[dict[str, Any]], *,
         criteria: Sequence[dict[str, Any]] | None = None, reenroll_on: Sequence[str] = (),
         sources: Sequence[dict[str, Any]] = (), name: str = "Test flow", enabled: bool = True,
         unenroll: bool = False) -> dict[str, Any]:
    """A flow definition: MANUAL without ``criteria``, else LIST_BASED on them (AND)."""
    body: dict[str, Any] = {
        "type": "CONTACT_FLOW" if object_type == "contacts" else "PLATFORM_FLOW",
        "objectTypeId": TYPE_IDS[object_type], "flowType": "WORKFLOW", "name": name,
        "isEnabled": enabled, "actions": list(actions), "dataSources": list(sources)}
    if actions:
        body["startActionId"] = actions[0]["actionId"]
    if criteria is None:
        body["enrollmentCriteria"] = {"type": "MANUAL", "shouldReEnroll": False}
        return body
    body["enrollmentCriteria"] = {
        "type": "LIST_BASED", "shouldReEnroll": bool(reenroll_on),
        "unEnrollObjectsNotMeetingCriteria": unenroll,
        "listFilterBranch": {"filterBranchType": "OR", "filters": [], "filterBranches": [
            {"filterBranchType": "AND", "filters": list(criteria), "filterBranches": []}]},
        "reEnrollmentTriggersFilterBranches": [{
            "filterBranchType": "UNIFIED_EVENTS", "eventTypeId": "4-655002",
            "filters": [{"property": "hs_name", "operation": {
                "operationType": "MULTISTRING", "operator": "IS_EQUAL_TO",
                "values": list(reenroll_on)}}]}
        ] if reenroll_on else []}
    return body


@dataclass
class FlowWorld(World):
    """A World with workflows: saved through the service, run by the engines."""

    flows_config: WorkflowConfig = field(default_factory=WorkflowConfig)

    @classmethod
    def new(cls, engine: Any) -> FlowWorld:  # type: ignore[override]
        base = World.new(engine)
        return cls(base.engine, base.principal)

    def flow(self, body: dict[str, Any]) -> int:
        """Save a flow through the service (checked against the account)."""
        return flow_service.create_flow(self.engine, self.principal, body).flow_id

    def turn(self, flow_id: int, on: bool) -> None:
        flow_service.set_enabled(self.engine, self.principal, str(flow_id), on)

    def raw_flow(self, body: dict[str, Any]) -> int:
        """Save a flow as it is, unchecked (what a check at run time must catch), and watch
        what it needs."""
        with write_transaction(self.engine) as conn:
            saved = insert_flow(conn, self.account_id,
                                NewFlow(parse_flow(body), body, self.principal.user_id),
                                str(uuid.uuid4()), now_ms())
            self._watch(conn)
        return saved.flow_id

    def _watch(self, conn: Any) -> None:
        watches = set()
        for stored in load_enabled(conn, self.account_id):
            ids = {p.name: p.id for p in load_properties(conn, self.account_id,
                                                         stored.object_type)}
            if stored.flow.enrollment.kind == "LIST_BASED":
                watches.add(Watch(stored.object_type, None))
            watches |= {Watch(stored.object_type, ids[n])
                        for n in stored.flow.enrollment.properties if n in ids}
        set_watches(conn, self.account_id, "workflows", watches)

    def run(self, timeout: float = WAIT_GUARD_S) -> None:
        """Run the sync and workflow engines until neither has anything to do now."""
        flows = WorkflowWorker(self.engine, self.flows_config)
        sync = SyncWorker(self.engine, self.worker)
        deadline = time.monotonic() + timeout
        while flows.drain() + sync.drain():
            assert time.monotonic() < deadline, "the engines did not settle"

    def runs(self, flow_id: int) -> list[Run]:
        """The flow's runs, oldest first."""
        with read_transaction(self.engine) as conn:
            return list(reversed(list_runs(conn, self.account_id, flow_id, None, 10_000)))

    def enrollments(self, flow_id: int) -> list[EnrollmentRow]:
        """The flow's enrollments, oldest first."""
        with read_transaction(self.engine) as conn:
            return list(reversed(list_enrollments(conn, self.account_id, flow_id,
                                                  limit=100_000)))

    def history(self, object_type: str, record_id: int, name: str) -> list[HistoryEntry]:
        """The value's history, newest first."""
        with read_transaction(self.engine) as conn:
            prop = find_property(conn, self.account_id, object_type, name)
            assert prop is not None
            return load_history(conn, self.account_id, [record_id], [prop.id])[
                record_id][prop.id]

    def prop(self, object_type: str, name: str, kind: str = "string", unique: bool = False
             ) -> None:
        """A custom property (text by default)."""
        field_type = {"string": "text", "number": "number", "bool": "booleancheckbox",
                      "date": "date", "datetime": "date"}[kind]
        props.create_property(self.engine, self.principal, object_type, props.PropertyInput(
            name=name, label=name.title(), type=kind, field_type=field_type,
            group_name=resolve_object_type(object_type).group,
            has_unique_value=unique))

    def enroll(self, flow_id: int, *record_ids: int) -> None:
        for rid in record_ids:
            run_svc.enroll_record(self.engine, self.principal, str(flow_id), str(rid))
