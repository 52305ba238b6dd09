"""The supported subset of HubSpot's Automation v4 flow definition, read into a pure model;
each part outside it is a 400 naming the part (domain/workflows.py), and the definition is
kept in HubSpot's shape (domain/workflow_shape.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from propsync.domain.errors import ValidationError
from propsync.domain.filters import Filter
from propsync.domain.workflow_shape import (
    SERVER_FIELDS,
    next_available_action_id,
    stored_definition,
)
from propsync.domain.workflows import (
    MAX_ACTIONS,
    AssociatedTarget,
    AssociationSource,
    Delay,
    EnrolledProperty,
    FetchedProperty,
    SetProperty,
    StaticBranch,
    StaticValue,
    parse_flow,
)

POSTMAN = Path(__file__).parents[2] / "tests" / "hubspot_specs" / \
    "automation-v4-flows.postman.json"


def prop_filter(name: str, operator: str = "IS_EQUAL_TO", op_type: str = "STRING",
                **operands: Any) -> dict[str, Any]:
    operation = {"operationType": op_type, "operator": operator,
                 "includeObjectsWithNoValueSet": False, **operands}
    if not operands and operator not in ("IS_KNOWN", "IS_UNKNOWN"):
        operation["value"] = "x"
    return {"filterType": "PROPERTY", "property": name, "operation": operation}


def or_of(*groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {"filterBranchType": "OR", "filterBranchOperator": "OR", "filters": [],
            "filterBranches": [{"filterBranchType": "AND", "filterBranchOperator": "AND",
                                "filters": g, "filterBranches": []} for g in groups]}


def set_action(action_id: str, prop: str, value: dict[str, Any], next_id: str | None = None,
               association: dict[str, Any] | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"property_name": prop, "value": value}
    if association:
        fields["association"] = association
    action = {"type": "SINGLE_CONNECTION", "actionId": action_id, "actionTypeId": "0-5",
              "actionTypeVersion": 0, "fields": fields}
    if next_id:
        action["connection"] = {"edgeType": "STANDARD", "nextActionId": next_id}
    return action


def static(text: str) -> dict[str, Any]:
    return {"type": "STATIC_VALUE", "staticValue": text}


def flow(**over: Any) -> dict[str, Any]:
    """A contact flow: enrolls contacts whose lifecycle stage is customer, then sets one
    property; ``over`` replaces top-level members."""
    body = {"type": "CONTACT_FLOW", "objectTypeId": "0-1", "flowType": "WORKFLOW",
            "name": "Customers", "isEnabled": False,
            "enrollmentCriteria": {
                "type": "LIST_BASED", "shouldReEnroll": False,
                "unEnrollObjectsNotMeetingCriteria": False,
                "listFilterBranch": or_of([prop_filter("lifecyclestage", value="customer")]),
                "reEnrollmentTriggersFilterBranches": []},
            "actions": [set_action("1", "jobtitle", static("Customer"))],
            "dataSources": [], "blockedDates": [], "timeWindows": [], "customProperties": {},
            "suppressionListIds": [], "canEnrollFromSalesforce": False}
    body.update(over)
    return body


def refusal(body: Any) -> tuple[str, str]:
    """(code, path) of the refusal of ``body``."""
    with pytest.raises(ValidationError) as caught:
        parse_flow(body)
    detail = caught.value.details[0]
    return str(detail.code), detail.context["path"][0]


# --- what is read --------------------------------------------------------------------------

def test_a_list_based_contact_flow_is_read_with_its_filters_and_action():
    parsed = parse_flow(flow())
    assert (parsed.object_type, parsed.flow_type, parsed.name, parsed.enabled) == (
        "contacts", "CONTACT_FLOW", "Customers", False)
    assert parsed.enrollment.kind == "LIST_BASED"
    assert parsed.enrollment.groups == ((Filter("lifecyclestage", "EQ", "customer"),),)
    assert parsed.enrollment.properties == {"lifecyclestage"}
    assert parsed.actions == {"1": SetProperty("1", "jobtitle", StaticValue("Customer"), None,
                                               None)}
    assert parsed.start_action_id == "1"


@pytest.mark.parametrize("object_type_id,name", [("0-1", "contacts"), ("0-2", "companies"),
                                                 ("0-3", "deals"), ("0-5", "tickets")])
def test_a_platform_flow_enrolls_each_standard_object_type(object_type_id, name):
    parsed = parse_flow(flow(type="PLATFORM_FLOW", objectTypeId=object_type_id,
                             enrollmentCriteria={"type": "MANUAL", "shouldReEnroll": False}))
    assert (parsed.object_type, parsed.enrollment.kind) == (name, "MANUAL")


def test_without_enrollment_criteria_a_flow_enrolls_by_hand_only():
    body = flow()
    del body["enrollmentCriteria"]
    assert parse_flow(body).enrollment.kind == "MANUAL"


@pytest.mark.parametrize("operator,op_type,operands,expected", [
    ("IS_NOT_EQUAL_TO", "STRING", {"value": "a"},
     [Filter("p", "NEQ", "a"), Filter("p", "HAS_PROPERTY")]),
    ("IS_ANY_OF", "ENUMERATION", {"values": ["a", "b"]}, [Filter("p", "IN", None, ("a", "b"))]),
    ("IS_NONE_OF", "ENUMERATION", {"values": ["a"], "includeObjectsWithNoValueSet": True},
     [Filter("p", "NOT_IN", None, ("a",))]),
    ("CONTAINS", "STRING", {"value": "ac"}, [Filter("p", "CONTAINS_TOKEN", "*ac*")]),
    ("IS_GREATER_THAN", "NUMBER", {"value": 5}, [Filter("p", "GT", "5")]),
    ("IS_LESS_THAN_OR_EQUAL_TO", "NUMBER", {"value": "2.5"}, [Filter("p", "LTE", "2.5")]),
    ("IS_BETWEEN", "NUMBER_RANGED", {"lowerBound": 1, "upperBound": 9},
     [Filter("p", "BETWEEN", "1", (), "9")]),
    ("IS_KNOWN", "ALL_PROPERTY", {}, [Filter("p", "HAS_PROPERTY")]),
    ("IS_UNKNOWN", "ALL_PROPERTY", {}, [Filter("p", "NOT_HAS_PROPERTY")]),
    ("IS_EQUAL_TO", "BOOL", {"value": True}, [Filter("p", "EQ", "true")]),
    ("IS_EQUAL_TO", "MULTISTRING", {"values": ["a", "b"]}, [Filter("p", "IN", None, ("a", "b"))]),
    ("IS_NOT_EQUAL_TO", "MULTISTRING", {"values": ["a"]},
     [Filter("p", "NOT_IN", None, ("a",)), Filter("p", "HAS_PROPERTY")]),
])
def test_each_supported_operator_becomes_searchs_filter(operator, op_type, operands, expected):
    body = flow(enrollmentCriteria={
        "type": "LIST_BASED", "shouldReEnroll": False, "unEnrollObjectsNotMeetingCriteria": False,
        "listFilterBranch": or_of([prop_filter("p", operator, op_type, **operands)]),
        "reEnrollmentTriggersFilterBranches": []})
    assert list(parse_flow(body).enrollment.groups[0]) == expected


def test_re_enrollment_triggers_name_the_properties_whose_change_re_enrolls():
    criteria = flow()["enrollmentCriteria"] | {"shouldReEnroll": True,
                                                "reEnrollmentTriggersFilterBranches": [
        {"filterBranchType": "UNIFIED_EVENTS", "eventTypeId": "4-655002",
         "operator": "HAS_COMPLETED", "filterBranches": [], "filters": [
             prop_filter("hs_name", "IS_EQUAL_TO", "ENUMERATION", values=["jobtitle"])]},
        {"filterBranchType": "AND", "filterBranches": [],
         "filters": [prop_filter("city", value="Paris")]}]}
    enrollment = parse_flow(flow(enrollmentCriteria=criteria)).enrollment
    assert enrollment.should_re_enroll and enrollment.re_enroll_on == {"jobtitle", "city"}
    assert enrollment.properties == {"lifecyclestage", "jobtitle", "city"}


def test_values_are_static_the_enrolled_records_or_fetched_through_a_data_source():
    source = {"type": "ASSOCIATION", "name": "company", "objectTypeId": "0-2",
              "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279,
              "sortBy": {"property": "createdate", "order": "DESC"}}
    body = flow(dataSources=[source], startActionId="1", actions=[
        set_action("1", "city", {"type": "FETCHED_OBJECT_PROPERTY",
                                 "propertyToken": "{{ company.city }}"}, "2"),
        set_action("2", "description", {"type": "OBJECT_PROPERTY", "propertyName": "city"},
                   "3", {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}),
        {"type": "SINGLE_CONNECTION", "actionId": "3", "actionTypeId": "0-1",
         "fields": {"delta": "2", "time_unit": "HOURS"}}])
    parsed = parse_flow(body)
    assert parsed.sources == {"company": AssociationSource("company", "0-2", "HUBSPOT_DEFINED",
                                                           279, True)}
    assert parsed.actions["1"].value == FetchedProperty("company", "city")  # type: ignore[union-attr]
    assert parsed.actions["2"] == SetProperty("2", "description", EnrolledProperty("city"),
                                              AssociatedTarget("HUBSPOT_DEFINED", 279), "3")
    assert parsed.actions["3"] == Delay("3", 7_200_000, None)
    assert parsed.read_properties() == [(None, "lifecyclestage"), ("company", "city"),
                                        (None, "city")]
    assert parsed.written_properties() == [(None, "city"),
                                           (AssociatedTarget("HUBSPOT_DEFINED", 279),
                                            "description")]


def test_a_static_branch_goes_on_by_the_enrolled_records_value():
    body = flow(actions=[
        {"type": "STATIC_BRANCH", "actionId": "1",
         "inputValue": {"type": "OBJECT_PROPERTY", "propertyName": "lifecyclestage"},
         "staticBranches": [{"branchValue": "lead",
                             "connection": {"edgeType": "STANDARD", "nextActionId": "2"}}],
         "defaultBranchName": "Other",
         "defaultBranch": {"edgeType": "STANDARD", "nextActionId": "3"}},
        set_action("2", "jobtitle", static("Lead")),
        set_action("3", "jobtitle", static("Other"))])
    parsed = parse_flow(body)
    assert parsed.start_action_id == "1"
    assert parsed.actions["1"] == StaticBranch("1", "lifecyclestage", (("lead", "2"),), "3")


# --- what is refused, and where ---------------------------------------------------------------

@pytest.mark.parametrize("over,code,path", [
    ({"type": "WORKFLOW"}, "UNSUPPORTED_FLOW_PART", "type"),
    ({"objectTypeId": "2-123"}, "UNSUPPORTED_FLOW_PART", "objectTypeId"),
    ({"objectTypeId": "0-2"}, "INVALID_FLOW", "objectTypeId"),  # a CONTACT_FLOW of companies
    ({"flowType": "ACTION_SET"}, "UNSUPPORTED_FLOW_PART", "flowType"),
    ({"blockedDates": [{"dayOfMonth": 1, "month": "JANUARY"}]}, "UNSUPPORTED_FLOW_PART",
     "blockedDates"),
    ({"timeWindows": [{"day": "MONDAY"}]}, "UNSUPPORTED_FLOW_PART", "timeWindows"),
    ({"suppressionListIds": [1]}, "UNSUPPORTED_FLOW_PART", "suppressionListIds"),
    ({"goalFilterBranch": or_of([prop_filter("x")])}, "UNSUPPORTED_FLOW_PART",
     "goalFilterBranch"),
    ({"suppressionFilterBranch": or_of([prop_filter("x")])}, "UNSUPPORTED_FLOW_PART",
     "suppressionFilterBranch"),
    ({"name": 5}, "INVALID_FLOW", "name"),
    ({"name": "n" * 201}, "INVALID_FLOW", "name"),
    ({"isEnabled": "yes"}, "INVALID_FLOW", "isEnabled"),
    ({"description": []}, "INVALID_FLOW", "description"),
    ({"customProperties": {"a": 1}}, "INVALID_FLOW", "customProperties"),
    ({"canEnrollFromSalesforce": "no"}, "INVALID_FLOW", "canEnrollFromSalesforce"),
    ({"actions": {"a": 1}}, "INVALID_FLOW", "actions"),
    ({"dataSources": "x"}, "INVALID_FLOW", "dataSources"),
    ({"startActionId": "9"}, "INVALID_FLOW", "startActionId"),
])
def test_each_top_level_part_outside_the_subset_is_named(over, code, path):
    assert refusal(flow(**over)) == (code, path)


@pytest.mark.parametrize("action,code,path", [
    ({"type": "WEBHOOK", "actionId": "1"}, "UNSUPPORTED_FLOW_PART", "actions[0].type"),
    ({"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-4", "fields": {}},
     "UNSUPPORTED_FLOW_PART", "actions[0].actionTypeId"),
    ({"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5"}, "INVALID_FLOW",
     "actions[0].fields"),
    ({"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5", "actionTypeVersion":
      "x", "fields": {"property_name": "a", "value": static("b")}}, "INVALID_FLOW",
     "actions[0].actionTypeVersion"),
    (set_action("1", "a", {"type": "INCREMENT", "incrementAmount": 1}),
     "UNSUPPORTED_FLOW_PART", "actions[0].fields.value.type"),
    (set_action("1", "a", {"type": "FETCHED_OBJECT_PROPERTY", "propertyToken": "{{ x.y }}"}),
     "INVALID_FLOW", "actions[0].fields.value.propertyToken"),
    (set_action("1", "", static("b")), "INVALID_FLOW", "actions[0].fields.property_name"),
    ({**set_action("1", "a", static("b")), "fields": {"property_name": "a",
                                                      "value": static("b"), "extra": 1}},
     "UNSUPPORTED_FLOW_PART", "actions[0].fields"),
    ({"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-1",
      "fields": {"delta": "1", "time_unit": "YEARS"}}, "UNSUPPORTED_FLOW_PART",
     "actions[0].fields.time_unit"),
    ({"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-1",
      "fields": {"delta": "400", "time_unit": "DAYS"}}, "INVALID_FLOW",
     "actions[0].fields.delta"),
    ({"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-1",
      "fields": {"delta": 1.5, "time_unit": "DAYS"}}, "INVALID_FLOW",
     "actions[0].fields.delta"),
    ({"type": "STATIC_BRANCH", "actionId": "1", "inputValue": static("x"),
      "staticBranches": []}, "UNSUPPORTED_FLOW_PART", "actions[0].inputValue"),
    ({"type": "LIST_BRANCH", "actionId": "1", "listBranches": []}, "UNSUPPORTED_FLOW_PART",
     "actions[0].type"),
])
def test_each_action_outside_the_subset_is_named(action, code, path):
    assert refusal(flow(actions=[action])) == (code, path)


def test_actions_that_loop_are_refused():
    looping = [set_action("1", "a", static("x"), "2"), set_action("2", "a", static("y"), "1")]
    assert refusal(flow(actions=looping, startActionId="1"))[0] == "FLOW_LOOP"


def test_a_connection_to_no_action_and_two_first_actions_are_refused():
    assert refusal(flow(actions=[set_action("1", "a", static("x"), "7")]))[0] == "INVALID_FLOW"
    two = [set_action("1", "a", static("x")), set_action("2", "a", static("y"))]
    assert refusal(flow(actions=two)) == ("INVALID_FLOW", "startActionId")
    assert parse_flow(flow(actions=two, startActionId="2")).start_action_id == "2"


def test_at_most_so_many_actions():
    many = [set_action(str(i), "a", static("x"), str(i + 1)) for i in range(MAX_ACTIONS)]
    many.append(set_action(str(MAX_ACTIONS), "a", static("x")))
    assert refusal(flow(actions=many)) == ("INVALID_FLOW", "actions")


@pytest.mark.parametrize("branch,code", [
    ({"filterBranchType": "NOT_ALL", "filters": [], "filterBranches": []},
     "UNSUPPORTED_FLOW_PART"),
    (or_of([{"filterType": "ASSOCIATION", "property": "x"}]), "UNSUPPORTED_FLOW_PART"),
    (or_of([prop_filter("x", "HAS_EVER_BEEN_EQUAL_TO")]), "UNSUPPORTED_FLOW_PART"),
    (or_of([prop_filter("x", "IS_EQUAL_TO", "DATETIME", value=1)]), "UNSUPPORTED_FLOW_PART"),
    (or_of([prop_filter("x", "IS_GREATER_THAN", "NUMBER", value="ten")]), "INVALID_FLOW"),
    (or_of([prop_filter("x", "IS_EQUAL_TO", "BOOL", value="maybe")]), "INVALID_FLOW"),
    (or_of([prop_filter("x", "IS_BETWEEN", "NUMBER_RANGED", lowerBound="a", upperBound=2)]),
     "INVALID_FLOW"),
    (or_of([]), "INVALID_FLOW"),  # no filter at all
    ({**or_of([prop_filter("x")]), "filterBranchOperator": 7}, "INVALID_FLOW"),
])
def test_each_filter_outside_the_subset_is_refused(branch, code):
    criteria = flow()["enrollmentCriteria"] | {"listFilterBranch": branch}
    assert refusal(flow(enrollmentCriteria=criteria))[0] == code


def test_a_trigger_on_anything_but_a_property_change_is_refused():
    trigger = {"filterBranchType": "UNIFIED_EVENTS", "eventTypeId": "4-655002",
               "operator": "HAS_NOT_COMPLETED", "filterBranches": [],
               "filters": [prop_filter("hs_name", values=["city"])]}
    criteria = flow()["enrollmentCriteria"] | {"shouldReEnroll": True,
                                                "reEnrollmentTriggersFilterBranches": [trigger]}
    assert refusal(flow(enrollmentCriteria=criteria))[1].endswith(".operator")
    trigger |= {"operator": "HAS_COMPLETED", "eventTypeId": "4-1639801"}  # a form submission
    assert refusal(flow(enrollmentCriteria=criteria))[1].endswith(".eventTypeId")


@pytest.mark.parametrize("body", [None, [], "flow", 5, {"type": None},
                                  {"type": "CONTACT_FLOW", "objectTypeId": ["0-1"]}])
def test_a_body_that_is_no_flow_is_refused_not_crashed_on(body):
    with pytest.raises(ValidationError):
        parse_flow(body)


def test_hubspots_postman_examples_are_refused_naming_the_part_outside_the_subset():
    """Every request body of HubSpot's collection (placeholders such as ``<string>``
    included) is outside the subset: refused with the part named, never a crash."""
    collection = json.loads(POSTMAN.read_text())
    bodies = []
    for item in collection["item"][0]["item"]:
        for response in item.get("response", []):
            raw = response.get("originalRequest", {}).get("body", {}).get("raw")
            if raw:
                bodies.append(json.loads(raw))
            if response.get("body") and item["name"].startswith(("post-/automation/v4/flows",
                                                                 "get-/automation/v4/flows/")):
                bodies.append(json.loads(response["body"]))
    assert len(bodies) >= 4
    for body in bodies:
        for candidate in (body, *body.get("results", [])):
            with pytest.raises(ValidationError) as caught:
                parse_flow(candidate)
            assert caught.value.details[0].context["path"]


# --- the definition as kept and shown -------------------------------------------------------

def test_a_flow_from_hubspot_is_kept_without_the_servers_fields():
    fetched = flow(id="123", revisionId="4", createdAt="2025-01-01T00:00:00Z",
                   updatedAt="2025-01-02T00:00:00Z", uuid="u", isEnabled=True,
                   crmObjectCreationStatus="COMPLETE", nextAvailableActionId="2")
    kept = stored_definition(fetched)
    assert not set(SERVER_FIELDS) & set(kept)
    assert kept == stored_definition(flow())
    assert parse_flow(kept) == parse_flow(flow())  # what runs is unchanged


def test_hubspots_defaults_are_filled_in_and_unknown_members_dropped():
    body = flow(actions=[{"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5",
                          "fields": {"property_name": "a", "value": static("x")},
                          "connection": {"nextActionId": "2"}, "color": "red"},
                         {"type": "SINGLE_CONNECTION", "actionId": "2", "actionTypeId": "0-1",
                          "fields": {"delta": 3, "time_unit": "DAYS"}}],
                enrollmentCriteria={"type": "LIST_BASED", "listFilterBranch": {
                    "filterBranchType": "AND", "filters": [{
                        "filterType": "PROPERTY", "property": "n", "operation": {
                            "operationType": "NUMBER", "operator": "IS_EQUAL_TO",
                            "value": "5"}}]}}, somethingElse=1)
    for key in ("blockedDates", "timeWindows", "customProperties", "suppressionListIds",
                "canEnrollFromSalesforce", "dataSources", "flowType"):
        del body[key]
    kept = stored_definition(body)
    assert "somethingElse" not in kept and "color" not in kept["actions"][0]
    assert kept["actions"][0]["actionTypeVersion"] == 0
    assert kept["actions"][0]["connection"] == {"edgeType": "STANDARD", "nextActionId": "2"}
    assert kept["actions"][1]["fields"] == {"delta": "3", "time_unit": "DAYS"}
    assert kept["enrollmentCriteria"] == {
        "type": "LIST_BASED", "shouldReEnroll": False, "unEnrollObjectsNotMeetingCriteria": False,
        "reEnrollmentTriggersFilterBranches": [],
        "listFilterBranch": {"filterBranchType": "AND", "filterBranchOperator": "AND",
                             "filterBranches": [], "filters": [{
                                 "filterType": "PROPERTY", "property": "n", "operation": {
                                     "operationType": "NUMBER", "operator": "IS_EQUAL_TO",
                                     "includeObjectsWithNoValueSet": False, "value": 5}}]}}
    assert (kept["blockedDates"], kept["timeWindows"], kept["customProperties"],
            kept["suppressionListIds"], kept["canEnrollFromSalesforce"], kept["dataSources"],
            kept["flowType"]) == ([], [], {}, [], False, [], "WORKFLOW")
    assert parse_flow(kept) == parse_flow(body)


def test_the_kept_definition_reads_back_to_the_same_flow_and_shape():
    body = flow()
    kept = stored_definition(body)
    assert stored_definition(copy.deepcopy(kept)) == kept
    assert parse_flow(kept) == parse_flow(body)


def test_the_next_available_action_id_follows_the_highest_numeric_one():
    assert next_available_action_id({"actions": []}) == "1"
    assert next_available_action_id({"actions": [{"actionId": "3"}, {"actionId": "x"},
                                                 {"actionId": "12"}]}) == "13"


# --- hostile bodies --------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["0-1", "0-5", "1", "STATIC_VALUE", "PROPERTY", "AND", "OR", "DAYS"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=12)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a path of keys and indexes."""
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


