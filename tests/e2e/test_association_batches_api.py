"""Associations v4 batches over HTTP: create, read, archive, with missing ids reported."""

from __future__ import annotations

from tests.e2e.associations import (
    CONTACTS_COMPANIES,
    PRIMARY,
    labelled,
    make,
    primaries_of,
    sdk_parse,
    types_between,
)


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
