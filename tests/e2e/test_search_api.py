"""Search over HTTP: HubSpot's filter operators, sorts, query and paging."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import new_tenant


def search(api: httpx.Client, object_type: str = "deals", **body: object) -> httpx.Response:
    return api.post(f"/crm/v3/objects/{object_type}/search", json=body)


def ids(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 200, reply.text
    return [r["id"] for r in reply.json()["results"]]


def where(*filters: dict) -> list[dict]:
    return [{"filters": list(filters)}]


@pytest.fixture
def deals(api: httpx.Client) -> list[str]:
    inputs = [
        {"dealname": "Big Deal", "amount": "100", "dealstage": "closedwon",
         "closedate": "2024-03-01"},
        {"dealname": "small deal", "amount": "5", "dealstage": "qualifiedtobuy",
         "closedate": "2024-01-15"},
        {"dealname": "no amount", "dealstage": "closedlost"},
    ]
    reply = api.post("/crm/v3/objects/deals/batch/create",
                     json={"inputs": [{"properties": p} for p in inputs]})
    return [r["id"] for r in reply.json()["results"]]


@pytest.mark.parametrize(("flt", "expected"), [
    ({"propertyName": "amount", "operator": "GT", "value": "10"}, [0]),
    ({"propertyName": "amount", "operator": "GTE", "value": "5"}, [0, 1]),
    ({"propertyName": "amount", "operator": "LT", "value": 100}, [1]),
    ({"propertyName": "amount", "operator": "LTE", "value": "100"}, [0, 1]),
    ({"propertyName": "amount", "operator": "EQ", "value": "100.0"}, [0]),
    ({"propertyName": "amount", "operator": "NEQ", "value": "5"}, [0, 2]),
    ({"propertyName": "amount", "operator": "BETWEEN", "value": "1", "highValue": "50"}, [1]),
    ({"propertyName": "amount", "operator": "HAS_PROPERTY"}, [0, 1]),
    ({"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}, [2]),
    ({"propertyName": "dealname", "operator": "EQ", "value": "big deal"}, [0]),
    ({"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]},
     [0, 2]),
    ({"propertyName": "dealstage", "operator": "NOT_IN", "values": ["closedwon"]}, [1, 2]),
    ({"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "deal"}, [0, 1]),
    ({"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "sma*"}, [1]),
    ({"propertyName": "dealname", "operator": "NOT_CONTAINS_TOKEN", "value": "deal"}, [2]),
    ({"propertyName": "closedate", "operator": "GT", "value": "2024-02-01"}, [0]),
    ({"propertyName": "closedate", "operator": "LT", "value": "1706000000000"}, [1]),
    ({"propertyName": "hs_object_id", "operator": "GTE", "value": "1"}, [0, 1, 2]),
    ({"propertyName": "createdate", "operator": "GT", "value": "2000-01-01"}, [0, 1, 2]),
])
def test_each_operator(api, deals, flt, expected):
    assert ids(search(api, filterGroups=where(flt))) == [deals[i] for i in expected]


def test_groups_are_ored_and_filters_in_a_group_are_anded(api, deals):
    body = [{"filters": [{"propertyName": "amount", "operator": "GT", "value": "1"},
                         {"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]},
            {"filters": [{"propertyName": "dealstage", "operator": "EQ",
                          "value": "closedlost"}]}]
    assert ids(search(api, filterGroups=body)) == [deals[0], deals[2]]


def test_a_filter_group_without_filters_matches_every_record(api, deals):
    assert ids(search(api, filterGroups=[{"filters": []}])) == deals
    assert ids(search(api, filterGroups=[{}, *where(
        {"propertyName": "amount", "operator": "EQ", "value": "5"})])) == deals


def test_sorts_in_both_forms_put_missing_values_last(api, deals):
    desc = search(api, sorts=[{"propertyName": "amount", "direction": "DESCENDING"}])
    assert ids(desc) == [deals[0], deals[1], deals[2]]
    asc = search(api, sorts=["amount"])
    assert ids(asc) == [deals[1], deals[0], deals[2]]
    assert ids(search(api, sorts=["-hs_object_id"])) == list(reversed(deals))


def test_query_matches_searchable_text(api, deals):
    assert ids(search(api, query="BIG")) == [deals[0]]


def test_paging_has_no_gaps_no_duplicates_and_no_paging_on_the_last_page(api, deals):
    seen, after, total = [], None, None
    while True:
        body = {"limit": 2, "sorts": ["dealname"], **({"after": after} if after else {})}
        page = search(api, **body).json()
        total = page["total"]
        seen += [r["id"] for r in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
    assert total == 3 and sorted(seen) == sorted(deals) and len(seen) == 3


def test_properties_choose_what_comes_back(api, deals):
    reply = search(api, properties=["amount"], filterGroups=where(
        {"propertyName": "amount", "operator": "EQ", "value": "5"}))
    assert reply.json()["results"][0]["properties"] == {"amount": "5"}


def test_archived_and_other_accounts_records_never_match(server, api, deals):
    api.delete(f"/crm/v3/objects/deals/{deals[0]}")
    assert deals[0] not in ids(search(api))
    other = new_tenant(server).client
    assert ids(search(other)) == []


@pytest.mark.parametrize("body", [
    {"filterGroups": where({"propertyName": "nosuch", "operator": "EQ", "value": "1"})},
    {"filterGroups": where({"propertyName": "amount", "operator": "LIKE", "value": "1"})},
    {"filterGroups": where({"propertyName": "amount", "operator": "EQ"})},
    {"filterGroups": where({"propertyName": "amount", "operator": "GT", "value": "lots"})},
    {"filterGroups": where({"propertyName": "amount", "operator": "BETWEEN", "value": "1"})},
    {"filterGroups": where({"propertyName": "dealstage", "operator": "IN"})},
    {"filterGroups": [{"filters": []}] * 6},
    {"sorts": ["nosuch"]},
    {"limit": 0},
    {"limit": 201},
    {"after": "x"},
    {"filterGroups": "nope"},
])
def test_bad_requests_are_400(api, body):
    reply = search(api, **body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["category"] == "VALIDATION_ERROR"
