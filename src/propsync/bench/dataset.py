"""The benchmark's data set: seeded random, so every run (and every store) gets the same one.

N companies, 5xN contacts with 1-3 companies each (exactly one of them *Primary*, some
links also carrying a user-defined label), 2xN deals each with a Primary company and a
contact. One company, the *hub*, is the Primary company of 10 % of the contacts (the
fan-out scenario renames it); every other company is the Primary company of a handful.

Rows are written set-based (PostgreSQL ``COPY``, SQLite ``executemany``) in one
transaction, before any sync property exists, so seeding records no sync work.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.services.accounts import create_account, create_token, create_user
from propsync.services.labels import create_label
from propsync.storage.db import is_postgres, is_postgres_engine, write_transaction
from propsync.storage.ids import allocate_ids

SEED = 20261202
EPOCH_MS = 1_700_000_000_000
CHUNK = 50_000

# HubSpot-defined association type ids (domain/associations.py): (forward, inverse).
UNLABELED_CONTACT_COMPANY = (279, 280)
PRIMARY_CONTACT_COMPANY = (1, 2)
UNLABELED_DEAL_COMPANY = (341, 342)
PRIMARY_DEAL_COMPANY = (5, 6)
CONTACT_DEAL = (4, 3)


@dataclass
class Dataset:
    """What was seeded, and what the scenarios need to find their way in it."""

    engine: Engine
    principal: Principal
    token: str
    companies: list[int]
    contacts: list[int]
    deals: list[int]
    hub: int
    primary_of: dict[int, list[int]] = field(repr=False)  # company -> its Primary contacts
    labels: list[int] = field(default_factory=list)  # user-defined contact->company type ids
    seconds: float = 0.0

    @property
    def account_id(self) -> int:
        return self.principal.account_id

    @property
    def fanout_targets(self) -> int:
        return len(self.primary_of.get(self.hub, []))

    def small_companies(self) -> list[int]:
        """Companies other than the hub with at least one Primary contact, in id order."""
        return [c for c in self.companies[1:] if self.primary_of.get(c)]


def new_account(engine: Engine, prefix: str) -> tuple[Principal, str]:
    """A fresh account with one user and an all-scopes token acting for it."""
    account_id = create_account(engine, f"{prefix}-{uuid.uuid4().hex[:6]}")
    user_id = create_user(engine, account_id, f"{prefix}-{uuid.uuid4().hex[:6]}@example.com")
    token = create_token(engine, account_id, "all", user_id, name=prefix).token
    principal = Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES),
                          Role.SUPER_ADMIN)
    return principal, token


def seed(engine: Engine, n_companies: int, seed_value: int = SEED) -> Dataset:
    """Seed a fresh account with ``n_companies`` companies and the rest (see the module)."""
    start = time.perf_counter()
    principal, token = new_account(engine, "bench")
    labels = [create_label(engine, principal, "contacts", "companies", label, name, None)[0]
              for label, name in (("Billing contact", "billing_contact"),
                                  ("Decision maker", "decision_maker"))]
    label_pairs = [(ty.type_id, ty.inverse_id) for ty in labels]
    rng = random.Random(seed_value)
    n_contacts, n_deals = 5 * n_companies, 2 * n_companies
    account = principal.account_id
    with write_transaction(engine) as conn:
        companies = allocate_ids(conn, "records", n_companies)
        contacts = allocate_ids(conn, "records", n_contacts)
        deals = allocate_ids(conn, "records", n_deals)
        for kind, ids in (("companies", companies), ("contacts", contacts), ("deals", deals)):
            bulk_insert(conn, "records", ("account_id", "record_id", "object_type",
                                          "created_ms", "updated_ms", "archived"),
                        ((account, i, kind, EPOCH_MS + i, EPOCH_MS + i, False) for i in ids))
        prop = _property_ids(conn, account)
        bulk_insert(conn, "property_values", ("account_id", "record_id", "property_id", "value"),
                    _values(account, prop, companies, contacts, deals, rng))
        links = _ContactLinks(companies, label_pairs, rng)
        bulk_insert(conn, "associations", ("account_id", "from_id", "to_type", "to_id",
                                           "type_id", "from_type", "created_ms"),
                    _associations(account, contacts, deals, links, rng))
    if is_postgres_engine(engine):
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return Dataset(engine, principal, token, companies, contacts, deals, companies[0],
                   links.primary_of, [p[0] for p in label_pairs],
                   time.perf_counter() - start)


def _property_ids(conn: Connection, account_id: int) -> dict[tuple[str, str], int]:
    rows = conn.execute(text("SELECT object_type, name, property_id FROM properties "
                             "WHERE account_id = :a"), {"a": account_id})
    return {(r[0], r[1]): int(r[2]) for r in rows}


def _values(account: int, prop: dict[tuple[str, str], int], companies: list[int],
            contacts: list[int], deals: list[int], rng: random.Random
            ) -> Iterator[tuple[int, int, int, str]]:
    industries = ("Software", "Retail", "Banking", "Energy", "Health", "Transport")
    for i in companies:
        yield account, i, prop["companies", "name"], f"Company {i}"
        yield account, i, prop["companies", "industry"], rng.choice(industries)
    for i in contacts:
        yield account, i, prop["contacts", "email"], f"person{i}@example.com"
    for i in deals:
        yield account, i, prop["deals", "dealname"], f"Deal {i}"
        yield account, i, prop["deals", "amount"], str(rng.randrange(100, 100_000))


@dataclass
class _ContactLinks:
    """Draws each contact's companies; the first contacts go to the hub (the fan-out)."""

    companies: list[int]
    label_pairs: list[tuple[int, int]]
    rng: random.Random
    primary_of: dict[int, list[int]] = field(default_factory=dict)
    others: list[int] = field(init=False)

    def __post_init__(self) -> None:
        # Every company but the hub, built once: a copy per contact made seeding quadratic.
        self.others = self.companies[1:] or self.companies

    def draw(self, index: int, n_contacts: int) -> list[int]:
        others = self.others
        count = self.rng.randint(1, 3)
        chosen = [self.companies[0]] if index < max(n_contacts // 10, 1) else []
        while len(chosen) < min(count, len(others) + len(chosen)):
            pick = self.rng.choice(others)
            if pick not in chosen:
                chosen.append(pick)
        return chosen


def _associations(account: int, contacts: list[int], deals: list[int], links: _ContactLinks,
                  rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Both directions of every association type a link carries."""
    def pair(frm: int, ftype: str, to: int, ttype: str, types: Iterable[tuple[int, int]]
             ) -> Iterator[tuple[Any, ...]]:
        for forward, inverse in types:
            yield account, frm, ttype, to, forward, ftype, EPOCH_MS
            yield account, to, ftype, frm, inverse, ttype, EPOCH_MS

    for index, contact in enumerate(contacts):
        for rank, company in enumerate(links.draw(index, len(contacts))):
            types = [UNLABELED_CONTACT_COMPANY]
            if rank == 0:
                types.append(PRIMARY_CONTACT_COMPANY)
                links.primary_of.setdefault(company, []).append(contact)
            elif links.label_pairs and rng.random() < 0.3:
                types.append(rng.choice(links.label_pairs))
            yield from pair(contact, "contacts", company, "companies", types)
    for deal in deals:
        company = rng.choice(links.companies)
        yield from pair(deal, "deals", company, "companies",
                        (UNLABELED_DEAL_COMPANY, PRIMARY_DEAL_COMPANY))
        contact = rng.choice(contacts)
        yield from pair(contact, "contacts", deal, "deals", (CONTACT_DEAL,))


def bulk_insert(conn: Connection, table: str, columns: Sequence[str],
                rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert many rows fast: ``COPY`` on PostgreSQL, chunked ``executemany`` on SQLite."""
    names = ", ".join(columns)
    if is_postgres(conn):
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            conn.exec_driver_sql(sql, chunk)
            chunk = []
    if chunk:
        conn.exec_driver_sql(sql, chunk)
