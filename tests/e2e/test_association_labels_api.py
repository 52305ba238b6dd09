"""Association labels over HTTP: user-defined types, their inverses and their names."""

from __future__ import annotations

import httpx

from tests.conftest import new_tenant
from tests.e2e.associations import (
    CONTACTS_COMPANIES,
    labelled,
    make,
    new_label,
    sdk_parse,
    types_between,
)


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


def test_a_label_with_an_inverse_is_seen_from_the_other_end(api, pair):
    contact, company = pair
    reply = api.post(f"{CONTACTS_COMPANIES}/labels", json={
        "label": "Billing", "name": "billing", "inverseLabel": "Billed contact"})
    sdk_parse(reply, "CollectionResponseAssociationSpecWithLabelNoPaging", schema=True)
    forward, inverse = (r["typeId"] for r in reply.json()["results"])
    backwards = api.get("/crm/v4/associations/companies/contacts/labels").json()["results"]
    assert {"category": "USER_DEFINED", "typeId": inverse, "label": "Billed contact"} in backwards
    labelled(api, contact, company, forward, category="USER_DEFINED")
    page = api.get(f"/crm/v4/objects/companies/{company}/associations/contacts").json()
    assert {t["typeId"] for t in page["results"][0]["associationTypes"]} == {280, inverse}


def test_the_labels_listing_has_the_sdk_shape(api):
    new_label(api, "billing")
    reply = api.get(f"{CONTACTS_COMPANIES}/labels")
    assert reply.status_code == 200
    parsed = sdk_parse(reply, "CollectionResponseAssociationSpecWithLabelNoPaging", schema=True)
    assert {(r.category, r.type_id) for r in parsed.results} >= {
        ("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)}


def test_label_names_and_labels_clash_with_409_on_create_and_rename(api):
    new_label(api, "billing")
    other = new_label(api, "shipping")
    clash = api.post(f"{CONTACTS_COMPANIES}/labels", json={"label": "Other", "name": "billing"})
    assert clash.status_code == 409
    renamed = api.put(f"{CONTACTS_COMPANIES}/labels",
                      json={"associationTypeId": other, "label": "Billing"})
    assert renamed.status_code == 409, renamed.text
    labels = {r["label"] for r in api.get(f"{CONTACTS_COMPANIES}/labels").json()["results"]}
    assert {"Billing", "Shipping"} <= labels


def test_unknown_labels_are_404_to_rename_and_delete(api):
    assert api.put(f"{CONTACTS_COMPANIES}/labels",
                   json={"associationTypeId": 5555, "label": "X"}).status_code == 404
    assert api.delete(f"{CONTACTS_COMPANIES}/labels/5555").status_code == 404
    assert api.delete(f"{CONTACTS_COMPANIES}/labels/1").status_code in (400, 404)
    assert api.delete(f"{CONTACTS_COMPANIES}/labels/99999999999999999999").status_code in (
        400, 404)


def test_labels_belong_to_one_account(server, api, pair):
    contact, company = pair
    type_id = new_label(api, "billing")
    other = new_tenant(server).client
    theirs = other.get(f"{CONTACTS_COMPANIES}/labels").json()["results"]
    assert all(r["category"] == "HUBSPOT_DEFINED" for r in theirs)
    their_contact, their_company = make(other, "contacts"), make(other, "companies")
    refused = labelled(other, their_contact, their_company, type_id, category="USER_DEFINED")
    assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"
    assert other.delete(f"{CONTACTS_COMPANIES}/labels/{type_id}").status_code == 404
    assert other.put(f"{CONTACTS_COMPANIES}/labels",
                     json={"associationTypeId": type_id, "label": "Mine"}).status_code == 404
    labelled(api, contact, company, type_id, category="USER_DEFINED")
    assert types_between(api, contact, company) == {279, type_id}


def test_concurrent_label_creation_gives_distinct_ids_and_refuses_duplicates(tenant):
    from concurrent.futures import ThreadPoolExecutor

    def create(name: str) -> httpx.Response:
        with httpx.Client(base_url=tenant.server.base_url, timeout=60,
                          headers={"Authorization": f"Bearer {tenant.token}"}) as client:
            return client.post(f"{CONTACTS_COMPANIES}/labels",
                               json={"label": name.title(), "name": name})

    names = [f"label_{i}" for i in range(6)] + ["same", "same"]
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(create, names))
    assert sorted(r.status_code for r in replies) == [200] * 7 + [409]
    ids = [r.json()["results"][0]["typeId"] for r in replies if r.status_code == 200]
    assert len(set(ids)) == 7
