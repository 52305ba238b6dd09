"""The workflow way: what a user's own script does to keep a copy of a company's name on its
contacts, one HTTP request at a time, against the same server the sync property runs on.

This stands in for copy-value workflows (SPEC 4), which do not exist yet: a workflow
action would do the same per-record reads and writes inside the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from propsync.bench.dataset import Dataset
from propsync.bench.scenarios import api_fanout, ratio, wait_api_synced

COPY_NAME = "company_name_copy"
PRIMARY_COMPANY_TO_CONTACT = 2
NOTE = ("The workflow way is a per-record loop through the public HTTP API (read each "
        "associated contact, PATCH its copy property, one request at a time); it stands in "
        "for copy-value workflows, which do not exist yet.")


def create_copy_property(client: httpx.Client) -> None:
    reply = client.post("/crm/v3/properties/contacts", json={
        "name": COPY_NAME, "label": "Company name (copy)", "type": "string",
        "fieldType": "text", "groupName": "contactinformation"})
    if reply.status_code != 409:
        reply.raise_for_status()


def primary_contacts(client: httpx.Client, company: int) -> list[str]:
    """The contacts whose Primary company is ``company``, page by page (v4 associations)."""
    found: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"after": after} if after else {})}
        page = client.get(f"/crm/v4/objects/companies/{company}/associations/contacts",
                          params=params).json()
        found += [str(r["toObjectId"]) for r in page["results"] if any(
            t["typeId"] == PRIMARY_COMPANY_TO_CONTACT for t in r["associationTypes"])]
        after = (page.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return found


def copy_to(client: httpx.Client, contact: str, value: str) -> None:
    """Read the contact's copy, write it if it differs: two requests."""
    current = client.get(f"/crm/v3/objects/contacts/{contact}",
                         params={"properties": COPY_NAME}).json()
    if current["properties"].get(COPY_NAME) != value:
        client.patch(f"/crm/v3/objects/contacts/{contact}",
                     json={"properties": {COPY_NAME: value}}).raise_for_status()


def fanout(data: Dataset, client: httpx.Client, sample: int, tick: Callable[[], None]
           ) -> dict[str, Any]:
    """Rename the hub the workflow way (at most ``sample`` contacts copied, the rest
    extrapolated linearly), then with the sync property through the same API."""
    create_copy_property(client)
    start = time.perf_counter()
    name = "Hub renamed by a script"
    client.patch(f"/crm/v3/objects/companies/{data.hub}",
                 json={"properties": {"name": name}}).raise_for_status()
    contacts = primary_contacts(client, data.hub)
    listed = time.perf_counter() - start
    done = contacts[:sample]
    loop_start = time.perf_counter()
    for contact in done:
        copy_to(client, contact, name)
        tick()
    loop = time.perf_counter() - loop_start
    workflow = listed + loop * len(contacts) / max(len(done), 1)
    wait_api_synced(client)  # the script's rename also moved the sync property: not timed
    sync = api_fanout(data, client, "Hub renamed with sync")
    figures: dict[str, Any] = {
        "targets": len(contacts), "workflow_seconds": round(workflow, 3),
        "sync_seconds": round(sync, 3), "speedup": ratio(workflow, sync)}
    if len(done) < len(contacts):
        figures["extrapolated_from"] = len(done)
    return figures


def stream(data: Dataset, client: httpx.Client, edits: int, tick: Callable[[], None]
           ) -> dict[str, Any]:
    """``edits`` company renames, each copied to its Primary contacts by the script, against
    the same renames through the API with the sync property (until nothing is pending)."""
    companies = data.small_companies()[-edits:]
    start = time.perf_counter()
    copied = 0
    for i, company in enumerate(companies):
        value = f"Script edit {i}"
        client.patch(f"/crm/v3/objects/companies/{company}",
                     json={"properties": {"name": value}}).raise_for_status()
        for contact in primary_contacts(client, company):
            copy_to(client, contact, value)
            copied += 1
        tick()
    workflow = time.perf_counter() - start
    wait_api_synced(client)  # the script's renames also moved the sync property: not timed
    start = time.perf_counter()
    for i, company in enumerate(companies):
        client.patch(f"/crm/v3/objects/companies/{company}",
                     json={"properties": {"name": f"Synced edit {i}"}}).raise_for_status()
        tick()
    wait_api_synced(client)
    sync = time.perf_counter() - start
    return {"edits": len(companies), "targets": copied, "workflow_seconds": round(workflow, 3),
            "sync_seconds": round(sync, 3), "speedup": ratio(workflow, sync),
            "workflow_edits_per_s": round(len(companies) / workflow, 1),
            "sync_edits_per_s": round(len(companies) / sync, 1)}
