"""The migration's comparisons over HTTP, on both stores: a list and a report against their
clones with the sync property in the copy property's place (``GET /propsync/v1/lists/
{listId}/compare/{otherListId}``, ``GET /propsync/v1/reports/{reportId}/compare/
{otherReportId}``): the stale copies found on their side, paged; the groups they move,
also as of a date before and after the history fill; hostile input refused with a 4xx in
HubSpot's shape; restricted values never shown, nor named."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import update

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.properties import AccessRule
from propsync.lists.runner import ListWorker
from propsync.services.accounts import create_token, create_user
from propsync.services.migration_history import fill_history
from propsync.storage import tables as t
from propsync.storage.db import write_transaction
from propsync.storage.properties import _access_to_json
from tests.conftest import Tenant, new_tenant
from tests.e2e.replies import error
from tests.integration.flows import FlowWorld
from tests.integration.test_migration_compare import COPY, SYNC, Account, clones_of, seed_account


@pytest.fixture
def seeded(tenant: Tenant) -> tuple[Tenant, Account, dict[str, Any]]:
    engine = tenant.server.engine
    w = FlowWorld(engine, Principal(tenant.account_id, tenant.user_id, frozenset(),
                                    frozenset(ALL_SCOPES), Role.SUPER_ADMIN))
    account = seed_account(engine, w)
    clones = clones_of(account)
    ListWorker(engine).drain()
    return tenant, account, clones


def lists_path(a: Account, clones: dict[str, Any]) -> str:
    return f"/propsync/v1/lists/{a.list_id}/compare/{clones[f'list:{a.list_id}'].clone_id}"


def reports_path(a: Account, clones: dict[str, Any]) -> str:
    clone = clones[f"report:{a.report_id}"].clone_id
    return f"/propsync/v1/reports/{a.report_id}/compare/{clone}"


def test_lists_compare_over_http_pages_the_stale_copies(seeded):
    tenant, a, clones = seeded
    reply = tenant.client.get(lists_path(a, clones), params={"limit": 1})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["oldProperty"], body["newProperty"], body["same"]) == (COPY, SYNC, False)
    first = body["onlyInOriginal"]
    assert (first["total"], first["staleCopies"]) == (2, 2)
    assert [(r["recordId"], r["oldValue"], r["newValue"], r["reason"])
            for r in first["results"]] == [(str(a.contacts["c3"]), "Acme", "Globex",
                                            "STALE_COPY")]
    after = first["paging"]["next"]["after"]
    rest = tenant.client.get(lists_path(a, clones), params={"limit": 1,
                                                            "originalAfter": after}).json()
    assert [r["recordId"] for r in rest["onlyInOriginal"]["results"]] == [
        str(a.contacts["c6"])]
    assert rest["onlyInOriginal"].get("paging") is None
    assert [r["recordId"] for r in body["onlyInClone"]["results"]] == [str(a.contacts["c4"])]


def test_reports_compare_over_http_and_as_of_after_the_history_fill(seeded):
    tenant, a, clones = seeded
    now = tenant.client.get(reports_path(a, clones)).json()
    assert {(d["kind"], d["key"]) for d in now["differences"]} == {
        ("VALUE", "Acme"), ("VALUE", "Globex"), ("VALUE", "Initech"), ("NO_VALUE", None)}
    assert now["movedRecords"] == 3
    params = {"asOf": str(a.before_sync_ms)}
    assert tenant.client.get(reports_path(a, clones), params=params).json()["differences"]
    fill_history(tenant.server.engine, a.w.principal, "contacts", COPY, SYNC)
    then = tenant.client.get(reports_path(a, clones), params=params).json()
    assert (then["same"], then["differences"], then["movedRecords"]) == (True, [], 0)
    assert then["totals"]["original"] == then["totals"]["clone"] == {"records": 7,
                                                                     "value": 7.0}
    history = tenant.client.get(f"/crm/v3/objects/contacts/{a.contacts['c3']}",
                                params={"propertiesWithHistory": SYNC}).json()
    sources = [e["sourceType"] for e in history["propertiesWithHistory"][SYNC]]
    assert sources[0] == "SYNC" and "MIGRATION" in sources


@pytest.mark.parametrize(("params", "status"), [
    ({"limit": "0"}, 400), ({"limit": "101"}, 400), ({"limit": "many"}, 400),
    ({"originalAfter": "x"}, 400), ({"cloneAfter": "-1"}, 400),
    ({"oldProperty": COPY}, 400), ({"newProperty": SYNC}, 400),
    ({"oldProperty": "x" * 101, "newProperty": SYNC}, 400),
    ({"oldProperty": "nope", "newProperty": SYNC}, 400),
    ({"oldProperty": "a\u0000b", "newProperty": SYNC}, 400),
])
def test_hostile_list_comparisons_are_refused_in_hubspots_shape(seeded, params, status):
    tenant, a, clones = seeded
    error(tenant.client.get(lists_path(a, clones), params=params), status)


@pytest.mark.parametrize(("params", "status"), [
    ({"sample": "0"}, 400), ({"sample": "21"}, 400), ({"asOf": "yesterday"}, 400),
    ({"asOf": "2999-01-01"}, 400), ({"asOf": "9" * 41}, 400),
    ({"oldProperty": COPY, "newProperty": "firstname"}, 200),  # told, and not the one
])
def test_hostile_report_comparisons_are_refused_in_hubspots_shape(seeded, params, status):
    tenant, a, clones = seeded
    reply = tenant.client.get(reports_path(a, clones), params=params)
    if status == 200:
        assert reply.status_code == 200 and not reply.json()["definitionsMatch"]
    else:
        error(reply, status)


def test_ids_that_name_nothing_here_are_404_and_types_must_match(seeded, server):
    tenant, a, clones = seeded
    for path in ("/propsync/v1/lists/abc/compare/1", f"/propsync/v1/lists/{a.list_id}/"
                 "compare/999999999", "/propsync/v1/reports/0/compare/1",
                 f"/propsync/v1/reports/{a.report_id}/compare/{'9' * 30}"):
        error(tenant.client.get(path), 404)
    stranger = new_tenant(server)
    error(stranger.client.get(lists_path(a, clones)), 404)
    error(stranger.client.get(reports_path(a, clones)), 404)
    companies = tenant.client.post("/crm/v3/lists", json={
        "name": f"Companies {uuid.uuid4().hex[:6]}", "objectTypeId": "0-2",
        "processingType": "MANUAL"})
    assert companies.status_code == 200, companies.text
    other = companies.json()["list"]["listId"]
    error(tenant.client.get(f"/propsync/v1/lists/{a.list_id}/compare/{other}"), 400)


def test_a_token_without_the_scopes_or_the_values_is_refused_naming_nothing(seeded):
    tenant, a, clones = seeded
    engine = tenant.server.engine
    no_lists = tenant.client_for(create_token(engine, tenant.account_id,
                                              "crm.objects.contacts.read",
                                              tenant.user_id).token)
    error(no_lists.get(lists_path(a, clones)), 403, "MISSING_SCOPES")
    error(no_lists.get(reports_path(a, clones)), 403, "MISSING_SCOPES")
    user = create_user(engine, tenant.account_id, f"u{uuid.uuid4().hex[:6]}@example.com",
                       role=Role.ADMIN)
    kept = tenant.client_for(create_token(engine, tenant.account_id, "all", user).token)
    only_admin = AccessRule(frozenset({tenant.user_id}), None, frozenset({tenant.user_id}),
                            None)
    p = t.properties
    with write_transaction(engine) as conn:  # as if restricted before the assets were made
        conn.execute(update(p).where(p.c.account_id == tenant.account_id, p.c.name == COPY)
                     .values(access=_access_to_json(only_admin)))
    for path in (lists_path(a, clones), reports_path(a, clones)):
        body = error(kept.get(path), 403)
        assert COPY not in str(body) and "Acme" not in str(body) and "Initech" not in str(body)
    told = kept.get(lists_path(a, clones), params={"oldProperty": COPY, "newProperty": SYNC})
    assert "Acme" not in error(told, 403)["message"]
