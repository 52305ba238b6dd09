"""Where a property is used (``GET /propsync/v1/properties/{type}/{name}/usage``), the
refusals that keep every use pointing at a property, and cloning a workflow with one
property put in another's place (``POST /propsync/v1/workflows/{id}/clone``), over HTTP on
both stores."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from propsync.domain.auth import Role
from tests.conftest import Tenant
from tests.e2e.replies import codes, error
from tests.e2e.test_flows_api import (
    FLOWS,
    company_flow,
    contact_flow,
    created,
    equal_to,
    member,
    set_property,
    static,
)
from tests.e2e.test_sync_api import PRIMARY, sync_body

USAGE = "/propsync/v1/properties/{}/{}/usage"
REPORTS = "/propsync/v1/reports"
CLONE = "/propsync/v1/workflows/{}/clone"


def usage(api: httpx.Client, ot: str, name: str) -> dict[str, Any]:
    reply = api.get(USAGE.format(ot, name))
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def uses(api: httpx.Client, ot: str, name: str) -> dict[tuple[str, str], list[str]]:
    """(kind, id) → parts, of every named use."""
    return {(u["kind"], u["id"]): u["parts"] for u in usage(api, ot, name)["results"]}


def prop(api: httpx.Client, ot: str, name: str, type_: str = "string",
         field_type: str = "text", **extra: Any) -> None:
    group = {"contacts": "contactinformation", "companies": "companyinformation"}[ot]
    reply = api.post(f"/crm/v3/properties/{ot}", json={
        "name": name, "label": name.title(), "type": type_, "fieldType": field_type,
        "groupName": group, **extra})
    assert reply.status_code == 201, reply.text


# --- what is listed ----------------------------------------------------------------------------

def test_every_part_of_a_workflow_that_names_a_property_is_listed(api):
    flow = created(api, contact_flow())
    listed = uses(api, "contacts", "lifecyclestage")
    assert listed == {("workflow", flow["id"]): ["enrollment filter", "re-enrollment trigger"]}
    assert uses(api, "contacts", "jobtitle") == {("workflow", flow["id"]): ["action 1 writes it"]}
    # the data source's property is the company's, not a contact's of the same name
    assert uses(api, "companies", "name") == {
        ("workflow", flow["id"]): ["action 2 copies it from data source company"]}
    whole = usage(api, "companies", "name")
    assert whole["total"] == 1 and whole["hidden"] == []
    assert whole["results"][0]["link"] == f"/ui/automation/workflows/{flow['id']}"
    assert whole["results"][0]["objectType"] == "contacts"
    assert whole["results"][0]["name"] == "Customers get a title"
    assert usage(api, "contacts", "firstname")["total"] == 0


def test_a_flow_of_another_type_writing_associated_records_uses_their_property(api):
    prop(api, "companies", "company")
    flow = created(api, company_flow())
    assert uses(api, "contacts", "company") == {
        ("workflow", flow["id"]): ["action 1 writes it on associated records"]}
    assert uses(api, "companies", "name") == {("workflow", flow["id"]): ["action 1 copies it"]}
    assert uses(api, "companies", "company") == {}  # not a company property it writes


def test_sync_properties_are_listed_directly_and_through_a_chain(api):
    assert api.post("/crm/v3/properties/contacts", json=sync_body()).status_code == 201
    chained = {"name": "contact_company", "label": "Contact's company",
               "groupName": "dealinformation", "syncSource": {
                   "objectType": "contacts", "propertyName": "company_name_sync",
                   "selection": "FIRST_CREATED"}}
    assert api.post("/crm/v3/properties/deals", json=chained).status_code == 201
    listed = usage(api, "companies", "name")["results"]
    assert [(u["kind"], u["id"], u["parts"]) for u in listed] == [
        ("sync property", "contacts.company_name_sync", ["source"]),
        ("sync property", "deals.contact_company",
         ["copies it through contacts.company_name_sync"])]
    assert listed[0]["link"] == "/ui/settings/properties/contacts/company_name_sync"


# --- kept exact --------------------------------------------------------------------------------

def test_a_workflows_uses_follow_its_edits_and_end_with_it(api):
    flow = created(api, contact_flow())
    key = ("workflow", flow["id"])
    assert key in uses(api, "contacts", "jobtitle")
    edited = dict(flow, actions=[set_property("1", "firstname", static("Ann"), "2"),
                                 flow["actions"][1]])
    del edited["objectTypeId"], edited["dataSources"]
    reply = api.put(f"{FLOWS}/{flow['id']}", json=edited)
    assert reply.status_code == 200, reply.text
    assert key not in uses(api, "contacts", "jobtitle")
    assert uses(api, "contacts", "firstname")[key] == ["action 1 writes it"]
    clone = api.post(CLONE.format(flow["id"]), json={})
    assert clone.status_code == 201, clone.text
    assert ("workflow", clone.json()["id"]) in uses(api, "contacts", "firstname")
    assert api.delete(f"{FLOWS}/{flow['id']}").status_code == 204
    assert key not in uses(api, "contacts", "firstname")
    assert api.delete(f"{FLOWS}/{clone.json()['id']}").status_code == 204
    assert uses(api, "contacts", "firstname") == {}


def test_a_sync_propertys_use_follows_its_source_and_ends_with_it(api):
    prop(api, "companies", "motto")
    assert api.post("/crm/v3/properties/contacts", json=sync_body()).status_code == 201
    key = ("sync property", "contacts.company_name_sync")
    assert key in uses(api, "companies", "name")
    moved = api.patch("/crm/v3/properties/contacts/company_name_sync", json={"syncSource": {
        "objectType": "companies", "propertyName": "motto", "selection": "FIRST_CREATED"}})
    assert moved.status_code == 200, moved.text
    assert key not in uses(api, "companies", "name") and key in uses(api, "companies", "motto")
    assert api.delete("/crm/v3/properties/contacts/company_name_sync").status_code == 204
    assert uses(api, "companies", "motto") == {}


# --- refusals ----------------------------------------------------------------------------------

def _refused(reply: httpx.Response, *named: str) -> dict[str, Any]:
    body = error(reply, 400, "VALIDATION_ERROR")
    assert set(codes(body)) == {"CANNOT_DELETE_PROPERTY_IN_USE"}
    for text in named:
        assert text in body["message"], body["message"]
    return body


def test_a_property_a_workflow_uses_cannot_be_deleted_restricted_or_retyped(api, tenant):
    prop(api, "contacts", "tier")
    body = contact_flow(actions=[set_property("1", "tier", static("gold"))])
    del body["dataSources"]
    flow = created(api, body)
    path = "/crm/v3/properties/contacts/tier"
    refused = _refused(api.delete(path), f"'Customers get a title' ({flow['id']})",
                       "action 1 writes it")
    assert refused["errors"][0]["context"]["id"] == [flow["id"]]
    _refused(api.post("/crm/v3/properties/contacts/batch/archive",
                      json={"inputs": [{"name": "tier"}]}), flow["id"])
    _refused(api.patch(path, json={"access": {"view": {"everyone": False,
                                                       "userIds": [tenant.user_id]}}}))
    _refused(api.patch(path, json={"type": "number", "fieldType": "number"}))
    assert api.get(path).status_code == 200  # still there, unchanged
    assert api.get(path).json()["type"] == "string"
    assert api.get(f"{FLOWS}/{flow['id']}").json()["actions"][0]["fields"]["property_name"] \
        == "tier"
    assert api.patch(path, json={"label": "Tier level"}).status_code == 200  # a relabel is fine
    assert api.delete(f"{FLOWS}/{flow['id']}").status_code == 204
    assert api.delete(path).status_code == 204


def test_a_reports_uses_are_listed_kept_exact_and_refuse_deleting_or_retyping(api):
    prop(api, "contacts", "tier")
    prop(api, "contacts", "score", "number", "number")
    made = api.post(REPORTS, json={
        "name": "Score by tier", "objectType": "contacts", "groupBy": "tier",
        "measure": "SUM", "measureProperty": "score", "filterBranch": {
            "filterBranchType": "OR", "filterBranches": [{
                "filterBranchType": "AND", "filters": [{
                    "filterType": "PROPERTY", "property": "tier", "operation": {
                        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]}})
    assert made.status_code == 201, made.text
    report = made.json()
    assert uses(api, "contacts", "tier") == {("report", report["id"]): ["group by",
                                                                         "filter branch 1"]}
    assert uses(api, "contacts", "score") == {("report", report["id"]): ["measure"]}
    assert usage(api, "contacts", "tier")["results"][0]["link"] == f"/ui/reports/{report['id']}"
    _refused(api.delete("/crm/v3/properties/contacts/score"), "Score by tier", "measure")
    _refused(api.patch("/crm/v3/properties/contacts/tier",
                       json={"type": "number", "fieldType": "number"}))
    changed = api.put(f"{REPORTS}/{report['id']}", json={
        "name": "Contacts by tier", "objectType": "contacts", "groupBy": "tier"})
    assert changed.status_code == 200, changed.text
    assert uses(api, "contacts", "score") == {}  # the edit dropped it
    assert api.delete("/crm/v3/properties/contacts/score").status_code == 204
    clone = api.post(f"{REPORTS}/{report['id']}/clone", json={})
    assert clone.status_code == 201, clone.text
    assert set(uses(api, "contacts", "tier")) == {("report", report["id"]),
                                                  ("report", clone.json()["id"])}
    for rid in (report["id"], clone.json()["id"]):
        assert api.delete(f"{REPORTS}/{rid}").status_code == 204
    assert uses(api, "contacts", "tier") == {}
    assert api.delete("/crm/v3/properties/contacts/tier").status_code == 204


def test_a_sync_property_a_workflow_reads_cannot_be_deleted_or_retyped_by_a_new_source(api):
    assert api.post("/crm/v3/properties/contacts", json=sync_body()).status_code == 201
    prop(api, "companies", "founded", "number", "number")
    body = contact_flow(enrollmentCriteria={
        "type": "LIST_BASED", "shouldReEnroll": False, "listFilterBranch": {
            "filterBranchType": "OR", "filterBranches": [{
                "filterBranchType": "AND", "filters": [equal_to("company_name_sync", "Acme")]}]}},
        actions=[set_property("1", "jobtitle", static("x"))])
    del body["dataSources"]
    flow = created(api, body)
    path = "/crm/v3/properties/contacts/company_name_sync"
    _refused(api.delete(path), flow["id"], "enrollment filter")
    _refused(api.patch(path, json={"syncSource": {"objectType": "companies",
                                                  "propertyName": "founded",
                                                  "associationTypes": [PRIMARY]}}), flow["id"])
    same_type = api.patch(path, json={"syncSource": {"objectType": "companies",
                                                     "propertyName": "city",
                                                     "associationTypes": [PRIMARY]}})
    assert same_type.status_code == 200, same_type.text  # text to text: the flow still fits


def test_a_batch_may_delete_a_property_with_the_sync_property_copying_it_but_not_a_flows(api):
    prop(api, "companies", "motto")
    assert api.post("/crm/v3/properties/contacts", json=sync_body(
        name="motto_sync", propertyName="motto")).status_code == 201
    gone = api.post("/crm/v3/properties/contacts/batch/archive",
                    json={"inputs": [{"name": "motto_sync"}]})
    assert gone.status_code == 204, gone.text
    assert api.delete("/crm/v3/properties/companies/motto").status_code == 204


def test_uses_the_token_may_not_read_are_counted_not_named(api, tenant):
    prop(api, "contacts", "employer")
    flow = created(api, company_flow(name="Secret company flow", actions=[set_property(
        "1", "employer", {"type": "OBJECT_PROPERTY", "propertyName": "name"},
        association={"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280})]))
    no_companies = tenant.client_for(_token(tenant, "crm.schemas.contacts.read "
                                            "crm.schemas.contacts.write automation "
                                            "crm.objects.contacts.read"))
    seen = usage(no_companies, "contacts", "employer")
    assert seen["total"] == 1 and seen["results"] == []
    assert seen["hidden"] == [{"kind": "workflow", "count": 1}]
    assert "Secret" not in str(seen)
    refused = error(no_companies.delete("/crm/v3/properties/contacts/employer"), 400)
    assert "Secret" not in refused["message"] and f"({flow['id']})" not in refused["message"]
    assert "1 workflow on object types this token may not read" in refused["message"]
    assert codes(refused) == ["CANNOT_DELETE_PROPERTY_IN_USE"]
    assert "context" not in refused["errors"][0] or "id" not in refused["errors"][0]["context"]
    no_automation = tenant.client_for(_token(tenant, "crm.schemas.contacts.read "
                                             "crm.schemas.companies.read"))
    assert usage(no_automation, "contacts", "employer")["hidden"] == [
        {"kind": "workflow", "count": 1}]
    error(no_automation.get(USAGE.format("deals", "dealname")), 403)
    assert uses(api, "contacts", "employer") == {
        ("workflow", flow["id"]): ["action 1 writes it on associated records"]}


def _token(tenant: Tenant, scopes: str) -> str:
    from propsync.services.accounts import create_token
    return create_token(tenant.server.engine, tenant.account_id, scopes, tenant.user_id).token


def test_a_user_kept_from_a_restricted_property_learns_no_more_than_its_flows_show(api, tenant):
    prop(api, "contacts", "salary", "number", "number",
         access={"view": {"everyone": False, "userIds": [tenant.user_id]}})
    body = contact_flow(actions=[set_property("1", "salary", static("100"))])
    del body["dataSources"]
    flow = created(api, body)
    plain = member(tenant, Role.USER)
    seen = usage(plain, "contacts", "salary")
    assert [u["id"] for u in seen["results"]] == [flow["id"]]
    shown = plain.get(f"{FLOWS}/{flow['id']}")  # what the flow itself shows the user
    assert shown.status_code == 200 and "salary" in shown.text
    assert "100" not in str(seen)  # a use says where, never a value
    assert seen["results"][0]["parts"] == ["action 1 writes it"]


def test_a_list_or_report_on_a_restricted_property_is_counted_for_who_may_not_view_it(
        api, tenant):
    """The lists and reports service hides a list or report that reads a property a user
    may not view; Used in and the refusal to delete count it for them, naming nothing."""
    prop(api, "contacts", "tier")
    prop(api, "contacts", "salary", "number", "number",
         access={"view": {"everyone": False, "userIds": [tenant.user_id]}})
    both = {"filterBranchType": "OR", "filterBranches": [{"filterBranchType": "AND",
            "filters": [{"filterType": "PROPERTY", "property": name, "operation": {
                "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}
                for name in ("tier", "salary")]}]}
    made = api.post("/crm/v3/lists", json={"name": "Secret earners", "objectTypeId": "0-1",
                                           "processingType": "DYNAMIC", "filterBranch": both})
    assert made.status_code == 200, made.text
    report = api.post(REPORTS, json={"name": "Salary tiers", "objectType": "contacts",
                                      "groupBy": "tier", "measure": "SUM",
                                      "measureProperty": "salary"})
    assert report.status_code == 201, report.text
    assert {k for k, _ in uses(api, "contacts", "tier")} == {"list", "report"}  # the owner
    plain = member(tenant, Role.USER)
    seen = usage(plain, "contacts", "tier")
    assert seen["results"] == [] and seen["total"] == 2
    assert sorted((h["kind"], h["count"]) for h in seen["hidden"]) == [("list", 1),
                                                                        ("report", 1)]
    assert "Secret" not in str(seen) and "Salary" not in str(seen)


# --- hostile input -----------------------------------------------------------------------------

@pytest.mark.parametrize("ot, name, status", [
    ("contacts", "no_such_property", 404), ("contacts", "x" * 5000, 404),
    ("nonsense", "email", 400), ("contacts", "%00", 400)])
def test_unknown_or_hostile_names_are_clear_refusals(api, ot, name, status):
    error(api.get(USAGE.format(ot, name)), status)


# --- cloning -----------------------------------------------------------------------------------

def test_a_clone_is_a_new_flow_that_is_off(api):
    flow = created(api, contact_flow(isEnabled=True))
    reply = api.post(CLONE.format(flow["id"]), json={})
    assert reply.status_code == 201, reply.text
    clone = reply.json()
    assert clone["id"] != flow["id"] and clone["isEnabled"] is False
    assert clone["name"] == "Customers get a title (clone)"
    for key in ("enrollmentCriteria", "actions", "dataSources", "type", "objectTypeId"):
        assert clone[key] == flow[key], key
    named = api.post(CLONE.format(flow["id"]), json={"name": "Second"}).json()
    assert named["name"] == "Second"


def test_a_clone_replaces_the_property_everywhere_of_its_object_type_only(api):
    prop(api, "contacts", "stage2", "enumeration", "select", options=[
        {"label": o, "value": o, "displayOrder": i} for i, o in enumerate(
            ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
             "opportunity", "customer", "evangelist", "other"])])
    flow = created(api, contact_flow())
    reply = api.post(CLONE.format(flow["id"]), json={
        "replace": {"property": "lifecyclestage", "with": "stage2"}})
    assert reply.status_code == 201, reply.text
    clone = reply.json()
    assert uses(api, "contacts", "stage2")[("workflow", clone["id"])] == [
        "enrollment filter", "re-enrollment trigger"]
    assert ("workflow", clone["id"]) not in uses(api, "contacts", "lifecyclestage")
    # a company's name and a contact's job title are left alone
    assert ("workflow", clone["id"]) in uses(api, "companies", "name")
    assert clone["actions"] == flow["actions"]


def test_a_clone_replaces_a_data_sources_property_and_an_associated_write(api):
    prop(api, "companies", "legal_name")
    prop(api, "contacts", "employer")
    flow = created(api, contact_flow())
    by_source = api.post(CLONE.format(flow["id"]), json={
        "replace": {"property": "name", "with": "legal_name"}})
    assert by_source.status_code == 201, by_source.text
    assert by_source.json()["actions"][1]["fields"]["value"]["propertyToken"] == \
        "{{ company.legal_name }}"
    company = created(api, company_flow())
    written = api.post(CLONE.format(company["id"]), json={
        "replace": {"property": "contacts.company", "with": "employer"}})
    assert written.status_code == 201, written.text
    fields = written.json()["actions"][0]["fields"]
    assert fields["property_name"] == "employer"
    assert fields["value"] == {"type": "OBJECT_PROPERTY", "propertyName": "name"}


def test_an_ambiguous_replacement_must_name_its_object_type(api):
    prop(api, "companies", "company")
    body = company_flow(actions=[
        set_property("1", "company", {"type": "OBJECT_PROPERTY", "propertyName": "company"},
                     association={"associationCategory": "HUBSPOT_DEFINED",
                                  "associationTypeId": 280})])
    flow = created(api, body)
    prop(api, "companies", "company2")
    reply = api.post(CLONE.format(flow["id"]), json={
        "replace": {"property": "company", "with": "company2"}})
    assert codes(error(reply, 400)) == ["AMBIGUOUS_REPLACEMENT"]
    ok = api.post(CLONE.format(flow["id"]), json={
        "replace": {"property": "companies.company", "with": "company2"}})
    assert ok.status_code == 201, ok.text
    fields = ok.json()["actions"][0]["fields"]
    assert fields["property_name"] == "company"  # the contact's, left alone
    assert fields["value"]["propertyName"] == "company2"


def test_incompatible_or_read_only_replacements_are_refused_and_nothing_is_made(api):
    prop(api, "contacts", "visits", "number", "number")
    assert api.post("/crm/v3/properties/contacts", json=sync_body()).status_code == 201
    flow = created(api, contact_flow())
    before = api.get(FLOWS).json()["results"]
    for replace, code in [
            ({"property": "jobtitle", "with": "visits"}, "INCOMPATIBLE_REPLACEMENT"),
            ({"property": "jobtitle", "with": "company_name_sync"}, "READ_ONLY_VALUE"),
            ({"property": "jobtitle", "with": "no_such"}, "PROPERTY_DOESNT_EXIST"),
            ({"property": "firstname", "with": "lastname"}, "PROPERTY_NOT_USED"),
            ({"property": "jobtitle", "with": "companies.name"}, "INCOMPATIBLE_REPLACEMENT"),
            ({"property": "lifecyclestage", "with": "firstname"}, "INCOMPATIBLE_REPLACEMENT")]:
        reply = api.post(CLONE.format(flow["id"]), json={"replace": replace})
        assert code in codes(error(reply, 400)), (replace, reply.text)
    assert api.get(FLOWS).json()["results"] == before


@pytest.mark.parametrize("body", [
    {"replace": {"property": "jobtitle"}}, {"replace": {"with": "x"}},
    {"replace": {"property": "", "with": "x"}}, {"replace": "jobtitle"},
    {"replace": {"property": 5, "with": []}}, {"name": ""}, {"name": "n" * 201},
    {"replace": {"property": "p" * 100_000, "with": "x"}}, [], "x",
    {"replace": {"property": "nowhere.jobtitle", "with": "x"}}])
def test_bad_clone_bodies_are_400s(api, body):
    flow = created(api, contact_flow())
    error(api.post(CLONE.format(flow["id"]), json=body), 400)
    assert len(api.get(FLOWS).json()["results"]) == 1


def test_cloning_needs_the_manager_role_and_an_existing_flow(api, tenant):
    flow = created(api, contact_flow())
    error(member(tenant, Role.USER).post(CLONE.format(flow["id"]), json={}), 403)
    error(api.post(CLONE.format("999999"), json={}), 404)
    error(api.post(CLONE.format("abc"), json={}), 404)


def test_a_lists_uses_are_listed_refuse_deleting_and_end_with_it(api):
    prop(api, "contacts", "tier")
    made = api.post("/crm/v3/lists", json={
        "name": "Gold customers", "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterBranch": {"filterBranchType": "OR", "filterBranches": [{
            "filterBranchType": "AND", "filters": [{
                "filterType": "PROPERTY", "property": "tier", "operation": {
                    "operationType": "STRING", "operator": "IS_EQUAL_TO",
                    "value": "gold"}}]}]}})
    assert made.status_code == 200, made.text
    list_id = made.json()["list"]["listId"]
    assert uses(api, "contacts", "tier") == {("list", list_id): ["filter branch 1"]}
    assert usage(api, "contacts", "tier")["results"][0]["link"] == f"/ui/lists/{list_id}"
    _refused(api.delete("/crm/v3/properties/contacts/tier"), "Gold customers")
    _refused(api.patch("/crm/v3/properties/contacts/tier",
                       json={"type": "number", "fieldType": "number"}))
    assert api.delete(f"/crm/v3/lists/{list_id}").status_code == 204
    assert uses(api, "contacts", "tier") == {}
    assert api.delete("/crm/v3/properties/contacts/tier").status_code == 204
    # a deleted list whose property has gone meanwhile is not restored pointing at nothing
    refused = api.put(f"/crm/v3/lists/{list_id}/restore")
    assert refused.status_code == 400, refused.text
    assert "tier" in refused.json()["message"]
    assert api.get(f"/crm/v3/lists/{list_id}").status_code == 404
