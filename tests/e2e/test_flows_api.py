"""HubSpot's Automation v4 workflows API over HTTP, on both stores: definitions saved,
read, listed, replaced against their revision, deleted and read in batches; every answer
in HubSpot's shape (checked against its own spec), every refusal a 4xx naming the part.

(The official SDK, hubspot-api-client 12.0.0, the newest release, has no client for
``/automation/v4/flows``: only ``automation.actions``, custom workflow actions. So there is
no SDK round trip here, unlike test_sdk.py.)"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from propsync.domain.auth import Role
from propsync.services.accounts import create_token, create_user
from tests.conftest import Tenant, client_for, new_tenant
from tests.e2e.replies import codes, error
from tests.e2e.test_hubspot_spec import relax

FLOWS = "/automation/v4/flows"
SPEC = json.loads((Path(__file__).parents[1] / "hubspot_specs" /
                   "automation-v4-flows.json").read_text())
RELAXED = relax(SPEC)
HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
UNLABELED = 279  # contact → company
COMPANY_TO_CONTACT = 280


def conforms(body: Any, schema_name: str) -> None:
    """``body`` validates against HubSpot's schema ``schema_name`` (relaxed where HubSpot's
    own API answers otherwise: test_hubspot_spec.relax)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": RELAXED["components"]}
    validator = jsonschema_rs.Draft4Validator(schema)
    errors = [f"{e.message[-300:]} at {list(e.instance_path)}"
              for e in validator.iter_errors(body)]
    assert not errors, errors


def static(text: str) -> dict[str, Any]:
    return {"type": "STATIC_VALUE", "staticValue": text}


def set_property(action_id: str, name: str, value: dict[str, Any], next_id: str | None = None,
                 association: dict[str, Any] | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"property_name": name, "value": value}
    if association is not None:
        fields["association"] = association
    action: dict[str, Any] = {"type": "SINGLE_CONNECTION", "actionId": action_id,
                              "actionTypeId": "0-5", "actionTypeVersion": 0, "fields": fields}
    if next_id is not None:
        action["connection"] = {"edgeType": "STANDARD", "nextActionId": next_id}
    return action


def equal_to(name: str, value: str) -> dict[str, Any]:
    return {"filterType": "PROPERTY", "property": name, "operation": {
        "operationType": "MULTISTRING", "operator": "IS_EQUAL_TO",
        "includeObjectsWithNoValueSet": False, "values": [value]}}


def contact_flow(name: str = "Customers get a title", **over: Any) -> dict[str, Any]:
    """Enrolls contacts who become customers; sets their job title, then copies the
    company's name (the last created company) into their own company property."""
    body: dict[str, Any] = {
        "type": "CONTACT_FLOW", "objectTypeId": "0-1", "flowType": "WORKFLOW", "name": name,
        "isEnabled": False, "description": "",
        "enrollmentCriteria": {
            "type": "LIST_BASED", "shouldReEnroll": True,
            "unEnrollObjectsNotMeetingCriteria": False,
            "listFilterBranch": {
                "filterBranchType": "OR", "filterBranchOperator": "OR", "filters": [],
                "filterBranches": [{"filterBranchType": "AND", "filterBranchOperator": "AND",
                                    "filterBranches": [],
                                    "filters": [equal_to("lifecyclestage", "customer")]}]},
            "reEnrollmentTriggersFilterBranches": [{
                "filterBranchType": "UNIFIED_EVENTS", "filterBranchOperator": "AND",
                "eventTypeId": "4-655002", "operator": "HAS_COMPLETED", "filterBranches": [],
                "filters": [{"filterType": "PROPERTY", "property": "hs_name", "operation": {
                    "operationType": "ENUMERATION", "operator": "IS_ANY_OF",
                    "includeObjectsWithNoValueSet": False, "values": ["lifecyclestage"]}}]}]},
        "dataSources": [{"type": "ASSOCIATION", "name": "company", "objectTypeId": "0-2",
                         "associationCategory": HUBSPOT_DEFINED,
                         "associationTypeId": UNLABELED,
                         "sortBy": {"property": "createdate", "order": "DESC"}}],
        "startActionId": "1",
        "actions": [set_property("1", "jobtitle", static("Customer"), "2"),
                    set_property("2", "company", {"type": "FETCHED_OBJECT_PROPERTY",
                                                  "propertyToken": "{{ company.name }}"})],
        "blockedDates": [], "timeWindows": [], "customProperties": {},
        "suppressionListIds": [], "canEnrollFromSalesforce": False}
    body.update(over)
    return body


