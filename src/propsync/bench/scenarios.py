"""The engine's scenarios, each beside a baseline measured in the same run on the same rows.

- backfill: create a sync property over every contact, drained by a child process (so its
  peak RSS is the backfill's alone), against one ``INSERT ... SELECT`` doing the same copy;
- fan-out: rename the hub company, against one set-based ``UPDATE`` of the same rows;
- single edit: through the HTTP API, from a source edit's response to the new value being
  readable on every target through the API, idle and under a steady background load;
- write overhead: API write throughput with 0, 1 and 10 sync properties defined.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import httpx
from sqlalchemy import Engine, text

from propsync.bench.dataset import Dataset, new_account
from propsync.bench.processes import Server
from propsync.domain.auth import Principal
from propsync.domain.history import ValueSource
from propsync.services import records as records_svc
from propsync.services import reports as reports_svc
from propsync.services.associations import AssociationInput, TypeSpec
from propsync.services.sync_properties import (
    SourceRequest,
    account_status,
    create_sync_property,
)
from propsync.storage import records as records_store
from propsync.sync.worker import SyncWorker

SOURCE = ValueSource("IMPORT", "bench")
SYNC_NAME = "company_name_sync"
PRIMARY_ONLY = [("HUBSPOT_DEFINED", 1)]

Say = Callable[[str], None]


def poll_until(done: Callable[[], bool], timeout: float = 600) -> None:
    """Call ``done`` until it answers True, backing off from 2 ms to a tenth of the time
    waited so far: the status query counts rows (tens of ms at 100,000 targets), and polling
    it flat out would take a core from the work being timed on a 2-core machine; the price
    is a resolution of about 10 %."""
    start = time.monotonic()
    pause = 0.002
    while not done():
        waited = time.monotonic() - start
        if waited > timeout:
            raise TimeoutError(f"sync work still pending after {timeout:g} s")
        time.sleep(pause)
        pause = min(pause * 1.5, max(0.002, waited / 10))


def wait_synced(engine: Engine, principal: Principal, timeout: float = 600) -> None:
    """Until the account has no pending sync work (the engine's public status)."""
    poll_until(lambda: not account_status(engine, principal).pending, timeout)


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 2) if baseline > 0 else float("inf")


# -- backfill --------------------------------------------------------------------------------

