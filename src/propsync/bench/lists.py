"""The lists scenario: a two-filter DYNAMIC list of contacts (an e-mail suffix, and the
sync property known), made through the API.

- its whole evaluation (``storage/lists.evaluate_whole``: one ``DELETE``, one
  ``INSERT ... SELECT``, the size counted) beside hand-written SQL that selects the same
  records (two ``EXISTS``), each timed alone in a transaction of its own;
- reading its size (``GET /crm/v3/lists/{id}``), which is one row;
- single edits through the API: a contact's e-mail changed so that it meets the filter,
  then back, each timed from the edit's response until the record's lists
  (``GET /crm/v3/lists/records/0-1/{id}/memberships``) show it joined or left.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text

from propsync.bench.dataset import Dataset
from propsync.bench.scenarios import SYNC_NAME, percentiles, ratio
from propsync.clock import now_ms
from propsync.lists.evaluator import conditions
from propsync.storage import lists as store
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import find_property
from propsync.workflows.schema import AccountSchema

SUFFIX = "7@example.com"  # a tenth of the seeded e-mails (person<id>@example.com)


def list_body(name: str) -> dict[str, Any]:
    return {"name": name, "objectTypeId": "0-1", "processingType": "DYNAMIC",
            "filterBranch": {"filterBranchType": "OR", "filterBranches": [{
                "filterBranchType": "AND", "filters": [
                    {"filterType": "PROPERTY", "property": "email", "operation": {
                        "operationType": "STRING", "operator": "ENDS_WITH", "value": SUFFIX}},
                    {"filterType": "PROPERTY", "property": SYNC_NAME, "operation": {
                        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]}}


def _raw_seconds(data: Dataset) -> tuple[float, int]:
    """Hand-written SQL selecting the same records, and how many it found."""
    with read_transaction(data.engine) as conn:
        email = find_property(conn, data.account_id, "contacts", "email")
        synced = find_property(conn, data.account_id, "contacts", SYNC_NAME)
        assert email is not None and synced is not None
        start = time.perf_counter()
        found = conn.execute(text(
            "SELECT r.record_id FROM records r WHERE r.account_id = :a "
            "AND r.object_type = 'contacts' AND r.archived = false "
            "AND EXISTS (SELECT 1 FROM property_values v WHERE v.account_id = :a "
            "AND v.record_id = r.record_id AND v.property_id = :e AND lower(v.value) LIKE :s) "
            "AND EXISTS (SELECT 1 FROM property_values v WHERE v.account_id = :a "
            "AND v.record_id = r.record_id AND v.property_id = :p)"),
            {"a": data.account_id, "e": email.id, "p": synced.id, "s": f"%{SUFFIX}"}).all()
        return time.perf_counter() - start, len(found)


def _evaluate_seconds(data: Dataset, list_id: int) -> tuple[float, int]:
    """propsync's whole evaluation of the list, alone in its transaction."""
    with write_transaction(data.engine) as conn:
        stored = store.load_list(conn, data.account_id, list_id, lock=True)
        assert stored is not None
        groups = conditions(AccountSchema(conn, data.account_id), stored, now_ms())
        start = time.perf_counter()
        size = store.evaluate_whole(conn, data.account_id, stored, groups, now_ms())
        return time.perf_counter() - start, size


def _member(client: httpx.Client, record: int, list_id: str) -> bool:
    reply = client.get(f"/crm/v3/lists/records/0-1/{record}/memberships")
    reply.raise_for_status()
    return any(r["listId"] == list_id for r in reply.json()["results"])


def _shows(client: httpx.Client, record: int, list_id: str, member: bool
           ) -> Callable[[], bool]:
    return lambda: _member(client, record, list_id) == member


def _until(done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("a list membership did not change within 60 s")


def scenario(data: Dataset, client: httpx.Client, edits: int, tick: Callable[[], None]
             ) -> dict[str, Any]:
    created = client.post("/crm/v3/lists", json=list_body("Bench: e-mails ending in 7"))
    created.raise_for_status()
    list_id = created.json()["list"]["listId"]
    _until(lambda: client.get(f"/crm/v3/lists/{list_id}").json()["list"][
        "processingStatus"] == "COMPLETE", 600)
    evaluated, size = _evaluate_seconds(data, int(list_id))
    raw, found = _raw_seconds(data)
    if found != size:
        raise RuntimeError(f"the list holds {size} contacts, the hand-written SQL finds {found}")
    reads = []
    for _ in range(50):
        start = time.perf_counter()
        client.get(f"/crm/v3/lists/{list_id}").raise_for_status()
        reads.append((time.perf_counter() - start) * 1000)
    outside = [c for c in data.contacts if not str(c).endswith("7")]
    joins: list[float] = []
    leaves: list[float] = []
    for i in range(edits):
        contact = outside[(i * 7919) % len(outside)]
        for joining, samples in ((True, joins), (False, leaves)):
            email = f"bench{i}x{SUFFIX}" if joining else f"person{contact}@example.com"
            client.patch(f"/crm/v3/objects/contacts/{contact}",
                         json={"properties": {"email": email}}).raise_for_status()
            start = time.perf_counter()
            _until(_shows(client, contact, list_id, joining))
            samples.append((time.perf_counter() - start) * 1000)
        tick()
    client.delete(f"/crm/v3/lists/{list_id}").raise_for_status()
    return {
        "members": size,
        "evaluate_whole_s": round(evaluated, 4), "raw_sql_s": round(raw, 4),
        "evaluate_vs_raw": ratio(evaluated, raw),
        "size_read_p50_ms": round(statistics.median(reads), 2),
        "join": {"edits": len(joins), **percentiles(joins)},
        "leave": {"edits": len(leaves), **percentiles(leaves)},
        "method": f"a DYNAMIC list of contacts: email ENDS_WITH {SUFFIX!r} AND {SYNC_NAME} "
                  "IS_KNOWN. Whole evaluation (DELETE + INSERT ... SELECT + count) vs "
                  "hand-written SQL selecting the same ids (two EXISTS); size read = GET "
                  "/crm/v3/lists/{id}, 50 times; join/leave = from a PATCH of the e-mail "
                  "until GET /crm/v3/lists/records/0-1/{id}/memberships shows the change",
    }
