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


# --- The contract in detail: shapes the SDK reads, every rule, every refusal. ---

CONTACTS_COMPANIES = "/crm/v4/associations/contacts/companies"


class _Raw:
    """What the SDK's deserializer reads from an HTTP response."""

    def __init__(self, reply: httpx.Response) -> None:
        self.data = reply.content


def sdk_parse(reply: httpx.Response, model: str, schema: bool = False) -> object:
    """Deserialize ``reply`` as the official SDK does; raises if a required member is wrong."""
    if schema:
        from hubspot.crm.associations.v4.schema import ApiClient as SchemaClient
        return SchemaClient().deserialize(_Raw(reply), model)
    from hubspot.crm.associations.v4 import ApiClient
    return ApiClient().deserialize(_Raw(reply), model)


def labelled(api: httpx.Client, contact: str, company: str, *type_ids: int,
             category: str = "HUBSPOT_DEFINED") -> httpx.Response:
    return api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
                   json=[{"associationCategory": category, "associationTypeId": i}
                         for i in type_ids])


def new_label(api: httpx.Client, name: str, **extra: str) -> int:
    reply = api.post(f"{CONTACTS_COMPANIES}/labels", json={"label": name.title(), "name": name,
                                                           **extra})
    assert reply.status_code == 200, reply.text
    return int(reply.json()["results"][0]["typeId"])


def primaries_of(api: httpx.Client, contact: str) -> list[int]:
    page = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()
    return [r["toObjectId"] for r in page["results"]
            if any(t["typeId"] == 1 for t in r["associationTypes"])]


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


def test_batch_create_applies_the_good_pairs_and_reports_the_missing_one(api):
    contact, company = make(api, "contacts"), make(api, "companies")
    reply = api.post(f"{CONTACTS_COMPANIES}/batch/create", json={"inputs": [
        {"from": {"id": contact}, "to": {"id": company}, "types": [PRIMARY]},
        {"from": {"id": contact}, "to": {"id": "424242"}, "types": [PRIMARY]}]})
    assert reply.status_code == 207
    body = reply.json()
    assert body["numErrors"] == 1 and "424242" in body["errors"][0]["context"]["ids"]
    assert [r["toObjectId"] for r in body["results"]] == [int(company)]
    sdk_parse(reply, "BatchResponseLabelsBetweenObjectPairWithErrors")
    assert primaries_of(api, contact) == [int(company)]


