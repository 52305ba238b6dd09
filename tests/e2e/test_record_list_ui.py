"""The record list of the web UI, on both stores: columns chosen by the user (sync properties
included, remembered per user and object type), sorted and filtered by any shown column,
a free-text search that finds synced values, and properties the user may not view never
offered, shown or used, whatever the address asks."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from propsync.services.accounts import create_user
from tests.conftest import Tenant, client_for
from tests.e2e.test_sync_api import settle
from tests.e2e.ui_session import UiSession, sign_in

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
LIST = "/ui/records/contacts"
HR_EMAIL, PASSWORD = "hr@example.com", "another good password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def people(api: httpx.Client, tenant: Tenant) -> dict[str, str]:
    """Contacts whose ``company_city`` copies their Primary company's city; Per has none.
    ``salary`` is a value only an HR user may view."""
    hr = create_user(tenant.server.engine, tenant.account_id, HR_EMAIL, PASSWORD, "HR")
    ids = {}
    for name, city in (("Nora", "Bergen"), ("Ola", "Oslo"), ("Kari", "Tromsø"), ("Per", None)):
        links = []
        if city:
            company = api.post("/crm/v3/objects/companies", json={
                "properties": {"name": f"{name} AS", "city": city}}).json()["id"]
            links = [{"to": {"id": company}, "types": [PRIMARY]}]
        ids[name] = api.post("/crm/v3/objects/contacts", json={
            "properties": {"firstname": name, "email": f"{name.lower()}@example.com"},
            "associations": links}).json()["id"]
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "company_city", "label": "Company city", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "city",
                       "associationTypes": [PRIMARY]}}).status_code == 201
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "salary", "label": "Salary", "type": "number", "fieldType": "number",
        "groupName": "contactinformation",
        "access": {"view": {"everyone": False, "userIds": [tenant.user_id, hr],
                            "teamIds": []},
                   "edit": {"everyone": False, "userIds": [tenant.user_id], "teamIds": []}}}
    ).status_code == 201
    assert api.patch(f"/crm/v3/objects/contacts/{ids['Nora']}",
                     json={"properties": {"salary": "1000"}}).status_code == 200
    settle(api)
    return ids


@pytest.fixture
def ui(tenant: Tenant) -> UiSession:
    """A user of the account who may not view ``salary``."""
    return sign_in(tenant)


def names(reply: httpx.Response, status: int = 200) -> list[str]:
    """The records listed, in order (their link's text)."""
    assert reply.status_code == status, reply.text[:500]
    return [html.unescape(n) for n in re.findall(
        r'<tr><td><a href="/ui/records/contacts/\d+">([^<]*)</a>', reply.text)]


def cells(reply: httpx.Response, column: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(rf'data-col="{column}">([^<]*)<', reply.text)]


def headers(reply: httpx.Response) -> list[str]:
    head = reply.text.split("<thead>")[1].split("</thead>")[0]
    return [re.sub(r"<[^>]+>|[▲▼⇄]", "", h).strip()
            for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def test_a_sync_property_is_a_column_to_show_and_sort_by(ui, people):
    shown = ui.client.get(LIST, params={"col": ["email", "company_city"]})
    assert headers(shown) == ["Name", "ID", "Email", "Company city"]
    assert dict(zip(names(shown), cells(shown, "company_city"), strict=True)) == {
        "Nora": "Bergen", "Ola": "Oslo", "Kari": "Tromsø", "Per": ""}
    up = ui.client.get(LIST, params={"col": ["company_city"], "sort": "company_city"})
    assert names(up) == ["Nora", "Ola", "Kari", "Per"]  # records without a value last
    assert 'aria-sort="ascending"' in up.text
    down = ui.client.get(LIST, params={"col": ["company_city"], "sort": "company_city",
                                       "dir": "desc"})
    assert names(down) == ["Kari", "Ola", "Nora", "Per"]
    assert 'aria-sort="descending"' in down.text
    hidden = ui.client.get(LIST, params={"col": ["email"], "sort": "company_city"})
    assert "aria-sort" not in hidden.text  # only a shown column sorts the list


@pytest.mark.parametrize(("fo", "fv", "expected"), [
    ("EQ", "oslo", {"Ola"}),
    ("NEQ", "Oslo", {"Nora", "Kari", "Per"}),
    ("CONTAINS_TOKEN", "tromsø", {"Kari"}),
    ("HAS_PROPERTY", "", {"Nora", "Ola", "Kari"}),
    ("NOT_HAS_PROPERTY", "", {"Per"}),
])
def test_the_list_is_filtered_by_a_sync_property(ui, people, fo, fv, expected):
    reply = ui.client.get(LIST, params={"fp": "company_city", "fo": fo, "fv": fv})
    assert set(names(reply)) == expected
    assert f'data-total="{len(expected)}"' in reply.text


def test_the_search_finds_synced_values(ui, people):
    assert names(ui.client.get(LIST, params={"q": "TROMSØ"})) == ["Kari"]
    assert names(ui.client.get(LIST, params={"q": "ergen"})) == ["Nora"]


def test_a_bad_filter_is_refused_on_the_list_in_its_own_words(ui, people):
    reply = ui.client.get(LIST, params={"fp": "company_city", "fo": "EQ", "fv": ""})
    assert reply.status_code == 400
    assert "Give a value for “Company city is”" in reply.text
    reply = ui.client.get(LIST, params={"fp": "company_city", "fo": "DROP", "fv": "x"})
    assert reply.status_code == 400 and "Unknown filter" in reply.text


def test_the_columns_chosen_are_remembered_per_user_and_object_type(tenant, ui, people):
    ui.client.get(LIST, params={"col": ["company_city"], "set": "1"})
    assert headers(ui.client.get(LIST)) == ["Name", "ID", "Company city"]
    assert headers(ui.client.get("/ui/records/companies"))[2:] == ["Company domain name",
                                                                   "City", "Industry"]
    nothing = ui.client.get(LIST, params={"set": "1"})  # every box unchecked
    assert headers(nothing) == ["Name", "ID"]
    assert headers(ui.client.get(LIST)) == ["Name", "ID"]
    other = sign_in(tenant)  # another user, given the first one's cookie
    other.client.cookies.set("propsync_columns_contacts",
                             ui.client.cookies["propsync_columns_contacts"])
    assert headers(other.client.get(LIST))[2:] == ["Email", "City", "Create date"]


def test_a_property_the_user_may_not_view_is_never_offered_shown_or_used(ui, people):
    page = ui.client.get(LIST, params={"col": ["salary", "email"], "sort": "salary",
                                       "set": "1"})
    assert page.status_code == 200
    assert "salary" not in page.text.lower()  # no column, choice, sort or filter option
    assert headers(page) == ["Name", "ID", "Email"]
    assert headers(ui.client.get(LIST)) == ["Name", "ID", "Email"]  # nor remembered
    refused = ui.client.get(LIST, params={"fp": "salary", "fo": "GT", "fv": "0"})
    unknown = ui.client.get(LIST, params={"fp": "nosuchname", "fo": "GT", "fv": "0"})
    assert refused.status_code == unknown.status_code == 400
    alert = re.compile(r'role="alert">([^<]*)<')
    said = alert.search(refused.text), alert.search(unknown.text)
    assert said[0] and said[1]
    assert said[0].group(1).replace("salary", "X") == said[1].group(1).replace("nosuchname",
                                                                              "X")
    assert names(refused, 400) == [] and 'data-total="0"' in refused.text  # no count leaks
    nora = ui.client.get(LIST, params={"q": "1000"})
    assert names(nora) == []  # the search does not look in it either


def test_a_user_who_may_view_it_may_show_sort_and_filter_by_it(tenant, people):
    hr = sign_in_as(tenant, HR_EMAIL)
    page = hr.client.get(LIST, params={"col": ["salary"], "fp": "salary", "fo": "GT",
                                       "fv": "500", "sort": "salary"})
    assert names(page) == ["Nora"] and cells(page, "salary") == ["1000"]
    assert 'aria-sort="ascending"' in page.text


def sign_in_as(tenant: Tenant, email: str) -> UiSession:
    client = client_for(tenant.server, "")
    client.headers.pop("Authorization")
    token = CSRF.search(client.get("/ui/login").text)
    assert token
    reply = client.post("/ui/login", data={"email": email, "password": PASSWORD,
                                           "csrf": token.group(1), "next": "/ui/"})
    assert reply.status_code == 303, reply.text[:500]
    form = CSRF.search(client.get(LIST).text)
    assert form
    return UiSession(client, form.group(1))


def test_a_records_history_fragment_hides_what_the_user_may_not_view(ui, people):
    nora = people["Nora"]
    fragment = ui.client.get(f"/ui/records/contacts/{nora}/history/company_city")
    assert fragment.status_code == 200 and "History (1)" in fragment.text
    assert "Bergen" in fragment.text
    refused = ui.client.get(f"/ui/records/contacts/{nora}/history/salary")
    unknown = ui.client.get(f"/ui/records/contacts/{nora}/history/nosuchname")
    assert refused.status_code == unknown.status_code == 404
    assert "1000" not in refused.text
    alert = re.compile(r'<p[^>]*>([^<]*has no property[^<]*)<')
    said = alert.search(refused.text), alert.search(unknown.text)
    assert said[0] and said[1], refused.text[-800:]
    assert said[0].group(1).replace("salary", "X") == said[1].group(1).replace("nosuchname",
                                                                              "X")