def backfill(data: Dataset, database_url: str) -> dict[str, Any]:
    """Define ``company_name_sync`` (Primary company's name); a child process drains it."""
    child = subprocess.Popen([sys.executable, "-m", "propsync.bench.child", database_url],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the backfill process did not start")
        start = time.perf_counter()
        create_sync_property(data.engine, data.principal, "contacts", SYNC_NAME,
                             "Company name (sync)", SourceRequest("companies", "name",
                                                                  PRIMARY_ONLY, None))
        child.stdin.write("go\n")
        child.stdin.flush()
        report = json.loads(child.stdout.readline() or "{}")
        seconds = time.perf_counter() - start
    finally:
        child.stdin.close()
        child.wait(60)
        child.stdout.close()
    if not report or report["error"]:
        raise RuntimeError(f"the backfill process failed: {report.get('error')}")
    wait_synced(data.engine, data.principal)
    raw = _raw_copy(data)
    targets = len(data.contacts)
    return {"targets": targets, "seconds": round(seconds, 3), "rows_per_s": round(
        targets / seconds), "raw_sql_seconds": round(raw, 3), "ratio": ratio(seconds, raw),
        "peak_rss_mb": round(report["peak_rss_kb"] / 1024, 1),
        "peak_rss_of": "a child process running SyncWorker(engine).drain() (interpreter, "
                       "imports and engine included)"}


def _raw_copy(data: Dataset) -> float:
    """One hand-written SQL copy of each contact's Primary company's name, committed as the
    engine's batches are (a rolled-back statement never writes its pages out), into a
    scratch property id that is deleted afterwards, untimed."""
    params = {"a": data.account_id}
    with data.engine.connect() as conn:
        tx = conn.begin()
        start = time.perf_counter()
        conn.execute(text(
            "INSERT INTO property_values (account_id, record_id, property_id, value) "
            "SELECT a.account_id, a.from_id, -1, v.value FROM associations a "
            "JOIN property_values v ON v.account_id = a.account_id AND v.record_id = a.to_id "
            "JOIN properties p ON p.account_id = a.account_id AND p.property_id = v.property_id "
            "AND p.name = 'name' AND p.object_type = 'companies' "
            "WHERE a.account_id = :a AND a.from_type = 'contacts' AND a.to_type = 'companies' "
            "AND a.type_id = 1"), params)
        tx.commit()
        seconds = time.perf_counter() - start
        with conn.begin():
            conn.execute(text("DELETE FROM property_values WHERE account_id = :a "
                              "AND property_id = -1"), params)
    return seconds


# -- fan-out ---------------------------------------------------------------------------------

def fanout(data: Dataset) -> dict[str, Any]:
    """Rename the hub (service layer) and drain in this process; raw: one UPDATE."""
    start = time.perf_counter()
    records_svc.update_records(data.engine, data.principal, "companies",
                               [(str(data.hub), {"name": "Renamed hub"})], SOURCE)
    SyncWorker(data.engine).drain()
    seconds = time.perf_counter() - start
    raw = _raw_update(data, "Renamed hub")
    return {"targets": data.fanout_targets, "seconds": round(seconds, 3),
            "raw_sql_seconds": round(raw, 6), "ratio": ratio(seconds, raw)}


def _raw_update(data: Dataset, synced: str) -> float:
    """One hand-written UPDATE of the same rows to another value, committed as the engine's
    batches are; then (untimed) the synced value is put back."""
    rows = ("account_id = :a AND property_id = (SELECT property_id FROM properties "
            "WHERE account_id = :a AND object_type = 'contacts' AND name = :n) "
            "AND record_id IN (SELECT to_id FROM associations WHERE account_id = :a "
            "AND from_id = :h AND to_type = 'contacts' AND type_id = 2)")
    params = {"a": data.account_id, "h": data.hub, "n": SYNC_NAME}
    with data.engine.connect() as conn:
        tx = conn.begin()
        start = time.perf_counter()
        conn.execute(text(f"UPDATE property_values SET value = 'Raw rename' WHERE {rows}"),
                     params)
        tx.commit()
        seconds = time.perf_counter() - start
        with conn.begin():
            conn.execute(text(f"UPDATE property_values SET value = :v WHERE {rows}"),
                         {**params, "v": synced})
    return seconds


def wait_api_synced(client: httpx.Client, timeout: float = 600) -> None:
    """Until ``GET /propsync/v1/sync/status`` reports nothing pending."""
    poll_until(lambda: not client.get("/propsync/v1/sync/status").json()["pendingChanges"],
               timeout)


# -- single edit -----------------------------------------------------------------------------

@dataclass(eq=False)  # a thread must stay hashable
class Load(threading.Thread):
    """Steady writes to other records through the API, paced at ``rate`` per second."""

    server: Server
    token: str
    companies: Sequence[int]
    rate: float
    done: threading.Event = field(default_factory=threading.Event)
    writes: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        super().__init__(name="bench-load", daemon=True)

    def run(self) -> None:
        start = next_at = time.monotonic()
        with self.server.client(self.token) as client:
            while not self.done.is_set():
                company = self.companies[self.writes % len(self.companies)]
                client.patch(f"/crm/v3/objects/companies/{company}",
                             json={"properties": {"name": f"Load {self.writes}"}})
                self.writes += 1
                # Steady, never a burst to catch up: a slow write delays the next one.
                next_at = max(next_at + 1 / self.rate, time.monotonic())
                self.done.wait(next_at - time.monotonic())
        self.seconds = time.monotonic() - start


def latency_companies(data: Dataset) -> tuple[list[int], list[int]]:
    """The companies the single edits rename, and those the background load writes."""
    pool = data.small_companies()
    return pool[0::2], pool[1::2] or pool


def edit_latencies(data: Dataset, server: Server, edits: int, max_seconds: float,
                   load_rate: float | None, tick: Callable[[], None], prop: str = SYNC_NAME,
                   tag: str | None = None) -> tuple[list[float], float | None]:
    """Milliseconds from each edit's API response to its value in ``prop`` on every target
    (the company's Primary contacts; API reads), for ``edits`` edits or until
    ``max_seconds`` have passed; with ``load_rate``, also the write rate the background
    load achieved. The edits rename ``latency_companies(data)[0]`` in turn."""
    measured, others = latency_companies(data)
    load = Load(server, data.token, others, load_rate) if load_rate else None
    if load is not None:
        load.start()
    latencies: list[float] = []
    tag = tag or ("load" if load else "idle")
    stop_at = time.monotonic() + max_seconds
    try:
        with server.client(data.token) as client:
            for i in range(edits):
                if time.monotonic() > stop_at and len(latencies) >= 2:
                    break
                company = measured[i % len(measured)]
                value = f"Edit {tag} {i}"
                client.patch(f"/crm/v3/objects/companies/{company}",
                             json={"properties": {"name": value}}).raise_for_status()
                start = time.perf_counter()
                _until_visible(client, data.primary_of[company], value, prop)
                latencies.append((time.perf_counter() - start) * 1000)
                tick()
    finally:
        if load is not None:
            load.done.set()
            load.join(30)
    rate = load.writes / load.seconds if load is not None and load.seconds else None
    return latencies, rate


def _until_visible(client: httpx.Client, targets: list[int], value: str, prop: str,
                   timeout: float = 60) -> None:
    body = {"inputs": [{"id": str(t)} for t in targets], "properties": [prop]}
    deadline = time.monotonic() + timeout
    while True:
        reply = client.post("/crm/v3/objects/contacts/batch/read", json=body)
        reply.raise_for_status()
        results = reply.json()["results"]
        if len(results) == len(targets) and all(
                r["properties"].get(prop) == value for r in results):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{value!r} did not reach every target within {timeout} s")


def percentiles(latencies: list[float]) -> dict[str, float]:
    if len(latencies) < 2:
        only = round(latencies[0], 2) if latencies else 0.0
        return {"p50_ms": only, "p95_ms": only, "p99_ms": only}
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2)}


