"""The workflow way, for real: a copy workflow made through ``POST /automation/v4/flows``
(HubSpot's Automation v4 shape), run by propsync's workflow engine, measured against the
sync property on the same data in the same run.

The workflow is the one a HubSpot user builds to keep a company's name on its contacts: a
company flow, enrolled when ``name`` is known and re-enrolled whenever ``name`` changes,
with one action (0-5, set a property value) that writes the enrolled company's ``name``
(``OBJECT_PROPERTY``) into ``company_name_copy`` on every contact associated with it by
the company-to-contact *Primary* type (``fields.association``).

Each way is measured alone: the workflow scenarios run before the sync property exists
(``run_store``), the sync ones after the workflow is deleted, so neither does the other's
work meanwhile. Completion is what a user would see: every target shows the new value
through the API (a search counting the targets that hold it; for a stream, batch reads of
every target), timed to the start of the first check that finds it.

- fan-out: rename the hub (N Primary contacts) through the API;
- stream: the same renames of distinct companies, one after the other, through the API;
- edit to action visible: one rename at a time, from the PATCH's response until a batch
  read shows the copy on every Primary contact (as ``scenarios.edit_latencies`` does for
  sync values).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx
from sqlalchemy import text

from propsync.bench.dataset import Dataset
from propsync.bench.scenarios import SOURCE, ratio
from propsync.domain.associations import BUILT_IN_TYPES, HUBSPOT_DEFINED
from propsync.domain.copy_flows import copy_to_associated
from propsync.services import records as records_svc
from propsync.services import workflows as workflows_svc
from propsync.services.views import ReadSpec

COPY_NAME = "company_name_copy"
FLOW_NAME = "Bench: copy the company name to its Primary contacts"
# The company-to-contact Primary type (the inverse of contact-to-company Primary, 1).
COMPANY_TO_CONTACT_PRIMARY = next(t.type_id for t in BUILT_IN_TYPES.values()
                                  if t.name == "company_to_contact")
BATCH_READ = 100  # inputs per batch read (HubSpot's limit)
NOTE = ("The workflow is a real copy workflow (POST /automation/v4/flows: a company flow, "
        "name is known, re-enrolled when name changes, action 0-5 copying name to the "
        "company's Primary contacts), run by propsync's workflow engine; it and the sync "
        "property are each measured alone, on the same data, in the same run.")


def flow_definition() -> dict[str, Any]:
    """The copy workflow, as ``POST /automation/v4/flows`` takes it (HubSpot's shape)."""
    return copy_to_associated(FLOW_NAME, "0-2", "name", COPY_NAME, COMPANY_TO_CONTACT_PRIMARY,
                              category=HUBSPOT_DEFINED)


def create_copy_property(client: httpx.Client) -> None:
    reply = client.post("/crm/v3/properties/contacts", json={
        "name": COPY_NAME, "label": "Company name (copy)", "type": "string",
        "fieldType": "text", "groupName": "contactinformation"})
    if reply.status_code != 409:
        reply.raise_for_status()


def create_flow(client: httpx.Client) -> str:
    """The copy property and the enabled copy workflow, through the API; the flow's id."""
    create_copy_property(client)
    reply = client.post("/automation/v4/flows", json=flow_definition())
    if reply.status_code >= 400:
        raise RuntimeError(f"POST /automation/v4/flows: {reply.status_code} {reply.text}")
    return str(reply.json()["id"])


# -- what the API shows ----------------------------------------------------------------------

def holding(client: httpx.Client, prop: str, value: str) -> int:
    """How many contacts hold ``value`` in ``prop`` (a search, so one request at any scale)."""
    reply = client.post("/crm/v3/objects/contacts/search", json={
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": "EQ",
                                       "value": value}]}], "limit": 1})
    reply.raise_for_status()
    return int(reply.json()["total"])


