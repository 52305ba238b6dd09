"""The search scenario: searches through the API on indexed values, each beside the
hand-written SQL that reads the same index for the same answer, alternating, in one run.

Kinds: ``EQ`` on the sync property, on ``email`` and on ``bench_note`` (a custom text
property the scenario adds: ``"<colour> <animal> ref<k>"`` for the k-th contact), ``IN`` of
three notes, ``CONTAINS_TOKEN`` of a note's ``ref<k>`` word, the token ``ref<k // 100>*``
(a prefix), and the free-text ``query`` ``person<id // 10>`` (a prefix of emails). Every
reply's total is checked against what the seeded values must give.
"""

from __future__ import annotations

import bisect
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, text

from propsync.bench.dataset import Dataset, bulk_insert
from propsync.storage.db import is_postgres, is_postgres_engine, write_transaction
from propsync.storage.tables import TEXT_PREFIX, VALUE_TRIGRAMS

NOTE = "bench_note"
SEARCH_SEED = 20261204
COLOURS = ("red", "green", "blue", "amber", "violet", "grey")
ANIMALS = ("otter", "heron", "lynx", "badger", "moose", "puffin", "wolf")
KINDS = ("sync_eq", "email_eq", "custom_eq", "custom_in", "token", "token_prefix", "query")


@dataclass(frozen=True)
class _Search:
    body: dict[str, Any]
    expected: int
    sql: str
    params: dict[str, Any]


def add_notes(data: Dataset, client: httpx.Client) -> list[str]:
    """Create ``bench_note`` through the API and give every contact one (set-based, as the
    seed writes); returns the notes in contact order."""
    client.post("/crm/v3/properties/contacts", json={
        "name": NOTE, "label": "Bench note", "type": "string", "fieldType": "text",
        "groupName": "contactinformation"}).raise_for_status()
    rng = random.Random(SEARCH_SEED)
    notes = [f"{rng.choice(COLOURS)} {rng.choice(ANIMALS)} ref{k}"
             for k in range(len(data.contacts))]
    with write_transaction(data.engine) as conn:
        pid = _property_id(conn, data.account_id, NOTE)
        bulk_insert(conn, "property_values", ("account_id", "record_id", "property_id", "value"),
                    ((data.account_id, c, pid, n) for c, n in zip(data.contacts, notes,
                                                                    strict=True)))
    if is_postgres_engine(data.engine):
        # The tables the seed, the backfill and the notes just filled (millions of rows at
        # the large scale) are vacuumed now, as autovacuum would leave them at rest: else
        # it vacuums them during the searches and the figures measure it.
        with data.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM (ANALYZE) property_values, property_history, records, associations")
    return notes


def search_latency(data: Dataset, client: httpx.Client, searches: int, sync_name: str
                   ) -> dict[str, Any]:
    """``searches`` searches of each kind (module), round robin, each followed by its
    hand-written SQL; the p50 of each and their ratio."""
    notes = add_notes(data, client)
    rng = random.Random(SEARCH_SEED)
    with data.engine.connect() as conn:
        pids = {name: _property_id(conn, data.account_id, name)
                for name in ("email", NOTE, sync_name)}
        sqlite = not is_postgres(conn)
    make = _Kinds(data, notes, pids, sync_name, sqlite, rng)
    api: dict[str, list[float]] = {k: [] for k in KINDS}
    sql: dict[str, list[float]] = {k: [] for k in KINDS}
    with data.engine.connect() as conn:
        for _ in range(searches):
            for kind in KINDS:
                s = getattr(make, kind)()
                start = time.perf_counter()
                reply = client.post("/crm/v3/objects/contacts/search", json=s.body)
                api[kind].append((time.perf_counter() - start) * 1000)
                reply.raise_for_status()
                if reply.json()["total"] != s.expected:
                    raise RuntimeError(f"{kind} search {s.body} found "
                                       f"{reply.json()['total']}, not {s.expected}")
                start = time.perf_counter()
                found = conn.execute(text(s.sql), s.params).scalar_one()
                sql[kind].append((time.perf_counter() - start) * 1000)
                conn.rollback()
                if found != s.expected:
                    raise RuntimeError(f"{kind} SQL found {found}, not {s.expected}")
    out: dict[str, Any] = {"searches": searches}
    for kind in KINDS:
        p50, raw = statistics.median(api[kind]), statistics.median(sql[kind])
        out[f"{kind}_p50_ms"] = round(p50, 2)
        out[f"{kind}_p95_ms"] = round(_p95(api[kind]), 2)
        out[f"{kind}_sql_p50_ms"] = round(raw, 3)
        out[f"{kind}_ratio"] = round(p50 / raw, 1) if raw > 0 else float("inf")
    # the figures earlier runs reported under these names
    out["sync_p50_ms"], out["ordinary_p50_ms"] = out["sync_eq_p50_ms"], out["email_eq_p50_ms"]
    out["method"] = ("POST /crm/v3/objects/contacts/search, limit 10, one filter (or the "
                     "query) of each kind in turn, each followed by the hand-written SQL "
                     "counting the same records through the same index (ratio: API p50 / "
                     "SQL p50)")
    return out


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 \
        else samples[0]


def _property_id(conn: Connection, account_id: int, name: str) -> int:
    return int(conn.execute(text(
        "SELECT property_id FROM properties WHERE account_id = :a AND object_type = "
        "'contacts' AND name = :n"), {"a": account_id, "n": name}).scalar_one())