# -- write overhead --------------------------------------------------------------------------

@dataclass
class _WriteAccount:
    sync_properties: int
    token: str
    companies: list[int]
    principal: Principal
    writes: int = 0
    seconds: float = 0.0


def write_overhead(engine: Engine, server: Server, writes: int, tick: Callable[[], None]
                   ) -> dict[str, Any]:
    """PATCH throughput through the API into three accounts alike but for the number of sync
    properties copying the written property (0, 1, 10); measured in blocks ordered
    0, 1, 10, 10, 1, 0 so that drift on a shared machine cancels, waiting for the sync work
    of each block to finish (untimed) before the next one."""
    accounts = [_write_account(engine, n) for n in (0, 1, 10)]
    block = max(writes // 2, 1)
    for account in [*accounts, *reversed(accounts)]:
        with server.client(account.token) as client:
            start = time.perf_counter()
            for i in range(block):
                company = account.companies[(account.writes + i) % len(account.companies)]
                client.patch(f"/crm/v3/objects/companies/{company}",
                             json={"properties": {"name": f"W{account.writes + i}"}}
                             ).raise_for_status()
                tick()
            account.seconds += time.perf_counter() - start
            account.writes += block
            wait_api_synced(client)
    rate = {a.sync_properties: a.writes / a.seconds for a in accounts}
    return {"writes": accounts[0].writes, "writes_per_s_0": round(rate[0], 1),
            "writes_per_s_1": round(rate[1], 1), "writes_per_s_10": round(rate[10], 1),
            "ratio_1": round(rate[0] / rate[1], 3), "ratio_10": round(rate[0] / rate[10], 3),
            "method": "PATCH of a company name through the HTTP API, one record per request, "
                      "into 50 companies with 2 contacts each; the server's embedded worker "
                      "propagates concurrently"}


def engine_off(engine: Engine, writes: int, tick: Callable[[], None]) -> dict[str, Any]:
    """What the engine costs writes in an account that defines no sync property: service-
    layer PATCH throughput as shipped, against the same writes with the change log's one
    hook (``append_changes``) replaced by a no-op, which is all a build without the engine
    would leave out. Blocks alternate on, off, off, on so that drift cancels."""
    account = _write_account(engine, 0)
    principal = account.principal
    seconds = {True: 0.0, False: 0.0}
    block = max(writes // 2, 1)
    done = 0
    for enabled in (True, False, False, True):
        hook_removed = patch.object(records_store, "append_changes",
                                    lambda *args, **kwargs: None)
        with nullcontext() if enabled else hook_removed:
            start = time.perf_counter()
            for i in range(block):
                company = account.companies[(done + i) % len(account.companies)]
                records_svc.update_records(engine, principal, "companies",
                                           [(str(company), {"name": f"E{done + i}"})], SOURCE)
                tick()
            seconds[enabled] += time.perf_counter() - start
        done += block
    on, off = 2 * block / seconds[True], 2 * block / seconds[False]
    return {"writes": 2 * block, "writes_per_s": round(on, 1),
            "writes_per_s_engine_off": round(off, 1), "ratio": round(off / on, 3),
            "method": "update_records of one company name per call, in process, in an "
                      "account without sync properties; 'engine off' replaces the change "
                      "log's append_changes with a no-op"}


def _write_account(engine: Engine, count: int) -> _WriteAccount:
    principal, token = new_account(engine, f"writes{count}")
    companies = [v.id for v in records_svc.create_records(
        engine, principal, "companies",
        [records_svc.RecordInput({"name": f"W{i}"}) for i in range(50)], SOURCE)]
    primary, unlabeled = TypeSpec("HUBSPOT_DEFINED", 1), TypeSpec("HUBSPOT_DEFINED", 279)
    records_svc.create_records(engine, principal, "contacts", [
        records_svc.RecordInput({"email": f"w{i}@example.com"}, [AssociationInput(
            str(companies[i // 2]), (primary,) if i % 2 == 0 else (unlabeled,))])
        for i in range(100)], SOURCE)
    for i in range(count):
        request = (SourceRequest("companies", "name", PRIMARY_ONLY, None) if i % 2 == 0 else
                   SourceRequest("companies", "name", None, "FIRST_CREATED"))
        create_sync_property(engine, principal, "contacts", f"sync_{i}", f"Sync {i}", request)
    SyncWorker(engine).drain()
    return _WriteAccount(count, token, companies, principal)


# -- a report ---------------------------------------------------------------------------------

REPORT_RUNS = 5


def report(data: Dataset) -> dict[str, Any]:
    """A report counting the contacts by the sync property ``company_name_sync`` (run
    through the service: the access checks, the one GROUP BY query with its ranking and
    "(other)", the figures), beside the hand-written SQL GROUP BY of the same counts, each
    run ``REPORT_RUNS`` times in turn in the same run; the medians compared."""
    made = reports_svc.create_report(data.engine, data.principal, {
        "name": "Contacts by company (sync)", "objectType": "contacts", "groupBy": SYNC_NAME,
        "maxGroups": 20})
    ours: list[float] = []
    raw: list[float] = []
    for _ in range(REPORT_RUNS):
        start = time.perf_counter()
        run = reports_svc.run_report(data.engine, data.principal, str(made.report_id))
        ours.append(time.perf_counter() - start)
        raw.append(_raw_group_by(data, made.spec.group_by))
    counted = run.figures.records
    if counted != len(data.contacts):
        raise RuntimeError(f"the report counted {counted:,} contacts, not "
                           f"{len(data.contacts):,}")
    seconds, baseline = statistics.median(ours), statistics.median(raw)
    return {"records": counted, "groups_shown": len(run.figures.groups),
            "seconds": round(seconds, 4), "raw_sql_seconds": round(baseline, 4),
            "ratio": ratio(seconds, baseline), "runs": REPORT_RUNS}


def _raw_group_by(data: Dataset, name: str) -> float:
    """The contacts counted per value of property ``name`` by one hand-written GROUP BY."""
    with data.engine.connect() as conn:
        pid = conn.execute(text("SELECT property_id FROM properties WHERE account_id = :a "
                                "AND object_type = 'contacts' AND name = :n"),
                           {"a": data.account_id, "n": name}).scalar_one()
        start = time.perf_counter()
        conn.execute(text(
            "SELECT v.value, count(*) FROM records r LEFT JOIN property_values v "
            "ON v.account_id = r.account_id AND v.record_id = r.record_id "
            "AND v.property_id = :p WHERE r.account_id = :a AND r.object_type = 'contacts' "
            "AND r.archived = :f GROUP BY v.value"),
            {"a": data.account_id, "p": pid, "f": False}).all()
        return time.perf_counter() - start
