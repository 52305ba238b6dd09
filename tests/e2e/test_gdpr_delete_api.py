"""``POST /crm/v3/objects/contacts/gdpr-delete`` over HTTP: the contact, its history and
the sync values copied from it are gone (the engine recomputes those from the next eligible
source, or clears them), nothing can bring it back, and an audit entry without personal
data says that it happened."""

from __future__ import annotations

import httpx
import pytest

from propsync.domain.auth import Role
from tests.conftest import new_tenant
from tests.e2e.replies import error
from tests.e2e.test_roles_api import member
from tests.e2e.test_sync_api import settle
from tests.e2e.test_unique_values_api import unique_property

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
GDPR = "/crm/v3/objects/contacts/gdpr-delete"
AUDIT = "/propsync/v1/objects/contacts/gdpr-deletions"


def contact(api: httpx.Client, email: str, *companies: str) -> str:
    reply = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": email, "firstname": "Eve"},
        "associations": [{"to": {"id": c}, "types": [PRIMARY]} for c in companies]})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def company(api: httpx.Client, name: str) -> str:
    return api.post("/crm/v3/objects/companies", json={"properties": {"name": name}}).json()["id"]


def first_email(api: httpx.Client, company_id: str) -> dict:
    return api.get(f"/crm/v3/objects/companies/{company_id}", params={
        "properties": "first_email", "propertiesWithHistory": "first_email"}).json()


@pytest.fixture
def synced(api: httpx.Client) -> tuple[str, str, str, str]:
    """Companies ``both`` (two contacts) and ``only`` (the first one alone); companies copy
    their first-created contact's email."""
    both, only = company(api, "Both"), company(api, "Only")
    first = contact(api, "first@secret.example", both, only)
    second = contact(api, "second@x.example", both)
    reply = api.post("/crm/v3/properties/companies", json={
        "name": "first_email", "label": "First contact's email",
        "groupName": "companyinformation",
        "syncSource": {"objectType": "contacts", "propertyName": "email",
                       "selection": "FIRST_CREATED"}})
    assert reply.status_code == 201, reply.text
    settle(api)
    assert first_email(api, both)["properties"]["first_email"] == "first@secret.example"
    return both, only, first, second


def test_gdpr_delete_erases_the_contact_and_recomputes_what_was_copied_from_it(api, synced):
    both, only, first, second = synced
    assert api.post(GDPR, json={"objectId": first}).status_code == 204
    error(api.get(f"/crm/v3/objects/contacts/{first}"), 404)
    error(api.get(f"/crm/v3/objects/contacts/{first}", params={"archived": "true"}), 404)
    settle(api)
    got = first_email(api, both)
    assert got["properties"]["first_email"] == "second@x.example"
    assert first_email(api, only)["properties"].get("first_email") is None
    for cid in (both, only):
        history = first_email(api, cid)["propertiesWithHistory"]["first_email"]
        assert "first@secret.example" not in {h["value"] for h in history}
    links = api.get(f"/crm/v4/objects/companies/{both}/associations/contacts").json()
    assert [r["toObjectId"] for r in links["results"]] == [int(second)]


def test_a_gdpr_deleted_contact_can_never_come_back(api, synced):
    _, _, first, _ = synced
    api.delete(f"/crm/v3/objects/contacts/{first}")
    assert api.post(GDPR, json={"objectId": first}).status_code == 204
    error(api.post(f"/propsync/v1/objects/contacts/{first}/restore"), 404)
    error(api.post(GDPR, json={"objectId": first}), 404)
    reply = api.post("/crm/v3/objects/contacts/batch/read", json={
        "inputs": [{"id": first}], "properties": [], "propertiesWithHistory": []},
        params={"archived": "true"})
    assert reply.status_code == 207 and reply.json()["results"] == []


def test_an_audit_entry_without_personal_data_is_kept_for_admins(api, tenant, synced):
    _, _, first, _ = synced
    api.post(GDPR, json={"objectId": first})
    reply = api.get(AUDIT)
    assert reply.status_code == 200, reply.text
    entries = reply.json()["results"]
    assert [(e["objectId"], e["objectType"], e["userId"]) for e in entries] == [
        (first, "contacts", str(tenant.user_id))]
    assert entries[0]["deletedAt"]
    assert "secret" not in reply.text and "Eve" not in reply.text
    _, user = member(tenant, Role.USER)
    error(user.get(AUDIT), 403)


def test_gdpr_delete_by_a_unique_property(api):
    unique = unique_property(api, "person_key")["name"]
    rid = api.post("/crm/v3/objects/contacts", json={"properties": {unique: "P-1"}}).json()["id"]
    error(api.post(GDPR, json={"objectId": "P-2", "idProperty": unique}), 404)
    assert api.post(GDPR, json={"objectId": "P-1", "idProperty": unique}).status_code == 204
    error(api.get(f"/crm/v3/objects/contacts/{rid}"), 404)
    assert api.post("/crm/v3/objects/contacts", json={
        "properties": {unique: "P-1"}}).status_code == 201


def test_gdpr_delete_by_email_erases_every_contact_with_that_address(api):
    ids = [contact(api, "twice@x.example") for _ in range(2)]
    keep = contact(api, "other@x.example")
    reply = api.post(GDPR, json={"objectId": "twice@x.example", "idProperty": "email"})
    assert reply.status_code == 204, reply.text
    for rid in ids:
        error(api.get(f"/crm/v3/objects/contacts/{rid}"), 404)
    assert api.get(f"/crm/v3/objects/contacts/{keep}").status_code == 200
    assert len(api.get(AUDIT).json()["results"]) == 2
    error(api.post(GDPR, json={"objectId": "nobody@x.example", "idProperty": "email"}), 404)


def test_gdpr_delete_refuses_bad_input_and_other_accounts(api, server):
    rid = contact(api, "mine@x.example")
    error(api.post(GDPR, json={}), 400)
    error(api.post(GDPR, json={"objectId": rid, "idProperty": "firstname"}), 400)
    other = new_tenant(server).client
    error(other.post(GDPR, json={"objectId": rid}), 404)
    reader = new_tenant(server, scopes="crm.objects.contacts.read").client
    error(reader.post(GDPR, json={"objectId": rid}), 403)
    company_id = company(api, "Not a contact")
    error(api.post(GDPR, json={"objectId": company_id}), 404)
    assert api.get(f"/crm/v3/objects/contacts/{rid}").status_code == 200
