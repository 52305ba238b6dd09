"""Property access rules: a user without access never sees a restricted value, anywhere."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from propsync.services.accounts import create_team, create_token, create_user
from tests.conftest import Tenant, client_for


@dataclass
class Office:
    admin: httpx.Client
    outsider: httpx.Client
    team_member: httpx.Client
    viewer: httpx.Client
    record: str


@pytest.fixture
def office(tenant: Tenant) -> Office:
    engine = tenant.server.engine

    def user(email: str) -> tuple[int, httpx.Client]:
        uid = create_user(engine, tenant.account_id, email)
        return uid, client_for(tenant.server, create_token(engine, tenant.account_id, "all",
                                                            uid).token)

    _, outsider = user("outsider@x.com")
    member_id, member = user("member@x.com")
    viewer_id, viewer = user("viewer@x.com")
    team = create_team(engine, tenant.account_id, "Finance", [member_id])
    admin = tenant.client
    reply = admin.post("/crm/v3/properties/deals", json={
        "name": "margin", "label": "Margin", "type": "number", "fieldType": "number",
        "groupName": "dealinformation",
        "access": {"view": {"everyone": False, "userIds": [tenant.user_id, viewer_id],
                            "teamIds": [team]},
                   "edit": {"everyone": False, "userIds": [tenant.user_id], "teamIds": [team]}}})
    assert reply.status_code == 201, reply.text
    record = admin.post("/crm/v3/objects/deals", json={
        "properties": {"dealname": "Secret deal", "margin": "42"}}).json()["id"]
    return Office(admin, outsider, member, viewer, record)


def test_single_list_batch_and_history_reads_hide_the_value(office):
    path = f"/crm/v3/objects/deals/{office.record}"
    params = {"properties": "dealname,margin", "propertiesWithHistory": "margin"}
    assert office.admin.get(path, params=params).json()["properties"]["margin"] == "42"
    seen = office.outsider.get(path, params=params).json()
    assert "margin" not in seen["properties"]
    assert "margin" not in seen.get("propertiesWithHistory", {})
    listed = office.outsider.get("/crm/v3/objects/deals", params={"properties": "margin"}).json()
    assert all("margin" not in r["properties"] for r in listed["results"])
    batch = office.outsider.post("/crm/v3/objects/deals/batch/read", json={
        "inputs": [{"id": office.record}], "properties": ["margin"],
        "propertiesWithHistory": ["margin"]}).json()
    assert "margin" not in batch["results"][0]["properties"]
    assert "margin" not in str(batch)


def test_search_cannot_filter_sort_or_query_by_a_restricted_property(office):
    for body in ({"filterGroups": [{"filters": [
            {"propertyName": "margin", "operator": "EQ", "value": "42"}]}]},
            {"sorts": ["margin"]}):
        reply = office.outsider.post("/crm/v3/objects/deals/search", json=body)
        assert reply.status_code == 400
        assert reply.json()["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    found = office.outsider.post("/crm/v3/objects/deals/search",
                                 json={"properties": ["margin", "dealname"]}).json()
    assert found["results"][0]["properties"] == {"dealname": "Secret deal"}
    allowed = office.admin.post("/crm/v3/objects/deals/search", json={"filterGroups": [
        {"filters": [{"propertyName": "margin", "operator": "EQ", "value": "42"}]}]})
    assert [r["id"] for r in allowed.json()["results"]] == [office.record]


def test_writes_need_edit_access_and_change_nothing_when_refused(office):
    path = f"/crm/v3/objects/deals/{office.record}"
    for client in (office.viewer, office.outsider):
        reply = client.patch(path, json={"properties": {"margin": "1"}})
        assert reply.status_code in (400, 403), reply.text
    assert office.viewer.patch(path, json={"properties": {"margin": "1"}}).status_code == 403
    assert office.viewer.get(path, params={"properties": "margin"}).json()[
        "properties"]["margin"] == "42"


def test_a_team_member_has_the_teams_access(office):
    path = f"/crm/v3/objects/deals/{office.record}"
    assert office.team_member.get(path, params={"properties": "margin"}).json()[
        "properties"]["margin"] == "42"
    assert office.team_member.patch(path, json={"properties": {"margin": "43"}}
                                    ).status_code == 200
    assert office.admin.get(path, params={"properties": "margin"}).json()[
        "properties"]["margin"] == "43"


def test_the_definition_stays_listed_with_its_rule(office):
    prop = office.outsider.get("/crm/v3/properties/deals/margin").json()
    assert prop["access"]["view"]["everyone"] is False
