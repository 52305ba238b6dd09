"""Workflows running behind a real server, over HTTP, on both stores: a flow saved through
``/automation/v4/flows`` enrolls the record an API write makes meet its criteria, the
server's embedded worker runs it, and ``/propsync/v1/workflows`` shows the runs, the counts
and a record's workflows; enrollment by hand and of existing records; every refusal a
4xx in HubSpot's shape, nothing shown to a token that may not see it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, new_tenant
from tests.e2e.replies import codes, error
from tests.integration.flows import equals, flow, set_property, static
from tests.patience import wait_until

RUNS = "/propsync/v1/workflows"


def create_flow(api: httpx.Client, body: dict[str, Any]) -> str:
    reply = api.post("/automation/v4/flows", json=body)
    assert reply.status_code in (200, 201), reply.text
    return str(reply.json()["id"])


def tag_leads(api: httpx.Client, enabled: bool = True) -> str:
    return create_flow(api, flow("contacts", [set_property("1", "jobtitle", static("Prospect"))],
                                 criteria=[equals("lifecyclestage", "lead")], name="Tag leads",
                                 enabled=enabled))


def contact(api: httpx.Client, **properties: str) -> str:
    reply = api.post("/crm/v3/objects/contacts", json={"properties": properties})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


def jobtitle(api: httpx.Client, record_id: str) -> str | None:
    reply = api.get(f"/crm/v3/objects/contacts/{record_id}", params={"properties": "jobtitle"})
    return reply.json()["properties"].get("jobtitle")


def test_an_api_write_enrolls_the_record_and_the_server_runs_the_flow(api):
    fid = tag_leads(api)
    cid = contact(api, lifecyclestage="customer")
    reply = api.patch(f"/crm/v3/objects/contacts/{cid}",
                      json={"properties": {"lifecyclestage": "lead"}})
    assert reply.status_code == 200, reply.text
    wait_until(lambda: jobtitle(api, cid) == "Prospect", "the workflow to set jobtitle")
    history = api.get(f"/crm/v3/objects/contacts/{cid}",
                      params={"propertiesWithHistory": "jobtitle"}).json()
    [entry] = history["propertiesWithHistory"]["jobtitle"]
    assert (entry["sourceType"], entry["sourceId"], entry["sourceLabel"]) == (
        "WORKFLOW", fid, "Tag leads")
    runs = api.get(f"{RUNS}/{fid}/runs").json()
    [run] = runs["results"]
    assert (run["recordId"], run["actionId"], run["outcome"], run["written"]) == (
        cid, "1", "DONE", 1)
    summary = api.get(f"{RUNS}/{fid}/summary").json()
    assert (summary["enrolled"], summary["completed"], summary["active"]) == (1, 1, 0)
    assert summary["lastRunAt"] == run["ranAt"]
    mine = api.get(f"{RUNS}/records/contacts/{cid}").json()["results"]
    assert [(w["flowId"], w["name"], w["valuesWritten"]) for w in mine] == [
        (fid, "Tag leads", 1)]
    assert mine[0]["enrollments"][0]["state"] == "COMPLETED"


def test_records_are_enrolled_by_hand_and_existing_ones_when_asked(api):
    cids = [contact(api, lifecyclestage="lead") for _ in range(3)]
    fid = tag_leads(api)
    assert api.get(f"{RUNS}/{fid}/enrollments/existing").json() == {"count": 3}
    assert api.post(f"{RUNS}/{fid}/enrollments/existing").json() == {"enrolled": 3}
    wait_until(lambda: all(jobtitle(api, c) == "Prospect" for c in cids),
               "the existing records to run through the flow")
    other = contact(api)
    reply = api.post(f"{RUNS}/{fid}/enrollments", json={"recordId": other})
    assert reply.json() == {"recordId": other, "status": "ENROLLED"}
    wait_until(lambda: jobtitle(api, other) == "Prospect", "the record enrolled by hand")


def test_runs_page_newest_first(api):
    fid = tag_leads(api)
    cids = [contact(api, lifecyclestage="lead") for _ in range(3)]
    wait_until(lambda: len(api.get(f"{RUNS}/{fid}/runs").json()["results"]) == 3,
               "three runs")
    first = api.get(f"{RUNS}/{fid}/runs", params={"limit": 2}).json()
    rest = api.get(f"{RUNS}/{fid}/runs",
                   params={"limit": 2, "after": first["paging"]["next"]["after"]}).json()
    seen = [r["id"] for r in first["results"] + rest["results"]]
    assert seen == sorted(seen, key=int, reverse=True) and "paging" not in rest
    assert sorted(r["recordId"] for r in first["results"] + rest["results"]) == sorted(cids)


@pytest.mark.parametrize(("path", "body", "status"), [
    ("enrollments", {"recordId": "999999999"}, 404),
    ("enrollments", {"recordId": "not an id"}, 404),
    ("enrollments", {"record": "1"}, 400),
    ("enrollments", [], 400),
])
def test_bad_enrollments_are_clear_refusals(api, path, body, status):
    fid = tag_leads(api)
    error(api.post(f"{RUNS}/{fid}/{path}", json=body), status)


def test_a_record_of_another_type_or_a_flow_that_is_off_is_refused(api):
    fid = tag_leads(api)
    company = api.post("/crm/v3/objects/companies", json={"properties": {}}).json()["id"]
    error(api.post(f"{RUNS}/{fid}/enrollments", json={"recordId": company}), 404)
    off = tag_leads(api, enabled=False)
    body = error(api.post(f"{RUNS}/{off}/enrollments", json={"recordId": contact(api)}), 400)
    assert codes(body) == ["FLOW_OFF"]
    error(api.post(f"{RUNS}/{off}/enrollments/existing"), 400)


@pytest.mark.parametrize("path", ["runs", "summary", "enrollments/existing"])
def test_an_unknown_flow_is_404(api, path):
    error(api.get(f"{RUNS}/424242424242/{path}"), 404)
    error(api.get(f"{RUNS}/nope/{path}"), 404)


def test_a_bad_cursor_or_page_size_is_400(api):
    fid = tag_leads(api)
    error(api.get(f"{RUNS}/{fid}/runs", params={"after": "x"}), 400)
    error(api.get(f"{RUNS}/{fid}/runs", params={"limit": 0}), 400)
    error(api.get(f"{RUNS}/{fid}/runs", params={"limit": 201}), 400)


def scoped(tenant: Tenant, scopes: str) -> httpx.Client:
    from propsync.services.accounts import create_token

    token = create_token(tenant.server.engine, tenant.account_id, scopes, tenant.user_id).token
    return tenant.client_for(token)


def test_the_runs_need_the_automation_scope_and_the_record_types_read_scope(tenant):
    fid = tag_leads(tenant.client)
    cid = contact(tenant.client)
    no_automation = scoped(tenant, "crm.objects.contacts.read")
    error(no_automation.get(f"{RUNS}/{fid}/runs"), 403)
    error(no_automation.get(f"{RUNS}/records/contacts/{cid}"), 403)
    no_contacts = scoped(tenant, "automation")
    error(no_contacts.get(f"{RUNS}/{fid}/runs"), 403)
    error(no_contacts.get(f"{RUNS}/{fid}/summary"), 403)
    error(no_contacts.get(f"{RUNS}/records/contacts/{cid}"), 403)
    readers = scoped(tenant, "automation crm.objects.contacts.read")
    assert readers.get(f"{RUNS}/{fid}/runs").status_code == 200


def test_another_accounts_flow_and_record_do_not_exist(tenant):
    fid = tag_leads(tenant.client)
    cid = contact(tenant.client)
    stranger = new_tenant(tenant.server).client
    error(stranger.get(f"{RUNS}/{fid}/runs"), 404)
    error(stranger.post(f"{RUNS}/{fid}/enrollments", json={"recordId": cid}), 404)
    error(stranger.get(f"{RUNS}/records/contacts/{cid}"), 404)


def test_a_flows_enrollments_list_by_state_newest_first(api):
    fid = tag_leads(api)
    cids = [contact(api, lifecyclestage="lead") for _ in range(3)]
    wait_until(lambda: api.get(f"{RUNS}/{fid}/summary").json()["completed"] == 3,
               "three completed enrollments")
    first = api.get(f"{RUNS}/{fid}/enrollments", params={"limit": 2}).json()
    rest = api.get(f"{RUNS}/{fid}/enrollments",
                   params={"limit": 2, "after": first["paging"]["next"]["after"]}).json()
    listed = first["results"] + rest["results"]
    assert [e["recordId"] for e in listed] == list(reversed(cids))
    assert {e["state"] for e in listed} == {"COMPLETED"}
    active = api.get(f"{RUNS}/{fid}/enrollments", params={"state": "ACTIVE"}).json()
    assert active == {"results": []}
    error(api.get(f"{RUNS}/{fid}/enrollments", params={"state": "DONE"}), 400)
