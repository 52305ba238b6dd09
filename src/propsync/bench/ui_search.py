"""The web UI's contact search, timed: ``python -m propsync.bench.ui_search [URL] [N]``.

Seeds a fresh account with N contacts (30,000 unless told; first and last name, e-mail,
phone and company name each) and N/5 companies, each contact Primary-associated with one
of them, defines a sync property ``company_city`` (the Primary company's city), starts
``propsync serve`` and signs in through the sign-in page. It then times the contact list
page (``GET /ui/records/contacts?q=...``) for a few free-text searches, a search on a
synced value, a filter and a sort on the sync property, and prints the medians. Timings
are figures to read, never assertions (docs/PERFORMANCE.md gives the ones measured).
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from propsync.bench.dataset import EPOCH_MS, bulk_insert, new_account
from propsync.bench.processes import api_server
from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.auth import Principal
from propsync.services import properties as prop_svc
from propsync.services.accounts import create_user
from propsync.services.sync_properties import SourceRequest, account_status
from propsync.storage.db import is_postgres_engine, write_transaction
from propsync.storage.ids import allocate_ids

FIRST = ("Nora", "Ola", "Kari", "Per", "Ingrid", "Lars", "Sofie", "Emil", "Åse", "Øystein")
LAST = ("Berg", "Hansen", "Johansen", "Olsen", "Larsen", "Dahl", "Lie", "Moe", "Holm")
CITIES = ("Bergen", "Oslo", "Tromsø", "Trondheim", "Stavanger", "Ålesund", "Bodø")
TIMES = 7
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _prop_ids(engine: Engine, account_id: int) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT object_type, name, property_id FROM properties "
                                 "WHERE account_id = :a"), {"a": account_id})
        return {(r[0], r[1]): int(r[2]) for r in rows}


def seed(engine: Engine, n_contacts: int) -> Principal:
    """A fresh account with ``n_contacts`` contacts and their companies (set-based)."""
    principal, _ = new_account(engine, "uisearch")
    account = principal.account_id
    rng = random.Random(13)
    prop = _prop_ids(engine, account)
    n_companies = max(n_contacts // 5, 1)
    with write_transaction(engine) as conn:
        companies = allocate_ids(conn, "records", n_companies)
        contacts = allocate_ids(conn, "records", n_contacts)
        for kind, ids in (("companies", companies), ("contacts", contacts)):
            bulk_insert(conn, "records", ("account_id", "record_id", "object_type",
                                          "created_ms", "updated_ms", "archived"),
                        ((account, i, kind, EPOCH_MS + i, EPOCH_MS + i, False) for i in ids))

        def values() -> Iterator[tuple[int, int, int, str]]:
            for i in companies:
                yield account, i, prop["companies", "name"], f"Company {i}"
                yield account, i, prop["companies", "city"], rng.choice(CITIES)
            for i in contacts:
                yield account, i, prop["contacts", "firstname"], rng.choice(FIRST)
                yield account, i, prop["contacts", "lastname"], rng.choice(LAST)
                yield account, i, prop["contacts", "email"], f"person{i}@example.com"
                yield account, i, prop["contacts", "phone"], f"+47 {rng.randrange(10**7, 10**8)}"
                yield account, i, prop["contacts", "company"], f"Company {rng.choice(companies)}"

        bulk_insert(conn, "property_values", ("account_id", "record_id", "property_id",
                                              "value"), values())

        def links() -> Iterator[tuple[int, int, str, int, int, str, int]]:
            for i in contacts:
                c = rng.choice(companies)
                for frm, ft, to, tt, type_id in ((i, "contacts", c, "companies", 1),
                                                 (c, "companies", i, "contacts", 2)):
                    yield account, frm, tt, to, type_id, ft, EPOCH_MS
                    yield account, frm, tt, to, 279 if type_id == 1 else 280, ft, EPOCH_MS

        bulk_insert(conn, "associations", ("account_id", "from_id", "to_type", "to_id",
                                           "type_id", "from_type", "created_ms"), links())
    prop_svc.create_property(engine, principal, "contacts", prop_svc.PropertyInput(
        name="company_city", label="Company city", type=None, field_type=None,
        group_name="contactinformation",
        sync_source=SourceRequest("companies", "city", [("HUBSPOT_DEFINED", 1)], None)))
    return principal


def sign_in(base_url: str, engine: Engine, account_id: int) -> httpx.Client:
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
    create_user(engine, account_id, email, password, "Bench")
    client = httpx.Client(base_url=base_url, timeout=120)
    token = _CSRF.search(client.get("/ui/login").text)
    assert token
    reply = client.post("/ui/login", data={"email": email, "password": password,
                                           "csrf": token.group(1), "next": "/ui/"})
    assert reply.status_code == 303, reply.text[:300]
    return client


def time_page(client: httpx.Client, path: str) -> tuple[float, str]:
    samples = []
    total = ""
    for _ in range(TIMES):
        start = time.perf_counter()
        reply = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        reply.raise_for_status()
        found = re.search(r'data-total="(\d+)"', reply.text) or re.search(
            r"(\d+) records?", reply.text)
        total = found.group(1) if found else "?"
    return statistics.median(samples), total


PAGES = (
    ("list, no search", "/ui/records/contacts"),
    ("search 'nora'", "/ui/records/contacts?q=nora"),
    ("search 'person123'", "/ui/records/contacts?q=person123"),
    ("search 'zzz' (none)", "/ui/records/contacts?q=zzz"),
    ("search a synced city 'tromsø'", "/ui/records/contacts?q=troms%C3%B8"),
    ("filter company_city = Bergen", "/ui/records/contacts?fp=company_city&fo=EQ&fv=Bergen"),
    ("sort by company_city", "/ui/records/contacts?cols=email,company_city&sort=company_city"),
)


def main(argv: list[str]) -> None:
    url = argv[0] if argv else f"sqlite:///{Path(tempfile.mkdtemp()) / 'uisearch.db'}"
    n = int(argv[1]) if len(argv) > 1 else 30_000
    engine = engine_for(Settings(database_url=url))
    start = time.perf_counter()
    principal = seed(engine, n)
    with api_server(url) as server, closing(sign_in(server.base_url, engine,
                                                     principal.account_id)) as client:
        while account_status(engine, principal).pending or _backfilling(engine, principal):
            time.sleep(0.2)  # the server's worker backfills company_city
        if is_postgres_engine(engine):
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE")
        print(f"{engine.dialect.name}: {n:,} contacts seeded and synced in "
              f"{time.perf_counter() - start:.1f} s")
        for label, path in PAGES:
            ms, total = time_page(client, path)
            print(f"  {label:<34} {ms:8.1f} ms (median of {TIMES})  {total} found")
    engine.dispose()


def _backfilling(engine: Engine, principal: Principal) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM sync_properties WHERE account_id = :a AND state <> 'LIVE'"),
            {"a": principal.account_id}).scalar_one())


if __name__ == "__main__":
    main(sys.argv[1:])