def showing(client: httpx.Client, prop: str, expected: Mapping[int, str]) -> bool:
    """Whether every contact in ``expected`` shows its value in ``prop`` (batch reads)."""
    ids = list(expected)
    for first in range(0, len(ids), BATCH_READ):
        chunk = ids[first:first + BATCH_READ]
        reply = client.post("/crm/v3/objects/contacts/batch/read", json={
            "inputs": [{"id": str(i)} for i in chunk], "properties": [prop]})
        reply.raise_for_status()
        results = reply.json()["results"]
        if len(results) != len(chunk) or any(
                r["properties"].get(prop) != expected[int(r["id"])] for r in results):
            return False
    return True


def seconds_until(done: Callable[[], bool], start: float, timeout: float = 600) -> float:
    """Seconds from ``start`` (a ``perf_counter``) to the beginning of the first call of
    ``done`` that answers True: what it saw was already there when it began. Between calls
    it backs off from 2 ms to a tenth of the time waited, and never polls for more than
    half the time (a check may be a search of every contact)."""
    pause = 0.002
    while True:
        began = time.perf_counter()
        if done():
            return began - start
        took = time.perf_counter() - began
        waited = time.perf_counter() - start
        if waited > timeout:
            raise TimeoutError(f"not done after {timeout:g} s")
        time.sleep(max(pause, took))
        pause = min(pause * 1.5, max(0.002, waited / 10))


# -- the scenarios, each run once the workflow way and once with the sync property --------------

def fanout(data: Dataset, client: httpx.Client, prop: str, name: str) -> dict[str, Any]:
    """Rename the hub through the API; seconds until a search finds ``name`` in ``prop`` on
    every one of its Primary contacts; then (untimed) a batch read of each of them."""
    targets = data.primary_of[data.hub]
    start = time.perf_counter()
    client.patch(f"/crm/v3/objects/companies/{data.hub}",
                 json={"properties": {"name": name}}).raise_for_status()
    seconds = seconds_until(lambda: holding(client, prop, name) >= len(targets), start)
    if not showing(client, prop, dict.fromkeys(targets, name)):
        raise RuntimeError(f"the fan-out left a Primary contact of the hub without {name!r}")
    return {"targets": len(targets), "seconds": round(seconds, 3)}


def stream_companies(data: Dataset, edits: int) -> list[int]:
    return data.small_companies()[-edits:]


def stream(data: Dataset, client: httpx.Client, prop: str, tag: str, edits: int,
           tick: Callable[[], None], idle: Callable[[], bool]) -> dict[str, Any]:
    """``edits`` renames of distinct companies through the API, one after the other; seconds
    from the first until ``idle()`` and every Primary contact of each shows its company's
    new name in ``prop`` (and of those, the seconds after the last rename's response: how
    far behind the writes the engine ended)."""
    companies = stream_companies(data, edits)
    expected = {contact: f"{tag} {i}" for i, company in enumerate(companies)
                for contact in data.primary_of[company]}
    start = time.perf_counter()
    for i, company in enumerate(companies):
        client.patch(f"/crm/v3/objects/companies/{company}",
                     json={"properties": {"name": f"{tag} {i}"}}).raise_for_status()
        tick()
    written = time.perf_counter() - start
    seconds = seconds_until(lambda: idle() and showing(client, prop, expected), start)
    return {"edits": len(companies), "targets": len(expected), "seconds": round(seconds, 3),
            "after_last_seconds": round(max(seconds - written, 0.0), 3),
            "edits_per_s": round(len(companies) / seconds, 1)}


def sync_idle(client: httpx.Client) -> Callable[[], bool]:
    return lambda: not client.get("/propsync/v1/sync/status").json()["pendingChanges"]


def workflow_idle(client: httpx.Client, flow_id: str) -> Callable[[], bool]:
    """No enrollment of the flow is active (``GET /propsync/v1/workflows/{id}/summary``)."""
    def idle() -> bool:
        reply = client.get(f"/propsync/v1/workflows/{flow_id}/summary")
        reply.raise_for_status()
        return not reply.json()["active"]
    return idle