def company_flow(**over: Any) -> dict[str, Any]:
    """Companies enrolled by hand write their name into each associated contact."""
    body: dict[str, Any] = {
        "type": "PLATFORM_FLOW", "objectTypeId": "0-2", "flowType": "WORKFLOW",
        "name": "Name to contacts", "isEnabled": False,
        "enrollmentCriteria": {"type": "MANUAL", "shouldReEnroll": False},
        "actions": [set_property("1", "company", {"type": "OBJECT_PROPERTY",
                                                  "propertyName": "name"},
                                 association={"associationCategory": HUBSPOT_DEFINED,
                                              "associationTypeId": COMPANY_TO_CONTACT})],
        "dataSources": [], "blockedDates": [], "timeWindows": [], "customProperties": {}}
    body.update(over)
    return body


def created(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(FLOWS, json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def member(tenant: Tenant, role: Role, scopes: str = "all") -> httpx.Client:
    engine = tenant.server.engine
    uid = create_user(engine, tenant.account_id, f"{role.value}-{uuid.uuid4().hex[:6]}@x.com",
                      role=role)
    return client_for(tenant.server, create_token(engine, tenant.account_id, scopes, uid).token)


# --- round trips -------------------------------------------------------------------------------

def test_a_flow_is_created_and_read_back_in_hubspots_shape(api):
    flow = created(api, contact_flow())
    conforms(flow, "ApiFlow")
    assert flow["revisionId"] == "1" and flow["isEnabled"] is False
    assert flow["crmObjectCreationStatus"] == "COMPLETE" and flow["nextAvailableActionId"] == "3"
    assert flow["id"].isdigit() and len(flow["uuid"]) == 36
    assert flow["createdAt"] == flow["updatedAt"]
    for key in ("name", "type", "objectTypeId", "enrollmentCriteria", "actions", "dataSources",
                "startActionId"):
        assert flow[key] == contact_flow()[key], key
    fetched = api.get(f"{FLOWS}/{flow['id']}")
    assert fetched.status_code == 200 and fetched.json() == flow


def test_a_platform_flow_writing_to_associated_records_round_trips(api):
    flow = created(api, company_flow(isEnabled=True))
    conforms(flow, "ApiFlow")
    assert flow["isEnabled"] is True and flow["objectTypeId"] == "0-2"
    assert flow["actions"][0]["fields"]["association"]["associationTypeId"] == 280
    assert "canEnrollFromSalesforce" not in flow  # a contact flow's member only


def test_a_flow_fetched_from_hubspot_is_accepted_as_it_is(api):
    """A GET's output (with id, revisionId, createdAt, ... of another portal) is taken by
    POST unchanged: the server's fields are ignored, and new ones given."""
    first = created(api, contact_flow())
    fetched = dict(first, id="987654", revisionId="42", uuid="elsewhere",
                   createdAt="2020-01-01T00:00:00Z")
    second = created(api, fetched)
    assert second["id"] != first["id"] and second["revisionId"] == "1"
    assert second["uuid"] not in ("elsewhere", first["uuid"])
    assert {k: v for k, v in second.items() if k not in ("id", "uuid", "createdAt",
                                                         "updatedAt")} == \
        {k: v for k, v in first.items() if k not in ("id", "uuid", "createdAt", "updatedAt")}


def test_flows_are_listed_a_page_at_a_time(api):
    ids = [created(api, company_flow(name=f"Flow {i}"))["id"] for i in range(3)]
    first = api.get(FLOWS, params={"limit": 2})
    assert first.status_code == 200, first.text
    conforms(first.json(), "CollectionResponseApiFlowListingForwardPaging")
    page = first.json()
    assert [f["id"] for f in page["results"]] == ids[:2]
    assert page["results"][0] == {
        "id": ids[0], "revisionId": "1", "name": "Flow 0", "objectTypeId": "0-2",
        "flowType": "WORKFLOW", "isEnabled": False, "uuid": page["results"][0]["uuid"],
        "createdAt": page["results"][0]["createdAt"],
        "updatedAt": page["results"][0]["updatedAt"]}
    rest = api.get(FLOWS, params={"after": page["paging"]["next"]["after"]}).json()
    assert [f["id"] for f in rest["results"]] == ids[2:] and "paging" not in rest
    for bad in ({"limit": 0}, {"limit": 101}, {"after": "x"}, {"after": "-1"}):
        error(api.get(FLOWS, params=bad), 400)


def test_a_put_replaces_the_flow_and_the_revision_grows(api):
    flow = created(api, contact_flow())
    change = contact_flow(name="Renamed", revisionId=flow["revisionId"], isEnabled=True)
    del change["objectTypeId"], change["dataSources"]  # HubSpot's PUT has neither
    reply = api.put(f"{FLOWS}/{flow['id']}", json=change)
    assert reply.status_code == 200, reply.text
    updated = reply.json()
    conforms(updated, "ApiFlow")
    assert (updated["revisionId"], updated["name"], updated["isEnabled"]) == ("2", "Renamed",
                                                                             True)
    assert updated["dataSources"] == flow["dataSources"]  # kept
    assert updated["createdAt"] == flow["createdAt"] and updated["id"] == flow["id"]
    assert api.get(f"{FLOWS}/{flow['id']}").json() == updated
    again = api.put(f"{FLOWS}/{flow['id']}", json=dict(updated, isEnabled=False))
    assert again.status_code == 200 and again.json()["revisionId"] == "3"


def test_a_put_naming_a_stale_revision_is_a_conflict_and_changes_nothing(api):
    flow = created(api, contact_flow())
    assert api.put(f"{FLOWS}/{flow['id']}", json=dict(flow, name="First")).status_code == 200
    stale = api.put(f"{FLOWS}/{flow['id']}", json=dict(flow, name="Second"))
    body = error(stale, 409, "CONFLICT")
    assert codes(body) == ["REVISION_CONFLICT"] and "revisionId is now 2" in body["message"]
    assert api.get(f"{FLOWS}/{flow['id']}").json()["name"] == "First"
    missing = dict(flow)
    del missing["revisionId"]
    assert codes(error(api.put(f"{FLOWS}/{flow['id']}", json=missing), 400)) == [
        "MISSING_REVISION"]


def test_a_put_cannot_change_the_object_type(api):
    flow = created(api, company_flow())
    reply = api.put(f"{FLOWS}/{flow['id']}", json=dict(flow, objectTypeId="0-3"))
    assert "objectTypeId" in error(reply, 400)["message"]


def test_a_deleted_flow_is_gone(api):
    flow = created(api, company_flow())
    assert api.delete(f"{FLOWS}/{flow['id']}").status_code == 204
    error(api.get(f"{FLOWS}/{flow['id']}"), 404, "OBJECT_NOT_FOUND")
    error(api.delete(f"{FLOWS}/{flow['id']}"), 404)
    error(api.put(f"{FLOWS}/{flow['id']}", json=flow), 404)
    assert flow["id"] not in [f["id"] for f in api.get(FLOWS).json()["results"]]


def test_a_batch_read_reports_the_flows_it_could_not_find(api):
    one, two = created(api, company_flow()), created(api, contact_flow())
    reply = api.post(f"{FLOWS}/batch/read", json={"inputs": [
        {"flowId": two["id"], "type": "FLOW_ID"}, {"flowId": one["id"], "type": "FLOW_ID"}]})
    assert reply.status_code == 200, reply.text
    conforms(reply.json(), "BatchResponseApiFlow")
    assert [f["id"] for f in reply.json()["results"]] == [two["id"], one["id"]]
    partial = api.post(f"{FLOWS}/batch/read", json={"inputs": [
        {"flowId": one["id"], "type": "FLOW_ID"}, {"flowId": "999999999", "type": "FLOW_ID"},
        {"flowId": "not-an-id", "type": "FLOW_ID"}]})
    assert partial.status_code == 207, partial.text
    conforms(partial.json(), "BatchResponseApiFlowWithErrors")
    body = partial.json()
    assert [f["id"] for f in body["results"]] == [one["id"]] and body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"ids": ["999999999", "not-an-id"]}
    error(api.post(f"{FLOWS}/batch/read", json={"inputs": [
        {"flowId": str(i), "type": "FLOW_ID"} for i in range(101)]}), 400)
    error(api.post(f"{FLOWS}/batch/read", json={"inputs": [{"flowId": "1", "type": "X"}]}), 400)


# --- refusals ----------------------------------------------------------------------------------

def test_writing_a_sync_property_is_refused_as_a_read_only_value(api):
    sync = api.post("/crm/v3/properties/contacts", json={
        "name": "company_name_sync", "label": "Company (sync)", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "name",
                       "associationTypes": [{"associationCategory": HUBSPOT_DEFINED,
                                             "associationTypeId": 1}]}})
    assert sync.status_code == 201, sync.text
    body = contact_flow(actions=[set_property("1", "company_name_sync", static("x"))],
                        startActionId="1")
    refusal = error(api.post(FLOWS, json=body), 400)
    assert codes(refusal) == ["READ_ONLY_VALUE"]
    assert refusal["message"].startswith("actions[0].fields.property_name")
    assert api.get(FLOWS).json()["results"] == []
    # reading a sync property (a workflow may enroll on it or copy it) is allowed
    reads = contact_flow(actions=[set_property("1", "jobtitle", {
        "type": "OBJECT_PROPERTY", "propertyName": "company_name_sync"})], startActionId="1")
    created(api, reads)


