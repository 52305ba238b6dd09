"""``propsync bench``: the sync engine measured beside what the database itself can do.

Each figure comes with a baseline measured in the same run on the same data, so the
ratios carry over between machines (this machine is shared and noisy). Scenarios:

- fan-out: rename a company with F associated contacts; time until every contact's sync
  value is updated, against one hand-written set-based ``UPDATE`` of the same rows;
- backfill: create a sync property over all contacts, against one hand-written SQL copy
  (``INSERT ... SELECT`` of each contact's primary company's name);
- single edit: a source edit with a few targets, from the write's commit to the new
  value being readable, with the engine's own worker thread (p50/p95/p99).
"""

from __future__ import annotations

import json
import platform
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.auth import ALL_SCOPES, Principal
from propsync.domain.history import ValueSource
from propsync.services import records as records_svc
from propsync.services.accounts import create_account, create_user
from propsync.services.sync_properties import SourceRequest, create_sync_property
from propsync.storage import sync as sync_store
from propsync.storage.db import is_postgres_engine, read_transaction, write_transaction
from propsync.storage.dialects import id_list
from propsync.storage.ids import allocate_ids
from propsync.sync.runner import start_worker
from propsync.sync.worker import SyncWorker

SCALES = {"small": (2_000, 10_000, 200), "medium": (20_000, 100_000, 500),
          "large": (200_000, 1_000_000, 1000)}  # companies, contacts, single edits
SOURCE = ValueSource("IMPORT", "bench")


@dataclass
class Bench:
    engine: Engine
    principal: Principal
    companies: list[int]
    contacts: list[int]

    @property
    def account_id(self) -> int:
        return self.principal.account_id


def run(database_url: str, scale: str, say: Callable[[str], None]) -> dict[str, object]:
    """Every scenario on one database; returns the figures."""
    n_companies, n_contacts, edits = SCALES[scale]
    engine = engine_for(Settings(database_url=database_url))
    bench = _seed(engine, n_companies, n_contacts, say)
    fanout_size = max(n_contacts // 10, 1)
    hub = _hub(bench, fanout_size)
    result: dict[str, object] = {
        "write_overhead": _write_overhead(engine, edits, say),
        "backfill": _backfill(bench, say), "fanout": _fanout(bench, hub, say),
        "single_edit": _single_edits(bench, edits, say)}
    engine.dispose()
    return result


def _seed(engine: Engine, n_companies: int, n_contacts: int, say: Callable[[str], None]
          ) -> Bench:
    """N companies; contacts with 1-3 companies each, the first one Primary (set-based)."""
    start = time.perf_counter()
    account_id = create_account(engine, f"bench-{uuid.uuid4().hex[:6]}")
    user_id = create_user(engine, account_id, f"bench-{uuid.uuid4().hex[:6]}@example.com")
    principal = Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES))
    with write_transaction(engine) as conn:
        companies = allocate_ids(conn, "records", n_companies)
        contacts = allocate_ids(conn, "records", n_contacts)
        _insert_records(conn, account_id, "companies", companies)
        _insert_records(conn, account_id, "contacts", contacts)
        _insert_names(conn, account_id, companies)
        _insert_links(conn, account_id, companies, contacts)
    if is_postgres_engine(engine):
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    say(f"  seeded {n_companies:,} companies, {n_contacts:,} contacts in "
        f"{time.perf_counter() - start:.1f} s")
    return Bench(engine, principal, companies, contacts)


def _insert_records(conn: Connection, account_id: int, kind: str, ids: list[int]) -> None:
    sql, param = id_list(conn, ids)
    conn.execute(text(
        "INSERT INTO records (account_id, record_id, object_type, created_ms, updated_ms, "
        f"archived) SELECT :a, id, :k, id, id, :no FROM ({sql}) ids"),
        {"a": account_id, "k": kind, "ids": param, "no": False})


def _insert_names(conn: Connection, account_id: int, companies: list[int]) -> None:
    sql, param = id_list(conn, companies)
    conn.execute(text(
        "INSERT INTO property_values (account_id, record_id, property_id, value) "
        "SELECT :a, id, p.property_id, 'Company ' || CAST(id AS TEXT) FROM "
        f"({sql}) ids, properties p WHERE p.account_id = :a AND p.object_type = 'companies' "
        "AND p.name = 'name'"), {"a": account_id, "ids": param})


