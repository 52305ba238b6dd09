"""Values no store can take, over HTTP on both stores: a 400 naming what is wrong.

A date-time outside years 1-9999 once in UTC, a NUL character (PostgreSQL's text cannot
hold one) and a lone surrogate (no UTF-8 form) were each a 500.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.associations import make
from tests.e2e.replies import codes, error


@pytest.fixture
def contact(api: httpx.Client) -> str:
    return make(api, "contacts", email="bad-text@example.com", firstname="Bad")


OUT_OF_RANGE = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"]


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_date_outside_years_1_to_9999_in_utc_is_400_naming_the_property(api, moment):
    single = error(api.post("/crm/v3/objects/deals", json={
        "properties": {"closedate": moment}}), 400, "VALIDATION_ERROR")
    assert codes(single) == ["INVALID_DATE"] and "closedate" in single["message"]
    reply = api.post("/crm/v3/objects/deals/batch/create", json={"inputs": [
        {"properties": {"dealname": "ok"}}, {"properties": {"closedate": moment}}]})
    batch = error(reply, 400, "VALIDATION_ERROR")
    assert "INVALID_DATE" in codes(batch) and "closedate" in batch["message"]


def test_a_date_time_out_of_range_is_refused_in_a_patch_and_a_search_filter(api):
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "met_at", "label": "Met at", "type": "datetime", "fieldType": "date",
        "groupName": "contactinformation"}).status_code == 201
    rid = make(api, "contacts", met_at="2024-03-05T10:00:00Z")
    for moment in OUT_OF_RANGE:
        body = error(api.patch(f"/crm/v3/objects/contacts/{rid}",
                               json={"properties": {"met_at": moment}}), 400)
        assert codes(body) == ["INVALID_DATE"] and "met_at" in body["message"]
        search = api.post("/crm/v3/objects/contacts/search", json={"filterGroups": [{
            "filters": [{"propertyName": "met_at", "operator": "GT", "value": moment}]}]})
        assert "INVALID_DATE" in codes(error(search, 400))
    got = api.get(f"/crm/v3/objects/contacts/{rid}", params={"properties": "met_at"})
    assert got.json()["properties"]["met_at"] == "2024-03-05T10:00:00.000Z"


def test_the_first_and_last_moments_of_years_1_to_9999_are_kept_and_read_back(api):
    rid = make(api, "deals", dealname="edges")
    for moment, stored in (("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
                           ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z")):
        assert api.patch(f"/crm/v3/objects/deals/{rid}", json={
            "properties": {"closedate": moment}}).status_code == 200
        got = api.get(f"/crm/v3/objects/deals/{rid}", params={"properties": "closedate"})
        assert got.json()["properties"]["closedate"] == stored


# -- text no store can hold --------------------------------------------------------------------


def test_a_nul_character_anywhere_in_a_request_is_400_and_changes_nothing(api, contact):
    replies = [
        api.post("/crm/v3/objects/contacts", json={"properties": {"firstname": "a\x00b"}}),
        api.patch(f"/crm/v3/objects/contacts/{contact}",
                  json={"properties": {"firstname": "a\x00b"}}),
        api.post("/crm/v3/objects/contacts/search", json={"query": "a\x00"}),
        api.post("/crm/v3/objects/contacts/search", json={"filterGroups": [{"filters": [
            {"propertyName": "firstname", "operator": "EQ", "value": "a\x00"}]}]}),
        api.post("/crm/v3/objects/contacts/search", json={"filterGroups": [{"filters": [
            {"propertyName": "firstname", "operator": "IN", "values": ["a", "\x00"]}]}]}),
        api.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": "first\x00"}),
        api.get("/crm/v3/properties/contacts/first%00name"),
        api.get("/crm/v3/properties/contacts/groups/contact%00information"),
        api.post("/crm/v3/properties/contacts/groups", json={"name": "g\x00", "label": "G"}),
        api.post("/crm/v4/associations/contacts/companies/labels",
                 json={"label": "Boss", "name": "bo\x00ss"}),
    ]
    for reply in replies:
        body = error(reply, 400, "VALIDATION_ERROR")
        assert "NUL character" in body["message"], body
    got = api.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": "firstname"})
    assert got.json()["properties"]["firstname"] == "Bad"


def test_a_lone_surrogate_escape_in_json_is_400_and_changes_nothing(api, contact):
    raw = {"content-type": "application/json"}
    replies = [
        api.post("/crm/v3/objects/contacts", content=b'{"properties": {"firstname": "\\ud800"}}',
                 headers=raw),
        api.patch(f"/crm/v3/objects/contacts/{contact}", headers=raw,
                  content=b'{"properties": {"firstname": "x\\udfff"}}'),
        api.post("/crm/v3/objects/contacts/search", content=b'{"query": "\\uD800"}', headers=raw),
        api.post("/crm/v3/objects/contacts/batch/read", headers=raw,
                 content=b'{"inputs": [{"id": "\\ud800"}]}'),
        api.post("/crm/v3/objects/contacts", headers=raw,
                 content=b'{"properties": {"\\ud800": "x"}}'),
    ]
    for reply in replies:
        body = error(reply, 400, "VALIDATION_ERROR")
        assert "lone surrogate" in body["message"], body
    got = api.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": "firstname"})
    assert got.json()["properties"]["firstname"] == "Bad"


def test_text_with_a_valid_surrogate_pair_and_escaped_accents_is_kept(api):
    rid = api.post("/crm/v3/objects/contacts", headers={"content-type": "application/json"},
                   content=b'{"properties": {"firstname": "\\u00d8ystein \\ud83d\\ude00"}}')
    assert rid.status_code == 201, rid.text
    assert rid.json()["properties"]["firstname"] == "Øystein 😀"
