"""Reports over HTTP, on both stores: saved, read, listed, replaced, cloned, deleted and
run through ``/propsync/v1/reports``; the scopes each call needs; a restricted property
never shown through a report; every refusal a 4xx in HubSpot's shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from propsync.domain.auth import Role
from propsync.services.accounts import create_token, create_user
from tests.conftest import Tenant, new_tenant
from tests.e2e.replies import codes, error

REPORTS = "/propsync/v1/reports"


def make(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": "Stages", "objectType": "contacts", "groupBy": "lifecyclestage", **fields}
    reply = api.post(REPORTS, json=body)
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == f"{REPORTS}/{reply.json()['id']}"
    return dict(reply.json())


def contacts(api: httpx.Client, *values: dict[str, str]) -> list[str]:
    reply = api.post("/crm/v3/objects/contacts/batch/create",
                     json={"inputs": [{"properties": v} for v in values]})
    assert reply.status_code == 201, reply.text
    return [r["id"] for r in reply.json()["results"]]


def run(api: httpx.Client, report_id: str, **params: str) -> dict[str, Any]:
    reply = api.get(f"{REPORTS}/{report_id}/run", params=params)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def shown(figures: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(g["kind"], g["label"], g["records"]) for g in figures["groups"]]


def test_a_report_is_saved_read_listed_run_replaced_and_deleted(api):
    contacts(api, {"lifecyclestage": "lead"}, {"lifecyclestage": "lead"},
             {"lifecyclestage": "customer"}, {"firstname": "Nobody"})
    saved = make(api)
    assert (saved["measure"], saved["chartType"], saved["maxGroups"]) == ("COUNT", "BAR", 20)
    assert api.get(f"{REPORTS}/{saved['id']}").json() == saved
    assert [r["id"] for r in api.get(REPORTS).json()["results"]] == [saved["id"]]
    figures = run(api, saved["id"])
    assert shown(figures) == [("VALUE", "Lead", 2), ("VALUE", "Customer", 1),
                              ("NO_VALUE", "(no value)", 1)]
    assert (figures["records"], figures["value"], figures["asOf"]) == (4, 4, None)
    changed = api.put(f"{REPORTS}/{saved['id']}", json={
        **{k: saved[k] for k in ("objectType", "groupBy")}, "name": "Stages, top one",
        "maxGroups": 1, "chartType": "PIE"})
    assert changed.status_code == 200, changed.text
    assert shown(run(api, saved["id"])) == [("VALUE", "Lead", 2), ("NO_VALUE", "(no value)", 1),
                                            ("OTHER", "(other)", 1)]
    assert api.delete(f"{REPORTS}/{saved['id']}").status_code == 204
    error(api.get(f"{REPORTS}/{saved['id']}"), 404, "OBJECT_NOT_FOUND")
    error(api.get(f"{REPORTS}/{saved['id']}/run"), 404, "OBJECT_NOT_FOUND")


def test_sums_and_averages_by_date_bucket_and_as_of_a_past_date(api):
    reply = api.post("/crm/v3/objects/deals/batch/create", json={"inputs": [
        {"properties": {"dealname": "A", "amount": "100", "closedate": "2026-01-05"}},
        {"properties": {"dealname": "B", "amount": "50", "closedate": "2026-02-10"}},
        {"properties": {"dealname": "C", "amount": "25.5", "closedate": "2026-02-28"}},
        {"properties": {"dealname": "D", "closedate": "2026-04-01"}}]})
    assert reply.status_code == 201, reply.text
    report = make(api, objectType="deals", groupBy="closedate", measure="SUM",
                  measureProperty="amount", chartType="LINE")
    assert report["dateBucket"] == "MONTH"  # a date group-by's default
    figures = run(api, report["id"])
    assert [(g["key"], g["label"], g["value"]) for g in figures["groups"]] == [
        ("2026-01", "Jan 2026", 100), ("2026-02", "Feb 2026", 75.5), ("2026-04", "Apr 2026", 0)]
    quarters = make(api, objectType="deals", groupBy="closedate", measure="AVERAGE",
                    measureProperty="amount", dateBucket="QUARTER")
    figures = run(api, quarters["id"])
    assert [(g["label"], g["records"], g["value"]) for g in figures["groups"]] == [
        ("Q1 2026", 3, pytest.approx(175.5 / 3)), ("Q2 2026", 1, None)]  # D: no amount
    assert [g["kind"] for g in run(api, quarters["id"], asOf="2001-01-01")["groups"]] == []
    then = run(api, report["id"], asOf="2000-06-30")
    assert (then["asOf"], then["records"]) == ("2000-06-30T23:59:59.999Z", 0)


def test_hostile_definitions_are_refused_in_hubspots_shape_and_save_nothing(api):
    bad: list[tuple[dict[str, Any], str]] = [
        ({"maxGroups": 100_000}, "maxGroups"),
        ({"maxGroups": 0}, "maxGroups"),
        ({"dateBucket": "YEAR"}, "dateBucket"),
        ({"dateBucket": "MONTH"}, "dateBucket"),  # lifecyclestage is no date
        ({"groupBy": "no_such_property"}, "groupBy"),
        ({"measure": "SUM"}, "measureProperty"),
        ({"measure": "SUM", "measureProperty": "firstname"}, "measureProperty"),
        ({"measure": "MEDIAN"}, "measure"),
        ({"objectType": "widgets"}, "objectType"),
        ({"chartType": "RADAR"}, "chartType"),
        ({"filterBranch": {"filterBranchType": "NOT"}}, "filterBranch"),
        ({"filterBranch": {"filterBranchType": "AND", "filters": [{
            "filterType": "PROPERTY", "property": "nope", "operation": {
                "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}}, "filterBranch"),
        ({"filterBranch": {"filterBranchType": "AND", "filters": [{
            "filterType": "PROPERTY", "property": "createdate", "operation": {
                "operationType": "NUMBER", "operator": "IS_GREATER_THAN",
                "value": "soon"}}]}}, "filterBranch"),
        ({"name": "x" * 201}, "name"),
        ({"colour": "red"}, "colour"),
    ]
    for fields, where in bad:
        body = {"name": "Bad", "objectType": "contacts", "groupBy": "lifecyclestage", **fields}
        reply = api.post(REPORTS, json=body)
        assert reply.status_code == 400, (fields, reply.text)
        assert where in reply.json()["message"], (fields, reply.text)
    assert api.get(REPORTS).json()["results"] == []
    report = make(api)
    for as_of in ("2999-01-01", "yesterday", "2026-13-01", "1e9"):
        error(api.get(f"{REPORTS}/{report['id']}/run", params={"asOf": as_of}), 400)
    for hostile in ("²", "00001", "9" * 19, "-1"):
        error(api.get(f"{REPORTS}/{hostile}/run"), 404)


def test_many_groups_come_back_as_the_biggest_and_one_other(api):
    contacts(api, *({"email": f"p{i}@example.com", "jobtitle": "Dev" if i % 3 else "Ops"}
                    for i in range(90)))
    report = make(api, groupBy="email", maxGroups=5)
    figures = run(api, report["id"])
    assert [g["kind"] for g in figures["groups"]] == ["VALUE"] * 5 + ["OTHER"]
    assert (figures["groups"][-1]["groups"], figures["groups"][-1]["records"]) == (85, 85)
    titles = run(api, make(api, groupBy="jobtitle")["id"])
    assert shown(titles) == [("VALUE", "Dev", 60), ("VALUE", "Ops", 30)]


def test_the_scopes_reports_need(server, tenant: Tenant):
    report = make(tenant.client)
    for scopes, list_ok, get_ok, run_ok in (
            ("crm.objects.contacts.read crm.schemas.contacts.read", False, False, False),
            ("business-intelligence", True, False, False),
            ("business-intelligence crm.schemas.contacts.read", True, True, False),
            ("business-intelligence crm.schemas.contacts.read crm.objects.contacts.read",
             True, True, True)):
        token = create_token(server.engine, tenant.account_id, scopes, tenant.user_id).token
        client = tenant.client_for(token)
        for reply, ok in ((client.get(REPORTS), list_ok),
                          (client.get(f"{REPORTS}/{report['id']}"), get_ok),
                          (client.get(f"{REPORTS}/{report['id']}/run"), run_ok)):
            if ok:
                assert reply.status_code == 200, (scopes, reply.text)
            else:
                error(reply, 403, "MISSING_SCOPES")
        listed = client.get(REPORTS)
        if list_ok:  # a report whose properties the token may not read is not listed
            assert len(listed.json()["results"]) == (1 if get_ok else 0)
        user = create_token(server.engine, tenant.account_id, "all", create_user(
            server.engine, tenant.account_id, f"u-{len(scopes)}@example.com",
            role=Role.USER)).token
        error(tenant.client_for(user).post(REPORTS, json={
            "name": "Mine", "objectType": "contacts", "groupBy": "jobtitle"}), 403, "FORBIDDEN")
        assert tenant.client_for(user).get(f"{REPORTS}/{report['id']}/run").status_code == 200


def test_a_restricted_property_is_never_shown_through_a_report(server, tenant: Tenant):
    api = tenant.client
    made = api.post("/crm/v3/properties/contacts", json={
        "name": "salary_band", "label": "Salary band", "type": "string", "fieldType": "text",
        "groupName": "contactinformation",
        "access": {"view": {"everyone": False, "userIds": [tenant.user_id]},
                   "edit": {"everyone": False, "userIds": [tenant.user_id]}}})
    assert made.status_code == 201, made.text
    contacts(api, {"salary_band": "band-secret-A"}, {"salary_band": "band-secret-B"})
    mine = make(api, groupBy="salary_band")
    assert {g["label"] for g in run(api, mine["id"])["groups"]} == {"band-secret-A",
                                                                    "band-secret-B"}
    filtered = make(api, groupBy="jobtitle", filterBranch={
        "filterBranchType": "AND", "filters": [{
            "filterType": "PROPERTY", "property": "salary_band", "operation": {
                "operationType": "STRING", "operator": "IS_EQUAL_TO", "value": "band-secret-A"}}]})
    other = create_user(server.engine, tenant.account_id, "other-admin@example.com",
                        role=Role.ADMIN)
    client = tenant.client_for(create_token(server.engine, tenant.account_id, "all",
                                            other).token)
    for report in (mine, filtered):
        body = error(client.get(f"{REPORTS}/{report['id']}/run"), 403, "FORBIDDEN")
        assert codes(body) == ["PROPERTY_VIEW_RESTRICTED"]
        assert "salary_band" not in str(body) and "band-secret" not in str(body)
    refused = error(client.post(REPORTS, json={"name": "Try", "objectType": "contacts",
                                               "groupBy": "salary_band"}), 403, "FORBIDDEN")
    assert "band-secret" not in str(refused)
    error(client.post(f"{REPORTS}/{mine['id']}/clone", json={}), 403, "FORBIDDEN")
    assert len(api.get(REPORTS).json()["results"]) == 2


def test_a_clone_can_put_another_property_in_the_old_ones_place(api):
    for name, kind, field in (("old_stage", "string", "text"), ("new_stage", "string", "text"),
                              ("stage_count", "number", "number")):
        assert api.post("/crm/v3/properties/contacts", json={
            "name": name, "label": name, "type": kind, "fieldType": field,
            "groupName": "contactinformation"}).status_code == 201
    contacts(api, {"old_stage": "a", "new_stage": "b"})
    original = make(api, groupBy="old_stage", filterBranch={
        "filterBranchType": "OR", "filterBranches": [{"filterBranchType": "AND", "filters": [{
            "filterType": "PROPERTY", "property": "old_stage", "operation": {
                "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]})
    reply = api.post(f"{REPORTS}/{original['id']}/clone",
                     json={"name": "New stages", "replace": {"property": "old_stage",
                                                             "with": "new_stage"}})
    assert reply.status_code == 201, reply.text
    clone = reply.json()
    assert (clone["name"], clone["groupBy"]) == ("New stages", "new_stage")
    assert clone["filterBranch"]["filterBranches"][0]["filters"][0]["property"] == "new_stage"
    assert shown(run(api, clone["id"])) == [("VALUE", "b", 1)]
    plain = api.post(f"{REPORTS}/{original['id']}/clone", json={})
    assert plain.json()["name"] == "Copy of Stages" and plain.json()["groupBy"] == "old_stage"
    wrong = error(api.post(f"{REPORTS}/{original['id']}/clone", json={
        "replace": {"property": "old_stage", "with": "stage_count"}}), 400)
    assert codes(wrong) == ["INCOMPATIBLE_REPLACEMENT"]
    error(api.post(f"{REPORTS}/{original['id']}/clone", json={
        "replace": {"property": "jobtitle", "with": "new_stage"}}), 400)


@pytest.fixture
def api(tenant: Tenant) -> httpx.Client:
    return tenant.client


def test_another_account_sees_no_report(server, tenant: Tenant):
    report = make(tenant.client)
    stranger = new_tenant(server).client
    error(stranger.get(f"{REPORTS}/{report['id']}"), 404)
    error(stranger.get(f"{REPORTS}/{report['id']}/run"), 404)
    error(stranger.delete(f"{REPORTS}/{report['id']}"), 404)
    assert stranger.get(REPORTS).json()["results"] == []


def test_as_of_takes_ascii_digits_only(api):
    report = make(api)
    for hostile in ("\u0661", "\u0661\u0662\u0663", "\uff12\uff10\uff12\uff10-01-01",
                    "2020-01-0\u0661", "2020-01-01T00:00:00\u0661Z", "²"):
        error(api.get(f"{REPORTS}/{report['id']}/run", params={"asOf": hostile}), 400)


def test_a_report_counts_only_its_lists_members_and_keeps_the_list(api):
    ids = contacts(api, {"lifecyclestage": "lead"}, {"lifecyclestage": "lead"},
                   {"lifecyclestage": "customer"})
    made = api.post("/crm/v3/lists", json={"name": "Picked", "objectTypeId": "0-1",
                                           "processingType": "MANUAL"})
    assert made.status_code == 200, made.text
    list_id = made.json()["list"]["listId"]
    added = api.put(f"/crm/v3/lists/{list_id}/memberships/add", json=[ids[0], ids[2]])
    assert added.status_code == 200, added.text
    report = make(api, listId=list_id)
    assert report["listId"] == list_id
    assert sorted(shown(run(api, report["id"]))) == [("VALUE", "Customer", 1),
                                                     ("VALUE", "Lead", 1)]
    assert run(api, report["id"])["records"] == 2
    # the list cannot go while the report counts from it
    refused = error(api.delete(f"/crm/v3/lists/{list_id}"), 400, "VALIDATION_ERROR")
    assert "Stages" in refused["message"] and codes(refused) == ["LIST_IN_USE"]
    assert api.get(f"/crm/v3/lists/{list_id}").status_code == 200
    # a list of another type, or none, is refused and nothing is saved
    companies = api.post("/crm/v3/lists", json={"name": "Firms", "objectTypeId": "0-2",
                                                "processingType": "MANUAL"})
    for bad, code in ((companies.json()["list"]["listId"], "LIST_OF_ANOTHER_TYPE"),
                      ("999999", "LIST_DOESNT_EXIST"), ("01", "VALIDATION_ERROR")):
        reply = api.post(REPORTS, json={"name": "Bad", "objectType": "contacts",
                                        "groupBy": "lifecyclestage", "listId": bad})
        assert reply.status_code == 400 and code in [reply.json()["category"],
                                                     *codes(reply.json())], reply.text
    unlisted = api.put(f"{REPORTS}/{report['id']}", json={
        "name": "Stages", "objectType": "contacts", "groupBy": "lifecyclestage"})
    assert unlisted.status_code == 200 and unlisted.json()["listId"] is None
    assert run(api, report["id"])["records"] == 3
    assert api.delete(f"/crm/v3/lists/{list_id}").status_code == 204
