"""API tokens listed and revoked over the API: a user manages their own, a super admin every
token of the account, nobody another account's; a revoked token is refused at once (12.10)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from propsync.domain.auth import Role
from propsync.services.accounts import create_account, create_token, create_user
from tests.conftest import RunningServer, client_for
from tests.e2e.web import WebClient

ALL = "all"


@dataclass
class Office:
    """An account with a super admin and a plain user, two tokens each."""

    account_id: int
    admin: int
    user: int
    admin_tokens: list[tuple[int, str]]
    user_tokens: list[tuple[int, str]]


def new_office(server: RunningServer) -> Office:
    engine = server.engine
    account = create_account(engine, f"Tokens {uuid.uuid4().hex[:6]}")
    admin = create_user(engine, account, f"a-{uuid.uuid4().hex[:6]}@example.com",
                        role=Role.SUPER_ADMIN)
    user = create_user(engine, account, f"u-{uuid.uuid4().hex[:6]}@example.com",
                       role=Role.USER)

    def two(user_id: int, who: str) -> list[tuple[int, str]]:
        made = [create_token(engine, account, ALL, user_id, f"{who} {i}") for i in range(2)]
        return [(t.token_id, t.token) for t in made]

    return Office(account, admin, user, two(admin, "admin"), two(user, "user"))


@pytest.fixture
def office(server: RunningServer) -> Office:
    return new_office(server)


def listed(server: RunningServer, token: str) -> list[dict]:
    reply = client_for(server, token).get("/propsync/v1/tokens")
    assert reply.status_code == 200, reply.text
    return reply.json()["results"]


def test_a_user_lists_their_own_tokens_and_never_a_secret(server, office):
    token = office.user_tokens[0][1]
    reply = client_for(server, token).get("/propsync/v1/tokens")
    results = reply.json()["results"]
    assert sorted(int(t["id"]) for t in results) == sorted(i for i, _ in office.user_tokens)
    for _, secret in office.user_tokens + office.admin_tokens:
        assert secret.rsplit("-", 1)[1] not in reply.text
    first = next(t for t in results if int(t["id"]) == office.user_tokens[0][0])
    assert first["name"] == "user 0" and first["userId"] == str(office.user)
    assert "crm.objects.contacts.read" in first["scopes"]
    assert first["createdAt"].endswith("Z") and first["revokedAt"] is None


def test_a_super_admin_lists_every_token_of_the_account_only(server, office):
    other = new_office(server)
    ids = {int(t["id"]) for t in listed(server, office.admin_tokens[0][1])}
    assert ids == {i for i, _ in office.admin_tokens + office.user_tokens}
    assert not ids & {i for i, _ in other.admin_tokens + other.user_tokens}


def test_a_revoked_token_is_refused_at_once(server, office):
    (victim_id, victim), (_, keeper) = office.user_tokens
    client = client_for(server, victim)
    assert client.get("/crm/v3/objects/contacts").status_code == 200
    assert client_for(server, keeper).delete(f"/propsync/v1/tokens/{victim_id}"
                                             ).status_code == 204
    refused = client.get("/crm/v3/objects/contacts")
    assert refused.status_code == 401
    assert refused.json()["category"] == "INVALID_AUTHENTICATION"
    assert "revoked" in refused.json()["message"]
    shown = {int(t["id"]): t for t in listed(server, keeper)}
    assert shown[victim_id]["revokedAt"] is not None
    again = client_for(server, keeper).delete(f"/propsync/v1/tokens/{victim_id}")
    assert again.status_code == 204  # revoking twice changes nothing


def test_a_super_admin_revokes_a_users_token(server, office):
    victim_id, victim = office.user_tokens[0]
    assert client_for(server, office.admin_tokens[0][1]).delete(
        f"/propsync/v1/tokens/{victim_id}").status_code == 204
    assert client_for(server, victim).get("/crm/v3/objects/contacts").status_code == 401


def test_nobody_touches_a_token_they_may_not_manage(server, office):
    other = new_office(server)
    attempts = [(office.user_tokens[0][1], office.admin_tokens[0]),  # a user, their admin's
                (office.admin_tokens[0][1], other.user_tokens[0]),  # another account's
                (office.user_tokens[0][1], other.admin_tokens[0])]
    for caller, (target_id, target) in attempts:
        reply = client_for(server, caller).delete(f"/propsync/v1/tokens/{target_id}")
        assert reply.status_code == 404, reply.text
        assert {"status", "message", "correlationId", "category"} <= set(reply.json())
        assert client_for(server, target).get("/crm/v3/objects/contacts").status_code == 200


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "1" * 30, "1.5", "%20"])
def test_a_token_id_that_cannot_exist_is_a_404_in_hubspots_shape(server, office, bad):
    reply = client_for(server, office.admin_tokens[0][1]).delete(f"/propsync/v1/tokens/{bad}")
    assert reply.status_code == 404
    assert reply.json()["category"] == "OBJECT_NOT_FOUND"


def test_the_openapi_document_describes_the_token_endpoints(server):
    paths = client_for(server, "none").get("/openapi.json").json()["paths"]
    assert "get" in paths["/propsync/v1/tokens"]
    assert "delete" in paths["/propsync/v1/tokens/{tokenId}"]
    assert "404" in paths["/propsync/v1/tokens/{tokenId}"]["delete"]["responses"]


def test_the_settings_page_lets_a_user_revoke_only_their_own_tokens(server, office):
    email, password = f"w-{uuid.uuid4().hex[:6]}@example.com", "a web password"
    user = create_user(server.engine, office.account_id, email, password, role=Role.USER)
    own = create_token(server.engine, office.account_id, ALL, user, "own")
    web = WebClient.open(server)
    assert web.sign_in(email, password).status_code == 303
    page = web.client.get("/ui/settings/tokens")
    assert "own" in page.text and "admin 0" not in page.text and "user 0" not in page.text
    target_id, target = office.admin_tokens[0]
    csrf = web.csrf("/ui/settings/tokens")
    refused = web.client.post(f"/ui/settings/tokens/{target_id}/revoke", data={"csrf": csrf})
    assert refused.status_code == 404
    assert client_for(server, target).get("/crm/v3/objects/contacts").status_code == 200
    done = web.client.post(f"/ui/settings/tokens/{own.token_id}/revoke", data={"csrf": csrf})
    assert done.status_code == 303
    assert client_for(server, own.token).get("/crm/v3/objects/contacts").status_code == 401
    web.close()