def restore_names(data: Dataset, companies: Iterable[int]) -> None:
    """Put the seeded names back (service layer, untimed) on the companies the workflow
    scenarios renamed, so the scenarios after them find the data set as seeded. Runs once
    the flow is deleted and before any sync property exists: it starts no work."""
    ids = sorted(set(companies))
    for first in range(0, len(ids), 100):
        records_svc.update_records(data.engine, data.principal, "companies", [
            (str(c), {"name": f"Company {c}"}) for c in ids[first:first + 100]], SOURCE)


def compare(workflow: Mapping[str, Any], sync: Mapping[str, Any], raw_sql_seconds: float
            ) -> dict[str, Any]:
    """The figures of both ways side by side, with the ratios the report shows
    (``raw_sql_seconds``: the raw ``UPDATE`` of the same fan-out's rows)."""
    fan_w, fan_s = workflow["fanout"], sync["fanout"]
    out: dict[str, Any] = {
        "fanout": {"targets": fan_w["targets"], "workflow_seconds": fan_w["seconds"],
                   "sync_seconds": fan_s["seconds"],
                   "speedup": ratio(fan_w["seconds"], fan_s["seconds"]),
                   "raw_sql_seconds": raw_sql_seconds,
                   "workflow_to_raw_sql": ratio(fan_w["seconds"], raw_sql_seconds),
                   "sync_to_raw_sql": ratio(fan_s["seconds"], raw_sql_seconds)},
        "note": NOTE, "flow": workflow.get("flow_id"),
    }
    st_w, st_s = workflow["stream"], sync["stream"]
    out["stream"] = {"edits": st_w["edits"], "targets": st_w["targets"],
                     "workflow_seconds": st_w["seconds"], "sync_seconds": st_s["seconds"],
                     "workflow_edits_per_s": st_w["edits_per_s"],
                     "sync_edits_per_s": st_s["edits_per_s"],
                     "workflow_after_last_seconds": st_w["after_last_seconds"],
                     "sync_after_last_seconds": st_s["after_last_seconds"],
                     "speedup": ratio(st_w["seconds"], st_s["seconds"])}
    edit = dict(workflow["edit"])
    if "p99_ms" in sync.get("edit", {}):
        edit |= {"sync_p50_ms": sync["edit"]["p50_ms"], "sync_p99_ms": sync["edit"]["p99_ms"],
                 "ratio_p50": ratio(edit["p50_ms"], sync["edit"]["p50_ms"]),
                 "ratio_p99": ratio(edit["p99_ms"], sync["edit"]["p99_ms"])}
    out["edit"] = edit
    out["fanout_speedup"] = out["fanout"]["speedup"]
    out["stream_speedup"] = out["stream"]["speedup"]
    return out


def actions_run(data: Dataset, flow_id: str) -> int:
    """Actions of the flow run so far: rows of its run log (one per action run)."""
    with data.engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM workflow_runs WHERE account_id = :a AND flow_id = :f"),
            {"a": data.account_id, "f": int(flow_id)}).scalar_one())


def copied(data: Dataset, expected: Mapping[int, str]) -> bool:
    """Whether every contact in ``expected`` holds its value in the copy property (service
    layer, for the scenarios that run without an API server)."""
    ids = [str(i) for i in expected]
    for first in range(0, len(ids), BATCH_READ):
        views = records_svc.batch_read(data.engine, data.principal, "contacts",
                                       ids[first:first + BATCH_READ],
                                       ReadSpec(properties=[COPY_NAME])).views
        if len(views) != len(ids[first:first + BATCH_READ]) or any(
                v.properties.get(COPY_NAME) != expected[v.id] for v in views):
            return False
    return True


def delete_flow(data: Dataset, flow_id: str) -> None:
    """Delete the flow through the service layer (the API server has stopped by now): its
    enrollments end and the engine stops watching company names."""
    workflows_svc.delete_flow(data.engine, data.principal, flow_id)
