"""Property access rules: a user without access never sees a restricted value, anywhere."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from propsync.services.accounts import create_team, create_token, create_user
from tests.conftest import Tenant, client_for, new_tenant


@dataclass
class Office:
    tenant: Tenant
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
    return Office(tenant, admin, outsider, member, viewer, record)


def test_single_list_batch_and_history_reads_hide_the_value(office):
    path = f"/crm/v3/objects/deals/{office.record}"
    params = {"properties": "dealname,margin", "propertiesWithHistory": "margin"}
    assert office.admin.get(path, params=params).json()["properties"]["margin"] == "42"
    seen = office.outsider.get(path, params=params).json()
    assert "margin" not in seen["properties"]
    assert "margin" not in seen.get("propertiesWithHistory", {})
    listed = office.outsider.get("/crm/v3/objects/deals", params=params).json()
    assert listed["results"] and "margin" not in str(listed)
    assert "42" in str(office.admin.get("/crm/v3/objects/deals", params=params).json())
    batch = office.outsider.post("/crm/v3/objects/deals/batch/read", json={
        "inputs": [{"id": office.record}], "properties": ["margin"],
        "propertiesWithHistory": ["margin"]}).json()
    assert "margin" not in batch["results"][0]["properties"]
    assert "margin" not in str(batch)
    everything = office.outsider.get(path).json()
    assert "margin" not in everything["properties"]


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


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_writes_need_edit_access_and_change_nothing_when_refused(office, who):
    client: httpx.Client = getattr(office, who)
    path = f"/crm/v3/objects/deals/{office.record}"
    for reply in (
        client.patch(path, json={"properties": {"margin": "1", "dealname": "Renamed"}}),
        client.post("/crm/v3/objects/deals/batch/update", json={"inputs": [
            {"id": office.record, "properties": {"margin": "1"}}]}),
        client.post("/crm/v3/objects/deals", json={"properties": {"margin": "1"}}),
        client.post("/crm/v3/objects/deals/batch/create", json={"inputs": [
            {"properties": {"dealname": "New", "margin": "1"}}]}),
    ):
        assert reply.status_code == 403, reply.text
        assert reply.json()["errors"][0]["code"] == "PROPERTY_EDIT_RESTRICTED"
    seen = office.admin.get(path, params={"properties": "margin,dealname",
                                          "propertiesWithHistory": "margin"}).json()
    assert seen["properties"]["margin"] == "42" and seen["properties"]["dealname"] == "Secret deal"
    assert len(seen["propertiesWithHistory"]["margin"]) == 1
    listed = office.admin.get("/crm/v3/objects/deals").json()["results"]
    assert [r["id"] for r in listed] == [office.record]


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
    assert prop["access"]["edit"]["teamIds"] == prop["access"]["view"]["teamIds"]
    listed = office.outsider.get("/crm/v3/properties/deals").json()["results"]
    assert "margin" in {p["name"] for p in listed}


def test_opening_the_rule_shows_the_value_to_everyone(office):
    path = f"/crm/v3/objects/deals/{office.record}"
    everyone = {"everyone": True}
    reply = office.admin.patch("/crm/v3/properties/deals/margin",
                               json={"access": {"view": everyone, "edit": everyone}})
    assert reply.status_code == 200 and reply.json()["access"]["view"]["everyone"] is True
    assert office.outsider.get(path, params={"properties": "margin"}).json()[
        "properties"]["margin"] == "42"
    assert office.outsider.patch(path, json={"properties": {"margin": "7"}}).status_code == 200


def test_restricting_an_open_property_hides_its_values_at_once(office):
    path = f"/crm/v3/objects/deals/{office.record}"
    assert office.outsider.get(path, params={"properties": "dealname"}).json()[
        "properties"]["dealname"] == "Secret deal"
    rule = {"view": {"everyone": False, "userIds": [office.tenant.user_id]}}
    assert office.admin.patch("/crm/v3/properties/deals/dealname",
                              json={"access": rule}).status_code == 200
    assert "dealname" not in office.outsider.get(path, params={
        "properties": "dealname"}).json()["properties"]
    assert office.admin.get(path, params={"properties": "dealname"}).json()[
        "properties"]["dealname"] == "Secret deal"


def test_a_rule_may_not_name_another_accounts_users_or_teams(office):
    stranger = new_tenant(office.tenant.server)
    team = create_team(stranger.server.engine, stranger.account_id, "Theirs", [stranger.user_id])
    for side in ({"userIds": [stranger.user_id]}, {"teamIds": [team]}):
        reply = office.admin.patch("/crm/v3/properties/deals/margin", json={
            "access": {"view": {"everyone": False, **side}}})
        assert reply.status_code == 400, reply.text
        assert reply.json()["errors"][0]["code"] == "INVALID_ACCESS"
    assert office.admin.get("/crm/v3/properties/deals/margin").json()["access"]["view"][
        "userIds"] != [stranger.user_id]
