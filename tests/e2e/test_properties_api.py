"""Properties v3 over HTTP: definitions, groups, and their rules."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.properties import PropertyGroupUpdate

from tests.conftest import Tenant, new_tenant

DEFAULT_GROUPS = {"contacts": "contactinformation", "companies": "companyinformation",
                  "deals": "dealinformation", "tickets": "ticketinformation"}


@pytest.mark.parametrize("object_type", sorted(DEFAULT_GROUPS))
def test_every_standard_object_has_its_defaults_in_hubspots_group(api, object_type):
    reply = api.get(f"/crm/v3/properties/{object_type}")
    assert reply.status_code == 200 and "paging" not in reply.json()
    props = {p["name"]: p for p in reply.json()["results"]}
    for name in ("createdate", "lastmodifieddate", "hs_object_id"):
        assert props[name]["groupName"] == DEFAULT_GROUPS[object_type]
        assert props[name]["modificationMetadata"]["readOnlyValue"] is True
    assert all(isinstance(p["options"], list) for p in props.values())
    groups = api.get(f"/crm/v3/properties/{object_type}/groups").json()["results"]
    assert DEFAULT_GROUPS[object_type] in {g["name"] for g in groups}


def test_create_read_update_delete_a_property(api):
    body = {"name": "tier", "label": "Tier", "type": "enumeration", "fieldType": "select",
            "groupName": "companyinformation",
            "options": [{"label": "Gold", "value": "gold"}, {"label": "Silver", "value": "silver"}]}
    created = api.post("/crm/v3/properties/companies", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["options"][0]["value"] == "gold"
    assert created.json()["modificationMetadata"] == {
        "archivable": True, "readOnlyDefinition": False, "readOnlyValue": False}
    assert api.get("/crm/v3/properties/companies/tier").json()["label"] == "Tier"
    patched = api.patch("/crm/v3/properties/companies/tier", json={"label": "Customer tier"})
    assert patched.status_code == 200 and patched.json()["label"] == "Customer tier"
    company = api.post("/crm/v3/objects/companies", json={"properties": {"tier": "gold"}})
    assert company.status_code == 201
    assert api.post("/crm/v3/objects/companies", json={"properties": {"tier": "bronze"}}
                    ).json()["errors"][0]["code"] == "INVALID_OPTION"
    removing_used = api.patch("/crm/v3/properties/companies/tier", json={
        "options": [{"label": "Silver", "value": "silver"}]})
    assert removing_used.status_code == 400
    assert api.delete("/crm/v3/properties/companies/tier").status_code == 204
    assert api.get("/crm/v3/properties/companies/tier").status_code == 404
    read = api.get(f"/crm/v3/objects/companies/{company.json()['id']}",
                   params={"properties": "tier"}).json()
    assert read["properties"] == {}


@pytest.mark.parametrize(("body", "status"), [
    ({"name": "Bad Name", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation"}, 400),
    ({"name": "x1", "label": "x", "type": "colour", "fieldType": "text",
      "groupName": "contactinformation"}, 400),
    ({"name": "x2", "label": "x", "type": "number", "fieldType": "select",
      "groupName": "contactinformation"}, 400),
    ({"name": "x3", "label": "x", "type": "enumeration", "fieldType": "select",
      "groupName": "contactinformation"}, 400),
    ({"name": "x4", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "nosuchgroup"}, 400),
    ({"name": "email", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation"}, 409),
    ({"label": "no name"}, 400),
    ({"name": "x5", "label": "x", "fieldType": "text", "groupName": "contactinformation"},
     400),
    ({"name": "x6", "label": " ", "type": "string", "fieldType": "text",
      "groupName": "contactinformation"}, 400),
    ({"name": "x7", "label": "x", "type": "enumeration", "fieldType": "select",
      "groupName": "contactinformation",
      "options": [{"label": "A", "value": "a"}, {"label": "B", "value": "a"}]}, 400),
    ({"name": "x8", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation", "options": [{"label": "A", "value": "a"}]}, 400),
    ({"name": "x9", "label": "x", "type": "bool", "fieldType": "booleancheckbox",
      "groupName": "contactinformation",
      "options": [{"label": "Y", "value": "yes"}, {"label": "N", "value": "no"}]}, 400),
    ({"name": "x10", "label": "x" * 201, "type": "string", "fieldType": "text",
      "groupName": "contactinformation"}, 400),
    ({"name": "x11", "label": "a\x00b", "type": "string", "fieldType": "text",
      "groupName": "contactinformation"}, 400),
    ({"name": "x12", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation", "displayOrder": 2**40}, 400),
    ({"name": "x13", "label": "x", "type": "string", "fieldType": "textarea",
      "groupName": "contactinformation", "hasUniqueValue": True}, 400),
    ({"name": "x" * 101, "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation"}, 400),
    ({"name": "x14", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation",
      "access": {"view": {"everyone": False, "userIds": [], "teamIds": []}}}, 400),
    ({"name": "x15", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation",
      "access": {"view": {"everyone": False, "userIds": [987654321]}}}, 400),
    ({"name": "x16", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation", "access": {"edit": {"everyone": False,
                                                             "teamIds": [987654321]}}}, 400),
    ({"name": "x17", "label": "x", "type": "string", "fieldType": "text",
      "groupName": "contactinformation", "access": {"edit": {"everyone": True,
                                                             "userIds": [1]}}}, 400),
])
def test_invalid_definitions_are_refused_and_nothing_is_created(api, body, status):
    before = len(api.get("/crm/v3/properties/contacts").json()["results"])
    reply = api.post("/crm/v3/properties/contacts", json=body)
    assert reply.status_code == status, reply.text
    assert reply.json()["status"] == "error" and reply.json()["message"]
    assert reply.json()["category"] == ("OBJECT_ALREADY_EXISTS" if status == 409
                                        else "VALIDATION_ERROR")
    assert len(api.get("/crm/v3/properties/contacts").json()["results"]) == before


def test_default_properties_cannot_be_deleted(api):
    assert api.delete("/crm/v3/properties/contacts/email").status_code == 400
    assert api.get("/crm/v3/properties/contacts/nosuch").status_code == 404


def test_groups_are_created_with_201_and_duplicates_are_409(api):
    reply = api.post("/crm/v3/properties/deals/groups", json={"name": "finance",
                                                              "label": "Finance"})
    assert reply.status_code == 201
    assert reply.json() == {"name": "finance", "label": "Finance", "displayOrder": -1,
                            "archived": False}
    assert api.post("/crm/v3/properties/deals/groups", json={
        "name": "finance", "label": "Again"}).status_code == 409


def test_another_account_cannot_see_or_change_my_properties_groups_or_labels(server, api):
    api.post("/crm/v3/properties/deals/groups", json={"name": "secret_group", "label": "S"})
    api.post("/crm/v3/properties/deals", json={
        "name": "secret", "label": "S", "type": "string", "fieldType": "text",
        "groupName": "secret_group"})
    api.post("/crm/v4/associations/contacts/companies/labels",
             json={"label": "Secret label", "name": "secret_label"})
    other = new_tenant(server).client
    assert other.get("/crm/v3/properties/deals/secret").status_code == 404
    assert "secret" not in {p["name"] for p in other.get("/crm/v3/properties/deals").json()[
        "results"]}
    assert "secret_group" not in {g["name"] for g in other.get(
        "/crm/v3/properties/deals/groups").json()["results"]}
    assert other.patch("/crm/v3/properties/deals/secret", json={"label": "x"}
                       ).status_code == 404
    assert other.delete("/crm/v3/properties/deals/secret").status_code == 404
    for method, path in (("GET", "/crm/v3/properties/deals/groups/secret_group"),
                         ("PATCH", "/crm/v3/properties/deals/groups/secret_group"),
                         ("DELETE", "/crm/v3/properties/deals/groups/secret_group")):
        reply = other.request(method, path, json={"label": "x"} if method == "PATCH" else None)
        assert reply.status_code == 404, (method, reply.text)
    assert other.post("/crm/v3/properties/deals", json={
        "name": "leak", "label": "L", "type": "string", "fieldType": "text",
        "groupName": "secret_group"}).status_code == 400
    labels = other.get("/crm/v4/associations/contacts/companies/labels").json()["results"]
    assert "Secret label" not in {lb["label"] for lb in labels}
    assert api.get("/crm/v3/properties/deals/secret").json()["label"] == "S"
    assert api.get("/crm/v3/properties/deals/groups/secret_group").json()["label"] == "S"


def text_property(api, name: str, type_: str = "string", field_type: str = "text",
                  **extra: object) -> dict:
    reply = api.post("/crm/v3/properties/deals", json={
        "name": name, "label": name.title(), "type": type_, "fieldType": field_type,
        "groupName": "dealinformation", **extra})
    assert reply.status_code == 201, reply.text
    return reply.json()


def deal(api, **props: str) -> str:
    reply = api.post("/crm/v3/objects/deals", json={"properties": props})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def value(api, record: str, name: str) -> str | None:
    return api.get(f"/crm/v3/objects/deals/{record}", params={"properties": name}).json()[
        "properties"].get(name)


def test_a_created_property_has_every_member_of_hubspots_property_model(api):
    created = text_property(api, "region", description="Sales region")
    assert set(created) >= {
        "name", "label", "type", "fieldType", "description", "groupName", "options",
        "displayOrder", "calculated", "externalOptions", "hasUniqueValue", "hidden",
        "hubspotDefined", "formField", "modificationMetadata", "createdAt", "updatedAt",
        "archived", "access"}
    assert created["options"] == [] and created["archived"] is False
    assert created["createdAt"].endswith("Z") and created["hubspotDefined"] is False
    assert created["access"] == {"view": {"everyone": True, "userIds": [], "teamIds": []},
                                 "edit": {"everyone": True, "userIds": [], "teamIds": []}}
    listed = api.get("/crm/v3/properties/deals").json()["results"]
    assert [p for p in listed if p["name"] == "region"] == [created]


def test_a_bool_property_gets_yes_and_no_options(api):
    flag = text_property(api, "is_vip", "bool", "booleancheckbox")
    assert [o["value"] for o in flag["options"]] == ["true", "false"]
    assert set(flag["options"][0]) == {"label", "value", "displayOrder", "hidden",
                                       "description"}


def test_the_sdk_deserializes_every_property_and_group(tenant: Tenant):
    sdk = HubSpot(access_token=tenant.token, host=tenant.server.base_url)
    tenant.client.post("/crm/v3/properties/deals/groups", json={"name": "sdk_g", "label": "G"})
    text_property(tenant.client, "tier", "enumeration", "radio",
                  options=[{"label": "Gold", "value": "gold"}])
    for object_type in ("contacts", "companies", "deals", "tickets"):
        props = sdk.crm.properties.core_api.get_all(object_type).results
        assert {"createdate", "hs_object_id"} <= {p.name for p in props}
    assert sdk.crm.properties.core_api.get_by_name("deals", "tier").options[0].value == "gold"
    group = sdk.crm.properties.groups_api.get_by_name("deals", "sdk_g")
    assert group.label == "G"
    updated = sdk.crm.properties.groups_api.update("deals", "sdk_g",
                                                   PropertyGroupUpdate(label="Group"))
    assert updated.label == "Group"
    sdk.crm.properties.groups_api.archive("deals", "sdk_g")


def test_patch_changes_the_members_it_names_and_nothing_else(api):
    api.post("/crm/v3/properties/deals/groups", json={"name": "finance", "label": "Finance"})
    text_property(api, "region", description="Where")
    patched = api.patch("/crm/v3/properties/deals/region", json={
        "label": "Sales region", "groupName": "finance", "displayOrder": 3, "hidden": True,
        "fieldType": "textarea"})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["label"], body["groupName"], body["displayOrder"], body["hidden"],
            body["fieldType"], body["description"]) == (
        "Sales region", "finance", 3, True, "textarea", "Where")
    assert api.get("/crm/v3/properties/deals/region").json() == body


@pytest.mark.parametrize("body", [
    {"groupName": "nosuchgroup"}, {"fieldType": "select"}, {"type": "colour"},
    {"label": "x" * 201}, {"displayOrder": -7},
    {"access": {"view": {"everyone": False, "userIds": [987654321]}}},
])
def test_invalid_patches_are_refused_and_change_nothing(api, body):
    before = text_property(api, "region")
    reply = api.patch("/crm/v3/properties/deals/region", json=body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["category"] == "VALIDATION_ERROR"
    assert api.get("/crm/v3/properties/deals/region").json() == before


def test_patching_an_unknown_property_is_404(api):
    reply = api.patch("/crm/v3/properties/deals/nosuch", json={"label": "x"})
    assert reply.status_code == 404 and reply.json()["category"] == "OBJECT_NOT_FOUND"
    assert api.delete("/crm/v3/properties/deals/nosuch").status_code == 404


def test_default_properties_keep_their_type(api):
    for body in ({"type": "number", "fieldType": "number"}, {"fieldType": "textarea"}):
        reply = api.patch("/crm/v3/properties/deals/dealname", json=body)
        assert reply.status_code == 400
    relabelled = api.patch("/crm/v3/properties/deals/dealname", json={"label": "Deal"})
    assert relabelled.status_code == 200 and relabelled.json()["label"] == "Deal"


def test_a_type_change_converts_every_value(api):
    text_property(api, "score")
    first, second = deal(api, score="42"), deal(api, score="1.50")
    retyped = api.patch("/crm/v3/properties/deals/score", json={"type": "number",
                                                               "fieldType": "number"})
    assert retyped.status_code == 200, retyped.text
    assert (value(api, first, "score"), value(api, second, "score")) == ("42", "1.5")
    found = api.post("/crm/v3/objects/deals/search", json={"filterGroups": [{"filters": [
        {"propertyName": "score", "operator": "GT", "value": "10"}]}]}).json()
    assert [r["id"] for r in found["results"]] == [first]
    history = api.get(f"/crm/v3/objects/deals/{second}",
                      params={"propertiesWithHistory": "score"}).json()["propertiesWithHistory"]
    assert [h["value"] for h in history["score"]] == ["1.5", "1.50"]


def test_a_type_change_that_some_value_cannot_take_is_refused(api):
    text_property(api, "score")
    deal(api, score="42")
    odd = deal(api, score="many")
    reply = api.patch("/crm/v3/properties/deals/score", json={"type": "number",
                                                             "fieldType": "number"})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "PROPERTY_VALUES_DONT_CONVERT"
    assert "1 record(s)" in reply.json()["message"]
    assert api.get("/crm/v3/properties/deals/score").json()["type"] == "string"
    assert value(api, odd, "score") == "many"


def test_enumeration_to_string_drops_the_options_and_keeps_the_values(api):
    text_property(api, "tier", "enumeration", "select",
                  options=[{"label": "Gold", "value": "gold"}])
    record = deal(api, tier="gold")
    reply = api.patch("/crm/v3/properties/deals/tier", json={"type": "string",
                                                            "fieldType": "text"})
    assert reply.status_code == 200 and reply.json()["options"] == []
    assert value(api, record, "tier") == "gold"


def test_removing_an_option_in_use_names_how_many_records_use_it(api):
    text_property(api, "tags", "enumeration", "checkbox", options=[
        {"label": "A", "value": "a"}, {"label": "B", "value": "b"}, {"label": "C", "value": "c"}])
    deal(api, tags="a;b")
    deal(api, tags="b")
    reply = api.patch("/crm/v3/properties/deals/tags", json={"options": [
        {"label": "A", "value": "a"}, {"label": "C", "value": "c"}]})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "OPTION_IN_USE"
    assert "2 record(s)" in reply.json()["message"]
    unused_removed = api.patch("/crm/v3/properties/deals/tags", json={"options": [
        {"label": "Alpha", "value": "a"}, {"label": "B", "value": "b", "hidden": True}]})
    assert unused_removed.status_code == 200, unused_removed.text
    assert [(o["label"], o["hidden"]) for o in unused_removed.json()["options"]] == [
        ("Alpha", False), ("B", True)]


def test_checkbox_to_select_is_refused_while_a_record_holds_several_options(api):
    text_property(api, "tags", "enumeration", "checkbox", options=[
        {"label": "A", "value": "a"}, {"label": "B", "value": "b"}])
    deal(api, tags="a;b")
    reply = api.patch("/crm/v3/properties/deals/tags", json={"fieldType": "select"})
    assert reply.status_code == 400
    assert api.get("/crm/v3/properties/deals/tags").json()["fieldType"] == "checkbox"


def test_delete_removes_the_values_and_frees_the_name(api):
    text_property(api, "region")
    record = deal(api, region="north")
    assert api.delete("/crm/v3/properties/deals/region").status_code == 204
    text_property(api, "region")
    assert value(api, record, "region") is None


def test_archived_properties_are_not_kept(api):
    reply = api.get("/crm/v3/properties/deals", params={"archived": "true"})
    assert reply.status_code == 200 and reply.json() == {"results": []}


def test_groups_can_be_read_relabelled_and_deleted_when_empty(api):
    api.post("/crm/v3/properties/deals/groups", json={"name": "finance", "label": "Finance"})
    assert api.get("/crm/v3/properties/deals/groups/finance").json()["label"] == "Finance"
    patched = api.patch("/crm/v3/properties/deals/groups/finance",
                        json={"label": "Money", "displayOrder": 2})
    assert patched.status_code == 200
    assert patched.json() == {"name": "finance", "label": "Money", "displayOrder": 2,
                              "archived": False}
    text_property(api, "budget", groupName="finance")
    in_use = api.delete("/crm/v3/properties/deals/groups/finance")
    assert in_use.status_code == 400 and "budget" in in_use.json()["message"]
    api.delete("/crm/v3/properties/deals/budget")
    assert api.delete("/crm/v3/properties/deals/groups/finance").status_code == 204
    assert api.get("/crm/v3/properties/deals/groups/finance").status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("DELETE", "/crm/v3/properties/deals/groups/dealinformation", None, 400),
    ("GET", "/crm/v3/properties/deals/groups/nosuch", None, 404),
    ("PATCH", "/crm/v3/properties/deals/groups/nosuch", {"label": "x"}, 404),
    ("DELETE", "/crm/v3/properties/deals/groups/nosuch", None, 404),
    ("POST", "/crm/v3/properties/deals/groups", {"name": "Bad Name", "label": "x"}, 400),
    ("POST", "/crm/v3/properties/deals/groups", {"name": "ok_name", "label": ""}, 400),
    ("PATCH", "/crm/v3/properties/deals/groups/dealinformation", {"label": ""}, 400),
    ("GET", "/crm/v3/properties/nosuchtype", None, 400),
    ("POST", "/crm/v3/properties/nosuchtype/groups", {"name": "g", "label": "G"}, 400),
])
def test_group_refusals(api, method, path, body, status):
    reply = api.request(method, path, json=body)
    assert reply.status_code == status, reply.text
    assert reply.json()["status"] == "error"
    groups = api.get("/crm/v3/properties/deals/groups").json()["results"]
    assert [g["name"] for g in groups] == ["dealinformation"]


def test_schema_scopes_are_required(server):
    reader = new_tenant(server, scopes="crm.schemas.deals.read").client
    assert reader.get("/crm/v3/properties/deals").status_code == 200
    assert reader.get("/crm/v3/properties/contacts").status_code == 403
    for method, path in (("POST", "/crm/v3/properties/deals"),
                         ("PATCH", "/crm/v3/properties/deals/dealname"),
                         ("DELETE", "/crm/v3/properties/deals/dealname"),
                         ("POST", "/crm/v3/properties/deals/groups"),
                         ("DELETE", "/crm/v3/properties/deals/groups/dealinformation")):
        body = {"name": "x", "label": "x", "type": "string", "fieldType": "text",
                "groupName": "dealinformation"}
        reply = reader.request(method, path, json=body if method != "DELETE" else None)
        assert reply.status_code == 403, (method, path, reply.text)
    assert reader.get("/crm/v3/properties/deals/dealname").json()["label"] == "Deal name"


def test_a_property_a_sync_property_copies_keeps_its_type(api):
    api.post("/crm/v3/properties/companies", json={
        "name": "code", "label": "Code", "type": "string", "fieldType": "text",
        "groupName": "companyinformation"})
    synced = api.post("/crm/v3/properties/contacts", json={
        "name": "company_code", "label": "Company code", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "code", "associationTypes": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}})
    assert synced.status_code == 201, synced.text
    reply = api.patch("/crm/v3/properties/companies/code", json={"type": "number",
                                                                "fieldType": "number"})
    assert reply.status_code == 400
    assert "contacts.company_code" in reply.json()["message"]
    assert api.get("/crm/v3/properties/companies/code").json()["type"] == "string"
