"""Unique properties (``hasUniqueValue``) over HTTP: two records of an account never hold
the same value of one, whatever the path (create, update, batch, merge, restore, threads
at once); and the reads and the upsert that name a record by such a value (``idProperty``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from propsync.services.accounts import create_token, create_user
from propsync.storage.tables import unique_values
from tests.conftest import Tenant, client_for, new_tenant
from tests.e2e.replies import error

CONTACTS = "/crm/v3/objects/contacts"


def unique_property(api: httpx.Client, name: str = "member_no", ot: str = "contacts") -> dict:
    group = {"contacts": "contactinformation", "companies": "companyinformation"}[ot]
    reply = api.post(f"/crm/v3/properties/{ot}", json={
        "name": name, "label": "Member number", "type": "string", "fieldType": "text",
        "groupName": group, "hasUniqueValue": True})
    assert reply.status_code == 201, reply.text
    return reply.json()


def create(api: httpx.Client, **props: str) -> httpx.Response:
    return api.post(CONTACTS, json={"properties": props})


@pytest.fixture
def unique(api: httpx.Client) -> str:
    return unique_property(api)["name"]


def test_a_unique_property_is_created_and_read_with_has_unique_value(api, unique):
    got = api.get(f"/crm/v3/properties/contacts/{unique}").json()
    assert got["hasUniqueValue"] is True
    listed = {p["name"]: p for p in api.get("/crm/v3/properties/contacts").json()["results"]}
    assert listed[unique]["hasUniqueValue"] is True
    assert listed["firstname"]["hasUniqueValue"] is False


def test_email_is_not_unique_in_propsync_as_today(api):
    assert api.get("/crm/v3/properties/contacts/email").json()["hasUniqueValue"] is False
    assert create(api, email="same@x.com").status_code == 201
    assert create(api, email="same@x.com").status_code == 201


def test_a_second_record_with_the_same_value_is_a_conflict_naming_the_first(api, unique):
    first = create(api, **{unique: "A-1"}).json()["id"]
    body = error(create(api, **{unique: "A-1"}), 409, "CONFLICT")
    assert f"Existing ID: {first}" in body["message"]
    assert body["context"]["id"] == [first]
    assert api.post("/crm/v3/objects/contacts/search", json={"filterGroups": [{"filters": [
        {"propertyName": unique, "operator": "EQ", "value": "A-1"}]}]}).json()["total"] == 1


def test_an_update_to_a_taken_value_is_refused_and_changes_nothing(api, unique):
    first = create(api, **{unique: "A-1"}).json()["id"]
    second = create(api, **{unique: "B-2"}, firstname="Bo").json()["id"]
    reply = api.patch(f"{CONTACTS}/{second}", json={"properties": {unique: "A-1",
                                                                    "firstname": "X"}})
    assert f"Existing ID: {first}" in error(reply, 409, "CONFLICT")["message"]
    got = api.get(f"{CONTACTS}/{second}", params={"properties": f"{unique},firstname"}).json()
    assert got["properties"][unique] == "B-2" and got["properties"]["firstname"] == "Bo"


def test_a_record_keeps_its_own_value_and_values_can_be_swapped_in_one_batch(api, unique):
    a = create(api, **{unique: "A"}).json()["id"]
    b = create(api, **{unique: "B"}).json()["id"]
    assert api.patch(f"{CONTACTS}/{a}", json={"properties": {unique: "A"}}).status_code == 200
    reply = api.post(f"{CONTACTS}/batch/update", json={"inputs": [
        {"id": a, "properties": {unique: "B"}}, {"id": b, "properties": {unique: "A"}}]})
    assert reply.status_code == 200, reply.text
    assert create(api, **{unique: "C"}).status_code == 201


def test_a_cleared_or_archived_value_is_free_again_and_restore_refuses_a_taken_one(api, unique):
    a = create(api, **{unique: "A"}).json()["id"]
    api.patch(f"{CONTACTS}/{a}", json={"properties": {unique: ""}})
    b = create(api, **{unique: "A"}).json()["id"]
    assert api.delete(f"{CONTACTS}/{b}").status_code == 204
    c = create(api, **{unique: "A"}).json()["id"]
    body = error(api.post(f"/propsync/v1/objects/contacts/{b}/restore"), 409, "CONFLICT")
    assert f"Existing ID: {c}" in body["message"]
    assert api.get(f"{CONTACTS}/{b}", params={"archived": "true"}).status_code == 200


def test_one_batch_with_the_same_value_twice_creates_nothing(api, unique):
    reply = api.post(f"{CONTACTS}/batch/create", json={"inputs": [
        {"properties": {unique: "D"}}, {"properties": {unique: "D"}}]})
    error(reply, 409, "CONFLICT")
    assert api.get(CONTACTS).json()["results"] == []


def test_a_merge_moves_a_unique_value_to_the_survivor(api, unique):
    keep = create(api, firstname="Keep").json()["id"]
    drop = create(api, **{unique: "M"}).json()["id"]
    reply = api.post(f"{CONTACTS}/merge", json={"primaryObjectId": keep, "objectIdToMerge": drop})
    assert reply.status_code == 200, reply.text
    got = api.get(f"{CONTACTS}/M", params={"idProperty": unique}).json()
    assert got["id"] == keep
    error(create(api, **{unique: "M"}), 409, "CONFLICT")


def test_concurrent_creates_of_one_value_leave_exactly_one_record(tenant: Tenant, unique):
    def attempt(i: int) -> int:
        client = client_for(tenant.server, tenant.token)
        return client.post(CONTACTS, json={"properties": {unique: "RACE", "firstname": str(i)}}
                           ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert sorted(statuses) == [201] + [409] * 15
    found = tenant.client.post("/crm/v3/objects/contacts/search", json={"filterGroups": [
        {"filters": [{"propertyName": unique, "operator": "EQ", "value": "RACE"}]}]}).json()
    assert found["total"] == 1


def test_each_account_has_its_own_unique_values(api, server, unique):
    create(api, **{unique: "A"})
    other = new_tenant(server).client
    unique_property(other, unique)
    assert create(other, **{unique: "A"}).status_code == 201


def test_a_sync_property_cannot_be_unique(api):
    reply = api.post("/crm/v3/properties/contacts", json={
        "name": "co_sync", "label": "Company (sync)", "groupName": "contactinformation",
        "hasUniqueValue": True,
        "syncSource": {"objectType": "companies", "propertyName": "name"}})
    body = error(reply, 400, "VALIDATION_ERROR")
    assert "hasUniqueValue" in body["message"]
    assert api.get("/crm/v3/properties/contacts/co_sync").status_code == 404


# idProperty on reads


def test_a_record_is_read_by_a_unique_value(api, unique):
    rid = create(api, **{unique: "ID-7"}, firstname="Ida").json()["id"]
    got = api.get(f"{CONTACTS}/ID-7", params={"idProperty": unique,
                                               "properties": "firstname"})
    assert got.status_code == 200, got.text
    assert got.json()["id"] == rid and got.json()["properties"]["firstname"] == "Ida"
    error(api.get(f"{CONTACTS}/nobody", params={"idProperty": unique}), 404, "OBJECT_NOT_FOUND")
    error(api.get(f"{CONTACTS}/ID-7", params={"idProperty": unique, "archived": "true"}), 404)


def test_id_property_must_be_a_unique_property_of_the_type(api, unique):
    create(api, firstname="Ann")
    body = error(api.get(f"{CONTACTS}/Ann", params={"idProperty": "firstname"}), 400,
                 "VALIDATION_ERROR")
    assert "unique" in body["message"]
    error(api.get(f"{CONTACTS}/x", params={"idProperty": "no_such_thing"}), 400)
    assert api.get(f"{CONTACTS}/1", params={"idProperty": "hs_object_id"}).status_code == 404


def test_a_batch_read_by_unique_values_reports_the_unknown_ones(api, unique):
    a = create(api, **{unique: "A"}).json()["id"]
    b = create(api, **{unique: "B"}).json()["id"]
    reply = api.post(f"{CONTACTS}/batch/read", json={
        "idProperty": unique, "inputs": [{"id": "B"}, {"id": "A"}, {"id": "nope"}],
        "properties": [unique], "propertiesWithHistory": []})
    assert reply.status_code == 207, reply.text
    body = reply.json()
    assert sorted(r["id"] for r in body["results"]) == sorted([a, b])
    assert body["numErrors"] == 1 and body["errors"][0]["context"]["ids"] == ["nope"]
    assert body["errors"][0]["status"] == "error"


# batch/upsert


def test_upsert_creates_the_new_and_updates_the_known(api, unique):
    known = create(api, **{unique: "K"}, firstname="Old").json()["id"]
    reply = api.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "K", "idProperty": unique, "properties": {"firstname": "New"}},
        {"id": "N", "idProperty": unique, "properties": {"firstname": "Born"}}]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "COMPLETE" and "startedAt" in body and "completedAt" in body
    by_id = {r["properties"][unique]: r for r in body["results"]}
    assert by_id["K"]["id"] == known and by_id["K"]["new"] is False
    assert by_id["K"]["properties"]["firstname"] == "New"
    assert by_id["N"]["new"] is True and by_id["N"]["properties"]["firstname"] == "Born"
    again = api.get(f"{CONTACTS}/N", params={"idProperty": unique}).json()
    assert again["id"] == by_id["N"]["id"]


def test_upsert_twice_is_idempotent(api, unique):
    body = {"inputs": [{"id": "Z", "idProperty": unique, "properties": {"firstname": "Z"}}]}
    first = api.post(f"{CONTACTS}/batch/upsert", json=body).json()["results"][0]
    second = api.post(f"{CONTACTS}/batch/upsert", json=body).json()["results"][0]
    assert first["new"] is True and second["new"] is False and first["id"] == second["id"]
    assert len(api.get(CONTACTS).json()["results"]) == 1


def test_upsert_by_record_id_updates_and_reports_unknown_ids(api):
    rid = create(api, firstname="R").json()["id"]
    reply = api.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": rid, "properties": {"firstname": "S"}},
        {"id": "999999999", "properties": {"firstname": "T"}}]})
    assert reply.status_code == 207, reply.text
    body = reply.json()
    assert [(r["id"], r["new"]) for r in body["results"]] == [(rid, False)]
    assert body["numErrors"] == 1 and body["errors"][0]["status"] == "error"
    assert body["errors"][0]["context"]["ids"] == ["999999999"]


def test_upsert_refuses_a_property_that_is_not_unique_and_bad_values(api, unique):
    error(api.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "x", "idProperty": "firstname", "properties": {}}]}), 400, "VALIDATION_ERROR")
    error(api.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "x", "idProperty": unique, "properties": {"lifecyclestage": "nonsense"}}]}), 400)
    error(api.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "x", "idProperty": unique, "properties": {}},
        {"id": "x", "idProperty": unique, "properties": {}}]}), 400)
    error(api.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "x", "idProperty": unique, "properties": {unique: "y"}}]}), 400)
    assert api.get(CONTACTS).json()["results"] == []


def test_upsert_is_bounded_like_other_batches(api, unique):
    inputs = [{"id": str(i), "idProperty": unique, "properties": {}} for i in range(101)]
    error(api.post(f"{CONTACTS}/batch/upsert", json={"inputs": inputs}), 400)
    error(api.post(f"{CONTACTS}/batch/upsert", json={"inputs": []}), 400)


def test_upsert_and_id_property_reads_need_their_scopes(server, unique):
    reader = new_tenant(server, scopes="crm.objects.contacts.read crm.schemas.contacts.read")
    error(reader.client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "x", "idProperty": unique, "properties": {}}]}), 403)
    blind = new_tenant(server, scopes="crm.objects.companies.read")
    error(blind.client.get(f"{CONTACTS}/x", params={"idProperty": unique}), 403)


@pytest.mark.parametrize("patch", [
    {"type": "number", "fieldType": "number"},
    {"fieldType": "textarea"},
    {"type": "enumeration", "fieldType": "select", "options": [
        {"label": "A", "value": "A-1"}]},
])
def test_a_unique_property_keeps_its_type(api, unique, patch):
    """Another type or field type would re-read the values under rules where two of them may
    become one (``007`` and ``7`` as numbers) or where uniqueness is not allowed at all."""
    create(api, **{unique: "A-1"})
    error(api.patch(f"/crm/v3/properties/contacts/{unique}", json=patch), 400)
    got = api.get(f"/crm/v3/properties/contacts/{unique}").json()
    assert (got["type"], got["fieldType"], got["hasUniqueValue"]) == ("string", "text", True)


def test_a_user_who_may_only_view_the_key_updates_by_it_but_creates_nothing(
        api: httpx.Client, tenant: Tenant) -> None:
    """A new record would get the key's value: that is an edit of the key property."""
    engine = tenant.server.engine
    viewer = create_user(engine, tenant.account_id, "viewer@example.com")
    unique_property(api)
    assert api.patch("/crm/v3/properties/contacts/member_no", json={"access": {
        "edit": {"everyone": False, "userIds": [tenant.user_id], "teamIds": []}}}
    ).status_code == 200
    first = create(api, member_no="A-1").json()["id"]
    other = client_for(tenant.server, create_token(engine, tenant.account_id, "all",
                                                   viewer).token)
    updated = other.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "A-1", "idProperty": "member_no", "properties": {"firstname": "Ann"}}]})
    assert updated.status_code == 200, updated.text
    assert [(r["id"], r["new"]) for r in updated.json()["results"]] == [(first, False)]
    body = error(other.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "B-2", "idProperty": "member_no", "properties": {"firstname": "Bo"}}]}), 403)
    assert "member_no" in body["message"]
    assert api.post(f"{CONTACTS}/search", json={"filterGroups": [{"filters": [
        {"propertyName": "member_no", "operator": "HAS_PROPERTY"}]}]}).json()["total"] == 1