class _Kinds:
    """One random search of each kind, with its expected total and its SQL."""

    def __init__(self, data: Dataset, notes: list[str], pids: dict[str, int], sync_name: str,
                 sqlite: bool, rng: random.Random) -> None:
        self.data, self.notes, self.pids, self.sync_name = data, notes, pids, sync_name
        self.sqlite, self.rng = sqlite, rng
        self.contact_ids = sorted(data.contacts)
        self.companies = data.small_companies()

    def _filter(self, name: str, operator: str, **more: Any) -> dict[str, Any]:
        return {"filterGroups": [{"filters": [{"propertyName": name, "operator": operator,
                                               **more}]}], "limit": 10}

    def _eq(self, name: str, value: str, expected: int) -> _Search:
        lowered = value.lower()
        return _Search(self._filter(name, "EQ", value=value), expected, _EQ_SQL, {
            "a": self.data.account_id, "p": self.pids[name], "k": lowered[:TEXT_PREFIX],
            "v": lowered})

    def sync_eq(self) -> _Search:
        company = self.rng.choice(self.companies)
        return self._eq(self.sync_name, f"Company {company}",
                        len(self.data.primary_of[company]))

    def email_eq(self) -> _Search:
        return self._eq("email", f"person{self.rng.choice(self.data.contacts)}@example.com", 1)

    def custom_eq(self) -> _Search:
        return self._eq(NOTE, self.rng.choice(self.notes).upper(), 1)

    def custom_in(self) -> _Search:
        values = self.rng.sample(self.notes, 3)
        lowered = [v.lower() for v in values]
        return _Search(self._filter(NOTE, "IN", values=values), 3, _IN_SQL, {
            "a": self.data.account_id, "p": self.pids[NOTE], "k1": lowered[0],
            "k2": lowered[1], "k3": lowered[2]})

    def token(self) -> _Search:
        word = f"ref{self.rng.randrange(len(self.notes))}"
        return self._like(NOTE, "CONTAINS_TOKEN", word, [word, f"{word} %", f"% {word}",
                                                        f"% {word} %"], 1)

    def token_prefix(self) -> _Search:
        stem = str(self.rng.randrange(max(1, len(self.notes) // 100)))
        expected = _starting_with(range(len(self.notes)), stem)
        word = f"ref{stem}%"
        return self._like(NOTE, "CONTAINS_TOKEN", f"ref{stem}*",
                          [word, f"{word} %", f"% {word}", f"% {word} %"], expected)

    def query(self) -> _Search:
        stem = str(self.rng.choice(self.data.contacts) // 10)
        expected = _starting_with(self.contact_ids, stem)
        body = {"query": f"person{stem}", "limit": 10}
        return _Search(body, expected, *self._containing(
            "email", [f"%person{stem}%"], f"person{stem}"))

    def _like(self, name: str, operator: str, value: str, patterns: list[str], expected: int
              ) -> _Search:
        run = max((p.replace("%", " ").strip() for p in patterns), key=len).split(" ")[0]
        return _Search(self._filter(name, operator, value=value), expected,
                       *self._containing(name, patterns, run))

    def _containing(self, name: str, patterns: list[str], run: str
                    ) -> tuple[str, dict[str, Any]]:
        """The hand-written SQL: the records with a value of ``name`` LIKE a pattern, looked
        up by the trigrams of ``run`` (PostgreSQL's GIN index; SQLite's FTS5 table)."""
        params: dict[str, Any] = {"a": self.data.account_id, "p": self.pids[name],
                                  "run": f"%{run}%"}
        params.update({f"l{i}": p for i, p in enumerate(patterns)})
        tests = " OR ".join(f"lower(v.value) LIKE :l{i}" for i in range(len(patterns)))
        if self.sqlite:
            # + 0: the values by rowid from the trigrams (storage/search.py)
            return (f"SELECT count(DISTINCT v.record_id) FROM {VALUE_TRIGRAMS} f "
                    "JOIN property_values v ON v.rowid = f.rowid WHERE f.lowered LIKE :run "
                    f"AND v.account_id + 0 = :a AND v.property_id + 0 = :p AND ({tests})",
                    params)
        # source_id IS NULL: the trigram index holds ordinary values (these are)
        return ("SELECT count(DISTINCT v.record_id) FROM property_values v "
                "WHERE v.account_id = :a AND v.property_id = :p AND v.source_id IS NULL "
                f"AND lower(v.value) LIKE :run AND ({tests})", params)


_EQ_SQL = (f"SELECT count(*) FROM property_values WHERE account_id = :a AND property_id = :p "
           f"AND num IS NULL AND substr(lower(value), 1, {TEXT_PREFIX}) = :k "
           "AND lower(value) = :v")
_IN_SQL = " + ".join(
    f"(SELECT count(*) FROM property_values WHERE account_id = :a AND property_id = :p "
    f"AND num IS NULL AND substr(lower(value), 1, {TEXT_PREFIX}) = :k{i} "
    f"AND lower(value) = :k{i})" for i in (1, 2, 3))
_IN_SQL = f"SELECT {_IN_SQL}"


def _starting_with(numbers: range | list[int], stem: str) -> int:
    """How many of ``numbers`` (sorted) are written starting with the digits ``stem``."""
    return sum(bisect.bisect_left(numbers, high) - bisect.bisect_left(numbers, low)
               for low, high in _spans(stem, max(numbers) if len(numbers) else 0))


def _spans(stem: str, top: int) -> Iterator[tuple[int, int]]:
    base = int(stem)
    if base == 0:  # only 0 itself starts with "0"
        yield 0, 1
        return
    width = 1
    while base * width <= top:
        yield base * width, (base + 1) * width
        width *= 10

