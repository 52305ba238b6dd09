"""Sync properties over HTTP: the definition contract, the guard rails of SPEC 3.4, and
the status and explain endpoints. The server's embedded worker does the syncing."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.patience import WAIT_GUARD_S

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}


def settle(api: httpx.Client, timeout: float = WAIT_GUARD_S) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = api.get("/propsync/v1/sync/status").json()
        if status["pendingChanges"] == 0:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.02)


def sync_body(name: str = "company_name_sync", **source: object) -> dict:
    return {"name": name, "label": "Company name (sync)", "groupName": "contactinformation",
            "syncSource": {"objectType": "companies", "propertyName": "name",
                           "associationTypes": [PRIMARY], **source}}


@pytest.fixture
def linked(api: httpx.Client) -> tuple[str, str]:
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme"}}).json()
    contact = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "a@acme.com"},
        "associations": [{"to": {"id": company["id"]}, "types": [PRIMARY]}]}).json()
    return company["id"], contact["id"]


def value(api: httpx.Client, contact: str, name: str = "company_name_sync") -> str | None:
    return api.get(f"/crm/v3/objects/contacts/{contact}",
                   params={"properties": name}).json()["properties"].get(name)


def test_a_sync_property_is_created_backfilled_and_follows_its_source(api, linked):
    company, contact = linked
    reply = api.post("/crm/v3/properties/contacts", json=sync_body())
    assert reply.status_code == 201, reply.text
    created = reply.json()
    assert created["type"] == "string" and created["fieldType"] == "text"
    assert created["modificationMetadata"]["readOnlyValue"] is True
    assert created["syncSource"]["objectType"] == "companies"
    listed = {p["name"]: p for p in api.get("/crm/v3/properties/contacts").json()["results"]}
    assert listed["company_name_sync"]["syncSource"]["propertyName"] == "name"
    settle(api)
    assert value(api, contact) == "Acme"
    api.patch(f"/crm/v3/objects/companies/{company}", json={"properties": {"name": "Acme AS"}})
    settle(api)
    got = api.get(f"/crm/v3/objects/contacts/{contact}", params={
        "properties": "company_name_sync", "propertiesWithHistory": "company_name_sync"}).json()
    assert got["properties"]["company_name_sync"] == "Acme AS"
    history = got["propertiesWithHistory"]["company_name_sync"]
    assert [entry["value"] for entry in history] == ["Acme AS", "Acme"]  # newest first
    newest = history[0]
    assert newest["sourceType"] == "SYNC"
    assert newest["sourceId"] == f"company_name_sync:companies:{company}"


def test_writing_a_sync_property_is_refused_everywhere_naming_its_source(api, linked):
    _, contact = linked
    api.post("/crm/v3/properties/contacts", json=sync_body())
    single = api.patch(f"/crm/v3/objects/contacts/{contact}",
                       json={"properties": {"company_name_sync": "forged"}})
    assert single.status_code == 400
    assert single.json()["errors"][0]["code"] == "READ_ONLY_VALUE"
    assert "companies.name" in single.json()["message"]
    batch = api.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
        {"id": contact, "properties": {"firstname": "Fine"}},
        {"id": contact, "properties": {"company_name_sync": "forged"}}]})
    assert batch.status_code == 400
    create = api.post("/crm/v3/objects/contacts",
                      json={"properties": {"company_name_sync": "forged"}})
    assert create.status_code == 400
    settle(api)
    got = api.get(f"/crm/v3/objects/contacts/{contact}",
                  params={"properties": "firstname,company_name_sync"}).json()["properties"]
    assert got == {"firstname": None, "company_name_sync": "Acme"}


@pytest.mark.parametrize(("source", "code"), [
    ({"objectType": "widgets"}, "INVALID_SYNC_SOURCE"),
    ({"propertyName": "nosuch"}, "PROPERTY_DOESNT_EXIST"),
    ({"associationTypes": []}, "INVALID_SYNC_SOURCE"),
    ({"associationTypes": [{"associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": 5}]}, "INVALID_SYNC_SOURCE"),
    ({"associationTypes": [{"associationCategory": "USER_DEFINED",
                            "associationTypeId": 424242}]}, "INVALID_ASSOCIATION_TYPE"),
    ({"associationTypes": None}, "SELECTION_REQUIRED"),
    ({"propertyName": "hs_object_id"}, "INVALID_SYNC_SOURCE"),
])
def test_each_refusal_is_a_clear_400_and_creates_nothing(api, source, code):
    reply = api.post("/crm/v3/properties/contacts", json=sync_body(**source))
    assert reply.status_code == 400, reply.text
    assert reply.json()["errors"][0]["code"] == code
    assert api.get("/crm/v3/properties/contacts/company_name_sync").status_code == 404


def test_a_type_that_differs_from_the_source_is_refused(api):
    body = sync_body()
    body["type"] = "number"
    assert api.post("/crm/v3/properties/contacts", json=body).status_code == 400


def test_a_name_clash_is_409(api):
    reply = api.post("/crm/v3/properties/contacts", json=sync_body(name="email"))
    assert reply.status_code == 409


def test_same_object_type_needs_a_labelled_association(api):
    unlabelled = {"name": "peer_name", "label": "Peer", "groupName": "contactinformation",
                  "syncSource": {"objectType": "contacts", "propertyName": "firstname",
                                 "selection": "FIRST_CREATED"}}
    assert api.post("/crm/v3/properties/contacts", json=unlabelled).status_code == 400
    label = api.post("/crm/v4/associations/contacts/contacts/labels",
                     json={"label": "Manager", "name": "manager", "inverseLabel": "Report"})
    manager = label.json()["results"][0]["typeId"]
    unlabelled["syncSource"]["associationTypes"] = [
        {"associationCategory": "USER_DEFINED", "associationTypeId": manager}]
    assert api.post("/crm/v3/properties/contacts", json=unlabelled).status_code == 201


def test_a_cycle_is_refused(api):
    first = {"name": "deal_name_sync", "label": "D", "groupName": "companyinformation",
             "syncSource": {"objectType": "deals", "propertyName": "dealname",
                            "selection": "FIRST_CREATED"}}
    assert api.post("/crm/v3/properties/companies", json=first).status_code == 201
    second = {"name": "company_copy", "label": "C", "groupName": "dealinformation",
              "syncSource": {"objectType": "companies", "propertyName": "deal_name_sync",
                             "selection": "FIRST_CREATED"}}
    assert api.post("/crm/v3/properties/deals", json=second).status_code == 201
    closing = api.patch("/crm/v3/properties/companies/deal_name_sync", json={"syncSource": {
        "objectType": "deals", "propertyName": "company_copy", "selection": "FIRST_CREATED"}})
    assert closing.status_code == 400
    assert closing.json()["errors"][0]["code"] == "SYNC_CYCLE"


def test_restricted_sources_are_refused_and_used_sources_cannot_be_restricted_or_deleted(
    api, tenant
):
    secret = {"name": "secret", "label": "Secret", "type": "string", "fieldType": "text",
              "groupName": "companyinformation",
              "access": {"view": {"everyone": False, "userIds": [tenant.user_id]}}}
    assert api.post("/crm/v3/properties/companies", json=secret).status_code == 201
    from_secret = api.post("/crm/v3/properties/contacts", json=sync_body(propertyName="secret"))
    assert from_secret.status_code == 400
    assert from_secret.json()["errors"][0]["code"] == "RESTRICTED_SOURCE"
    api.post("/crm/v3/properties/companies", json={
        "name": "motto", "label": "Motto", "type": "string", "fieldType": "text",
        "groupName": "companyinformation"})
    assert api.post("/crm/v3/properties/contacts",
                    json=sync_body(propertyName="motto")).status_code == 201
    restrict = api.patch("/crm/v3/properties/companies/motto", json={
        "access": {"view": {"everyone": False, "userIds": [tenant.user_id]}}})
    assert restrict.status_code == 400
    assert restrict.json()["errors"][0]["code"] == "CANNOT_DELETE_PROPERTY_IN_USE"
    assert restrict.json()["errors"][0]["context"]["syncProperty"] == [
        "contacts.company_name_sync"]
    delete = api.delete("/crm/v3/properties/companies/motto")
    assert delete.status_code == 400
    assert delete.json()["errors"][0]["code"] == "CANNOT_DELETE_PROPERTY_IN_USE"


def test_redefining_recomputes_and_deleting_removes_the_values(api, linked):
    company, contact = linked
    api.patch(f"/crm/v3/objects/companies/{company}", json={"properties": {"city": "Oslo"}})
    api.post("/crm/v3/properties/contacts", json=sync_body())
    settle(api)
    reply = api.patch("/crm/v3/properties/contacts/company_name_sync", json={
        "label": "Company city (sync)",
        "syncSource": {"objectType": "companies", "propertyName": "city",
                       "associationTypes": [PRIMARY]}})
    assert reply.status_code == 200, reply.text
    assert reply.json()["syncSource"]["propertyName"] == "city"
    settle(api)
    assert value(api, contact) == "Oslo"
    assert api.patch("/crm/v3/properties/contacts/company_name_sync",
                     json={"type": "number"}).status_code == 400
    assert api.delete("/crm/v3/properties/contacts/company_name_sync").status_code == 204
    assert value(api, contact) is None


def test_options_follow_the_source_property(api):
    api.post("/crm/v3/properties/companies", json={
        "name": "tier", "label": "Tier", "type": "enumeration", "fieldType": "select",
        "groupName": "companyinformation", "options": [{"label": "Gold", "value": "gold"}]})
    api.post("/crm/v3/properties/contacts", json=sync_body(name="tier_sync",
                                                           propertyName="tier"))
    api.patch("/crm/v3/properties/companies/tier", json={"options": [
        {"label": "Gold", "value": "gold"}, {"label": "Silver", "value": "silver"}]})
    synced = api.get("/crm/v3/properties/contacts/tier_sync").json()
    assert synced["type"] == "enumeration"
    assert [o["value"] for o in synced["options"]] == ["gold", "silver"]


def test_status_detail_and_explain(api, linked):
    company, contact = linked
    api.post("/crm/v3/properties/contacts", json=sync_body())
    status = settle(api)
    assert status["oldestPendingAgeMs"] is None
    assert status["properties"][0]["state"] == "LIVE"
    detail = api.get("/propsync/v1/sync-properties/contacts/company_name_sync").json()
    assert detail["state"] == "LIVE" and detail["filled"] == 1
    assert detail["backfill"]["done"] == detail["backfill"]["total"]
    explained = api.get(
        f"/propsync/v1/sync-properties/contacts/company_name_sync/explain/{contact}").json()
    assert explained["winner"] == company and explained["value"] == "Acme"
    assert explained["upToDate"] is True
    assert explained["candidates"][0]["admitted"] is True
    assert api.get("/propsync/v1/sync-properties/contacts/email").status_code == 404
    assert api.get("/propsync/v1/sync-properties/contacts/company_name_sync/explain/999999"
                   ).status_code == 404