RICH = flow(dataSources=[{"type": "ASSOCIATION", "name": "co", "objectTypeId": "0-2",
                          "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279,
                          "sortBy": {"property": "createdate", "order": "ASC"}}],
            startActionId="1", actions=[
    {"type": "STATIC_BRANCH", "actionId": "1",
     "inputValue": {"type": "OBJECT_PROPERTY", "propertyName": "city"},
     "staticBranches": [{"branchValue": "Paris",
                         "connection": {"edgeType": "STANDARD", "nextActionId": "2"}}],
     "defaultBranch": {"edgeType": "GOTO", "nextActionId": "3"}},
    set_action("2", "jobtitle", {"type": "FETCHED_OBJECT_PROPERTY",
                                 "propertyToken": "{{ co.name }}"}, "3"),
    {"type": "SINGLE_CONNECTION", "actionId": "3", "actionTypeId": "0-1",
     "fields": {"delta": "1", "time_unit": "DAYS"}}])


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(where=st.integers(min_value=0), junk=JSON)
def test_any_part_of_a_flow_replaced_by_any_json_is_read_or_refused_never_crashed_on(
        where, junk):
    body = copy.deepcopy(RICH)
    places = _paths(body)[1:]
    path = places[where % len(places)]
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = junk
    try:
        parsed = parse_flow(body)
    except ValidationError as exc:
        assert exc.details and exc.details[0].context["path"]
        return
    kept = stored_definition(body)
    assert parse_flow(kept) == parsed  # what is stored reads back to what was accepted
    json.dumps(kept)


def test_a_property_change_trigger_without_an_operation_type_is_a_400() -> None:
    """It was stored as HubSpot shows it, which needs the type: a KeyError (a 500)."""
    from propsync.domain.errors import ValidationError as _Invalid
    from propsync.domain.workflows import _trigger

    trigger = {"filterBranchType": "UNIFIED_EVENTS", "eventTypeId": "4-655002",
               "operator": "HAS_COMPLETED", "filterBranches": [],
               "filters": [{"filterType": "PROPERTY", "property": "hs_name",
                            "operation": {"operator": "IS_EQUAL_TO", "values": ["name"]}}]}
    try:
        _trigger(trigger, "t")
    except _Invalid as exc:
        assert "operationType" in exc.message
    else:
        raise AssertionError("accepted a trigger filter without an operationType")
