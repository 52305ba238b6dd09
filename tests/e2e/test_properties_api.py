"""Properties v3 over HTTP: definitions, groups, and their rules."""

from __future__ import annotations

import pytest

from tests.conftest import new_tenant

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
])
def test_invalid_definitions_are_refused_and_nothing_is_created(api, body, status):
    before = len(api.get("/crm/v3/properties/contacts").json()["results"])
    reply = api.post("/crm/v3/properties/contacts", json=body)
    assert reply.status_code == status, reply.text
    assert reply.json()["status"] == "error"
    if status == 409:
        assert reply.json()["category"] == "OBJECT_ALREADY_EXISTS"
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
    labels = other.get("/crm/v4/associations/contacts/companies/labels").json()["results"]
    assert "Secret label" not in {lb["label"] for lb in labels}
    assert api.get("/crm/v3/properties/deals/secret").json()["label"] == "S"
