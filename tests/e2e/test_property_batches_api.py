"""Properties v3 batches over HTTP: create, read and archive, each input under the rules of
the single call, in HubSpot's shapes (the official SDK reads them)."""

from __future__ import annotations

import httpx
from hubspot.crm.properties import ApiClient

from propsync.domain.auth import Role
from tests.conftest import Tenant, client_for, new_tenant
from tests.e2e.test_roles_api import member, restricted_to

BATCH = "/crm/v3/properties/companies/batch"


def plain(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "label": name.title(), "type": "string", "fieldType": "text",
            "groupName": "companyinformation", **extra}


def sdk_parse(reply: httpx.Response, model: str) -> object:
    """Deserialize as the official SDK does (raises when a required member is wrong)."""

    class Raw:
        data = reply.content

    return ApiClient().deserialize(Raw(), model)


def names_of(api: httpx.Client, object_type: str = "companies") -> set[str]:
    return {p["name"] for p in api.get(f"/crm/v3/properties/{object_type}").json()["results"]}


def test_batch_create_makes_every_input_in_hubspots_shape(api):
    reply = api.post(f"{BATCH}/create", json={"inputs": [plain("alpha"), plain("beta")]})
    assert reply.status_code == 201, reply.text
    parsed = sdk_parse(reply, "BatchResponseProperty")
    assert parsed.status == "COMPLETE"
    assert sorted(p.name for p in parsed.results) == ["alpha", "beta"]
    assert {"alpha", "beta"} <= names_of(api)


def test_batch_create_reports_each_failed_input_and_keeps_the_others(api):
    api.post("/crm/v3/properties/companies", json=plain("taken"))
    reply = api.post(f"{BATCH}/create", json={"inputs": [
        plain("taken"), plain("fresh"), plain("badtype", type="colour")]})
    assert reply.status_code == 207, reply.text
    body = reply.json()
    sdk_parse(reply, "BatchResponsePropertyWithErrors")
    assert [p["name"] for p in body["results"]] == ["fresh"]
    assert body["numErrors"] == 2
    assert [(e["status"], e["category"]) for e in body["errors"]] == [
        ("error", "OBJECT_ALREADY_EXISTS"), ("error", "VALIDATION_ERROR")]
    assert body["errors"][1]["errors"][0]["code"] == "INVALID_PROPERTY_TYPE"
    assert "badtype" not in names_of(api)


def test_batch_create_makes_sync_properties_by_their_own_rules(api):
    api.post("/crm/v3/properties/companies", json=plain("industry_code"))
    sync = {"name": "company_code", "label": "Company code", "groupName": "contactinformation",
            "syncSource": {"objectType": "companies", "propertyName": "industry_code",
                           "selection": "FIRST_CREATED"}}
    restricted = {**sync, "name": "hidden_code", "access": restricted_to(1)}
    reply = api.post("/crm/v3/properties/contacts/batch/create",
                     json={"inputs": [sync, restricted]})
    assert reply.status_code == 207, reply.text
    made = reply.json()["results"]
    assert [p["name"] for p in made] == ["company_code"]
    assert made[0]["syncSource"]["propertyName"] == "industry_code"
    assert made[0]["modificationMetadata"]["readOnlyValue"] is True
    assert "visible to everyone" in reply.json()["errors"][0]["message"]


def test_batches_take_at_most_100_inputs_and_refuse_more_whole(api):
    reply = api.post(f"{BATCH}/create",
                     json={"inputs": [plain(f"p{i}") for i in range(101)]})
    assert reply.status_code == 400 and reply.json()["category"] == "VALIDATION_ERROR"
    assert "p0" not in names_of(api)
    for op in ("read", "archive"):
        many = {"inputs": [{"name": "name"}] * 101}
        assert api.post(f"{BATCH}/{op}", json=many).status_code == 400


def test_only_admins_with_property_settings_create_or_archive_in_batches(tenant: Tenant):
    _, user = member(tenant, Role.USER)
    _, admin = member(tenant, Role.ADMIN)
    refused = user.post(f"{BATCH}/create", json={"inputs": [plain("by_user")]})
    assert refused.status_code == 403
    assert admin.post(f"{BATCH}/create", json={"inputs": [plain("by_admin")]}
                      ).status_code == 201
    assert user.post(f"{BATCH}/archive", json={"inputs": [{"name": "by_admin"}]}
                     ).status_code == 403
    assert "by_admin" in names_of(tenant.client) and "by_user" not in names_of(tenant.client)
    read = user.post(f"{BATCH}/read", json={"inputs": [{"name": "by_admin"}]})
    assert read.status_code == 200 and read.json()["results"][0]["name"] == "by_admin"


def test_batches_need_the_schema_scopes(server):
    narrow = new_tenant(server, "crm.schemas.companies.read")
    assert narrow.client.post(f"{BATCH}/read", json={"inputs": [{"name": "name"}]}
                              ).status_code == 200
    for op in ("create", "archive"):
        body = {"inputs": [plain("x")] if op == "create" else [{"name": "name"}]}
        assert narrow.client.post(f"{BATCH}/{op}", json=body).status_code == 403
    assert narrow.client.post("/crm/v3/properties/contacts/batch/read",
                              json={"inputs": [{"name": "email"}]}).status_code == 403


