"""Associations v4 over HTTP: pairs seen from both ends, labels, Primary, batches."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import new_tenant

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}


def make(api: httpx.Client, object_type: str, **props: str) -> str:
    return api.post(f"/crm/v3/objects/{object_type}", json={"properties": props}).json()["id"]


def types_between(api: httpx.Client, contact: str, company: str) -> set[int]:
    results = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()
    return {t["typeId"] for r in results["results"] if str(r["toObjectId"]) == company
            for t in r["associationTypes"]}


@pytest.fixture
def pair(api: httpx.Client) -> tuple[str, str]:
    return make(api, "contacts", email="p@x.com"), make(api, "companies", name="X")


def test_default_association_is_200_and_visible_from_both_ends(api, pair):
    contact, company = pair
    reply = api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}")
    assert reply.status_code == 200
    specs = {r["associationSpec"]["associationTypeId"] for r in reply.json()["results"]}
    assert specs == {279, 280}
    back = api.get(f"/crm/v4/objects/companies/{company}/associations/contacts").json()
    assert back["results"] == [{"toObjectId": int(contact), "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None}]}]
    assert "paging" not in back


def test_labelled_association_is_201_and_carries_the_default_too(api, pair):
    contact, company = pair
    reply = api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
                    json=[PRIMARY])
    assert reply.status_code == 201
    assert reply.json() == {"fromObjectTypeId": "0-1", "fromObjectId": int(contact),
                            "toObjectTypeId": "0-2", "toObjectId": int(company),
                            "labels": ["Primary"]}
    assert types_between(api, contact, company) == {1, 279}


def test_primary_moves_and_the_previous_pair_keeps_its_other_labels(api):
    contact = make(api, "contacts")
    first, second = make(api, "companies", name="1"), make(api, "companies", name="2")
    billing = api.post("/crm/v4/associations/contacts/companies/labels",
                       json={"label": "Billing", "name": "billing"}).json()["results"][0]
    billing_spec = {"associationCategory": "USER_DEFINED", "associationTypeId": billing["typeId"]}
    api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{first}",
            json=[PRIMARY, billing_spec])
    api.delete(f"/crm/v3/objects/companies/{first}")  # archived, still holds Primary
    api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{second}",
            json=[PRIMARY])
    api.post(f"/propsync/v1/objects/companies/{first}/restore")
    assert types_between(api, contact, first) == {279, billing["typeId"]}
    assert types_between(api, contact, second) == {1, 279}


def test_primary_set_from_the_company_end_moves_too(api):
    contact = make(api, "contacts")
    first, second = make(api, "companies"), make(api, "companies")
    for company in (first, second):
        api.put(f"/crm/v4/objects/companies/{company}/associations/contacts/{contact}",
                json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 2}])
    assert types_between(api, contact, first) == {279}
    assert types_between(api, contact, second) == {1, 279}


def test_delete_removes_the_pair_from_either_end(api, pair):
    contact, company = pair
    api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
            json=[PRIMARY])
    reply = api.delete(f"/crm/v4/objects/companies/{company}/associations/contacts/{contact}")
    assert reply.status_code == 204
    assert types_between(api, contact, company) == set()


def test_labels_archive_removes_only_those_labels(api, pair):
    contact, company = pair
    api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
            json=[PRIMARY])
    reply = api.post("/crm/v4/associations/contacts/companies/batch/labels/archive", json={
        "inputs": [{"from": {"id": contact}, "to": {"id": company}, "types": [PRIMARY]}]})
    assert reply.status_code == 204
    assert types_between(api, contact, company) == {279}


def test_batch_create_read_and_archive(api):
    contacts = [make(api, "contacts") for _ in range(2)]
    company = make(api, "companies")
    created = api.post("/crm/v4/associations/contacts/companies/batch/create", json={"inputs": [
        {"from": {"id": c}, "to": {"id": company}, "types": [PRIMARY]} for c in contacts]})
    assert created.status_code == 201
    assert [r["labels"] for r in created.json()["results"]] == [["Primary"], ["Primary"]]
    partial = api.post("/crm/v4/associations/contacts/companies/batch/create", json={"inputs": [
        {"from": {"id": "987654"}, "to": {"id": company}, "types": [PRIMARY]}]})
    assert partial.status_code == 207 and partial.json()["numErrors"] == 1
    read = api.post("/crm/v4/associations/contacts/companies/batch/read",
                    json={"inputs": [{"id": c} for c in contacts]})
    assert read.status_code == 200
    assert all(r["to"][0]["toObjectId"] == int(company) for r in read.json()["results"])
    gone = api.post("/crm/v4/associations/contacts/companies/batch/archive", json={
        "inputs": [{"from": {"id": c}, "to": [{"id": company}]} for c in contacts]})
    assert gone.status_code == 204
    assert types_between(api, contacts[0], company) == set()
    default = api.post("/crm/v4/associations/contacts/companies/batch/associate/default",
                       json={"inputs": [{"from": {"id": contacts[0]}, "to": {"id": company}}]})
    assert default.status_code == 200
    assert types_between(api, contacts[0], company) == {279}


def test_listing_pages_and_the_last_page_has_no_paging(api):
    company = make(api, "companies")
    contacts = [make(api, "contacts") for _ in range(3)]
    for c in contacts:
        api.put(f"/crm/v4/objects/companies/{company}/associations/default/contacts/{c}")
    seen, after = [], None
    while True:
        page = api.get(f"/crm/v4/objects/companies/{company}/associations/contacts",
                       params={"limit": 2, **({"after": after} if after else {})}).json()
        seen += [str(r["toObjectId"]) for r in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
    assert seen == contacts


def test_labels_api_creates_renames_and_deletes_user_defined_labels(api, pair):
    contact, company = pair
    created = api.post("/crm/v4/associations/contacts/companies/labels",
                       json={"label": "Billing contact", "name": "billing_contact"})
    assert created.status_code == 200
    type_id = created.json()["results"][0]["typeId"]
    assert api.post("/crm/v4/associations/contacts/companies/labels",
                    json={"label": "Billing contact", "name": "billing_contact"}
                    ).status_code == 409
    spec = {"associationCategory": "USER_DEFINED", "associationTypeId": type_id}
    api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}", json=[spec])
    renamed = api.put("/crm/v4/associations/contacts/companies/labels",
                      json={"associationTypeId": type_id, "label": "Invoices"})
    assert renamed.status_code == 204
    labels = api.get("/crm/v4/associations/contacts/companies/labels").json()["results"]
    assert {"category": "USER_DEFINED", "typeId": type_id, "label": "Invoices"} in labels
    assert {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"} in labels
    assert api.delete(f"/crm/v4/associations/contacts/companies/labels/{type_id}"
                      ).status_code == 204
    assert types_between(api, contact, company) == {279}


@pytest.mark.parametrize("body", [
    [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 999}],
    [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
    [{"associationCategory": "NOPE", "associationTypeId": 1}],
    [],
    {"not": "a list"},
])
def test_bad_types_are_400_and_change_nothing(api, pair, body):
    contact, company = pair
    reply = api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
                    json=body)
    assert reply.status_code == 400, reply.text
    assert types_between(api, contact, company) == set()


def test_missing_records_are_404_and_other_accounts_records_are_missing(server, api, pair):
    contact, company = pair
    assert api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/99999"
                   ).status_code == 404
    other = new_tenant(server).client
    assert other.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/"
                     f"{company}").status_code == 404
    assert other.get(f"/crm/v4/objects/contacts/{contact}/associations/companies"
                     ).status_code == 404
    assert types_between(api, contact, company) == set()


def test_a_token_without_write_scope_is_403(server):
    reader = new_tenant(server, scopes="crm.objects.contacts.read,crm.objects.companies.read")
    reply = reader.client.put("/crm/v4/objects/contacts/1/associations/default/companies/2")
    assert reply.status_code == 403
