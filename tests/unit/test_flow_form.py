"""The workflow editor's model: a form spells HubSpot's flow JSON, and a definition is read
back into a form only when the form spells it exactly (pure)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from propsync.domain.workflow_shape import stored_definition
from propsync.domain.workflows import (
    AssociatedTarget,
    EnrolledProperty,
    FetchedProperty,
    SetProperty,
    StaticValue,
    parse_flow,
)
from propsync.web.flow_fields import apply_button, read_fields
from propsync.web.flow_form import (
    Condition,
    FlowForm,
    Step,
    from_definition,
    to_definition,
)
from propsync.web.flow_words import delay_words, describe

TYPES = {"city": "string", "numberofemployees": "number", "industry": "enumeration",
         "is_public": "bool", "name": "string", "company_city": "string",
         "lifecyclestage": "enumeration"}
ENDS = {("HUBSPOT_DEFINED", 1): "companies", ("HUBSPOT_DEFINED", 279): "companies",
        ("USER_DEFINED", 140): "companies", ("HUBSPOT_DEFINED", 4): "deals"}
COPY = FlowForm(
    name="Company city to contacts", object_type="contacts",
    groups=((Condition("city", "IS_KNOWN"), Condition("numberofemployees", "IS_GREATER_THAN",
                                                      "10")),
            (Condition("industry", "IS_EQUAL_TO", "SOFTWARE"),)),
    re_enroll_on=("city",),
    steps=(Step("fetch", target="company_city", source="city",
                association="companies:HUBSPOT_DEFINED:1", last_created=True),
           Step("delay", delay="5", unit="MINUTES"),
           Step("set", target="lifecyclestage", value="customer"),
           Step("copy", target="name", source="city"),
           Step("copy_to", target="city", source="city",
                association="companies:USER_DEFINED:140")))


def test_a_form_spells_the_flow_propsync_runs() -> None:
    flow = parse_flow(to_definition(COPY, TYPES))
    assert flow.object_type == "contacts" and flow.flow_type == "CONTACT_FLOW"
    assert flow.enrollment.kind == "LIST_BASED" and flow.enrollment.re_enroll_on == {"city"}
    assert [len(g) for g in flow.enrollment.groups] == [2, 1]
    assert flow.enrollment.groups[1][0].operator == "IN"  # an enumeration: any of one value
    chain, at = [], flow.start_action_id
    while at is not None:
        action = flow.actions[at]
        chain.append(action)
        at = getattr(action, "next_id", None)
    fetch, _, static, copy_, copy_to = chain
    assert isinstance(fetch, SetProperty) and isinstance(fetch.value, FetchedProperty)
    source = flow.sources[fetch.value.source]
    assert (source.object_type_id, source.type_id, source.last_created) == ("0-2", 1, True)
    assert isinstance(static, SetProperty) and static.value == StaticValue("customer")
    assert isinstance(copy_, SetProperty) and copy_.value == EnrolledProperty("city")
    assert isinstance(copy_to, SetProperty) and copy_to.target == AssociatedTarget(
        "USER_DEFINED", 140)


def test_a_definition_the_editor_made_reads_back_as_the_same_form() -> None:
    body = to_definition(COPY, TYPES)
    assert stored_definition(body) == body  # stored as the editor spelled it
    form = from_definition(body, TYPES, ENDS)
    assert form is not None
    assert to_definition(form, TYPES) == body
    assert [s.kind for s in form.steps] == ["fetch", "delay", "set", "copy", "copy_to"]
    assert form.groups == COPY.groups and form.re_enroll_on == ("city",)


def test_a_manual_flow_of_companies_is_a_platform_flow() -> None:
    form = FlowForm(name="By hand", object_type="companies", manual=True,
                    steps=(Step("set", target="city", value="Oslo"),))
    body = to_definition(form, TYPES)
    assert body["type"] == "PLATFORM_FLOW" and body["objectTypeId"] == "0-2"
    assert body["enrollmentCriteria"] == {"type": "MANUAL", "shouldReEnroll": False}
    assert "suppressionListIds" not in body
    read = from_definition({**body, "isEnabled": True}, TYPES, ENDS)
    assert read == replace(form, steps=(replace(form.steps[0], action_id="1"),))


def _variant(change: Any) -> dict[str, Any]:
    body = copy.deepcopy(to_definition(COPY, TYPES))
    change(body)
    return body


@pytest.mark.parametrize("change", [
    lambda b: b.update(description="Made in HubSpot"),  # a member the editor has no field for
    lambda b: b["actions"].reverse(),  # listed out of running order
    lambda b: b["enrollmentCriteria"]["listFilterBranch"]["filterBranches"][1]["filters"][0][
        "operation"]["values"].append("RETAIL"),  # two values in one condition
    lambda b: b["actions"][1]["fields"].update(time_unit="WEEKS"),  # a unit the menu lacks
    lambda b: b["dataSources"][0].pop("sortBy"),  # the same meaning, spelled otherwise
    lambda b: b["enrollmentCriteria"].update(unEnrollObjectsNotMeetingCriteria=True),
    lambda b: b["actions"][4]["fields"]["association"].update(associationTypeId=999),
])
def test_a_definition_the_editor_cannot_spell_again_is_not_a_form(change: Any) -> None:
    body = _variant(change)
    parse_flow(body)  # a flow propsync runs, only not one the editor shows
    assert from_definition(body, TYPES, ENDS) is None


def test_a_definition_spelled_otherwise_but_stored_the_same_is_a_form() -> None:
    def loosen(b: dict[str, Any]) -> None:
        b["actions"][1]["fields"]["delta"] = 5  # HubSpot's GET says "5"
        for a in b["actions"]:
            del a["actionTypeVersion"]
        del b["enrollmentCriteria"]["listFilterBranch"]["filterBranchOperator"]

    body = _variant(loosen)
    form = from_definition(body, TYPES, ENDS)
    assert form is not None and stored_definition(to_definition(form, TYPES)) == \
        stored_definition(body)


def test_a_branching_flow_is_not_a_form() -> None:
    body = to_definition(COPY, TYPES)
    body["actions"].append({"type": "STATIC_BRANCH", "actionId": "9", "inputValue": {
        "type": "OBJECT_PROPERTY", "propertyName": "city"}, "staticBranches": [
            {"branchValue": "Oslo", "connection": {"edgeType": "STANDARD",
                                                   "nextActionId": "1"}}]})
    body["startActionId"] = "9"
    parse_flow(body)
    assert from_definition(body, TYPES, ENDS) is None


def test_action_ids_and_source_names_are_kept_and_new_ones_do_not_clash() -> None:
    steps = (Step("set", "7", "city", "Oslo"), Step("set", "", "name", "x"),
             Step("fetch", "", "company_city", source="city", source_name="mine",
                  association="companies:HUBSPOT_DEFINED:1"),
             Step("fetch", "", "name", source="name", source_name="mine",
                  association="companies:HUBSPOT_DEFINED:279"))
    body = to_definition(FlowForm(name="x", steps=steps, manual=True), TYPES)
    assert [a["actionId"] for a in body["actions"]] == ["7", "8", "9", "10"]
    names = [s["name"] for s in body["dataSources"]]
    assert names[0] == "mine" and len(set(names)) == 2  # a different source: a new name
    assert from_definition(body, TYPES, ENDS) is not None


def test_the_fields_of_the_page_read_as_a_form_and_its_buttons_change_it() -> None:
    fields = {"name": ["  Copy  "], "object_type": ["companies"], "enroll": ["conditions"],
              "c-0-1-property": ["city"], "c-0-1-operator": ["IS_KNOWN"],
              "c-0-0-property": ["name"], "c-0-0-value": ["Acme"],
              "c-1-0-property": ["industry"], "re_enroll": ["city", "city", "name"],
              "s-1-kind": ["delay"], "s-1-delay": ["3"], "s-1-unit": ["HOURS"],
              "s-0-kind": ["fetch"], "s-0-pick": ["last"], "s-0-target": ["city"],
              "s-10-kind": ["bogus"], "c-x-0-property": ["ignored"]}
    form = read_fields(fields)
    assert form.name == "Copy" and form.object_type == "companies" and not form.manual
    assert form.groups[0] == (Condition("name", "IS_EQUAL_TO", "Acme"),
                              Condition("city", "IS_KNOWN"))
    assert form.re_enroll_on == ("city", "name")
    assert [s.kind for s in form.steps] == ["fetch", "delay", "set"]
    assert form.steps[0].last_created and form.steps[1].unit == "HOURS"
    assert len(apply_button(form, "add-condition:1").groups[1]) == 2
    assert len(apply_button(form, "add-group").groups) == 3
    assert apply_button(form, "remove-condition:1:0").groups == form.groups[:1]
    assert [s.kind for s in apply_button(form, "up:1").steps] == ["delay", "fetch", "set"]
    assert [s.kind for s in apply_button(form, "down:2").steps] == ["fetch", "delay", "set"]
    assert len(apply_button(form, "add-step", "copy_to").steps) == 4
    assert len(apply_button(form, "remove-step:0").steps) == 2
    for nonsense in ("add-step", "remove-step:99", "up:x", "add-condition:7", "drop"):
        assert apply_button(form, nonsense, "nope") == form
    emptied = apply_button(apply_button(form, "remove-condition:1:0"), "remove-condition:0:0")
    emptied = apply_button(emptied, "remove-condition:0:0")
    assert emptied.groups == ((Condition(),),)  # one empty condition is left to fill in


def test_a_flow_is_said_in_words() -> None:
    labels = {("contacts", "company_city"): "Company city", ("companies", "city"): "City",
              ("contacts", "city"): "City", ("contacts", "lifecyclestage"): "Lifecycle stage",
              ("contacts", "numberofemployees"): "Employees"}
    ends = {("HUBSPOT_DEFINED", 1): ("company associated as “Primary”", "companies"),
            ("USER_DEFINED", 140): ("company associated as “Billing”", "companies")}
    words = describe(parse_flow(to_definition(COPY, TYPES)),
                     lambda ot, name: labels.get((ot, name), name), ends)
    assert words.groups == ["City is known and Employees is greater than “10”",
                            "industry is any of “SOFTWARE”"]
    assert words.re_enroll == "City"
    assert [text for _, text in words.steps] == [
        "Copy the City of the company associated as “Primary” (last created) to the "
        "contact's Company city.",
        "Wait 5 minutes.",
        "Set the contact's Lifecycle stage to “customer”.",
        "Copy the contact's City to the contact's name.",
        "Copy the contact's City to the City of every company associated as “Billing”."]
    assert delay_words(90_000) == "90 seconds" and delay_words(86_400_000) == "1 day"
