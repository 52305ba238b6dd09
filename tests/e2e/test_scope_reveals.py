"""Scopes are checked on every object type a reply reveals or a call touches (issue 12,
point 4): associated records, association labels, a sync property's source, the history
of a sync value. ``tests/reliability/test_route_access.py`` checks every route; these
tests name each rule once."""

from __future__ import annotations

import httpx
import pytest

from propsync.domain.auth import ALL_SCOPES
from propsync.services.accounts import create_token
from tests.conftest import Tenant
from tests.e2e.test_sync_api import PRIMARY, settle, sync_body

CONTACTS_COMPANIES = "/crm/v4/associations/contacts/companies"


def token(tenant: Tenant, scopes: str) -> httpx.Client:
    """A client of the tenant's own account and user, with only ``scopes``."""
    made = create_token(tenant.server.engine, tenant.account_id, scopes, tenant.user_id)
    return tenant.client_for(made.token)


def without(tenant: Tenant, object_type: str, *also: str) -> httpx.Client:
    """Every scope but those of ``object_type`` (and but ``also``)."""
    return token(tenant, " ".join(s for s in ALL_SCOPES
                                  if f".{object_type}." not in s and s not in also))


def missing(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 403, reply.text
    body = reply.json()
    assert body["category"] == "MISSING_SCOPES" and body["status"] == "error"
    return list(body.get("context", {}).get("requiredGranularScopes", []))


@pytest.fixture
def linked(api: httpx.Client) -> tuple[str, str]:
    """A company named Acme and a contact whose Primary company it is."""
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme"}}).json()
    contact = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "a@acme.com"},
        "associations": [{"to": {"id": company["id"]}, "types": [PRIMARY]}]}).json()
    return company["id"], contact["id"]


def test_a_contacts_token_cannot_list_company_ids_through_a_contacts_associations(
        tenant, linked):
    company, contact = linked
    reader = token(tenant, "crm.objects.contacts.read")
    for path in (f"/crm/v3/objects/contacts/{contact}", "/crm/v3/objects/contacts"):
        reply = reader.get(path, params={"associations": "companies"})
        assert missing(reply) == ["crm.objects.companies.read"]
        assert "associations" not in reply.json() and "results" not in reply.json()
    both = token(tenant, "crm.objects.contacts.read crm.objects.companies.read")
    shown = both.get(f"/crm/v3/objects/contacts/{contact}", params={"associations": "companies"})
    assert [a["id"] for a in shown.json()["associations"]["companies"]["results"]] == [
        company, company]


def test_a_sync_values_history_names_its_source_record_only_to_who_may_read_it(
        api, tenant, linked):
    company, contact = linked
    assert api.post("/crm/v3/properties/contacts", json=sync_body()).status_code == 201
    settle(api)
    params = {"propertiesWithHistory": "company_name_sync"}
    path = f"/crm/v3/objects/contacts/{contact}"
    full = api.get(path, params=params).json()["propertiesWithHistory"]["company_name_sync"]
    assert full[0]["sourceId"] == f"company_name_sync:companies:{company}"
    reply = without(tenant, "companies").get(path, params=params)
    entries = reply.json()["propertiesWithHistory"]["company_name_sync"]
    assert [e["value"] for e in entries] == ["Acme"]
    assert entries[0]["sourceId"] == "company_name_sync"


def test_inline_associations_need_write_on_the_associated_type(tenant, api, linked):
    company, _ = linked
    writer = token(tenant, "crm.objects.contacts.write crm.objects.contacts.read "
                           "crm.objects.companies.read")
    before = len(api.get("/crm/v3/objects/contacts").json()["results"])
    for to in (company, "999999999"):  # an id that names nothing is refused alike
        body = {"properties": {"email": "b@acme.com"},
                "associations": [{"to": {"id": to}, "types": [PRIMARY]}]}
        assert missing(writer.post("/crm/v3/objects/contacts", json=body)) == [
            "crm.objects.companies.write"]
        assert missing(writer.post("/crm/v3/objects/contacts/batch/create",
                                   json={"inputs": [body]})) == ["crm.objects.companies.write"]
    assert len(api.get("/crm/v3/objects/contacts").json()["results"]) == before


