"""Restricted values through property definitions: errors never show them, and a sync
property can never come to copy a restricted or deleted source, however the requests race."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import httpx
import pytest

from propsync.domain.auth import Role
from propsync.services.accounts import create_token, create_user
from tests.conftest import Tenant, client_for, new_tenant
from tests.patience import WAIT_GUARD_S
from tests.reliability.conftest import SCALE, Tally

pytestmark = pytest.mark.reliability
SECRET = "SECRET-123k"


def admin_of(tenant: Tenant) -> tuple[int, httpx.Client]:
    """An admin with the property-settings permission (not a super admin)."""
    engine = tenant.server.engine
    uid = create_user(engine, tenant.account_id, f"admin-{uuid.uuid4().hex[:6]}@x.com",
                      role=Role.ADMIN)
    token = create_token(engine, tenant.account_id, "all", uid).token
    return uid, client_for(tenant.server, token)


def only(user_id: int) -> dict[str, object]:
    side = {"everyone": False, "userIds": [user_id], "teamIds": []}
    return {"view": side, "edit": side}


@pytest.fixture
def salaries(tenant: Tenant) -> tuple[Tenant, httpx.Client]:
    """``companies.salary`` (text) and ``companies.band`` (options), both restricted to the
    super admin, on records holding the secret; and an admin excluded from both."""
    boss = tenant.client
    assert boss.post("/crm/v3/properties/companies", json={
        "name": "salary", "label": "Salary", "type": "string", "fieldType": "text",
        "groupName": "companyinformation", "access": only(tenant.user_id)}).status_code == 201
    assert boss.post("/crm/v3/properties/companies", json={
        "name": "band", "label": "Band", "type": "enumeration", "fieldType": "select",
        "groupName": "companyinformation", "access": only(tenant.user_id),
        "options": [{"label": "Top", "value": SECRET}, {"label": "Low", "value": "low"}]}
    ).status_code == 201
    for _ in range(3):
        assert boss.post("/crm/v3/objects/companies", json={"properties": {
            "name": "Acme", "salary": SECRET, "band": SECRET}}).status_code == 201
    return tenant, admin_of(tenant)[1]


def test_an_excluded_admin_learns_no_value_from_a_refused_definition_change(salaries, tally):
    tenant, excluded = salaries
    changes = [("salary", {"type": "number", "fieldType": "number"}),
               ("salary", {"type": "date", "fieldType": "date"}),
               ("band", {"options": [{"label": "Low", "value": "low"}]}),
               ("band", {"type": "string", "fieldType": "text"})]
    before = {n: tenant.client.get(f"/crm/v3/properties/companies/{n}").json()
              for n in ("salary", "band")}
    for name, patch in changes:
        reply = excluded.patch(f"/crm/v3/properties/companies/{name}", json=patch)
        tally.attempt(reply.status_code == 403, f"{name} {patch}: {reply.status_code}")
        tally.attempt(SECRET not in reply.text and "record" not in reply.text.lower(),
                      f"{name} {patch} said: {reply.text}")
    after = {n: tenant.client.get(f"/crm/v3/properties/companies/{n}").json()
             for n in ("salary", "band")}
    tally.attempt(after == before, "a refused change changed the definition")


def test_a_user_who_may_edit_the_values_is_told_which_do_not_fit(salaries):
    tenant, _ = salaries
    reply = tenant.client.patch("/crm/v3/properties/companies/salary",
                                json={"type": "number", "fieldType": "number"})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "PROPERTY_VALUES_DONT_CONVERT"
    assert "3 record(s)" in reply.json()["message"]


def test_sync_source_on_an_ordinary_property_is_refused_and_changes_nothing(tenant):
    api = tenant.client
    before = api.get("/crm/v3/properties/contacts/jobtitle").json()
    reply = api.patch("/crm/v3/properties/contacts/jobtitle", json={
        "label": "Role", "syncSource": {"objectType": "companies", "propertyName": "name",
                                        "selection": "FIRST_CREATED"}})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "CANNOT_CONVERT_TO_SYNC"
    assert api.get("/crm/v3/properties/contacts/jobtitle").json() == before


def race(first: Callable[[], httpx.Response], second: Callable[[], httpx.Response]
         ) -> tuple[httpx.Response, httpx.Response]:
    """Send both requests at the same instant, from two threads."""
    start = threading.Barrier(2)
    replies: list[httpx.Response | None] = [None, None]

    def run(index: int, call: Callable[[], httpx.Response]) -> None:
        start.wait()
        replies[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate((first, second))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=WAIT_GUARD_S)
    assert replies[0] is not None and replies[1] is not None
    return replies[0], replies[1]


@pytest.mark.parametrize("attack", ["restrict", "delete"])
def test_defining_a_sync_property_races_restricting_or_deleting_its_source(server, attack,
                                                                          tally):
    tenant = new_tenant(server)
    boss, other = tenant.client, tenant.client_for(tenant.token)
    for i in range(20 * SCALE):
        source, sync = f"secret_{i}", f"secret_{i}_copy"
        boss.post("/crm/v3/properties/companies", json={
            "name": source, "label": source, "type": "string", "fieldType": "text",
            "groupName": "companyinformation"}).raise_for_status()
        boss.post("/crm/v3/objects/companies", json={"properties": {source: f"SECRET-{i}"}}
                  ).raise_for_status()
        define = lambda s=source, n=sync: other.post(  # noqa: E731
            "/crm/v3/properties/contacts", json={
                "name": n, "label": n, "groupName": "contactinformation",
                "syncSource": {"objectType": "companies", "propertyName": s,
                               "selection": "FIRST_CREATED"}})
        path = f"/crm/v3/properties/companies/{source}"
        hit = ((lambda p=path: boss.patch(p, json={"access": only(tenant.user_id)}))
               if attack == "restrict" else (lambda p=path: boss.delete(p)))
        defined, attacked = race(define, hit)
        both = defined.status_code == 201 and attacked.status_code in (200, 204)
        tally.attempt(not both, f"try {i}: the definition and the {attack} both succeeded")
        tally.attempt(defined.status_code < 500 and attacked.status_code < 500,
                      f"try {i}: {defined.status_code} / {attacked.status_code}")
        check_consistent(boss, source, sync, tally, i)


def check_consistent(boss: httpx.Client, source: str, sync: str, tally: Tally, i: int) -> None:
    """A sync property that exists copies an existing source that everyone may view."""
    copy = boss.get(f"/crm/v3/properties/contacts/{sync}")
    if copy.status_code != 200:
        return
    original = boss.get(f"/crm/v3/properties/companies/{source}")
    tally.attempt(copy.json().get("syncSource") is not None,
                  f"try {i}: {sync} exists but is no longer a sync property")
    tally.attempt(original.status_code == 200, f"try {i}: {sync} copies a deleted source")
    if original.status_code == 200:
        tally.attempt(original.json()["access"]["view"]["everyone"],
                      f"try {i}: {sync} copies a restricted source")
