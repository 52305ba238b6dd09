"""A flow definition as HubSpot shows it (pure): what propsync stores and answers.

``stored_definition`` takes a body that ``workflows.parse_flow`` accepted and keeps the
parts of it that propsync runs or echoes, in HubSpot's shape, with the members HubSpot
always answers filled in with its defaults (``edgeType`` STANDARD, ``actionTypeVersion``
0, ``includeObjectsWithNoValueSet`` false, empty ``blockedDates``, ...). The server's
fields (``id``, ``revisionId``, ``createdAt``, ``isEnabled``, ...) are left out: they live
in their own columns, so a flow fetched from HubSpot is taken as it is. Members outside
the schema are dropped, so nothing unread is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from propsync.domain.workflows import DELAY, SET_PROPERTY

SERVER_FIELDS = ("id", "revisionId", "createdAt", "updatedAt", "uuid", "isEnabled",
                 "crmObjectCreationStatus", "nextAvailableActionId")
_SAME = ("type", "objectTypeId", "name", "description", "startActionId")
# Operation types whose ``value`` HubSpot's schema types as a number or a boolean.
_NUMBER_OPS = ("NUMBER",)
_RANGED_OPS = ("NUMBER_RANGED", "RANGED_NUMBER")


def stored_definition(body: Mapping[str, Any]) -> dict[str, Any]:
    """The definition to store and show for ``body`` (already accepted by ``parse_flow``)."""
    out: dict[str, Any] = {k: body[k] for k in _SAME if body.get(k) is not None}
    out["flowType"] = body.get("flowType") or "WORKFLOW"
    out["actions"] = [_action(a) for a in body.get("actions") or []]
    out["enrollmentCriteria"] = _criteria(body.get("enrollmentCriteria"))
    out["dataSources"] = [_source(s) for s in body.get("dataSources") or []]
    out["blockedDates"], out["timeWindows"] = [], []
    out["customProperties"] = dict(body.get("customProperties") or {})
    if body.get("type") == "CONTACT_FLOW":
        out["canEnrollFromSalesforce"] = bool(body.get("canEnrollFromSalesforce", False))
        out["suppressionListIds"] = []
    return out


def next_available_action_id(definition: Mapping[str, Any]) -> str:
    """One more than the highest numeric action id (HubSpot numbers actions 1, 2, ...)."""
    numbers = [int(a["actionId"]) for a in definition.get("actions", [])
               if str(a.get("actionId", "")).isdigit()]
    return str(max(numbers, default=0) + 1)


def _action(a: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"actionId": a["actionId"], "type": a["type"]}
    if a["type"] == "STATIC_BRANCH":
        out["inputValue"] = _value(a["inputValue"])
        out["staticBranches"] = [_static_branch(b) for b in a["staticBranches"]]
        if a.get("defaultBranch") is not None:
            out["defaultBranch"] = _connection(a["defaultBranch"])
        if isinstance(a.get("defaultBranchName"), str):
            out["defaultBranchName"] = a["defaultBranchName"]
        return out
    out["actionTypeId"] = a["actionTypeId"]
    out["actionTypeVersion"] = a.get("actionTypeVersion") or 0
    out["fields"] = _fields(a["actionTypeId"], a["fields"])
    if a.get("connection") is not None:
        out["connection"] = _connection(a["connection"])
    return out


def _fields(type_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    if type_id == DELAY:
        return {"delta": str(fields["delta"]), "time_unit": fields["time_unit"]}
    assert type_id == SET_PROPERTY
    out: dict[str, Any] = {"property_name": fields["property_name"],
                           "value": _value(fields["value"])}
    if fields.get("association") is not None:
        out["association"] = _association(fields["association"])
    return out


def _association(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"associationCategory": raw["associationCategory"],
            "associationTypeId": raw["associationTypeId"]}


def _value(raw: Mapping[str, Any]) -> dict[str, Any]:
    member = {"STATIC_VALUE": "staticValue", "OBJECT_PROPERTY": "propertyName",
              "FETCHED_OBJECT_PROPERTY": "propertyToken"}[raw["type"]]
    return {"type": raw["type"], member: raw[member]}


def _static_branch(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"branchValue": _text(raw["branchValue"])}
    if raw.get("connection") is not None:
        out["connection"] = _connection(raw["connection"])
    return out


def _connection(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"edgeType": raw.get("edgeType") or "STANDARD", "nextActionId": raw["nextActionId"]}


def _source(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = {"type": "ASSOCIATION", "name": raw["name"], "objectTypeId": raw["objectTypeId"],
           **_association(raw)}
    sort = raw.get("sortBy")
    if sort is not None:
        out["sortBy"] = {"property": sort["property"], "order": sort["order"]}
    return out


def _criteria(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    if raw is None or raw.get("type") == "MANUAL":
        return {"type": "MANUAL",
                "shouldReEnroll": bool(raw and raw.get("shouldReEnroll", False))}
    return {"type": "LIST_BASED", "shouldReEnroll": bool(raw.get("shouldReEnroll", False)),
            "unEnrollObjectsNotMeetingCriteria": bool(
                raw.get("unEnrollObjectsNotMeetingCriteria", False)),
            "listFilterBranch": _branch(raw["listFilterBranch"]),
            "reEnrollmentTriggersFilterBranches": [
                _branch(b) for b in raw.get("reEnrollmentTriggersFilterBranches") or []]}


def _branch(raw: Mapping[str, Any]) -> dict[str, Any]:
    kind = raw["filterBranchType"]
    out: dict[str, Any] = {
        "filterBranchType": kind,
        "filterBranchOperator": raw.get("filterBranchOperator") or (
            "AND" if kind == "UNIFIED_EVENTS" else kind),
        "filterBranches": [_branch(b) for b in raw.get("filterBranches") or []],
        "filters": [_filter(f) for f in raw.get("filters") or []],
    }
    if kind == "UNIFIED_EVENTS":
        out["eventTypeId"] = raw["eventTypeId"]
        out["operator"] = raw.get("operator") or "HAS_COMPLETED"
    return out


def _filter(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"filterType": "PROPERTY", "property": raw["property"],
            "operation": _operation(raw["operation"])}


def _operation(raw: Mapping[str, Any]) -> dict[str, Any]:
    op_type = raw["operationType"]
    out: dict[str, Any] = {
        "operationType": "NUMBER_RANGED" if op_type in _RANGED_OPS else op_type,
        "operator": raw["operator"],
        "includeObjectsWithNoValueSet": bool(raw.get("includeObjectsWithNoValueSet", False)),
    }
    if raw.get("value") is not None:
        out["value"] = _typed(op_type, raw["value"])
    if isinstance(raw.get("values"), list):
        out["values"] = [_text(v) for v in raw["values"]]
    for bound in ("lowerBound", "upperBound"):
        if raw.get(bound) is not None:
            out[bound] = _number(raw[bound])
    return out


def _typed(op_type: str, value: Any) -> Any:
    """A filter's value as HubSpot's schema types it for ``op_type``."""
    if op_type == "BOOL":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if op_type in _NUMBER_OPS:
        return _number(value)
    return _text(value)


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
