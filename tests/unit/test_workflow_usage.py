"""Where a flow uses a property, by the object type each occurrence belongs to, and a copy
of its definition with one property replaced (domain/workflow_usage.py)."""

from __future__ import annotations

from typing import Any

from propsync.domain.usage import Replacement
from propsync.domain.workflow_shape import stored_definition
from propsync.domain.workflow_usage import flow_parts, object_types_using, replaced_definition
from propsync.domain.workflows import parse_flow

TO_CONTACTS = 280  # company → contact
ENDS = {TO_CONTACTS: "contacts", 279: "companies"}


def _filter(name: str) -> dict[str, Any]:
    return {"filterType": "PROPERTY", "property": name,
            "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}


def _set(action_id: str, name: str, value: dict[str, Any], next_id: str | None = None,
         to_contacts: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {"property_name": name, "value": value}
    if to_contacts:
        fields["association"] = {"associationCategory": "HUBSPOT_DEFINED",
                                 "associationTypeId": TO_CONTACTS}
    action = {"type": "SINGLE_CONNECTION", "actionId": action_id, "actionTypeId": "0-5",
              "fields": fields}
    if next_id:
        action["connection"] = {"nextActionId": next_id}
    return action


def company_flow() -> dict[str, Any]:
    """Companies whose ``name`` or ``region`` is known (two branches; a change of
    ``region`` re-enrolls): ``name`` copied to the contacts' ``name``, the contact data
    source's ``name`` into the company's ``name``, then a branch on ``region``."""
    return stored_definition({
        "type": "PLATFORM_FLOW", "objectTypeId": "0-2", "name": "F",
        "enrollmentCriteria": {
            "type": "LIST_BASED", "shouldReEnroll": True, "listFilterBranch": {
                "filterBranchType": "OR", "filterBranches": [
                    {"filterBranchType": "AND", "filters": [_filter("name")]},
                    {"filterBranchType": "AND", "filters": [_filter("region")]}]},
            "reEnrollmentTriggersFilterBranches": [{
                "filterBranchType": "UNIFIED_EVENTS", "eventTypeId": "4-655002",
                "filters": [{"filterType": "PROPERTY", "property": "hs_name", "operation": {
                    "operationType": "MULTISTRING", "operator": "IS_ANY_OF",
                    "values": ["region", "name"]}}]}]},
        "dataSources": [{"type": "ASSOCIATION", "name": "contact", "objectTypeId": "0-1",
                         "associationCategory": "HUBSPOT_DEFINED",
                         "associationTypeId": TO_CONTACTS}],
        "startActionId": "1",
        "actions": [
            _set("1", "name", {"type": "OBJECT_PROPERTY", "propertyName": "name"}, "2",
                 to_contacts=True),
            _set("2", "name", {"type": "FETCHED_OBJECT_PROPERTY",
                               "propertyToken": "{{ contact.name }}"}, "3"),
            {"type": "STATIC_BRANCH", "actionId": "3", "inputValue": {
                "type": "OBJECT_PROPERTY", "propertyName": "region"},
             "staticBranches": [{"branchValue": "north"}]}]})


def test_each_occurrence_belongs_to_its_own_object_type() -> None:
    flow = parse_flow(company_flow())
    assert flow_parts(flow, ENDS, "companies", "name") == (
        "enrollment filter (branch 1)", "re-enrollment trigger", "action 1 copies it",
        "action 2 writes it")
    assert flow_parts(flow, ENDS, "contacts", "name") == (
        "action 1 writes it on associated records",
        "action 2 copies it from data source contact")
    assert flow_parts(flow, ENDS, "companies", "region") == (
        "enrollment filter (branch 2)", "re-enrollment trigger", "action 3 branches on it")
    assert flow_parts(flow, ENDS, "deals", "name") == ()
    assert flow_parts(flow, {}, "contacts", "name") == (  # an association type gone
        "action 2 copies it from data source contact",)
    assert object_types_using(flow, ENDS, "name") == ["companies", "contacts"]


def test_a_replacement_changes_only_the_occurrences_of_its_object_type() -> None:
    definition = company_flow()
    flow = parse_flow(definition)
    out = replaced_definition(definition, flow, ENDS, Replacement("companies", "name", "title"))
    assert definition == company_flow()  # the original is left as it was
    again = parse_flow(out)
    assert flow_parts(again, ENDS, "companies", "name") == ()
    assert flow_parts(again, ENDS, "companies", "title") == flow_parts(
        flow, ENDS, "companies", "name")
    assert flow_parts(again, ENDS, "contacts", "name") == flow_parts(flow, ENDS, "contacts",
                                                                     "name")
    assert again.enrollment.re_enroll_on == {"region", "title"}


def test_a_replacement_of_the_contacts_property_reaches_the_token_and_the_write() -> None:
    definition = company_flow()
    flow = parse_flow(definition)
    out = replaced_definition(definition, flow, ENDS, Replacement("contacts", "name", "alias"))
    assert out["actions"][0]["fields"]["property_name"] == "alias"
    assert out["actions"][0]["fields"]["value"]["propertyName"] == "name"
    assert out["actions"][1]["fields"]["value"]["propertyToken"] == "{{ contact.alias }}"
    assert out["actions"][1]["fields"]["property_name"] == "name"
    assert out["enrollmentCriteria"] == definition["enrollmentCriteria"]


def test_a_trigger_naming_both_properties_names_the_new_one_once() -> None:
    definition = company_flow()
    out = replaced_definition(definition, parse_flow(definition), ENDS,
                              Replacement("companies", "name", "region"))
    trigger = out["enrollmentCriteria"]["reEnrollmentTriggersFilterBranches"][0]
    assert trigger["filters"][0]["operation"]["values"] == ["region"]
