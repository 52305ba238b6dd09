"""The migration assistant's read-only API over HTTP, on both stores: the account's
workflows scanned and planned (one clean copy, one with stale copies, a two-way pair, one
with an enrollment filter), workflows exported from HubSpot posted and scanned, and
hostile input refused in HubSpot's error shape, changing nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from propsync.domain.objects import OBJECT_TYPES
from propsync.services.accounts import create_token
from tests.conftest import Tenant, new_tenant
from tests.e2e.associations import labelled, make
from tests.e2e.replies import error
from tests.integration.flows import (
    association,
    copied,
    equals,
    fetched,
    flow,
    known,
    set_property,
    source,
)

SCAN, PLAN = "/propsync/v1/migrations/scan", "/propsync/v1/migrations/plan"
UNLABELED, COMPANY_TO_CONTACT = 279, 280


def copy_from(target: str, prop: str, name: str,
              criteria: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return flow("contacts", [set_property("1", target, fetched("co", prop))],
                sources=[source("co", "companies", UNLABELED)],
                criteria=criteria or [known("createdate")], name=name, enabled=False)


def created(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(path, json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def text_property(api: httpx.Client, object_type: str, name: str) -> None:
    created(api, f"/crm/v3/properties/{object_type}", {
        "name": name, "label": name.replace("_", " ").capitalize(), "type": "string",
        "fieldType": "text", "groupName": OBJECT_TYPES[object_type].group})


class Demo:
    """Two companies and four contacts, each contact's copies as the workflows wrote them,
    then two of the region copies made stale."""

    def __init__(self, api: httpx.Client) -> None:
        for ot, name in (("contacts", "company_name"), ("contacts", "company_region"),
                         ("contacts", "company_tier"), ("companies", "region"),
                         ("companies", "tier")):
            text_property(api, ot, name)
        acme = make(api, "companies", name="Acme", region="North", tier="Gold")
        beta = make(api, "companies", name="Beta", region="South", tier="Silver")
        self.contacts = []
        for i, (company, region, name) in enumerate(((acme, "North", "Acme"),
                                                     (beta, "South", "Beta")) * 2):
            stage = {"lifecyclestage": "customer"} if i == 0 else {}
            contact = make(api, "contacts", company_name=name, company_region=region,
                           **stage)
            assert labelled(api, contact, company, UNLABELED).status_code == 201
            self.contacts.append(contact)
        self.tiered = self.contacts[0]
        api.patch(f"/crm/v3/objects/contacts/{self.tiered}",
                  json={"properties": {"company_tier": "Gold"}}).raise_for_status()
        self.stale = sorted((self.contacts[1], self.contacts[2]), key=int)
        for contact in self.stale:
            api.patch(f"/crm/v3/objects/contacts/{contact}",
                      json={"properties": {"company_region": "Stale"}}).raise_for_status()
        f = "/automation/v4/flows"
        self.clean = created(api, f, copy_from("company_name", "name", "Name copy"))["id"]
        self.copy = created(api, f, copy_from("company_region", "region", "Region copy"))["id"]
        self.filtered = created(api, f, copy_from("company_tier", "tier", "Tier for customers",
                                                  [equals("lifecyclestage", "customer")]))["id"]
        self.down = created(api, f, flow("companies", [set_property(
            "1", "city", copied("city"), to=association(COMPANY_TO_CONTACT))],
            criteria=[known("city")], reenroll_on=["city"], name="Down", enabled=False))["id"]
        self.up = created(api, f, flow("contacts", [set_property(
            "1", "city", copied("city"), to=association(UNLABELED))],
            criteria=[known("city")], reenroll_on=["city"], name="Up", enabled=False))["id"]


@pytest.fixture
def demo(api: httpx.Client) -> Demo:
    return Demo(api)


def test_the_account_is_scanned_and_each_copy_classified(api, demo):
    reply = api.get(SCAN)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    kinds = {r["flowId"]: r["kind"] for r in body["results"]}
    assert kinds == {demo.clean: "ONE_WAY_COPY", demo.copy: "ONE_WAY_COPY",
                     demo.filtered: "CONDITIONAL_COPY", demo.down: "TWO_WAY",
                     demo.up: "TWO_WAY"}
    assert body["hidden"] == 0
    by_id = {r["flowId"]: r for r in body["results"]}
    assert by_id[demo.down]["partner"] == demo.up and "syncProperty" not in by_id[demo.down]
    assert by_id[demo.filtered]["excludedRecords"] == 3
    assert "excludedRecords" not in by_id[demo.clean]
    assert by_id[demo.filtered]["differences"] == [{"code": "ENROLLMENT_FILTER", "text": (
        "The workflow copies only for contacts with lifecycle stage = customer; a sync "
        "property copies for every contact.")}]
    assert by_id[demo.clean]["syncProperty"] == {
        "objectType": "contacts", "replacesProperty": "company_name",
        "sourceObjectType": "companies", "sourceProperty": "name",
        "associationTypes": [{"associationCategory": "HUBSPOT_DEFINED",
                              "associationTypeId": UNLABELED, "label": "Unlabeled"}],
        "selection": "FIRST_CREATED", "direction": "FROM"}


def test_the_plan_counts_exactly_the_stale_copies_seeded(api, demo):
    before = api.get("/crm/v3/objects/contacts", params={"limit": 100,
                                                         "properties": "company_region"})
    reply = api.get(f"{PLAN}/{demo.copy}")
    assert reply.status_code == 200, reply.text
    plan = reply.json()
    assert plan["syncProperty"]["name"] == "company_region_sync"
    assert plan["syncProperty"]["label"] == "Company region (sync)"
    assert plan["dryRun"] == {"targets": 4, "withValue": 4, "topValues": [
        {"value": "North", "count": 2}, {"value": "South", "count": 2}], "differing": 2,
        "stale": 2, "missing": 0, "orphaned": 0, "sampleRecordIds": demo.stale}
    clean = api.get(f"{PLAN}/{demo.clean}").json()["dryRun"]
    assert (clean["differing"], clean["sampleRecordIds"]) == (0, [])
    filtered = api.get(f"{PLAN}/{demo.filtered}").json()
    assert filtered["excludedByConditions"] == 3  # four would get a tier; one is a customer
    assert api.get("/crm/v3/properties/contacts/company_region_sync").status_code == 404
    after = api.get("/crm/v3/objects/contacts", params={"limit": 100,
                                                        "properties": "company_region"})
    assert before.json()["results"] == after.json()["results"]


def exported(body: dict[str, Any], flow_id: str) -> dict[str, Any]:
    return {**body, "id": flow_id, "revisionId": "3", "uuid": f"u-{flow_id}",
            "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-02T00:00:00Z",
            "crmObjectCreationStatus": "COMPLETE", "nextAvailableActionId": "2"}


def test_workflows_exported_from_hubspot_are_scanned_without_being_created(api, demo):
    listed = api.get("/automation/v4/flows").json()["results"]
    up = exported(flow("contacts", [set_property("1", "name", copied("company_name"),
                                                 to=association(UNLABELED))],
                       criteria=[known("company_name")], reenroll_on=["company_name"],
                       name="Name up"), "900")
    down = exported(copy_from("company_name", "name", "Name down"), "901")
    email = exported(copy_from("company_name", "name", "Sends mail"), "902")
    email["actions"][0]["actionTypeId"] = "0-4"
    reply = api.post(SCAN, json={"flows": [up, down, email, {"type": "WORKFLOW"}]})
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [(r["key"], r["kind"]) for r in results] == [
        ("flows[0]", "TWO_WAY"), ("flows[1]", "TWO_WAY"), ("flows[2]", "NOT_CONVERTIBLE"),
        ("flows[3]", "NOT_CONVERTIBLE")]
    assert results[0]["partner"] == "flows[1]" and "flowId" not in results[0]
    assert results[2]["reasons"][0].startswith("propsync cannot read this workflow:")
    assert api.get("/automation/v4/flows").json()["results"] == listed


def test_other_tenants_and_unknown_flows_are_not_found_naming_nothing(api, demo, server):
    other = new_tenant(server)
    for flow_id in (demo.copy, "999999999", "00001", "-1", "x" * 200):
        body = error(other.client.get(f"{PLAN}/{flow_id}"), 404)
        assert "Region" not in body["message"] and "region" not in body["message"]
    assert other.client.get(SCAN).json() == {"results": [], "hidden": 0}


def test_a_caller_is_told_only_what_its_scopes_show(tenant: Tenant, demo):
    engine = tenant.server.engine

    def token(scopes: str) -> httpx.Client:
        return tenant.client_for(create_token(engine, tenant.account_id, scopes,
                                              tenant.user_id).token)

    without = token("crm.schemas.contacts.read,crm.objects.contacts.read")
    error(without.get(SCAN), 403, "MISSING_SCOPES")
    contacts_only = token("automation,crm.schemas.contacts.read,crm.objects.contacts.read")
    body = contacts_only.get(SCAN).json()
    assert body == {"results": [], "hidden": 5}  # each flow touches companies too
    error(contacts_only.get(f"{PLAN}/{demo.copy}"), 403, "MISSING_SCOPES")
    schemas = token("automation,crm.schemas.contacts.read,crm.schemas.companies.read")
    assert len(schemas.get(SCAN).json()["results"]) == 5
    error(schemas.get(f"{PLAN}/{demo.copy}"), 403, "MISSING_SCOPES")  # values need reads


@pytest.mark.parametrize("body", [
    {"flows": [{}] * 101},
    {"flows": [{"name": "x" * 1_000_001}]},
    {"flows": []},
    {"flows": "not a list"},
    {"flows": [1, 2]},
    {},
    [],
])
def test_hostile_bodies_are_a_400_in_hubspots_shape(api, body):
    error(api.post(SCAN, json=body), 400)


def test_malformed_json_and_bad_bounds_are_400s(api, demo):
    error(api.post(SCAN, content=b'{"flows": [', headers={"content-type": "application/json"}),
          400)
    error(api.post(SCAN, content=json.dumps({"flows": [{"a": "\u0000"}]}).encode(),
                   headers={"content-type": "application/json"}), 400)
    for params in ({"top": "0"}, {"top": "21"}, {"sample": "101"}, {"top": "x"}):
        error(api.get(f"{PLAN}/{demo.copy}", params=params), 400)
    error(api.get(f"{PLAN}/{demo.down}"), 400)  # a two-way pair has no plan