@pytest.mark.parametrize("where", ["write", "copy", "filter"])
def test_a_restricted_property_cannot_be_read_or_written_by_one_who_may_not_view_it(
        tenant, where):
    boss = tenant.client
    assert boss.post("/crm/v3/properties/contacts", json={
        "name": "salary", "label": "Salary", "type": "number", "fieldType": "number",
        "groupName": "contactinformation", "access": {
            "view": {"everyone": False, "userIds": [tenant.user_id], "teamIds": []},
            "edit": {"everyone": False, "userIds": [tenant.user_id], "teamIds": []}}}
                     ).status_code == 201
    admin = member(tenant, Role.ADMIN)
    body = {
        "write": contact_flow(actions=[set_property("1", "salary", static("100000"))],
                              startActionId="1"),
        "copy": contact_flow(actions=[set_property("1", "jobtitle", {
            "type": "OBJECT_PROPERTY", "propertyName": "salary"})], startActionId="1"),
        "filter": contact_flow(enrollmentCriteria={
            "type": "LIST_BASED", "shouldReEnroll": False,
            "unEnrollObjectsNotMeetingCriteria": False, "reEnrollmentTriggersFilterBranches": [],
            "listFilterBranch": {"filterBranchType": "AND", "filterBranches": [], "filters": [{
                "filterType": "PROPERTY", "property": "salary", "operation": {
                    "operationType": "NUMBER", "operator": "IS_GREATER_THAN",
                    "includeObjectsWithNoValueSet": False, "value": 90000}}]}}),
    }[where]
    refusal = error(admin.post(FLOWS, json=body), 403)
    assert set(codes(refusal)) <= {"PROPERTY_EDIT_RESTRICTED", "PROPERTY_VIEW_RESTRICTED"}
    assert "number" not in refusal["message"] and "100000" not in json.dumps(refusal["errors"])
    created(boss, body)  # the one who may view and edit it saves it


