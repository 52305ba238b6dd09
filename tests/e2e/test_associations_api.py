"""Associations v4 over HTTP: pairs seen from both ends, their labels and Primary."""

from __future__ import annotations

import httpx

from tests.e2e.associations import (
    CONTACTS_COMPANIES,
    PRIMARY,
    labelled,
    make,
    new_label,
    primaries_of,
    sdk_parse,
    types_between,
)


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


def test_default_reply_has_the_sdk_shape_and_object_types_take_any_alias(api, pair):
    contact, company = pair
    reply = api.put(f"/crm/v4/objects/contact/{contact}/associations/default/0-2/{company}")
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "COMPLETE"
    assert body["startedAt"].endswith("Z") and body["completedAt"].endswith("Z")
    assert {(r["from"]["id"], r["to"]["id"]) for r in body["results"]} == {
        (contact, company), (company, contact)}
    parsed = sdk_parse(reply, "BatchResponsePublicDefaultAssociation")
    assert {r.association_spec.association_type_id for r in parsed.results} == {279, 280}
    assert types_between(api, contact, company) == {279}


def test_v3_read_shows_the_association_from_both_ends(api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    got = api.get(f"/crm/v3/objects/companies/{company}", params={"associations": "contacts"})
    assert {r["id"] for r in got.json()["associations"]["contacts"]["results"]} == {contact}
    got = api.get(f"/crm/v3/objects/contacts/{contact}", params={"associations": "companies"})
    assert {r["id"] for r in got.json()["associations"]["companies"]["results"]} == {company}


def test_a_labelled_put_adds_to_the_labels_the_pair_already_has(api, pair):
    contact, company = pair
    billing = new_label(api, "billing")
    labelled(api, contact, company, billing, category="USER_DEFINED")
    reply = labelled(api, contact, company, 1)
    assert reply.status_code == 201
    assert sorted(reply.json()["labels"]) == ["Billing", "Primary"]
    sdk_parse(reply, "LabelsBetweenObjectPair")
    assert types_between(api, contact, company) == {1, 279, billing}


def test_the_listing_has_the_sdk_shape(api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    reply = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies")
    parsed = sdk_parse(reply, "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging")
    assert {(t.type_id, t.label) for t in parsed.results[0].association_types} == {
        (1, "Primary"), (279, None)}


def test_one_batch_naming_two_primary_companies_keeps_the_last(api):
    contact = make(api, "contacts")
    first, second = make(api, "companies"), make(api, "companies")
    reply = api.post(f"{CONTACTS_COMPANIES}/batch/create", json={"inputs": [
        {"from": {"id": contact}, "to": {"id": c}, "types": [PRIMARY]} for c in (first, second)]})
    assert reply.status_code == 201
    assert primaries_of(api, contact) == [int(second)]
    assert types_between(api, contact, first) == {279}


def test_inline_associations_naming_two_primaries_keep_one(api):
    first, second = make(api, "companies"), make(api, "companies")
    created = api.post("/crm/v3/objects/contacts", json={"properties": {}, "associations": [
        {"to": {"id": c}, "types": [PRIMARY]} for c in (first, second)]})
    assert created.status_code == 201
    assert primaries_of(api, created.json()["id"]) == [int(second)]


def test_concurrent_primary_writes_leave_exactly_one_primary(tenant):
    from concurrent.futures import ThreadPoolExecutor
    api = tenant.client
    contact = make(api, "contacts")
    companies = [make(api, "companies") for _ in range(6)]

    def set_primary(company: str) -> int:
        with httpx.Client(base_url=tenant.server.base_url, timeout=60,
                          headers={"Authorization": f"Bearer {tenant.token}"}) as client:
            return labelled(client, contact, company, 1).status_code

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(set_primary, companies)) == {201}
    assert len(primaries_of(api, contact)) == 1
    back = [api.get(f"/crm/v4/objects/companies/{c}/associations/contacts").json()
            for c in companies]
    assert sum(any(t["typeId"] == 2 for r in page["results"] for t in r["associationTypes"])
               for page in back) == 1


def test_archiving_the_unlabeled_type_removes_every_label_of_the_pair(api, pair):
    contact, company = pair
    billing = new_label(api, "billing")
    labelled(api, contact, company, 1)
    labelled(api, contact, company, billing, category="USER_DEFINED")
    reply = api.post(f"{CONTACTS_COMPANIES}/batch/labels/archive", json={"inputs": [
        {"from": {"id": contact}, "to": {"id": company},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]})
    assert reply.status_code == 204
    assert types_between(api, contact, company) == set()
    assert api.get(f"/crm/v4/objects/companies/{company}/associations/contacts"
                   ).json()["results"] == []


def test_archiving_one_label_from_the_other_end_keeps_the_others(api, pair):
    contact, company = pair
    billing = new_label(api, "billing", inverseLabel="Billed contact")
    labelled(api, contact, company, 1)
    labelled(api, contact, company, billing, category="USER_DEFINED")
    reply = api.post("/crm/v4/associations/companies/contacts/batch/labels/archive", json={
        "inputs": [{"from": {"id": company}, "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED",
                               "associationTypeId": 2}]}]})
    assert reply.status_code == 204
    assert types_between(api, contact, company) == {279, billing}


def test_an_archived_record_hides_its_associations_and_refuses_new_ones(api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    api.delete(f"/crm/v3/objects/companies/{company}")
    assert types_between(api, contact, company) == set()
    reply = labelled(api, contact, company, 1)
    assert reply.status_code == 404 and reply.json()["category"] == "OBJECT_NOT_FOUND"
    assert api.get(f"/crm/v4/objects/companies/{company}/associations/contacts"
                   ).status_code == 404


def test_a_record_of_another_object_type_is_not_found(api, pair):
    contact, _ = pair
    deal = make(api, "deals")
    assert api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/{deal}"
                   ).status_code == 404
    assert api.get(f"/crm/v4/objects/companies/{contact}/associations/contacts"
                   ).status_code == 404
    assert api.delete(f"/crm/v4/objects/contacts/{contact}/associations/companies/{deal}"
                      ).status_code == 404