def test_batch_read_reports_missing_names_as_errors(api):
    reply = api.post(f"{BATCH}/read", json={
        "archived": False, "dataSensitivity": "non_sensitive",
        "inputs": [{"name": "name"}, {"name": "nope"}, {"name": "name"}]})
    assert reply.status_code == 207, reply.text
    sdk_parse(reply, "BatchResponsePropertyWithErrors")
    body = reply.json()
    assert [p["name"] for p in body["results"]] == ["name"]
    assert body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"propertyName": ["nope"]}
    whole = api.post(f"{BATCH}/read", json={"inputs": [{"name": "name"}]})
    assert whole.status_code == 200
    assert sdk_parse(whole, "BatchResponseProperty").results[0].name == "name"
    archived = api.post(f"{BATCH}/read", json={"archived": True, "inputs": [{"name": "name"}]})
    assert archived.status_code == 207 and archived.json()["results"] == []


def test_batch_read_shows_restricted_properties_exactly_as_a_single_read(tenant: Tenant):
    boss = tenant.client
    _, excluded = member(tenant, Role.USER)
    boss.post("/crm/v3/properties/companies",
              json=plain("salary", access=restricted_to(tenant.user_id)))
    one = excluded.get("/crm/v3/properties/companies/salary")
    batch = excluded.post(f"{BATCH}/read", json={"inputs": [{"name": "salary"}]})
    assert batch.status_code == one.status_code == 200
    assert batch.json()["results"] == [one.json()]


def test_batch_archive_deletes_named_properties_and_ignores_unknown_ones(api):
    api.post(f"{BATCH}/create", json={"inputs": [plain("old_a"), plain("old_b")]})
    company = api.post("/crm/v3/objects/companies", json={"properties": {"old_a": "x"}}).json()
    reply = api.post(f"{BATCH}/archive",
                     json={"inputs": [{"name": "old_a"}, {"name": "old_b"}, {"name": "never"}]})
    assert reply.status_code == 204, reply.text
    assert not {"old_a", "old_b"} & names_of(api)
    assert api.get(f"/crm/v3/objects/companies/{company['id']}",
                   params={"properties": "old_a"}).json()["properties"].get("old_a") is None


def test_batch_archive_is_all_or_nothing_for_defaults_and_sync_sources(api):
    api.post(f"{BATCH}/create", json={"inputs": [plain("keep_me"), plain("code")]})
    api.post("/crm/v3/properties/contacts", json={
        "name": "company_code", "label": "Code", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "code",
                       "selection": "FIRST_CREATED"}})
    default = api.post(f"{BATCH}/archive", json={"inputs": [{"name": "keep_me"},
                                                           {"name": "name"}]})
    assert default.status_code == 400 and "default property" in default.json()["message"]
    source = api.post(f"{BATCH}/archive", json={"inputs": [{"name": "keep_me"},
                                                          {"name": "code"}]})
    assert source.status_code == 400 and "company_code" in source.json()["message"]
    assert {"keep_me", "code", "name"} <= names_of(api)
    both = api.post("/crm/v3/properties/contacts/batch/archive",
                    json={"inputs": [{"name": "company_code"}]})
    assert both.status_code == 204
    assert api.post(f"{BATCH}/archive", json={"inputs": [{"name": "code"}]}).status_code == 204
    assert "company_code" not in names_of(api, "contacts") and "code" not in names_of(api)


def test_a_batch_archive_takes_a_sync_property_with_its_source_in_one_go(api):
    api.post("/crm/v3/properties/companies", json=plain("tag"))
    api.post("/crm/v3/properties/companies", json={
        "name": "tag_copy", "label": "Tag copy", "groupName": "companyinformation",
        "syncSource": {"objectType": "companies", "propertyName": "tag",
                       "selection": "FIRST_CREATED",
                       "associationTypes": [{"associationCategory": "HUBSPOT_DEFINED",
                                             "associationTypeId": 13}]}})
    assert "tag_copy" in names_of(api)
    reply = api.post(f"{BATCH}/archive", json={"inputs": [{"name": "tag"}, {"name": "tag_copy"}]})
    assert reply.status_code == 204, reply.text
    assert not {"tag", "tag_copy"} & names_of(api)


def test_the_sdk_drives_the_three_batches(tenant: Tenant):
    from hubspot import HubSpot
    from hubspot.crm.properties import (
        BatchInputPropertyCreate,
        BatchInputPropertyName,
        BatchReadInputPropertyName,
        PropertyCreate,
        PropertyName,
    )

    sdk = HubSpot(access_token=tenant.token, host=tenant.server.base_url)
    batch = sdk.crm.properties.batch_api
    made = batch.create("companies", BatchInputPropertyCreate(inputs=[PropertyCreate(
        name="sdk_batch", label="SDK batch", type="string", field_type="text",
        group_name="companyinformation")]))
    assert [p.name for p in made.results] == ["sdk_batch"]
    read = batch.read("companies", BatchReadInputPropertyName(
        archived=False, inputs=[PropertyName(name="sdk_batch")]))
    assert read.results[0].label == "SDK batch"
    batch.archive("companies", BatchInputPropertyName(inputs=[PropertyName(name="sdk_batch")]))
    assert "sdk_batch" not in names_of(client_for(tenant.server, tenant.token))