def test_an_unknown_property_is_named(api):
    body = company_flow(actions=[set_property("1", "no_such_thing", static("x"))])
    refusal = error(api.post(FLOWS, json=body), 400)
    assert codes(refusal) == ["PROPERTY_DOESNT_EXIST"] and "no_such_thing" in refusal["message"]
    wrong_type = contact_flow(actions=[set_property("1", "jobtitle", {
        "type": "FETCHED_OBJECT_PROPERTY", "propertyToken": "{{ company.firstname }}"})],
        startActionId="1")  # firstname is a contact's, not a company's
    assert codes(error(api.post(FLOWS, json=wrong_type), 400)) == ["PROPERTY_DOESNT_EXIST"]


def test_a_static_value_must_fit_the_property(api):
    body = contact_flow(actions=[set_property("1", "lifecyclestage", static("astronaut"))],
                        startActionId="1")
    refusal = error(api.post(FLOWS, json=body), 400)
    assert "actions[0].fields.value.staticValue" in refusal["message"]


def test_a_copy_needs_compatible_types(api):
    body = contact_flow(actions=[set_property("1", "lifecyclestage", {
        "type": "OBJECT_PROPERTY", "propertyName": "jobtitle"})], startActionId="1")
    assert codes(error(api.post(FLOWS, json=body), 400)) == ["INCOMPATIBLE_PROPERTY_TYPES"]


