"""Roles (SPEC 2): a super admin manages users, teams and access rules; an admin with the
property-settings permission manages properties, sync properties and labels; a user works
with records only. Tokens act with their user's role, and nobody widens their own access."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from propsync.domain.auth import Role
from propsync.domain.errors import PropsyncError
from propsync.services import members
from propsync.services.accounts import create_team, create_token, create_user
from tests.conftest import Tenant, client_for

SALARY = {"name": "salary", "label": "Salary", "type": "string", "fieldType": "text",
          "groupName": "companyinformation"}


@dataclass
class Staff:
    tenant: Tenant
    boss: httpx.Client  # the tenant's first user: super admin
    boss_id: int
    admin: httpx.Client
    admin_id: int
    user: httpx.Client
    user_id: int


def member(tenant: Tenant, role: Role) -> tuple[int, httpx.Client]:
    """A user of the tenant's account with ``role``, and a client with an all-scopes token."""
    engine = tenant.server.engine
    uid = create_user(engine, tenant.account_id, f"{role.value}-{uuid.uuid4().hex[:6]}@x.com",
                      role=role)
    return uid, client_for(tenant.server, create_token(engine, tenant.account_id, "all",
                                                        uid).token)


@pytest.fixture
def staff(tenant: Tenant) -> Staff:
    admin_id, admin = member(tenant, Role.ADMIN)
    user_id, user = member(tenant, Role.USER)
    return Staff(tenant, tenant.client, tenant.user_id, admin, admin_id, user, user_id)


def restricted_to(*user_ids: int, teams: tuple[int, ...] = ()) -> dict[str, object]:
    side = {"everyone": False, "userIds": list(user_ids), "teamIds": list(teams)}
    return {"view": side, "edit": side}


def error_code(reply: httpx.Response) -> str:
    return str(reply.json()["errors"][0]["code"])


def test_a_user_works_with_records_but_cannot_change_properties_groups_or_labels(staff):
    reply = staff.user.post("/crm/v3/properties/companies", json=SALARY)
    assert reply.status_code == 403 and error_code(reply) == "PROPERTY_SETTINGS_REQUIRED"
    assert staff.user.patch("/crm/v3/properties/companies/name",
                            json={"label": "Firm"}).status_code == 403
    assert staff.user.delete("/crm/v3/properties/companies/domain").status_code == 403
    assert staff.user.post("/crm/v3/properties/companies/groups", json={
        "name": "mine", "label": "Mine"}).status_code == 403
    assert staff.user.post("/crm/v4/associations/contacts/companies/labels", json={
        "label": "Billing", "name": "billing"}).status_code == 403
    created = staff.user.post("/crm/v3/objects/companies", json={"properties": {"name": "A"}})
    assert created.status_code == 201
    names = [p["name"] for p in staff.user.get("/crm/v3/properties/companies").json()["results"]]
    assert "name" in names and "salary" not in names


def test_an_admin_manages_properties_and_sync_properties_but_not_access_rules(staff):
    assert staff.admin.post("/crm/v3/properties/companies", json=SALARY).status_code == 201
    sync = staff.admin.post("/crm/v3/properties/contacts", json={
        "name": "salary_sync", "label": "Salary (sync)", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "salary",
                       "selection": "FIRST_CREATED"}})
    assert sync.status_code == 201, sync.text
    reply = staff.admin.post("/crm/v3/properties/deals", json={
        "name": "margin", "label": "Margin", "type": "number", "fieldType": "number",
        "groupName": "dealinformation", "access": restricted_to(staff.admin_id)})
    assert reply.status_code == 403 and error_code(reply) == "SUPER_ADMIN_REQUIRED"
    assert staff.boss.get("/crm/v3/properties/deals/margin").status_code == 404
    reply = staff.admin.patch("/crm/v3/properties/companies/domain",
                              json={"access": restricted_to(staff.admin_id)})
    assert reply.status_code == 403 and error_code(reply) == "SUPER_ADMIN_REQUIRED"
    relabelled = staff.admin.patch("/crm/v3/properties/companies/domain",
                                   json={"label": "Web domain"})
    assert relabelled.status_code == 200 and relabelled.json()["label"] == "Web domain"


def test_an_excluded_user_cannot_lift_the_restriction_and_still_reads_nothing(staff):
    boss = staff.boss
    assert boss.post("/crm/v3/properties/companies", json={
        **SALARY, "access": restricted_to(staff.boss_id)}).status_code == 201
    company = boss.post("/crm/v3/objects/companies", json={
        "properties": {"name": "Acme", "salary": "SECRET-123k"}}).json()["id"]
    for client in (staff.user, staff.admin):
        for access in ({"view": {"everyone": True}, "edit": {"everyone": True}},
                       restricted_to(staff.boss_id, staff.user_id, staff.admin_id)):
            reply = client.patch("/crm/v3/properties/companies/salary", json={"access": access})
            assert reply.status_code == 403, reply.text
            assert "SECRET" not in reply.text
        seen = client.get(f"/crm/v3/objects/companies/{company}",
                          params={"properties": "salary"}).json()
        assert "salary" not in seen["properties"]
    assert boss.get("/crm/v3/properties/companies/salary").json()["access"]["view"] == {
        "everyone": False, "userIds": [staff.boss_id], "teamIds": []}


