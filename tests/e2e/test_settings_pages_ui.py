"""Settings pages driven over HTTP by a signed-in user whose role may not change settings,
on both stores: every change is refused, and a refusal shows nothing the page would."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tenant
from tests.e2e.test_sync_api import settle
from tests.e2e.ui_session import UiSession, sign_in

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}


@pytest.fixture
def ui(tenant: Tenant) -> UiSession:
    return sign_in(tenant)  # a second user of the account: role user


@pytest.mark.parametrize(("path", "fields"), [
    ("/ui/settings/users", {"email": "x@example.com", "name": "X", "role": "super_admin"}),
    ("/ui/settings/users", {"email": "", "name": "", "role": "nonsense"}),
    ("/ui/settings/users/1/role", {"role": "super_admin"}),
    ("/ui/settings/users/abc/role", {"role": "admin"}),
    ("/ui/settings/teams", {"name": "Mine"}),
    ("/ui/settings/teams/1", {"name": "Mine"}),
    ("/ui/settings/teams/1/delete", {}),
])
def test_a_user_changes_no_member_and_sees_no_member(ui: UiSession, tenant: Tenant,
                                                     api: httpx.Client, path: str,
                                                     fields: dict[str, str]) -> None:
    before = api.get("/propsync/v1/users").json()
    reply = ui.post(path, **fields)
    assert reply.status_code in (400, 403, 404), reply.status_code
    for user in before["results"]:
        if user["id"] != str(ui_user_id(before)):
            assert user["email"] not in reply.text, path
    assert api.get("/propsync/v1/users").json() == before
    assert api.get("/propsync/v1/teams").json()["results"] == []


def ui_user_id(users: dict) -> str:
    """The signed-in user: the one made by ``sign_in`` (named "UI user")."""
    return next(u["id"] for u in users["results"] if u["name"] == "UI user")


def test_a_sync_value_posted_from_the_record_page_is_refused(ui: UiSession,
                                                              api: httpx.Client) -> None:
    """The record page offers no edit control on a sync property; a crafted form is refused
    by the server too, and the value stays the copy."""
    company = api.post("/crm/v3/objects/companies", json={"properties": {"city": "Oslo"}})
    contact = api.post("/crm/v3/objects/contacts", json={
        "properties": {"firstname": "Ola"},
        "associations": [{"to": {"id": company.json()["id"]}, "types": [PRIMARY]}]}).json()["id"]
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "company_city", "label": "Company city", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "city",
                       "associationTypes": [PRIMARY]}}).status_code == 201
    settle(api)
    reply = ui.post(f"/ui/records/contacts/{contact}/values", property="company_city",
                    value="Bergen")
    assert reply.status_code == 400 and "sync property" in reply.text
    got = api.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": "company_city"})
    assert got.json()["properties"]["company_city"] == "Oslo"