@pytest.mark.parametrize("category,type_id,code", [
    (HUBSPOT_DEFINED, 4, "WRONG_ASSOCIATION_TYPE"),  # contact → deal, not contact → company
    (HUBSPOT_DEFINED, 280, "WRONG_ASSOCIATION_TYPE"),  # company → contact: the wrong way
    (HUBSPOT_DEFINED, 987654, "UNKNOWN_ASSOCIATION_TYPE"),
    ("USER_DEFINED", UNLABELED, "UNKNOWN_ASSOCIATION_TYPE"),  # it is HubSpot's
    ("INTEGRATOR_DEFINED", UNLABELED, "UNKNOWN_ASSOCIATION_TYPE"),
])
def test_a_data_source_needs_an_association_type_joining_the_right_types(
        api, category, type_id, code):
    body = contact_flow()
    body["dataSources"][0].update(associationCategory=category, associationTypeId=type_id)
    refusal = error(api.post(FLOWS, json=body), 400)
    assert codes(refusal) == [code] and "dataSources[0]" in refusal["message"]


def test_a_user_defined_label_joins_like_hubspots_types(api):
    label = api.post("/crm/v4/associations/contacts/companies/labels",
                     json={"label": "Billing", "name": "billing"})
    assert label.status_code == 200, label.text
    type_id = next(r["typeId"] for r in label.json()["results"] if r["label"] == "Billing")
    body = contact_flow()
    body["dataSources"][0].update(associationCategory="USER_DEFINED", associationTypeId=type_id)
    assert created(api, body)["dataSources"][0]["associationTypeId"] == type_id


def test_another_accounts_flow_is_not_found(server, api):
    flow = created(api, company_flow())
    other = new_tenant(server).client
    error(other.get(f"{FLOWS}/{flow['id']}"), 404)
    error(other.put(f"{FLOWS}/{flow['id']}", json=flow), 404)
    error(other.delete(f"{FLOWS}/{flow['id']}"), 404)
    assert other.get(FLOWS).json()["results"] == []
    batch = other.post(f"{FLOWS}/batch/read",
                       json={"inputs": [{"flowId": flow["id"], "type": "FLOW_ID"}]})
    assert batch.status_code == 207 and batch.json()["results"] == []
    assert api.get(f"{FLOWS}/{flow['id']}").status_code == 200


def test_a_token_without_the_automation_scope_is_refused(tenant):
    flow = created(tenant.client, company_flow())
    narrow = tenant.client_for(create_token(tenant.server.engine, tenant.account_id,
                                            "crm.objects.contacts.read",
                                            tenant.user_id).token)
    for reply in (narrow.get(FLOWS), narrow.get(f"{FLOWS}/{flow['id']}"),
                  narrow.post(FLOWS, json=company_flow()),
                  narrow.put(f"{FLOWS}/{flow['id']}", json=flow),
                  narrow.delete(f"{FLOWS}/{flow['id']}"),
                  narrow.post(f"{FLOWS}/batch/read",
                              json={"inputs": [{"flowId": flow["id"], "type": "FLOW_ID"}]})):
        body = error(reply, 403, "MISSING_SCOPES")
        assert body["context"] == {"requiredGranularScopes": ["automation"]}


def test_a_user_reads_flows_but_only_property_managers_change_them(tenant):
    flow = created(tenant.client, company_flow())
    user, admin = member(tenant, Role.USER), member(tenant, Role.ADMIN)
    assert user.get(f"{FLOWS}/{flow['id']}").status_code == 200
    assert user.get(FLOWS).status_code == 200
    for reply in (user.post(FLOWS, json=company_flow()),
                  user.put(f"{FLOWS}/{flow['id']}", json=flow),
                  user.delete(f"{FLOWS}/{flow['id']}")):
        assert codes(error(reply, 403)) == ["PROPERTY_SETTINGS_REQUIRED"]
    assert admin.put(f"{FLOWS}/{flow['id']}", json=dict(flow, name="By admin")
                     ).status_code == 200


# --- hostile bodies ------------------------------------------------------------------------------

def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"filterBranchType": "AND", "filterBranches": [value]}
    return value


