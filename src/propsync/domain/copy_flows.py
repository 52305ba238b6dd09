"""The copy workflow a HubSpot user builds before sync properties (SPEC 5), pure: a flow
on the source record, enrolled while the source property is known and re-enrolled
whenever it changes, whose one action copies that property to the record's associated
records of one association type. The demo, the benchmark and the migration assistant's
examples all build it here, as ``POST /automation/v4/flows`` takes it."""

from __future__ import annotations

from typing import Any


def copy_to_associated(
    name: str, object_type_id: str, source_property: str, target_property: str,
    association_type_id: int, *, category: str = "HUBSPOT_DEFINED", enabled: bool = True,
) -> dict[str, Any]:
    """Copies ``source_property`` of each record of ``object_type_id`` to
    ``target_property`` of its associated records (``association_type_id`` of
    ``category``, from the source record's side)."""
    known = {"filterType": "PROPERTY", "property": source_property, "operation": {
        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN",
        "includeObjectsWithNoValueSet": False}}
    changed = {"filterType": "PROPERTY", "property": "hs_name", "operation": {
        "operationType": "MULTISTRING", "operator": "IS_EQUAL_TO", "values": [source_property],
        "includeObjectsWithNoValueSet": False}}
    return {
        "type": "PLATFORM_FLOW", "objectTypeId": object_type_id, "flowType": "WORKFLOW",
        "name": name, "isEnabled": enabled, "startActionId": "1",
        "actions": [{"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5",
                     "actionTypeVersion": 0, "fields": {
                         "property_name": target_property,
                         "value": {"type": "OBJECT_PROPERTY", "propertyName": source_property},
                         "association": {"associationCategory": category,
                                         "associationTypeId": association_type_id}}}],
        "enrollmentCriteria": {
            "type": "LIST_BASED", "shouldReEnroll": True,
            "unEnrollObjectsNotMeetingCriteria": False,
            "listFilterBranch": {
                "filterBranchType": "OR", "filterBranchOperator": "OR", "filters": [],
                "filterBranches": [{"filterBranchType": "AND", "filterBranchOperator": "AND",
                                    "filters": [known], "filterBranches": []}]},
            "reEnrollmentTriggersFilterBranches": [{
                "filterBranchType": "UNIFIED_EVENTS", "filterBranchOperator": "AND",
                "eventTypeId": "4-655002", "operator": "HAS_COMPLETED",
                "filters": [changed], "filterBranches": []}]},
        "blockedDates": [], "timeWindows": [], "customProperties": {}, "dataSources": [],
    }