def test_batch_read_reports_missing_ids_with_207_in_the_sdk_shape(api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    reply = api.post(f"{CONTACTS_COMPANIES}/batch/read",
                     json={"inputs": [{"id": contact}, {"id": "31337"}, {"id": "x"}]})
    assert reply.status_code == 207
    parsed = sdk_parse(reply, "BatchResponsePublicAssociationMultiWithLabelWithErrors")
    assert parsed.num_errors == 1 and set(parsed.errors[0].context["ids"]) == {"31337", "x"}
    assert [r._from.id for r in parsed.results] == [contact]
    assert {t.type_id for t in parsed.results[0].to[0].association_types} == {1, 279}
    ok = api.post(f"{CONTACTS_COMPANIES}/batch/read", json={"inputs": [{"id": contact}]})
    assert ok.status_code == 200 and "errors" not in ok.json()
    sdk_parse(ok, "BatchResponsePublicAssociationMultiWithLabel")


def test_batch_default_reports_missing_ids_inside_a_200_as_the_sdk_expects(api, pair):
    contact, company = pair
    reply = api.post(f"{CONTACTS_COMPANIES}/batch/associate/default", json={"inputs": [
        {"from": {"id": contact}, "to": {"id": company}},
        {"from": {"id": contact}, "to": {"id": "5151"}}]})
    assert reply.status_code == 200
    parsed = sdk_parse(reply, "BatchResponsePublicDefaultAssociation")
    assert parsed.num_errors == 1 and parsed.errors[0].context["ids"] == ["5151"]
    assert types_between(api, contact, company) == {279}


def test_batch_archive_and_labels_archive_ignore_unknown_ids(api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    for path, body in (
        ("batch/archive", {"inputs": [{"from": {"id": "777"}, "to": [{"id": company}]}]}),
        ("batch/labels/archive", {"inputs": [{"from": {"id": "nope"}, "to": {"id": company},
                                              "types": [PRIMARY]}]}),
    ):
        assert api.post(f"{CONTACTS_COMPANIES}/{path}", json=body).status_code == 204
    assert types_between(api, contact, company) == {1, 279}


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


def test_another_account_can_neither_read_nor_remove_the_pair(server, api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    other = new_tenant(server).client
    assert other.delete(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}"
                        ).status_code == 404
    read = other.post(f"{CONTACTS_COMPANIES}/batch/read", json={"inputs": [{"id": contact}]})
    assert read.status_code == 207 and read.json()["results"] == []
    for path, body in (
        ("batch/archive", {"inputs": [{"from": {"id": contact}, "to": [{"id": company}]}]}),
        ("batch/labels/archive", {"inputs": [{"from": {"id": contact}, "to": {"id": company},
                                              "types": [PRIMARY]}]}),
    ):
        assert other.post(f"{CONTACTS_COMPANIES}/{path}", json=body).status_code == 204
    assert types_between(api, contact, company) == {1, 279}


@pytest.mark.parametrize(("scopes", "method", "path", "body"), [
    ("crm.objects.contacts.write,crm.objects.contacts.read", "PUT",
     "/crm/v4/objects/contacts/1/associations/default/companies/2", None),
    ("crm.objects.companies.read", "GET", "/crm/v4/objects/contacts/1/associations/companies",
     None),
    ("crm.objects.contacts.read,crm.objects.companies.read", "POST",
     f"{CONTACTS_COMPANIES}/batch/archive", {"inputs": []}),
    ("crm.objects.contacts.read", "POST", f"{CONTACTS_COMPANIES}/batch/read", {"inputs": []}),
    ("crm.objects.contacts.read,crm.objects.companies.read", "GET",
     f"{CONTACTS_COMPANIES}/labels", None),
    ("crm.schemas.contacts.read", "POST", f"{CONTACTS_COMPANIES}/labels",
     {"label": "A", "name": "a"}),
    ("crm.schemas.contacts.read", "DELETE", f"{CONTACTS_COMPANIES}/labels/1000", None),
])
def test_a_missing_scope_is_403(server, scopes, method, path, body):
    client = new_tenant(server, scopes=scopes).client
    reply = client.request(method, path, json=body)
    assert reply.status_code == 403, reply.text
    assert reply.json()["category"] == "MISSING_SCOPES"


def test_read_scopes_are_enough_to_read(server, api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    reader = new_tenant(server, scopes="crm.objects.contacts.read,crm.objects.companies.read,"
                                       "crm.schemas.contacts.read")
    assert reader.client.get("/crm/v4/objects/contacts/1/associations/companies"
                             ).status_code == 404
    assert reader.client.get(f"{CONTACTS_COMPANIES}/labels").status_code == 200


LONG = "x" * 300
BAD_BODIES = [
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": "abc"}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 2 ** 70}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationTypeId": 1}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}", None),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create", {"inputs": "no"}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create", {}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create",
     {"inputs": [{"from": {"id": "{c}"}, "to": {"id": "{o}"}}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create",
     {"inputs": [{"from": {"id": "{c}"}, "to": {"id": "{o}"}, "types": [PRIMARY]},
                 {"from": {"id": "{c}"}, "to": {"id": "{o}"}, "types": [
                     {"associationCategory": "USER_DEFINED", "associationTypeId": 1}]}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create", {"inputs": [{"to": {"id": "{o}"}}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/labels/archive",
     {"inputs": [{"from": {"id": "{c}"}, "to": {"id": "{o}"}, "types": [
         {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/archive", {"inputs": [{"from": {"id": "{c}"}}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/read", {"inputs": [{"nope": 1}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/associate/default", {"inputs": [{}]}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": "", "name": "empty"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": "Bad", "name": "Bad Name"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": LONG, "name": "long"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": "Nul\u0000", "name": "nul"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels",
     {"label": "Ok", "name": "ok", "inverseLabel": LONG}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"name": "nolabel"}),
    ("PUT", f"{CONTACTS_COMPANIES}/labels", {"label": "No id"}),
    ("PUT", f"{CONTACTS_COMPANIES}/labels", {"associationTypeId": 1000, "label": LONG}),
    ("GET", "/crm/v4/objects/contacts/{c}/associations/companies?limit=0", None),
    ("GET", "/crm/v4/objects/contacts/{c}/associations/companies?limit=501", None),
    ("GET", "/crm/v4/objects/contacts/{c}/associations/companies?after=abc", None),
]


def _fill(value: object, contact: str, company: str) -> object:
    if isinstance(value, str):
        return value.replace("{c}", contact).replace("{o}", company)
    if isinstance(value, list):
        return [_fill(v, contact, company) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, contact, company) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
def test_bad_input_is_400_in_the_hubspot_shape_and_changes_nothing(api, pair, method, path,
                                                                   body):
    contact, company = pair
    new_label(api, "existing")
    labels_before = api.get(f"{CONTACTS_COMPANIES}/labels").json()
    reply = api.request(method, str(_fill(path, contact, company)),
                        json=_fill(body, contact, company))
    assert reply.status_code == 400, reply.text
    error = reply.json()
    assert error["status"] == "error" and error["category"] == "VALIDATION_ERROR"
    assert error["message"] and error["correlationId"]
    assert types_between(api, contact, company) == set()
    assert api.get(f"{CONTACTS_COMPANIES}/labels").json() == labels_before


def test_unknown_object_types_are_refused(api, pair):
    contact, company = pair
    reply = api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/widgets/{company}")
    assert reply.status_code == 400
    assert reply.json()["status"] == "error"


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