def test_association_writes_need_write_on_both_types(tenant, pair):
    contact, company = pair
    writer = token(tenant, "crm.objects.contacts.write crm.objects.contacts.read "
                           "crm.objects.companies.read")
    reply = writer.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/"
                       f"{company}")
    assert missing(reply) == ["crm.objects.companies.write"]
    reply = writer.post(f"{CONTACTS_COMPANIES}/batch/archive", json={"inputs": [
        {"from": {"id": contact}, "to": [{"id": company}]}]})
    assert missing(reply) == ["crm.objects.companies.write"]


def test_association_labels_need_the_schema_scopes_of_both_types(tenant, api):
    made = api.post(f"{CONTACTS_COMPANIES}/labels", json={"label": "Billing", "name": "billing"})
    type_id = made.json()["results"][0]["typeId"]
    schemas = token(tenant, "crm.schemas.contacts.read crm.schemas.contacts.write "
                            "crm.schemas.companies.read")
    reply = without(tenant, "companies").get(f"{CONTACTS_COMPANIES}/labels")
    assert missing(reply) == ["crm.schemas.companies.read"] and "Billing" not in reply.text
    for method, path, body in (
        ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": "Other", "name": "other"}),
        ("PUT", f"{CONTACTS_COMPANIES}/labels", {"associationTypeId": type_id, "label": "X"}),
        ("DELETE", f"{CONTACTS_COMPANIES}/labels/{type_id}", None),
    ):
        reply = schemas.request(method, path, json=body)
        assert missing(reply) == ["crm.schemas.companies.write"]
    labels = api.get(f"{CONTACTS_COMPANIES}/labels").json()["results"]
    assert [t["label"] for t in labels if t["category"] == "USER_DEFINED"] == ["Billing"]


def test_a_sync_property_keeps_its_source_from_a_token_that_may_not_read_it(
        tenant, api, linked):
    _, contact = linked
    assert api.post("/crm/v3/properties/contacts", json=sync_body()).status_code == 201
    settle(api)
    blind = without(tenant, "companies")
    shown = blind.get("/crm/v3/properties/contacts/company_name_sync").json()
    assert "syncSource" not in shown and shown["modificationMetadata"]["readOnlyValue"]
    listed = blind.get("/crm/v3/properties/contacts").json()["results"]
    assert [p for p in listed if p["name"] == "company_name_sync" and "syncSource" not in p]
    assert blind.get("/propsync/v1/sync/status").json()["properties"] == []
    for path in ("/propsync/v1/sync-properties/contacts/company_name_sync",
                 f"/propsync/v1/sync-properties/contacts/company_name_sync/explain/{contact}"):
        reply = blind.get(path)
        assert missing(reply) == [] and "companies" not in reply.json()["message"]
    write = blind.patch(f"/crm/v3/objects/contacts/{contact}",
                        json={"properties": {"company_name_sync": "x"}})
    assert write.status_code == 400 and "companies" not in write.text
    assert blind.get(f"/crm/v3/objects/contacts/{contact}", params={
        "properties": "company_name_sync"}).json()["properties"]["company_name_sync"] == "Acme"


def test_a_refused_source_deletion_names_only_the_sync_properties_the_token_may_see(
        tenant, api):
    assert api.post("/crm/v3/properties/companies", json={
        "name": "code", "label": "Code", "type": "string", "fieldType": "text",
        "groupName": "companyinformation"}).status_code == 201
    assert api.post("/crm/v3/properties/contacts", json=sync_body(
        propertyName="code")).status_code == 201
    reply = without(tenant, "contacts").delete("/crm/v3/properties/companies/code")
    assert reply.status_code == 400, reply.text
    assert "company_name_sync" not in reply.text and "contacts" not in reply.text
    assert "1 sync property" in reply.json()["message"]
    seen = api.delete("/crm/v3/properties/companies/code")
    assert "contacts.company_name_sync" in seen.json()["message"]


def test_defining_a_sync_property_needs_read_access_to_the_source_records(tenant, linked):
    definer = token(tenant, " ".join(s for s in ALL_SCOPES
                                     if s != "crm.objects.companies.read"))
    reply = definer.post("/crm/v3/properties/contacts", json=sync_body())
    assert missing(reply) == ["crm.objects.companies.read"]


def test_the_sync_status_needs_a_schema_read_scope(tenant):
    reply = token(tenant, "").get("/propsync/v1/sync/status")
    assert set(missing(reply)) == {f"crm.schemas.{t}.read" for t in
                                   ("contacts", "companies", "deals", "tickets")}
    assert token(tenant, "crm.schemas.deals.read").get(
        "/propsync/v1/sync/status").status_code == 200