@pytest.mark.parametrize("body", [
    [], "flow", 5, None, {}, {"type": "CONTACT_FLOW"},
    {"type": "PLATFORM_FLOW", "objectTypeId": 12},
    contact_flow(name=["a"]), contact_flow(isEnabled="true"), contact_flow(actions="all"),
    contact_flow(actions=[{"type": "WEBHOOK", "actionId": "1", "webhookUrl": "http://x"}]),
    contact_flow(actions=[set_property("1", "jobtitle", static("x"), "1")], startActionId="1"),
    contact_flow(enrollmentCriteria={"type": "LIST_BASED", "listFilterBranch": _deep(200)}),
    contact_flow(enrollmentCriteria={"type": "EVENT_BASED", "shouldReEnroll": False}),
    contact_flow(dataSources=[{"type": "ASSOCIATION"}] * 50),
    contact_flow(actions=[set_property(str(i), "jobtitle", static("x")) for i in range(5000)]),
    contact_flow(name="x" * 100_000),
    contact_flow(actions=[set_property("1", "jobtitle", static("x" * 70_000))],
                 startActionId="1"),
    contact_flow(customProperties={str(i): "v" * 100 for i in range(20_000)}),
], ids=lambda b: json.dumps(b)[:40])
def test_a_hostile_body_is_a_400_in_hubspots_shape(api, body):
    error(api.post(FLOWS, json=body), 400)
    assert api.get(FLOWS).json()["results"] == []


def test_a_nul_or_nesting_too_deep_for_json_is_a_400(api):
    nul = json.dumps(contact_flow(name="a\u0000b"))
    error(api.post(FLOWS, content=nul, headers={"content-type": "application/json"}), 400)
    deep = "[" * 100_000 + "]" * 100_000
    assert api.post(FLOWS, content=deep, headers={"content-type": "application/json"}
                    ).status_code == 400
    flow = created(api, company_flow())
    broken = copy.deepcopy(flow)
    broken["actions"][0]["fields"]["value"] = {"type": "OBJECT_PROPERTY", "propertyName": ["x"]}
    error(api.put(f"{FLOWS}/{flow['id']}", json=broken), 400)
    for bad_id in ("0", "-1", "1e3", "x" * 500, "%00"):
        assert api.get(f"{FLOWS}/{bad_id}").status_code in (400, 404)


def test_a_definition_shows_only_to_a_token_that_may_read_each_schema_it_touches(tenant):
    """The flow names contact and company properties: without the company schema scope a
    token sees it listed, but not its definition, and cannot save one like it."""
    flow = created(tenant.client, contact_flow())

    def token(scopes: str) -> httpx.Client:
        return tenant.client_for(create_token(tenant.server.engine, tenant.account_id,
                                              scopes, tenant.user_id).token)

    narrow = token("automation crm.schemas.contacts.read")
    for reply in (narrow.get(f"{FLOWS}/{flow['id']}"),
                  narrow.post(f"{FLOWS}/batch/read",
                              json={"inputs": [{"flowId": flow["id"], "type": "FLOW_ID"}]}),
                  narrow.post(FLOWS, json=contact_flow()),
                  narrow.put(f"{FLOWS}/{flow['id']}", json=flow),
                  narrow.delete(f"{FLOWS}/{flow['id']}")):
        body = error(reply, 403, "MISSING_SCOPES")
        assert body["context"] == {"requiredGranularScopes": ["crm.schemas.companies.read"]}
        assert "lifecyclestage" not in reply.text
    assert [f["id"] for f in narrow.get(FLOWS).json()["results"]] == [flow["id"]]
    wide = token("automation crm.schemas.contacts.read crm.schemas.companies.read")
    assert wide.get(f"{FLOWS}/{flow['id']}").json() == flow


def test_a_label_a_flow_reads_through_cannot_be_deleted(api):
    label = api.post("/crm/v4/associations/contacts/companies/labels",
                     json={"label": "Owner", "name": "owner"}).json()["results"]
    type_id = next(r["typeId"] for r in label if r["label"] == "Owner")
    body = contact_flow()
    body["dataSources"][0].update(associationCategory="USER_DEFINED", associationTypeId=type_id)
    flow = created(api, body)
    refused = api.delete(f"/crm/v4/associations/contacts/companies/labels/{type_id}")
    assert "Customers get a title" in error(refused, 400)["message"]
    assert api.delete(f"{FLOWS}/{flow['id']}").status_code == 204
    assert api.delete(f"/crm/v4/associations/contacts/companies/labels/{type_id}"
                      ).status_code == 204