def test_a_record_id_and_a_key_with_the_same_text_are_two_inputs(api: httpx.Client,
                                                                  unique: str) -> None:
    """``"123"`` as an unknown record id and ``"123"`` as a new key value: the first is
    reported, the second created, each with its own trace id."""
    reply = api.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "99999999", "properties": {"firstname": "Nobody"}, "objectWriteTraceId": "t1"},
        {"id": "99999999", "idProperty": unique, "properties": {"firstname": "New"},
         "objectWriteTraceId": "t2"}]})
    assert reply.status_code == 207, reply.text
    body = reply.json()
    assert [(r["new"], r["objectWriteTraceId"], r["properties"][unique])
            for r in body["results"]] == [(True, "t2", "99999999")]
    assert body["numErrors"] == 1


def test_a_refused_restore_names_no_value_the_caller_may_not_view(api: httpx.Client,
                                                                  tenant: Tenant) -> None:
    """Restoring claims the record's own values, which the caller did not give: where the
    caller may not view the property, neither the value nor the record holding it is said."""
    engine = tenant.server.engine
    other = client_for(tenant.server, create_token(
        engine, tenant.account_id, "all",
        create_user(engine, tenant.account_id, "outsider@example.com")).token)
    unique_property(api)
    assert api.patch("/crm/v3/properties/contacts/member_no", json={"access": {
        "view": {"everyone": False, "userIds": [tenant.user_id], "teamIds": []}}}
    ).status_code == 200
    archived = create(api, member_no="SECRET-7").json()["id"]
    assert api.delete(f"{CONTACTS}/{archived}").status_code == 204
    holder = create(api, member_no="SECRET-7").json()["id"]
    body = error(other.post(f"/propsync/v1/objects/contacts/{archived}/restore"), 409,
                 "CONFLICT")
    assert "SECRET-7" not in str(body) and holder not in str(body)
    seen = error(api.post(f"/propsync/v1/objects/contacts/{archived}/restore"), 409)
    assert "SECRET-7" not in str(seen) and f"Existing ID: {holder}" in seen["message"]



def test_a_deleted_unique_property_leaves_no_claim_behind(api: httpx.Client,
                                                          tenant: Tenant) -> None:
    unique_property(api)
    create(api, member_no="A-1")
    claims = select(func.count()).select_from(unique_values).where(
        unique_values.c.account_id == tenant.account_id)
    with tenant.server.engine.connect() as conn:
        assert conn.execute(claims).scalar_one() == 1
    assert api.delete("/crm/v3/properties/contacts/member_no").status_code == 204
    with tenant.server.engine.connect() as conn:
        assert conn.execute(claims).scalar_one() == 0