def _insert_links(conn: Connection, account_id: int, companies: list[int], contacts: list[int]
                  ) -> None:
    """Contact i: Primary company i mod N; a second for even i, a third for i mod 3 == 0."""
    rows = []
    n = len(companies)
    for i, contact in enumerate(contacts):
        chosen = [companies[i % n]]
        if i % 2 == 0:
            chosen.append(companies[(i * 7 + 1) % n])
        if i % 3 == 0:
            chosen.append(companies[(i * 13 + 2) % n])
        for rank, company in enumerate(dict.fromkeys(chosen)):
            for forward, backward in ((279, 280), (1, 2)) if rank == 0 else ((279, 280),):
                rows.append((contact, "companies", company, forward, "contacts"))
                rows.append((company, "contacts", contact, backward, "companies"))
    for start in range(0, len(rows), 50_000):
        conn.execute(text(
            "INSERT INTO associations (account_id, from_id, to_type, to_id, type_id, from_type, "
            "created_ms) VALUES (:a, :f, :tt, :t, :ty, :ft, 0)"),
            [{"a": account_id, "f": f, "tt": tt, "t": to, "ty": ty, "ft": ft}
             for f, tt, to, ty, ft in rows[start:start + 50_000]])


def _hub(bench: Bench, size: int) -> int:
    """A company that becomes the Primary company of ``size`` contacts (for the fan-out)."""
    hub = bench.companies[0]
    targets = bench.contacts[:size]
    with write_transaction(bench.engine) as conn:
        sql, param = id_list(conn, targets)
        params = {"a": bench.account_id, "h": hub, "ids": param}
        conn.execute(text(f"DELETE FROM associations WHERE account_id = :a AND type_id IN (1, 2) "
                          f"AND (from_id IN ({sql}) OR to_id IN ({sql}))"), params)
        for forward, backward in ((279, 280), (1, 2)):
            conn.execute(text(
                "INSERT INTO associations (account_id, from_id, to_type, to_id, type_id, "
                f"from_type, created_ms) SELECT :a, id, 'companies', :h, {forward}, 'contacts', 0 "
                f"FROM ({sql}) ids WHERE NOT EXISTS (SELECT 1 FROM associations x WHERE "
                f"x.account_id = :a AND x.from_id = id AND x.to_id = :h AND x.type_id = "
                f"{forward})"), params)
            conn.execute(text(
                "INSERT INTO associations (account_id, from_id, to_type, to_id, type_id, "
                f"from_type, created_ms) SELECT :a, :h, 'contacts', id, {backward}, 'companies', "
                f"0 FROM ({sql}) ids WHERE NOT EXISTS (SELECT 1 FROM associations x WHERE "
                f"x.account_id = :a AND x.from_id = :h AND x.to_id = id AND x.type_id = "
                f"{backward})"), params)
    return hub


def _define(bench: Bench, name: str) -> int:
    prop = create_sync_property(bench.engine, bench.principal, "contacts", name, name,
                                SourceRequest("companies", "name",
                                              [("HUBSPOT_DEFINED", 1)], None))
    return prop.id


def _drain(engine: Engine) -> None:
    SyncWorker(engine).drain()


def _backfill(bench: Bench, say: Callable[[str], None]) -> dict[str, float]:
    start = time.perf_counter()
    _define(bench, "company_name_sync")
    _drain(bench.engine)
    seconds = time.perf_counter() - start
    raw = _raw_copy(bench)
    say(f"  backfill {len(bench.contacts):,} targets: {seconds:.2f} s; raw SQL copy "
        f"{raw:.2f} s; ratio {seconds / raw:.1f}")
    return {"targets": len(bench.contacts), "seconds": round(seconds, 3),
            "raw_sql_seconds": round(raw, 3), "ratio": round(seconds / raw, 2)}


def _raw_copy(bench: Bench) -> float:
    """One hand-written SQL copy of each contact's Primary company's name (rolled back)."""
    with bench.engine.connect() as conn, conn.begin() as tx:
        start = time.perf_counter()
        conn.execute(text(
            "INSERT INTO property_values (account_id, record_id, property_id, value) "
            "SELECT a.account_id, a.from_id, -1, v.value FROM associations a "
            "JOIN property_values v ON v.account_id = a.account_id AND v.record_id = a.to_id "
            "JOIN properties p ON p.account_id = a.account_id AND p.property_id = v.property_id "
            "AND p.name = 'name' AND p.object_type = 'companies' "
            "WHERE a.account_id = :a AND a.to_type = 'companies' AND a.type_id = 1"),
            {"a": bench.account_id})
        seconds = time.perf_counter() - start
        tx.rollback()
    return seconds


