"""A migration rehearsed in a sandbox and replayed on the account, over HTTP, on both stores.

An Enterprise account with copy workflows (``test_migrations_flow_api.ApiDemo``: a list
and a report on the stale copy's property) makes a sandbox through
``/propsync/v1/sandboxes`` and, with the sandbox's token, runs the migration there as far
as its comparison. From the account: ``GET /propsync/v1/migrations/rehearsals`` lists it,
``POST /propsync/v1/migrations/replay`` starts it here (PLANNED, ``plan.rehearsal`` naming
the sandbox). Refused in HubSpot's shape, changing nothing: a rehearsal not yet compared,
one whose workflow changed since, a second replay, a replay from the sandbox itself, a user
who joined after the copy (404, no data), a token without ``automation``, another account,
and hostile bodies.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from propsync.domain.auth import ALL_SCOPES, AUTOMATION, Role
from propsync.services.accounts import create_token, create_user
from tests.conftest import RunningServer, Tenant, client_for
from tests.e2e.replies import codes, error
from tests.e2e.test_migrations_api import Demo, copy_from, created
from tests.e2e.test_migrations_flow_api import ApiDemo, step
from tests.e2e.test_sandboxes_api import enterprise

MIGRATIONS = "/propsync/v1/migrations"
REHEARSALS, REPLAY = f"{MIGRATIONS}/rehearsals", f"{MIGRATIONS}/replay"
SANDBOXES = "/propsync/v1/sandboxes"


def user_of(source: Tenant, role: Role | None = None, scopes: str = "all") -> httpx.Client:
    """A client for a new user of ``source`` (its super admin's token with ``scopes``
    when ``role`` is None)."""
    user = source.user_id if role is None else create_user(
        source.server.engine, source.account_id,
        f"{role.value}-{uuid.uuid4().hex[:6]}@example.com", role=role)
    return source.client_for(create_token(source.server.engine, source.account_id, scopes,
                                          user).token)


def sandbox_of(source: Tenant, name: str | None = None) -> tuple[str, httpx.Client]:
    made = created(source.client, SANDBOXES, {"name": name} if name else {})
    return made["id"], client_for(source.server, made["token"])


def put_flow(api: httpx.Client, flow_id: str, body: dict[str, Any]) -> None:
    revision = api.get(f"/automation/v4/flows/{flow_id}").json()["revisionId"]
    reply = api.put(f"/automation/v4/flows/{flow_id}", json={**body, "revisionId": revision})
    assert reply.status_code == 200, reply.text


def without_live_fields(m: dict[str, Any]) -> dict[str, Any]:
    """A migration as stored: a list shows neither its next step nor its backfill."""
    return {k: v for k, v in m.items() if k not in ("nextStep", "backfill")}


def test_a_rehearsal_in_a_sandbox_is_listed_and_replayed_here(server: RunningServer) -> None:
    source = enterprise(server)
    demo = ApiDemo(source.client)
    plain = user_of(source, Role.USER)  # copied into the sandbox: may read, not replay
    sid, inside = sandbox_of(source, "Rehearsal")
    late = user_of(source, Role.SUPER_ADMIN)  # joined after the copy: no user there
    no_automation = user_of(source, scopes=",".join(s for s in ALL_SCOPES if s != AUTOMATION))
    stranger = enterprise(server)

    mid = created(inside, MIGRATIONS, {"flowId": demo.copy})["id"]
    body = {"sandboxId": sid, "migrationId": mid}
    assert source.client.get(REHEARSALS).json() == {"results": []}  # PLANNED: not yet
    refused = error(source.client.post(REPLAY, json=body), 409, "CONFLICT")
    assert codes(refused) == ["REHEARSAL_NOT_COMPARED"]
    step(inside, mid, "apply")
    step(inside, mid, "clone")
    compared = step(inside, mid, "compare")
    assert compared["state"] == "COMPARED"
    differing = sum(not a["same"] for a in compared["results"]["compare"]["assets"])
    assert differing == 2  # the list and the report, moved by the stale copies

    # listed from the account, as the sandbox has it
    reply = source.client.get(REHEARSALS)
    assert reply.status_code == 200, reply.text
    [listed] = reply.json()["results"]
    assert (listed["sandboxId"], listed["sandboxName"]) == (sid, "Rehearsal")
    assert without_live_fields(listed["migration"]) == without_live_fields(compared)
    assert plain.get(REHEARSALS).json()["results"] == [listed]
    for nobody_there in (late, inside, stranger.client):
        assert nobody_there.get(REHEARSALS).json() == {"results": []}
    error(no_automation.get(REHEARSALS), 403, "MISSING_SCOPES")

    # refused: the workflow here changed since the rehearsal, then the callers who may not
    put_flow(source.client, demo.copy, copy_from("company_region", "tier", "Region copy"))
    refused = error(source.client.post(REPLAY, json=body), 409, "CONFLICT")
    assert codes(refused) == ["REHEARSAL_OUTDATED"] and "source" in refused["message"]
    put_flow(source.client, demo.copy, copy_from("company_region", "region", "Region copy"))
    error(plain.post(REPLAY, json=body), 403, "FORBIDDEN")
    error(no_automation.post(REPLAY, json=body), 403, "MISSING_SCOPES")
    for reply in (late.post(REPLAY, json=body), stranger.client.post(REPLAY, json=body)):
        shown = error(reply, 404, "OBJECT_NOT_FOUND")
        assert "egion" not in reply.text and "Rehearsal" not in reply.text, shown
    refused = error(inside.post(REPLAY, json={"sandboxId": str(source.account_id),
                                              "migrationId": mid}), 400, "VALIDATION_ERROR")
    assert codes(refused) == ["NOT_A_SANDBOX_OF_THIS_ACCOUNT"]
    assert source.client.get(MIGRATIONS).json()["results"] == []

    # replayed: planned here with the same sync property, the rehearsal beside the plan
    reply = source.client.post(REPLAY, json=body)
    assert reply.status_code == 201, reply.text
    made = reply.json()
    assert reply.headers["Location"] == f"{MIGRATIONS}/{made['id']}"
    assert (made["state"], made["nextStep"], made["flowId"]) == ("PLANNED", "apply", demo.copy)
    assert made["plan"]["name"] == compared["plan"]["name"]
    assert made["plan"]["rehearsal"] == {
        "sandboxId": int(sid), "migrationId": int(mid), "state": "COMPARED",
        "dryRun": compared["plan"]["dryRun"], "differingAssets": differing}
    assert source.client.get(f"{MIGRATIONS}/{made['id']}").json() == made
    assert [m["id"] for m in source.client.get(MIGRATIONS).json()["results"]] == [made["id"]]
    assert inside.get(f"{MIGRATIONS}/{mid}").json()["state"] == "COMPARED"
    again = error(source.client.post(REPLAY, json=body), 409, "CONFLICT")  # one at a time
    assert "already being migrated" in again["message"]
    assert [m["id"] for m in source.client.get(MIGRATIONS).json()["results"]] == [made["id"]]
    assert stranger.client.get(MIGRATIONS).json()["results"] == []


@pytest.fixture
def planned(server: RunningServer) -> tuple[Tenant, str, str]:
    """An Enterprise account, its sandbox, and a migration PLANNED there (not rehearsed)."""
    source = enterprise(server)
    demo = Demo(source.client)
    sid, inside = sandbox_of(source)
    return source, sid, created(inside, MIGRATIONS, {"flowId": demo.copy})["id"]


def test_hostile_replays_are_refused_in_hubspots_shape_changing_nothing(
        server: RunningServer, planned: tuple[Tenant, str, str]) -> None:
    source, sid, mid = planned
    other, _ = sandbox_of(enterprise(server))  # another account's sandbox
    refused = error(source.client.post(REPLAY, json={"sandboxId": sid, "migrationId": mid}),
                    409)
    assert codes(refused) == ["REHEARSAL_NOT_COMPARED"]
    for body in ({}, {"sandboxId": sid}, {"migrationId": mid},
                 {"sandboxId": None, "migrationId": mid}, {"sandboxId": sid, "migrationId": None},
                 {"sandboxId": int(sid), "migrationId": mid},
                 {"sandboxId": sid, "migrationId": int(mid)},
                 {"sandboxId": [sid], "migrationId": mid}, {"sandboxId": sid, "migrationId": {}},
                 {"sandboxId": "9" * 41, "migrationId": mid},
                 {"sandboxId": sid, "migrationId": "x" * 100_000},
                 {"sandboxId": sid + "\u0000", "migrationId": mid},
                 {"sandboxId": "-1", "migrationId": mid}, {"sandboxId": "x", "migrationId": mid},
                 {"sandboxId": f"0000{sid}", "migrationId": "0"},
                 {"sandboxId": str(source.account_id), "migrationId": mid},
                 {"sandboxId": other, "migrationId": mid},
                 {"sandboxId": sid, "migrationId": "999999999"},
                 {"sandboxId": sid, "migrationId": "-1"}, [], "text", 12):
        reply = source.client.post(REPLAY, json=body)
        assert reply.status_code in (400, 404), (body, reply.text)
        error(reply, reply.status_code)
    for raw in (b'{"sandboxId": ', b"\xff\xfe"):
        error(source.client.post(REPLAY, content=raw,
                                 headers={"content-type": "application/json"}), 400)
    assert source.client.get(MIGRATIONS).json()["results"] == []
    assert source.client.get(REHEARSALS).json() == {"results": []}
