"""Lists v3 over HTTP, on both stores: refusals in HubSpot's shape naming the part, a
restricted property that a list filters on never told through the list (its filter,
members or size), clone with a property replaced, and "Used in"."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from propsync.services import list_usage
from propsync.services.accounts import create_token, create_user
from propsync.storage.db import read_transaction
from tests.conftest import Tenant, client_for
from tests.e2e.replies import codes
from tests.patience import wait_until


def one(name: str, operation: dict[str, Any]) -> dict[str, Any]:
    return {"filterBranchType": "OR", "filterBranches": [{"filterBranchType": "AND", "filters": [
        {"filterType": "PROPERTY", "property": name, "operation": operation}]}]}


def dynamic(api: httpx.Client, name: str, branch: dict[str, Any], ot: str = "0-1"
            ) -> httpx.Response:
    return api.post("/crm/v3/lists", json={"name": name, "objectTypeId": ot,
                                           "processingType": "DYNAMIC", "filterBranch": branch})


def members(api: httpx.Client, list_id: str) -> list[str]:
    return [m["recordId"] for m in api.get(f"/crm/v3/lists/{list_id}/memberships")
            .json()["results"]]


@pytest.fixture
def secret(tenant: Tenant) -> tuple[httpx.Client, str]:
    """A deal property only the admin may view, a deal with it, and a plain user."""
    engine, admin = tenant.server.engine, tenant.client
    reply = admin.post("/crm/v3/properties/deals", json={
        "name": "margin", "label": "Margin", "type": "number", "fieldType": "number",
        "groupName": "dealinformation",
        "access": {"view": {"everyone": False, "userIds": [tenant.user_id]},
                   "edit": {"everyone": False, "userIds": [tenant.user_id]}}})
    assert reply.status_code == 201, reply.text
    admin.post("/crm/v3/objects/deals", json={"properties": {"dealname": "D", "margin": "42"}})
    uid = create_user(engine, tenant.account_id, "plain@lists.example")
    return client_for(tenant.server, create_token(engine, tenant.account_id, "all",
                                                  uid).token), "margin"


def test_a_list_on_a_restricted_property_is_refused_to_who_may_not_view_it(tenant, secret):
    user, name = secret
    branch = one(name, {"operationType": "NUMBER", "operator": "IS_GREATER_THAN", "value": 40})
    refused = dynamic(user, "Margins", branch, "0-3")
    assert refused.status_code == 403
    assert codes(refused.json()) == ["PROPERTY_VIEW_RESTRICTED"]
    made = dynamic(tenant.client, "Margins", branch, "0-3")
    assert made.status_code == 200, made.text
    list_id = made.json()["list"]["listId"]
    wait_until(lambda: len(members(tenant.client, list_id)) == 1, "the deal joining")
    for path in (f"/crm/v3/lists/{list_id}", f"/crm/v3/lists/{list_id}/memberships",
                 "/crm/v3/lists/object-type-id/0-3/name/Margins"):
        reply = user.get(path)
        shown = {k: v for k, v in reply.json().items() if k != "correlationId"}  # random
        assert reply.status_code == 403 and "42" not in json.dumps(shown), (path, reply.text)
    assert user.get(f"/crm/v3/lists?listIds={list_id}").json() == {"lists": []}
    found = user.post("/crm/v3/lists/search", json={"offset": 0, "additionalProperties": []})
    assert found.json()["total"] == 0  # not even its size
    assert tenant.client.post("/crm/v3/lists/search", json={
        "offset": 0, "additionalProperties": []}).json()["total"] == 1


@pytest.mark.parametrize(("body", "code", "named"), [
    ({"processingType": "DYNAMIC"}, "MISSING_FILTER", "filterBranch"),
    ({"processingType": "ROLLING"}, "INVALID_PROCESSING_TYPE", "processingType"),
    ({"listFolderId": 7}, "UNSUPPORTED_LIST_PART", "listFolderId"),
    ({"processingType": "DYNAMIC", "filterBranch": one("no_such", {
        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"})}, "PROPERTY_DOESNT_EXIST",
     "no_such"),
    ({"processingType": "DYNAMIC", "filterBranch": one("lastmodifieddate", {
        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"})}, "UNSUPPORTED_LIST_PART",
     "lastmodifieddate"),
    ({"processingType": "DYNAMIC", "filterBranch": one("firstname", {
        "operationType": "TIME_POINT", "operator": "IS_AFTER", "timePoint": {
            "timeType": "DATE", "zoneId": "UTC", "year": 2026, "month": 1, "day": 1}})},
     "INVALID_FILTER", "firstname"),
    ({"processingType": "DYNAMIC", "filterBranch": {"filterBranchType": "NOT_ALL"}},
     "UNSUPPORTED_LIST_PART", "NOT_ALL"),
    ({"processingType": "DYNAMIC", "filterBranch": {"filterBranchType": "OR", "filterBranches": [
        {"filterBranchType": "AND", "filters": [{"filterType": "ASSOCIATION"}]}]}},
     "UNSUPPORTED_LIST_PART", "ASSOCIATION"),
])
def test_refusals_name_the_part_and_change_nothing(api, body, code, named):
    reply = api.post("/crm/v3/lists", json={"name": "L", "objectTypeId": "0-1",
                                            "processingType": "MANUAL", **body})
    assert reply.status_code == 400, reply.text
    assert codes(reply.json()) == [code] and named in reply.json()["message"]
    assert api.post("/crm/v3/lists/search", json={"offset": 0, "additionalProperties": []}
                    ).json()["total"] == 0


def test_names_are_unique_and_a_dynamic_list_takes_no_member_by_hand(api):
    branch = one("firstname", {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"})
    list_id = dynamic(api, "Named", branch).json()["list"]["listId"]
    again = dynamic(api, "Named", branch)
    assert again.status_code == 409 and codes(again.json()) == ["DUPLICATE_LIST_NAME"]
    rid = api.post("/crm/v3/objects/contacts", json={"properties": {}}).json()["id"]
    added = api.put(f"/crm/v3/lists/{list_id}/memberships/add", json=[rid])
    assert added.status_code == 400 and codes(added.json()) == ["LIST_IS_DYNAMIC"]
    assert api.put(f"/crm/v3/lists/{list_id}/update-list-filters", json={
        "filterBranch": {"filterBranchType": "OR", "filterBranches": [
            {"filterBranchType": "AND", "filters": [{"filterType": "PROPERTY",
                                                       "property": "firstname"}]}]}}
                   ).status_code == 400
    manual = api.post("/crm/v3/lists", json={"name": "M", "objectTypeId": "0-1",
                                             "processingType": "MANUAL"}).json()["list"]
    refused = api.put(f"/crm/v3/lists/{manual['listId']}/update-list-filters",
                      json={"filterBranch": branch})
    assert refused.status_code == 400 and codes(refused.json()) == ["LIST_NOT_DYNAMIC"]


def test_archived_records_leave_every_list(api):
    branch = one("city", {"operationType": "STRING", "operator": "IS_EQUAL_TO",
                          "value": "Oslo"})
    list_id = dynamic(api, "Oslo", branch).json()["list"]["listId"]
    manual = api.post("/crm/v3/lists", json={"name": "Hand", "objectTypeId": "0-1",
                                             "processingType": "MANUAL"}).json()["list"]
    rid = api.post("/crm/v3/objects/contacts", json={"properties": {"city": "oslo"}}
                   ).json()["id"]
    api.put(f"/crm/v3/lists/{manual['listId']}/memberships/add", json=[rid])
    wait_until(lambda: members(api, list_id) == [rid], "joining (equality ignores case)")
    api.delete(f"/crm/v3/objects/contacts/{rid}")
    wait_until(lambda: members(api, list_id) == [] and members(api, manual["listId"]) == [],
               "leaving both lists")
    assert api.get(f"/crm/v3/lists/{manual['listId']}").json()["list"]["size"] == 0


def test_a_merge_hands_the_merged_records_manual_list_places_to_the_record_kept(api):
    """As in the CRM this copies: after a merge, the record kept is in every list either
    was in; the merged one is in none. Its join time is the earlier one's."""
    def contact(city: str) -> str:
        return str(api.post("/crm/v3/objects/contacts", json={"properties": {"city": city}}
                            ).json()["id"])

    def manual(name: str, ids: list[str]) -> str:
        made = api.post("/crm/v3/lists", json={"name": name, "objectTypeId": "0-1",
                                               "processingType": "MANUAL"}).json()["list"]
        api.put(f"/crm/v3/lists/{made['listId']}/memberships/add", json=ids)
        return str(made["listId"])

    keep, drop = contact("Oslo"), contact("Rome")
    only_drop, both, only_keep = manual("Drop", [drop]), manual("Both", [keep, drop]), \
        manual("Keep", [keep])
    rome = dynamic(api, "Rome", one("city", {"operationType": "STRING",
                                             "operator": "IS_EQUAL_TO", "value": "Rome"}))
    rome_id = rome.json()["list"]["listId"]
    wait_until(lambda: members(api, rome_id) == [drop], "the dynamic list's evaluation")
    joined = api.get(f"/crm/v3/lists/{only_drop}/memberships").json()["results"][0][
        "membershipTimestamp"]
    assert api.post("/crm/v3/objects/contacts/merge", json={
        "primaryObjectId": keep, "objectIdToMerge": drop}).status_code == 200
    wait_until(lambda: members(api, only_drop) == [keep], "the kept record taking the place")
    assert members(api, both) == [keep] and members(api, only_keep) == [keep]
    assert [api.get(f"/crm/v3/lists/{i}").json()["list"]["size"]
            for i in (only_drop, both, only_keep)] == [1, 1, 1]
    assert api.get(f"/crm/v3/lists/{only_drop}/memberships").json()["results"][0][
        "membershipTimestamp"] == joined
    # A DYNAMIC list asks its filter of the record kept (Oslo: it leaves the Rome list).
    wait_until(lambda: members(api, rome_id) == [], "leaving the dynamic list")


