"""HubSpot's limits over HTTP, on both stores: a 400 in HubSpot's shape past each one,
instead of unbounded work (or a 500: 1,000 sorts, a 50,000-character query on SQLite)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.associations import PRIMARY, make
from tests.e2e.replies import codes, error
from tests.patience import WAIT_GUARD_S

BATCHES = ["/crm/v3/objects/contacts/batch/" + name for name in ("read", "update", "archive")]
ASSOCIATION_BATCHES = ["/crm/v4/associations/contacts/companies/batch/" + name for name in (
    "create", "associate/default", "read", "archive", "labels/archive")]


@pytest.fixture
def contact(api: httpx.Client) -> str:
    return make(api, "contacts", email="limits@example.com", firstname="Limits")


def search(api: httpx.Client, **body: object) -> httpx.Response:
    return api.post("/crm/v3/objects/contacts/search", json=body)


def test_a_search_takes_one_sort_rule(api, contact):
    assert search(api, sorts=["firstname"]).status_code == 200
    for sorts in (["firstname", "email"], ["firstname"] * 1000):
        body = error(search(api, sorts=sorts), 400, "VALIDATION_ERROR")
        assert "Only one sorting rule can be applied to any search" in body["message"]


def test_a_search_query_is_at_most_3000_characters(api, contact):
    assert search(api, query="q" * 3000).status_code == 200
    for length in (3001, 50_001):
        assert codes(error(search(api, query="q" * length), 400)) == ["QUERY_TOO_LONG"]
    token = {"propertyName": "firstname", "operator": "CONTAINS_TOKEN", "value": "t" * 60_000}
    error(search(api, filterGroups=[{"filters": [token]}]), 400, "VALIDATION_ERROR")


def test_an_in_filter_takes_at_most_500_values(api, contact):
    values = [f"v{i}" for i in range(501)]
    for operator in ("IN", "NOT_IN"):
        flt = {"propertyName": "firstname", "operator": operator, "values": values}
        body = error(search(api, filterGroups=[{"filters": [flt]}]), 400)
        assert codes(body) == ["TOO_MANY_VALUES"] and "HubSpot documents none" in body["message"]


def test_an_in_filter_of_500_values_on_a_sync_property_finds_its_records(api):
    company = make(api, "companies", name="Acme", city="Bergen")
    linked = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "in@example.com"},
        "associations": [{"to": {"id": company}, "types": [PRIMARY]}]}).json()["id"]
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "company_city", "label": "Company city", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "city",
                       "associationTypes": [PRIMARY]}}).status_code == 201
    settle(api)
    values = [f"city {i}" for i in range(499)] + ["bergen"]
    for operator, expected in (("IN", [linked]), ("NOT_IN", [])):
        flt = {"propertyName": "company_city", "operator": operator, "values": values}
        found = search(api, filterGroups=[{"filters": [flt, {
            "propertyName": "email", "operator": "EQ", "value": "in@example.com"}]}])
        assert found.status_code == 200, found.text
        assert [r["id"] for r in found.json()["results"]] == expected


def settle(api: httpx.Client, timeout: float = WAIT_GUARD_S) -> None:
    deadline = time.monotonic() + timeout
    while api.get("/propsync/v1/sync/status").json()["pendingChanges"]:
        assert time.monotonic() < deadline, "sync did not settle"
        time.sleep(0.02)


@pytest.mark.parametrize("path", BATCHES + ASSOCIATION_BATCHES)
def test_a_batch_takes_at_most_100_inputs(api, path):
    one = {"id": "1", "properties": {"firstname": "x"}, "from": {"id": "1"},
           "to": [{"id": "2"}] if path.endswith("/batch/archive") and "v4" in path
           else {"id": "2"}, "types": [PRIMARY]}
    assert api.post(path, json={"inputs": [one] * 100}).status_code < 400
    body = error(api.post(path, json={"inputs": [one] * 101}), 400, "VALIDATION_ERROR")
    assert "At most 100 inputs in one batch are allowed, not 101" in body["message"]


def test_a_batch_create_takes_1_to_100_inputs(api):
    path = "/crm/v3/objects/contacts/batch/create"
    error(api.post(path, json={"inputs": []}), 400, "VALIDATION_ERROR")
    body = error(api.post(path, json={"inputs": [{"properties": {}}] * 101}), 400)
    assert "At most 100 inputs" in body["message"]
    before = api.post("/crm/v3/objects/contacts/search", json={}).json()["total"]
    assert api.post(path, json={"inputs": [{"properties": {}}] * 100}).status_code == 201
    after = api.post("/crm/v3/objects/contacts/search", json={}).json()["total"]
    assert after == before + 100


def test_a_read_names_at_most_1000_properties(api, contact):
    many = [f"p{i}" for i in range(1001)]
    error(api.get(f"/crm/v3/objects/contacts/{contact}",
                  params={"properties": ",".join(many)}), 400, "VALIDATION_ERROR")
    error(api.get("/crm/v3/objects/contacts", params={"propertiesWithHistory": many}), 400)
    error(api.post("/crm/v3/objects/contacts/batch/read", json={
        "inputs": [{"id": contact}], "properties": many}), 400)
    error(search(api, properties=many), 400, "VALIDATION_ERROR")
    fine = api.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": many[:1000]})
    assert fine.status_code == 200, fine.text


def test_search_pages_through_the_first_ten_thousand_results_only(api, contact):
    assert api.post("/crm/v3/objects/contacts/search", json={"after": "9999"}).status_code == 200
    assert "INVALID_PAGING" in codes(error(api.post("/crm/v3/objects/contacts/search",
                                                    json={"after": "10000"}), 400))