def test_a_super_admin_cannot_widen_her_own_access_but_can_grant_others(staff):
    other_boss_id, other_boss = member(staff.tenant, Role.SUPER_ADMIN)
    assert other_boss.post("/crm/v3/properties/companies", json={
        **SALARY, "access": restricted_to(other_boss_id)}).status_code == 201
    for access in ({"view": {"everyone": True}, "edit": {"everyone": True}},
                   restricted_to(other_boss_id, staff.boss_id)):
        reply = staff.boss.patch("/crm/v3/properties/companies/salary", json={"access": access})
        assert reply.status_code == 403 and error_code(reply) == "CANNOT_WIDEN_OWN_ACCESS"
    granted = staff.boss.patch("/crm/v3/properties/companies/salary",
                               json={"access": restricted_to(other_boss_id, staff.user_id)})
    assert granted.status_code == 200, granted.text
    narrowed = other_boss.patch("/crm/v3/properties/companies/salary",
                                json={"access": restricted_to(other_boss_id)})
    assert narrowed.status_code == 200


def test_nobody_joins_a_team_that_admits_them_to_restricted_values(staff):
    engine, account = staff.tenant.server.engine, staff.tenant.account_id
    other_boss_id, other_boss = member(staff.tenant, Role.SUPER_ADMIN)
    finance = create_team(engine, account, "Finance", [other_boss_id])
    assert other_boss.post("/crm/v3/properties/companies", json={
        **SALARY, "access": restricted_to(teams=(finance,))}).status_code == 201
    path = f"/propsync/v1/teams/{finance}"
    joined = staff.boss.patch(path, json={"memberIds": [other_boss_id, staff.boss_id]})
    assert joined.status_code == 403 and error_code(joined) == "CANNOT_WIDEN_OWN_ACCESS"
    added = staff.boss.patch(path, json={"memberIds": [other_boss_id, staff.user_id]})
    assert added.status_code == 200, added.text
    assert sorted(added.json()["memberIds"]) == sorted([str(other_boss_id), str(staff.user_id)])
    assert staff.admin.patch(path, json={"memberIds": []}).status_code == 403
    in_use = staff.boss.delete(path)
    assert in_use.status_code == 400 and error_code(in_use) == "TEAM_IN_USE"


def test_only_a_super_admin_adds_users_and_changes_roles_and_one_always_remains(staff):
    body = {"email": "new@x.com", "name": "New", "role": "admin"}
    assert staff.admin.post("/propsync/v1/users", json=body).status_code == 403
    short = staff.boss.post("/propsync/v1/users", json={**body, "password": "abc"})
    assert short.status_code == 400
    created = staff.boss.post("/propsync/v1/users", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "admin"
    new_id = created.json()["id"]
    assert staff.admin.patch(f"/propsync/v1/users/{new_id}",
                             json={"role": "super_admin"}).status_code == 403
    promoted = staff.boss.patch(f"/propsync/v1/users/{new_id}", json={"role": "super_admin"})
    assert promoted.json()["role"] == "super_admin"
    listed = {u["id"]: u["role"] for u in staff.user.get("/propsync/v1/users").json()["results"]}
    assert listed[str(staff.boss_id)] == "super_admin" and listed[str(staff.user_id)] == "user"
    assert staff.boss.patch(f"/propsync/v1/users/{staff.boss_id}",
                            json={"role": "user"}).status_code == 200
    last = staff.tenant.client_for(create_token(staff.tenant.server.engine,
                                                staff.tenant.account_id, "all",
                                                int(new_id)).token)
    reply = last.patch(f"/propsync/v1/users/{new_id}", json={"role": "admin"})
    assert reply.status_code == 400 and error_code(reply) == "LAST_SUPER_ADMIN"


def test_a_token_without_the_users_scope_cannot_manage_users(staff):
    engine, account = staff.tenant.server.engine, staff.tenant.account_id
    narrow = staff.tenant.client_for(create_token(engine, account, "crm.objects.contacts.read",
                                                  staff.boss_id).token)
    reply = narrow.post("/propsync/v1/users", json={"email": "x@x.com", "role": "user"})
    assert reply.status_code == 403
    assert reply.json()["context"]["requiredGranularScopes"] == ["settings.users.write"]


def test_a_token_that_may_only_add_users_gets_the_user_it_added(staff):
    """Adding needs ``settings.users.write`` only: the reply is the new user, not a 403
    for lack of the scope that lists users (after the user was made)."""
    engine, account = staff.tenant.server.engine, staff.tenant.account_id
    writer = staff.tenant.client_for(create_token(engine, account, "settings.users.write",
                                                  staff.boss_id).token)
    reply = writer.post("/propsync/v1/users", json={"email": "New.One@Example.com",
                                                    "name": " New One ", "role": "user"})
    assert reply.status_code == 201, reply.text
    made = reply.json()
    assert (made["email"], made["name"], made["role"]) == ("new.one@example.com", "New One",
                                                           "user")
    listed = {u["id"]: u for u in staff.tenant.client.get("/propsync/v1/users").json()["results"]}
    assert listed[made["id"]] == made



def test_two_super_admins_demoting_each_other_at_once_leave_one(tenant: Tenant) -> None:
    """The "one super admin remains" check and the write are one step per account: without
    it, on PostgreSQL both demotions passed the check and the account had none."""
    engine = tenant.server.engine

    def demote(user_id: int) -> str:
        try:
            members.set_role(engine, tenant.account_id, user_id, Role.USER)
        except PropsyncError as exc:
            return exc.category
        return "done"

    for _ in range(10):
        other = create_user(engine, tenant.account_id, f"boss-{uuid.uuid4().hex[:6]}@x.com",
                            role=Role.SUPER_ADMIN)
        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(demote, [tenant.user_id, other]))
        assert outcomes == ["VALIDATION_ERROR", "done"]
        left = [u for u in members.account_users(engine, tenant.account_id)
                if u.role is Role.SUPER_ADMIN]
        assert len(left) == 1
        members.set_role(engine, tenant.account_id, tenant.user_id, Role.SUPER_ADMIN)
        members.set_role(engine, tenant.account_id, other, Role.USER)  # one again