def test_clone_replaces_a_property_and_uses_are_listed(tenant, api):
    api.post("/crm/v3/properties/contacts", json={
        "name": "region", "label": "Region", "type": "string", "fieldType": "text",
        "groupName": "contactinformation"})
    api.post("/crm/v3/properties/contacts", json={
        "name": "score", "label": "Score", "type": "number", "fieldType": "number",
        "groupName": "contactinformation"})
    branch = one("city", {"operationType": "STRING", "operator": "IS_EQUAL_TO",
                          "value": "Oslo"})
    list_id = dynamic(api, "Oslo", branch).json()["list"]["listId"]
    bad = api.post(f"/propsync/v1/lists/{list_id}/clone",
                   json={"replace": {"property": "city", "with": "score"}})
    assert bad.status_code == 400 and codes(bad.json()) == ["INCOMPATIBLE_REPLACEMENT"]
    clone = api.post(f"/propsync/v1/lists/{list_id}/clone",
                     json={"name": "Oslo by region",
                           "replace": {"property": "city", "with": "region"}})
    assert clone.status_code == 200, clone.text
    got = clone.json()["list"]
    assert got["name"] == "Oslo by region" and got["processingType"] == "DYNAMIC"
    assert got["filterBranch"]["filterBranches"][0]["filters"][0]["property"] == "region"
    with read_transaction(tenant.server.engine) as conn:
        uses = list_usage.property_uses(conn, tenant.account_id, "contacts", "region")
    assert [(u.kind, u.asset_id, u.parts, u.link) for u in uses] == [
        ("list", got["listId"], ("filter branch 1",), f"/ui/lists/{got['listId']}")]


def test_a_gdpr_deleted_record_leaves_every_list_and_its_size(api):
    manual = api.post("/crm/v3/lists", json={"name": "Hand", "objectTypeId": "0-1",
                                             "processingType": "MANUAL"}).json()["list"]
    rid = api.post("/crm/v3/objects/contacts", json={"properties": {
        "email": "gone@lists.example"}}).json()["id"]
    api.put(f"/crm/v3/lists/{manual['listId']}/memberships/add", json=[rid])
    erased = api.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": rid})
    assert erased.status_code == 204, erased.text
    assert members(api, manual["listId"]) == []
    assert api.get(f"/crm/v3/lists/{manual['listId']}").json()["list"]["size"] == 0
