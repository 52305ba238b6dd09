"""Sandboxes over HTTP, on both stores: created from the caller's Enterprise account with a
token for the sandbox, listed, used, deleted, the source's export the same bytes after;
Professional accounts, other roles, missing scopes and bad bodies refused in HubSpot's
shape, changing nothing."""

from __future__ import annotations

import io
import uuid

import httpx

from propsync.domain.auth import Role
from propsync.services.accounts import create_account, create_token, create_user
from propsync.services.sandboxes import export_account
from tests.conftest import RunningServer, Tenant, client_for
from tests.e2e.replies import codes, error

SANDBOXES = "/propsync/v1/sandboxes"


def enterprise(server: RunningServer, tier: str = "enterprise") -> Tenant:
    account_id = create_account(server.engine, f"Corp {uuid.uuid4().hex[:6]}", tier)
    user_id = create_user(server.engine, account_id, f"boss-{uuid.uuid4().hex[:6]}@example.com")
    token = create_token(server.engine, account_id, "all", user_id).token
    return Tenant(account_id, user_id, token, client_for(server, token), server)


def seed(api: httpx.Client) -> tuple[str, str]:
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme"}})
    contact = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "ada@acme.example"}, "associations": [{
            "to": {"id": company.json()["id"]}, "types": [{
                "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}]})
    assert company.status_code == contact.status_code == 201, contact.text
    return company.json()["id"], contact.json()["id"]


def exported(server: RunningServer, account_id: int) -> str:
    out = io.StringIO()
    export_account(server.engine, account_id, out)
    return out.getvalue()


def test_create_use_list_and_delete_a_sandbox(server):
    source = enterprise(server)
    company, contact = seed(source.client)
    before = exported(server, source.account_id)
    reply = source.client.post(SANDBOXES, json={})
    assert reply.status_code == 201, reply.text
    made = reply.json()
    assert reply.headers["Location"] == f"{SANDBOXES}/{made['id']}"
    assert made["sourceAccountId"] == str(source.account_id)
    assert made["name"].endswith(" (sandbox)") and made["records"] == "all"
    assert made["copiedRecords"] == 2 and made["syncValuesPending"] is False
    assert made["token"].startswith(f"pat-{made['id']}-")
    inside = client_for(server, made["token"])
    copied = inside.get(f"/crm/v3/objects/contacts/{contact}",
                        params={"associations": "companies"})
    assert copied.status_code == 200, copied.text
    assert copied.json()["properties"]["email"] == "ada@acme.example"
    # the sandbox is an account of its own: edits there stay there
    edited = inside.patch(f"/crm/v3/objects/companies/{company}",
                          json={"properties": {"name": "Sandbox Acme"}})
    assert edited.status_code == 200, edited.text
    assert source.client.get(f"/crm/v3/objects/companies/{company}").json()[
        "properties"]["name"] == "Acme"
    assert inside.post("/crm/v3/objects/contacts", json={"properties": {}}).status_code == 201
    listed = source.client.get(SANDBOXES).json()["results"]
    assert [s["id"] for s in listed] == [made["id"]] and "token" not in listed[0]
    assert source.client.delete(f"{SANDBOXES}/{made['id']}").status_code == 204
    assert source.client.get(SANDBOXES).json()["results"] == []
    error(inside.get("/crm/v3/objects/contacts"), 401, "INVALID_AUTHENTICATION")
    assert exported(server, source.account_id) == before
    error(source.client.delete(f"{SANDBOXES}/{made['id']}"), 404, "OBJECT_NOT_FOUND")


def test_a_sample_through_the_api(server):
    source = enterprise(server)
    seed(source.client)
    seed(source.client)
    reply = source.client.post(SANDBOXES, json={"records": "sample:1", "name": "Small"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["name"] == "Small" and reply.json()["copiedRecords"] == 2


def test_a_professional_account_is_refused_clearly(server):
    pro = enterprise(server, "professional")
    body = error(pro.client.post(SANDBOXES, json={}), 403, "FORBIDDEN")
    assert "Enterprise" in body["message"] and codes(body) == ["SANDBOXES_NEED_ENTERPRISE"]
    assert pro.client.get(SANDBOXES).json()["results"] == []


def test_roles_scopes_and_tenants(server):
    source = enterprise(server)
    made = source.client.post(SANDBOXES, json={}).json()
    for role in (Role.ADMIN, Role.USER):
        user = create_user(server.engine, source.account_id,
                           f"{role.value}-{uuid.uuid4().hex[:6]}@example.com", role=role)
        other = client_for(server, create_token(server.engine, source.account_id, "all",
                                                user).token)
        error(other.post(SANDBOXES, json={}), 403, "FORBIDDEN")
        error(other.delete(f"{SANDBOXES}/{made['id']}"), 403, "FORBIDDEN")
        assert other.get(SANDBOXES).status_code == 200
    narrow = client_for(server, create_token(server.engine, source.account_id,
                                             "crm.objects.contacts.read",
                                             source.user_id).token)
    for reply in (narrow.get(SANDBOXES), narrow.post(SANDBOXES, json={}),
                  narrow.delete(f"{SANDBOXES}/{made['id']}")):
        error(reply, 403, "MISSING_SCOPES")
    stranger = enterprise(server)
    error(stranger.client.delete(f"{SANDBOXES}/{made['id']}"), 404, "OBJECT_NOT_FOUND")
    assert stranger.client.get(SANDBOXES).json()["results"] == []
    # the source itself is no sandbox of anyone's; a sandbox makes no sandboxes
    error(source.client.delete(f"{SANDBOXES}/{source.account_id}"), 404, "OBJECT_NOT_FOUND")
    inside = client_for(server, made["token"])
    body = error(inside.post(SANDBOXES, json={}), 400, "VALIDATION_ERROR")
    assert codes(body) == ["SANDBOX_OF_SANDBOX"]
    assert [s["id"] for s in source.client.get(SANDBOXES).json()["results"]] == [made["id"]]


def test_bad_bodies_are_refused_and_change_nothing(server):
    source = enterprise(server)
    for body in ({"records": "some"}, {"records": "sample:0"}, {"records": "sample:99999"},
                 {"name": ""}, {"name": "x" * 201}, {"records": 3}, {"records": None}, []):
        reply = source.client.post(SANDBOXES, json=body)
        error(reply, 400)
    error(source.client.delete(f"{SANDBOXES}/not-a-number"), 404)
    assert source.client.get(SANDBOXES).json()["results"] == []