def _fanout(bench: Bench, hub: int, say: Callable[[str], None]) -> dict[str, float]:
    with read_transaction(bench.engine) as conn:
        targets = int(conn.execute(text(
            "SELECT count(*) FROM associations WHERE account_id = :a AND from_id = :h "
            "AND type_id = 2"), {"a": bench.account_id, "h": hub}).scalar_one())
    start = time.perf_counter()
    records_svc.update_records(bench.engine, bench.principal, "companies",
                               [(str(hub), {"name": "Renamed hub"})], SOURCE)
    _drain(bench.engine)
    seconds = time.perf_counter() - start
    raw = _raw_update(bench, hub)
    say(f"  fan-out to {targets:,} targets: {seconds:.2f} s; raw SQL UPDATE {raw:.2f} s; "
        f"ratio {seconds / raw:.1f}")
    return {"targets": targets, "seconds": round(seconds, 3), "raw_sql_seconds": round(raw, 3),
            "ratio": round(seconds / raw, 2)}


def _raw_update(bench: Bench, hub: int) -> float:
    """One hand-written UPDATE of the same rows (rolled back)."""
    with bench.engine.connect() as conn, conn.begin() as tx:
        start = time.perf_counter()
        conn.execute(text(
            "UPDATE property_values SET value = 'Raw rename' WHERE account_id = :a "
            "AND property_id = (SELECT property_id FROM properties WHERE account_id = :a "
            "AND object_type = 'contacts' AND name = 'company_name_sync') "
            "AND record_id IN (SELECT to_id FROM associations WHERE account_id = :a "
            "AND from_id = :h AND type_id = 2)"), {"a": bench.account_id, "h": hub})
        seconds = time.perf_counter() - start
        tx.rollback()
    return seconds


def _write_overhead(engine: Engine, writes: int, say: Callable[[str], None]
                    ) -> dict[str, float]:
    """API-path write throughput (service layer, one record per write) with 0, 1 and 10 sync
    properties copying the written property; ratios are 0 / n."""
    account_id = create_account(engine, f"writes-{uuid.uuid4().hex[:6]}")
    user_id = create_user(engine, account_id, f"w-{uuid.uuid4().hex[:6]}@example.com")
    principal = Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES))
    companies = [v.id for v in records_svc.create_records(
        engine, principal, "companies", [records_svc.RecordInput({"name": "W"})] * 50, SOURCE)]
    rates = {}
    defined = 0
    for count in (0, 1, 10):
        for i in range(defined, count):
            create_sync_property(engine, principal, "contacts", f"sync_{i}", f"Sync {i}",
                                 SourceRequest("companies", "name", None, "FIRST_CREATED"))
        defined = count
        start = time.perf_counter()
        for i in range(writes):
            records_svc.update_records(engine, principal, "companies", [(
                str(companies[i % len(companies)]), {"name": f"W{count}-{i}"})], SOURCE)
        rates[count] = writes / (time.perf_counter() - start)
        _drain(engine)
    figures = {"writes_per_s_0": round(rates[0], 1), "ratio_1": round(rates[0] / rates[1], 3),
               "ratio_10": round(rates[0] / rates[10], 3)}
    say(f"  write throughput: {rates[0]:.0f}/s with no sync property; "
        f"x{figures['ratio_1']} slower with 1, x{figures['ratio_10']} with 10")
    return figures


def _single_edits(bench: Bench, edits: int, say: Callable[[str], None]) -> dict[str, float]:
    """Commit-to-visible latency of edits to companies with a few targets each."""
    running = start_worker(bench.engine)
    latencies = []
    try:
        for i in range(edits):
            company = bench.companies[1 + i % (len(bench.companies) - 1)]
            value = f"Edit {i}"
            records_svc.update_records(bench.engine, bench.principal, "companies",
                                       [(str(company), {"name": value})], SOURCE)
            start = time.perf_counter()
            _wait_visible(bench, company, value)
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        running.shutdown()
    q = statistics.quantiles(latencies, n=100)
    figures = {"edits": edits, "p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2),
               "p99_ms": round(q[98], 2)}
    say(f"  single edit, commit to visible: p50 {figures['p50_ms']} ms, p95 "
        f"{figures['p95_ms']} ms, p99 {figures['p99_ms']} ms over {edits} edits")
    return figures


def _wait_visible(bench: Bench, company: int, value: str, timeout: float = 30) -> None:
    """Until no Primary contact of ``company`` lacks ``value`` and nothing is pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with read_transaction(bench.engine) as conn:
            waiting = sync_store.pending(conn, bench.account_id)
            if not waiting.changes and not waiting.targets:
                return
        time.sleep(0.0005)
    raise TimeoutError(f"{value!r} did not reach the targets of {company}")


def write_results(results: dict[str, object], scale: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"scale": scale, "machine": {"platform": platform.platform(),
                                           "python": platform.python_version()}, **results}
    path.write_text(json.dumps(payload, indent=2) + "\n")
