"""The migration through the API and the command line, on both stores.

Over HTTP (the test server's workers fill the sync property and evaluate the lists): an
account with copy workflows (one clean, one with two stale copies, a two-way pair, one
with an enrollment filter; ``test_migrations_api.Demo``), a list and a report on the stale
copy's property: start → apply (202 while the backfill runs) → clone → compare (which
finds exactly the stale copies seeded) → acknowledge → cut over (the workflow off, the
old property kept) → clean up; the two-way pair refused with the scan's explanation;
hostile input refused in HubSpot's error shape, changing nothing; another account sees
nothing.

A crash: ``propsync migrate run --through STEP`` killed with SIGKILL at a random moment
during each step, then run again: the end state is right and nothing was made twice (one
sync property, one clone per asset); the same for ``propsync migrate undo``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.migrations import State
from propsync.services import migrations as svc
from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from tests.conftest import BACKENDS, Tenant, drop_database, make_database, new_tenant
from tests.e2e.replies import error
from tests.e2e.test_cli import propsync
from tests.e2e.test_migrations_api import Demo, created
from tests.integration.test_migrations import Migrating

MIGRATIONS = "/propsync/v1/migrations"
GUARD_S = 120


def north(prop: str) -> dict[str, Any]:
    return {"filterBranchType": "OR", "filters": [], "filterBranches": [
        {"filterBranchType": "AND", "filterBranches": [], "filters": [
            {"filterType": "PROPERTY", "property": prop, "operation": {
                "operationType": "STRING", "operator": "IS_EQUAL_TO", "value": "North"}}]}]}


def step(api: httpx.Client, mid: str, name: str, body: dict[str, Any] | None = None,
         until: set[int] | None = None) -> dict[str, Any]:
    """POST a step; asked again while it answers 202 (backfilling) or 409 because a clone
    list is still being evaluated (the server's workers are at it)."""
    deadline = time.monotonic() + GUARD_S
    while True:
        reply = api.post(f"{MIGRATIONS}/{mid}/{name}", json=body)
        waiting = reply.status_code == 202 or (
            reply.status_code == 409 and "LIST_PROCESSING" in reply.text)
        if not waiting or (until and reply.status_code in until):
            assert reply.status_code == 200 or (until and reply.status_code in until), \
                reply.text
            return dict(reply.json())
        assert time.monotonic() < deadline, reply.text
        time.sleep(0.1)


class ApiDemo(Demo):
    def __init__(self, api: httpx.Client) -> None:
        super().__init__(api)
        reply = api.post("/crm/v3/lists", json={
            "name": "North contacts", "objectTypeId": "0-1", "processingType": "DYNAMIC",
            "filterBranch": north("company_region")})
        assert reply.status_code == 200, reply.text  # HubSpot's create answers 200
        self.list_id = reply.json()["list"]["listId"]
        self.report_id = created(api, "/propsync/v1/reports", {
            "name": "By region", "objectType": "contacts", "groupBy": "company_region"})["id"]


@pytest.fixture
def demo(api: httpx.Client) -> ApiDemo:
    return ApiDemo(api)


def test_a_migration_from_start_to_clean_up_over_http(api: httpx.Client, demo: ApiDemo
                                                      ) -> None:
    reply = api.post(MIGRATIONS, json={"flowId": demo.copy})
    assert reply.status_code == 201, reply.text
    m = reply.json()
    mid = m["id"]
    assert reply.headers["Location"] == f"{MIGRATIONS}/{mid}"
    assert (m["state"], m["nextStep"]) == ("PLANNED", "apply")
    assert m["plan"]["dryRun"]["sample"] == [int(x) for x in demo.stale]
    error(api.post(MIGRATIONS, json={"flowId": demo.copy}), 409)  # one at a time

    first = api.post(f"{MIGRATIONS}/{mid}/apply")
    assert first.status_code in (200, 202), first.text
    if first.status_code == 202:
        assert first.json()["state"] == "APPLYING"
    applied = step(api, mid, "apply")
    assert applied["state"] == "APPLIED" and applied["backfill"]["live"]
    assert api.get(f"/crm/v3/properties/contacts/{applied['syncProperty']}"
                   ).status_code == 200

    cloned = step(api, mid, "clone")
    assert cloned["state"] == "CLONED"
    clones = {a["kind"]: a for a in cloned["results"]["clone"]["assets"]
              if a["status"] == "CLONED"}
    assert set(clones) == {"list", "report"}
    compared = step(api, mid, "compare")
    assert compared["state"] == "COMPARED"
    assets = {a["key"]: a for a in compared["results"]["compare"]["assets"]}
    report = assets[f"report:{demo.report_id}"]
    assert report["moved"] == 2
    # exactly the stale copies seeded (each left one group and joined another)
    assert {r["recordId"] for g in report["groups"] for r in g["records"]} == set(demo.stale)
    listed = assets[f"list:{demo.list_id}"]
    assert not listed["same"]
    assert api.get(f"{MIGRATIONS}/{mid}").json()["results"] == compared["results"]

    error(api.post(f"{MIGRATIONS}/{mid}/clean-up"), 409)
    step(api, mid, "acknowledge", {"assets": [k for k, a in assets.items() if not a["same"]]})
    cut = step(api, mid, "cut-over")
    assert cut["state"] == "CUT_OVER"
    assert api.get(f"/automation/v4/flows/{demo.copy}").json()["isEnabled"] is False
    cleaned = step(api, mid, "clean-up")
    assert cleaned["state"] == "CLEANED_UP" and cleaned["nextStep"] is None
    assert cleaned["results"]["cleanUp"]["oldProperty"]["archived"] is False
    assert api.get(f"/automation/v4/flows/{demo.copy}").status_code == 404
    assert api.get("/crm/v3/properties/contacts/company_region").status_code == 200
    error(api.post(f"{MIGRATIONS}/{mid}/undo"), 409)
    listed_all = api.get(MIGRATIONS).json()
    assert [x["id"] for x in listed_all["results"]] == [mid]


def test_a_two_way_pair_is_refused_and_a_conditional_copy_needs_consent(
        api: httpx.Client, demo: ApiDemo) -> None:
    body = error(api.post(MIGRATIONS, json={"flowId": demo.down}), 400)
    assert "two-way sync" in body["message"]
    body = error(api.post(MIGRATIONS, json={"flowId": demo.filtered}), 400)
    assert "lifecycle stage = customer" in body["message"]
    reply = api.post(MIGRATIONS, json={"flowId": demo.filtered, "acceptDifferences": True})
    assert reply.status_code == 201, reply.text
    undone = step(api, reply.json()["id"], "undo")
    assert undone["state"] == "UNDONE"


@pytest.mark.parametrize("body", [
    {}, {"flowId": None}, {"flowId": 12}, {"flowId": "x" * 41}, {"flowId": "999999999"},
    {"flowId": "-1"}, {"flowId": "1", "acceptDifferences": "maybe"}, [], "text"])
def test_hostile_starts_are_refused_changing_nothing(api: httpx.Client, body: Any) -> None:
    reply = api.post(MIGRATIONS, json=body)
    assert reply.status_code in (400, 404), reply.text
    error(reply, reply.status_code)
    assert api.get(MIGRATIONS).json()["results"] == []


def test_hostile_steps_are_refused_and_other_accounts_see_nothing(
        api: httpx.Client, demo: ApiDemo, server: Any) -> None:
    mid = created(api, MIGRATIONS, {"flowId": demo.clean})["id"]
    before = api.get(f"{MIGRATIONS}/{mid}").json()
    for path in (f"{MIGRATIONS}/{mid}/jump", f"{MIGRATIONS}/{mid}/APPLY",
                 f"{MIGRATIONS}/999999999/apply", f"{MIGRATIONS}/x/apply",
                 f"{MIGRATIONS}/{'9' * 40}/undo"):
        error(api.post(path), 404)
    for bad in ({"assets": "list:1"}, {"assets": [1]}, {"assets": ["x" * 61]},
                {"assets": ["list:1"] * 1001}, {"assets": []}):
        reply = api.post(f"{MIGRATIONS}/{mid}/acknowledge", json=bad)
        assert reply.status_code in (400, 409), reply.text
        error(reply, reply.status_code)
    error(api.post(f"{MIGRATIONS}/{mid}/cut-over"), 409)  # not compared yet
    for params in ({"limit": "0"}, {"limit": "101"}, {"after": "x"}):
        error(api.get(MIGRATIONS, params=params), 400)
    assert api.get(f"{MIGRATIONS}/{mid}").json() == before
    other = new_tenant(server)
    error(other.client.get(f"{MIGRATIONS}/{mid}"), 404)
    error(other.client.post(f"{MIGRATIONS}/{mid}/undo"), 404)
    assert other.client.get(MIGRATIONS).json()["results"] == []
    assert api.get(f"{MIGRATIONS}/{mid}").json() == before


def test_a_user_without_the_property_settings_role_may_read_not_run(
        tenant: Tenant, demo: ApiDemo) -> None:
    from propsync.domain.auth import ALL_SCOPES, Role
    from propsync.services.accounts import create_token, create_user

    mid = created(tenant.client, MIGRATIONS, {"flowId": demo.clean})["id"]
    engine = tenant.server.engine
    user = create_user(engine, tenant.account_id, f"plain-{tenant.account_id}@example.com",
                       role=Role.USER)
    client = tenant.client_for(create_token(engine, tenant.account_id,
                                            ",".join(sorted(ALL_SCOPES)), user).token)
    assert client.get(f"{MIGRATIONS}/{mid}").status_code == 200
    error(client.post(f"{MIGRATIONS}/{mid}/apply"), 403)
    error(client.post(MIGRATIONS, json={"flowId": demo.copy}), 403)


# --- a SIGKILL during each step -----------------------------------------------------------

@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = make_database(request.param, tmp_path)
    yield url
    drop_database(url)


def spawn(url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROPSYNC_DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "propsync", "migrate", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


KILLS: list[tuple[str, float, bool]] = []  # (command, seconds, killed before the end)


def killed(url: str, rng: random.Random, *args: str, tries: int = 3) -> None:
    """Run ``propsync migrate ARGS`` and SIGKILL it at a random moment, up to ``tries``
    times, until a run finishes before its kill (then there is nothing left to interrupt;
    ``KILLS`` says which runs were killed)."""
    for _ in range(tries):
        proc = spawn(url, *args)
        at = rng.uniform(0.3, 2.5)
        try:
            proc.wait(at)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            KILLS.append((" ".join(args[:1] + args[-1:]), round(at, 2), True))
            continue
        KILLS.append((" ".join(args[:1] + args[-1:]), round(at, 2), False))
        return


def made(engine: Engine, account_id: int, sync_name: str, names: list[str]
         ) -> dict[str, int]:
    p, lists, reports, flows = t.properties, t.lists, t.reports, t.workflows
    with read_transaction(engine) as conn:
        def count(stmt: Any) -> int:
            return int(conn.execute(stmt).scalar_one())
        return {
            "sync": count(select(func.count()).select_from(p).where(
                p.c.account_id == account_id, p.c.name == sync_name)),
            "sync_properties": count(select(func.count()).select_from(t.sync_properties)
                                     .where(t.sync_properties.c.account_id == account_id)),
            "lists": count(select(func.count()).select_from(lists).where(
                lists.c.account_id == account_id, lists.c.deleted_ms.is_(None),
                lists.c.name.in_(names))),
            "reports": count(select(func.count()).select_from(reports).where(
                reports.c.account_id == account_id, reports.c.name.in_(names))),
            "workflows": count(select(func.count()).select_from(flows).where(
                flows.c.account_id == account_id, flows.c.deleted_ms.is_(None))),
        }


@pytest.mark.slow
@pytest.mark.crash
def test_a_sigkill_during_each_step_resumes_and_makes_nothing_twice(database: str) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    engine = engine_for(Settings(database_url=database))
    a = Migrating(engine)
    w = a.w
    account = str(w.account_id)
    m = svc.start(engine, w.principal, str(a.stale))
    mid = str(m.migration_id)
    sync_name = m.stored.proposal["name"]
    flows_before = made(engine, w.account_id, sync_name, [])["workflows"]
    for through in ("apply", "clone", "compare", "cut-over"):
        killed(database, rng, "run", "--account", account, mid, "--through", through)
        done = propsync(database, "migrate", "run", "--account", account, mid,
                        "--through", through)
        assert done.returncode == 0, done.stdout + done.stderr
    got = svc.get_migration(engine, w.principal, mid)
    assert got.state is State.CUT_OVER
    clones = [x["cloneName"] for x in got.stored.results["clone"]["assets"]
              if x["cloneName"]]
    assert made(engine, w.account_id, sync_name, clones) == {
        "sync": 1, "sync_properties": 1, "lists": 1, "reports": 1,
        "workflows": flows_before}
    keys = [x["key"] for x in got.stored.results["compare"]["assets"] if not x["same"]]
    report = next(x for x in got.stored.results["compare"]["assets"]
                  if x["kind"] == "report")
    assert {int(r["recordId"]) for g in report["groups"] for r in g["records"]} == \
        set(a.seeded)
    ack = propsync(database, "migrate", "acknowledge", "--account", account, mid,
                   *[arg for k in keys for arg in ("--asset", k)])
    assert ack.returncode == 0, ack.stderr
    # the undo, killed: asked again, it finishes; the account is as before the migration
    killed(database, rng, "undo", "--account", account, mid)
    undone = propsync(database, "migrate", "undo", "--account", account, mid)
    assert undone.returncode == 0, undone.stderr
    assert "State: UNDONE" in undone.stdout
    assert made(engine, w.account_id, sync_name, clones) == {
        "sync": 0, "sync_properties": 0, "lists": 0, "reports": 0,
        "workflows": flows_before}
    with read_transaction(engine) as conn:
        enabled = conn.execute(select(t.workflows.c.enabled).where(
            t.workflows.c.account_id == w.account_id,
            t.workflows.c.flow_id == a.stale)).scalar_one()
    assert enabled  # the cut-over turned it off; the undo on again

    # the rest of the line, killed in clean-up: a second migration of the same workflow
    again = svc.start(engine, w.principal, str(a.stale))
    second = str(again.migration_id)
    assert propsync(database, "migrate", "run", "--account", account, second,
                    "--through", "cut-over").returncode == 0
    got = svc.get_migration(engine, w.principal, second)
    keys = [x["key"] for x in got.stored.results["compare"]["assets"] if not x["same"]]
    propsync(database, "migrate", "acknowledge", "--account", account, second,
             *[arg for k in keys for arg in ("--asset", k)])
    killed(database, rng, "run", "--account", account, second, "--through", "clean-up")
    status = propsync(database, "migrate", "run", "--account", account, second,
                      "--through", "clean-up")
    assert status.returncode == 0, status.stderr
    assert svc.get_migration(engine, w.principal, second).state is State.CLEANED_UP
    listed = propsync(database, "migrate", "status", "--account", account)
    assert "CLEANED_UP" in listed.stdout and "UNDONE" in listed.stdout
    print("kills", KILLS)
    engine.dispose()
