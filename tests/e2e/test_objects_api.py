"""CRM objects v3 over HTTP: the shapes, status codes and rules HubSpot clients rely on."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import RunningServer, new_tenant

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}


def create(api: httpx.Client, object_type: str, **properties: object) -> dict:
    reply = api.post(f"/crm/v3/objects/{object_type}", json={"properties": properties})
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_create_returns_201_with_decimal_string_id_and_millisecond_timestamps(api):
    body = create(api, "contacts", email="ada@example.com", firstname="Ada")
    assert body["id"].isdigit()
    assert body["properties"]["email"] == "ada@example.com"
    assert ISO_MS.match(body["createdAt"]) and ISO_MS.match(body["updatedAt"])
    assert body["archived"] is False
    assert "archivedAt" not in body


def test_read_without_properties_returns_the_default_set_with_nulls(api):
    body = create(api, "contacts", email="b@example.com")
    got = api.get(f"/crm/v3/objects/contacts/{body['id']}").json()
    assert set(got["properties"]) == {
        "createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}
    assert got["properties"]["firstname"] is None
    assert got["properties"]["hs_object_id"] == body["id"]
    assert got["properties"]["createdate"] == body["createdAt"]


def test_read_with_properties_returns_only_those_and_skips_unknown_names(api):
    body = create(api, "companies", name="Acme", city="Oslo")
    got = api.get(f"/crm/v3/objects/companies/{body['id']}",
                  params={"properties": "city,nosuchthing", "archived": "false"}).json()
    assert got["properties"] == {"city": "Oslo"}


def test_values_are_normalized_by_type(api):
    body = create(api, "deals", dealname="Big", amount="1200.50", closedate="2024-03-01",
                  dealstage="closedwon")
    got = api.get(f"/crm/v3/objects/deals/{body['id']}",
                  params={"properties": ["amount", "closedate", "dealstage"]}).json()
    assert got["properties"] == {"amount": "1200.5", "closedate": "2024-03-01T00:00:00.000Z",
                                 "dealstage": "closedwon"}


@pytest.mark.parametrize(("properties", "code"), [
    ({"nosuch": "x"}, "PROPERTY_DOESNT_EXIST"),
    ({"amount": "lots"}, "INVALID_INTEGER"),
    ({"dealstage": "not-a-stage"}, "INVALID_OPTION"),
    ({"closedate": "yesterday"}, "INVALID_DATE"),
    ({"hs_object_id": "5"}, "READ_ONLY_VALUE"),
])
def test_bad_values_are_refused_with_hubspot_error_shape_and_nothing_is_created(
    api, properties, code
):
    before = api.get("/crm/v3/objects/deals", params={"limit": 100}).json()["results"]
    reply = api.post("/crm/v3/objects/deals", json={"properties": properties})
    assert reply.status_code == 400
    body = reply.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"] and body["message"]
    assert [e["code"] for e in body["errors"]] == [code]
    after = api.get("/crm/v3/objects/deals", params={"limit": 100}).json()["results"]
    assert after == before


def test_malformed_bodies_are_400_not_422_or_500(api):
    for payload in ("not json", '{"properties": 5}', '{"properties": {"email": [1]}}'):
        reply = api.post("/crm/v3/objects/contacts", content=payload,
                         headers={"content-type": "application/json"})
        assert reply.status_code == 400, reply.text
        assert reply.json()["category"] == "VALIDATION_ERROR"


def test_patch_updates_values_and_updated_at_and_empty_string_clears(api):
    body = create(api, "contacts", email="c@example.com", firstname="C")
    reply = api.patch(f"/crm/v3/objects/contacts/{body['id']}",
                      json={"properties": {"firstname": "", "lastname": "Doe"}})
    assert reply.status_code == 200
    got = api.get(f"/crm/v3/objects/contacts/{body['id']}").json()
    assert got["properties"]["firstname"] is None
    assert got["properties"]["lastname"] == "Doe"
    assert got["updatedAt"] >= body["updatedAt"]


def test_history_records_every_change_newest_first_with_its_source(api):
    body = create(api, "contacts", firstname="One")
    api.patch(f"/crm/v3/objects/contacts/{body['id']}", json={"properties": {"firstname": "Two"}})
    api.patch(f"/crm/v3/objects/contacts/{body['id']}", json={"properties": {"firstname": "Two"}})
    got = api.get(f"/crm/v3/objects/contacts/{body['id']}",
                  params={"propertiesWithHistory": "firstname"}).json()
    history = got["propertiesWithHistory"]["firstname"]
    assert [h["value"] for h in history] == ["Two", "One"]
    assert {h["sourceType"] for h in history} == {"API"}
    assert all(ISO_MS.match(h["timestamp"]) for h in history)


def test_unknown_ids_are_404_object_not_found(api):
    for rid in ("999999999", "abc", "-1"):
        reply = api.get(f"/crm/v3/objects/contacts/{rid}")
        assert reply.status_code == 404
        assert reply.json()["category"] == "OBJECT_NOT_FOUND"
    assert api.patch("/crm/v3/objects/contacts/999999999",
                     json={"properties": {"firstname": "x"}}).status_code == 404


def test_an_unknown_object_type_is_400_as_in_hubspot(api):
    reply = api.get("/crm/v3/objects/widgets")
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "UNKNOWN_OBJECT_TYPE"
    assert api.get("/crm/v3/objects/0-1").status_code == 200


def test_archive_is_204_then_404_unless_archived_is_asked_for_and_restore_brings_it_back(api):
    body = create(api, "companies", name="Gone")
    assert api.delete(f"/crm/v3/objects/companies/{body['id']}").status_code == 204
    assert api.get(f"/crm/v3/objects/companies/{body['id']}").status_code == 404
    archived = api.get(f"/crm/v3/objects/companies/{body['id']}", params={"archived": "true"})
    assert archived.status_code == 200
    assert archived.json()["archived"] is True and ISO_MS.match(archived.json()["archivedAt"])
    restored = api.post(f"/propsync/v1/objects/companies/{body['id']}/restore")
    assert restored.status_code == 200
    again = api.get(f"/crm/v3/objects/companies/{body['id']}", params={"properties": "name"})
    assert again.json()["properties"]["name"] == "Gone"


def test_list_pages_with_after_and_the_last_page_has_no_paging(api):
    ids = [create(api, "tickets", subject=f"T{i}")["id"] for i in range(5)]
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = api.get("/crm/v3/objects/tickets", params=params).json()
        seen += [r["id"] for r in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
    assert seen == ids


def test_limit_out_of_range_is_400(api):
    assert api.get("/crm/v3/objects/contacts", params={"limit": 0}).status_code == 400
    assert api.get("/crm/v3/objects/contacts", params={"limit": 101}).status_code == 400
    assert api.get("/crm/v3/objects/contacts", params={"after": "x"}).status_code == 400


def test_batch_create_is_201_and_batch_read_reports_missing_ids_with_207(api):
    reply = api.post("/crm/v3/objects/companies/batch/create", json={"inputs": [
        {"properties": {"name": "A"}}, {"properties": {"name": "B"}}]})
    assert reply.status_code == 201
    body = reply.json()
    assert body["status"] == "COMPLETE" and len(body["results"]) == 2
    ids = [r["id"] for r in body["results"]]
    read = api.post("/crm/v3/objects/companies/batch/read", json={
        "inputs": [{"id": ids[0]}, {"id": "987654321"}], "properties": ["name"]})
    assert read.status_code == 207
    assert [r["properties"]["name"] for r in read.json()["results"]] == ["A"]
    assert read.json()["errors"][0]["context"]["ids"] == ["987654321"]
    full = api.post("/crm/v3/objects/companies/batch/read", json={
        "inputs": [{"id": i} for i in ids], "properties": ["name"]})
    assert full.status_code == 200 and "errors" not in full.json()


def test_a_batch_with_one_bad_input_is_refused_whole_with_an_error_per_input(api):
    reply = api.post("/crm/v3/objects/deals/batch/create", json={"inputs": [
        {"properties": {"dealname": "ok"}}, {"properties": {"amount": "x"}},
        {"properties": {"nosuch": "1"}}]})
    assert reply.status_code == 400
    codes = [e["code"] for e in reply.json()["errors"]]
    assert codes == ["INVALID_INTEGER", "PROPERTY_DOESNT_EXIST"]
    assert [e["in"] for e in reply.json()["errors"]] == [
        "inputs[1].properties.amount", "inputs[2].properties.nosuch"]
    assert api.get("/crm/v3/objects/deals").json()["results"] == []


def test_batch_update_applies_found_ids_and_reports_missing_with_207(api):
    a = create(api, "contacts", firstname="A")
    reply = api.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
        {"id": a["id"], "properties": {"firstname": "A2"}},
        {"id": "999999", "properties": {"firstname": "nobody"}}]})
    assert reply.status_code == 207
    assert reply.json()["results"][0]["properties"]["firstname"] == "A2"
    ok = api.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
        {"id": a["id"], "properties": {"firstname": "A3"}}]})
    assert ok.status_code == 200


def test_batch_archive_is_204(api):
    a, b = create(api, "deals", dealname="a"), create(api, "deals", dealname="b")
    reply = api.post("/crm/v3/objects/deals/batch/archive",
                     json={"inputs": [{"id": a["id"]}, {"id": b["id"]}]})
    assert reply.status_code == 204
    assert api.get("/crm/v3/objects/deals").json()["results"] == []


def test_create_with_inline_association_is_visible_from_both_ends(api):
    company = create(api, "companies", name="Acme")
    contact = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "x@acme.com"},
        "associations": [{"to": {"id": company["id"]}, "types": [PRIMARY]}]})
    assert contact.status_code == 201, contact.text
    cid = contact.json()["id"]
    from_contact = api.get(f"/crm/v3/objects/contacts/{cid}",
                           params={"associations": "companies"}).json()
    types = {a["type"] for a in from_contact["associations"]["companies"]["results"]}
    assert types == {"contact_to_company", "contact_to_company_unlabeled"}
    from_company = api.get(f"/crm/v3/objects/companies/{company['id']}",
                           params={"associations": "contacts"}).json()
    assert {a["id"] for a in from_company["associations"]["contacts"]["results"]} == {cid}


def test_inline_association_to_a_missing_record_creates_nothing(api):
    reply = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "y@acme.com"},
        "associations": [{"to": {"id": "123456789"}, "types": [PRIMARY]}]})
    assert reply.status_code == 404
    assert api.get("/crm/v3/objects/contacts").json()["results"] == []


def test_merge_moves_associations_and_keeps_the_primarys_own_values(api):
    company = create(api, "companies", name="Acme")
    keep = create(api, "contacts", email="keep@x.com", firstname="Keep")
    drop = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "drop@x.com", "lastname": "Dropped"},
        "associations": [{"to": {"id": company["id"]}, "types": [PRIMARY]}]}).json()
    reply = api.post("/crm/v3/objects/contacts/merge",
                     json={"primaryObjectId": keep["id"], "objectIdToMerge": drop["id"]})
    assert reply.status_code == 200
    assert reply.json()["id"] == keep["id"]
    got = api.get(f"/crm/v3/objects/contacts/{keep['id']}",
                  params={"properties": "email,firstname,lastname",
                          "associations": "companies"}).json()
    assert got["properties"] == {"email": "keep@x.com", "firstname": "Keep",
                                 "lastname": "Dropped"}
    assert {a["id"] for a in got["associations"]["companies"]["results"]} == {company["id"]}
    assert api.get(f"/crm/v3/objects/contacts/{drop['id']}").status_code == 404
    merged_away = api.post(f"/propsync/v1/objects/contacts/{drop['id']}/restore")
    assert merged_away.status_code == 400


def test_merge_of_a_record_with_itself_or_a_missing_one_is_refused(api):
    a = create(api, "contacts", email="self@x.com")
    assert api.post("/crm/v3/objects/contacts/merge", json={
        "primaryObjectId": a["id"], "objectIdToMerge": a["id"]}).status_code == 400
    assert api.post("/crm/v3/objects/contacts/merge", json={
        "primaryObjectId": a["id"], "objectIdToMerge": "424242"}).status_code == 404


def test_requests_without_a_valid_token_are_401(server: RunningServer):
    with httpx.Client(base_url=server.base_url) as anonymous:
        reply = anonymous.get("/crm/v3/objects/contacts")
        assert reply.status_code == 401
        assert reply.json()["category"] == "INVALID_AUTHENTICATION"
        forged = anonymous.get("/crm/v3/objects/contacts",
                               headers={"Authorization": "Bearer pat-1-" + "0" * 40})
        assert forged.status_code == 401


def test_a_token_without_the_scope_is_403(server: RunningServer):
    reader = new_tenant(server, scopes="crm.objects.contacts.read")
    assert reader.client.get("/crm/v3/objects/contacts").status_code == 200
    reply = reader.client.post("/crm/v3/objects/contacts", json={"properties": {}})
    assert reply.status_code == 403
    assert reply.json()["category"] == "MISSING_SCOPES"
    assert reader.client.get("/crm/v3/objects/companies").status_code == 403


def test_one_account_can_neither_see_nor_change_anothers_records(server: RunningServer, api):
    mine = create(api, "contacts", email="mine@x.com")
    other = new_tenant(server)
    path = f"/crm/v3/objects/contacts/{mine['id']}"
    assert other.client.get(path).status_code == 404
    assert other.client.patch(path, json={"properties": {"email": "stolen@x.com"}}
                              ).status_code == 404
    assert other.client.delete(path).status_code == 204  # archiving nothing, as HubSpot does
    assert other.client.post("/crm/v3/objects/contacts/batch/read",
                             json={"inputs": [{"id": mine["id"]}]}).json()["results"] == []
    assert other.client.post(f"/propsync/v1/objects/contacts/{mine['id']}/restore"
                             ).status_code == 404
    assert other.client.post("/crm/v3/objects/contacts/merge", json={
        "primaryObjectId": mine["id"], "objectIdToMerge": mine["id"]}).status_code == 400
    assert other.client.get("/crm/v3/objects/contacts").json()["results"] == []
    still = api.get(path, params={"properties": "email"}).json()
    assert still["properties"]["email"] == "mine@x.com" and still["archived"] is False
