"""Probe: no acknowledged write is lost when the server is SIGKILLed and restarted, when
worker processes are SIGKILLed, or in a storm of ``pg_terminate_backend``.

Writers send acknowledged writes through HTTP to a real ``propsync serve`` process (creates
with a Primary company, value updates, association changes, company renames that fan out
to two sync properties) while it is killed and restarted; on PostgreSQL separate
``propsync worker`` processes are killed too, and then every connection the server and the
workers hold is terminated again and again. Afterwards, once the engine has settled, every
acknowledged write must be there (``lost`` counts those missing) and ``propsync verify``
must find 0 differences. A write the server never acknowledged (the connection died with
it, it answered 5xx, or 429: a request whose database connection the storm terminates is
answered "try again", with what it did or, when even that cannot be known, that the outcome
is unknown) may or may not have landed: either is accepted, until a later acknowledged
write to the same thing settles it. Such replies are counted, not failed (``pytest -s``
prints every reply's count); any other 4xx to a valid write is a failure. The server runs
without API rate limits: the writers send far more than a token's 190 per 10 seconds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, select

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.services.accounts import create_token
from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from tests.conftest import free_port
from tests.e2e.test_sync_crash import database, run_verify, settled, spawn_worker, wait_for
from tests.integration.world import PRIMARY, World
from tests.reliability.conftest import SCALE, Tally

pytestmark = [pytest.mark.reliability, pytest.mark.crash]
__all__ = ["database"]  # the fixture, one database per store

WRITERS = 3
KILLS = 3 * SCALE  # server restarts (and, on PostgreSQL, worker restarts)
STORM_S = 2.5 * SCALE  # seconds of pg_terminate_backend
UNLABELED = 279
_UNSET = object()


@dataclass
class Expected:
    """What the last acknowledged write left, and what unacknowledged ones since may have."""

    acked: object = _UNSET
    maybe: set[object] = field(default_factory=set)

    def ack(self, value: object) -> None:
        self.acked, self.maybe = value, set()

    def unsure(self, value: object) -> None:
        self.maybe.add(value)

    def holds(self, actual: object) -> bool:
        return actual == self.acked or actual in self.maybe or self.acked is _UNSET


@dataclass
class Server:
    """A ``propsync serve`` process on a fixed port, restarted as often as it is killed."""

    url: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PROPSYNC_DATABASE_URL": self.url, "PROPSYNC_RATE_LIMIT_MAX": "0",
               "PROPSYNC_RATE_LIMIT_DAILY": "0"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "propsync", "serve", "--port", str(self.port)],
                env=env, stdout=log, stderr=log)
        wait_for(self.answers, every=0.05)

    def answers(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/docs", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(30)


@dataclass
class Writer:
    """One client writing its own contacts and company as fast as the server answers."""

    client: httpx.Client
    name: str
    companies: list[int]
    company: int  # the one this writer renames
    rng: random.Random
    expected: dict[tuple[object, ...], Expected] = field(default_factory=dict)
    primary: dict[int, int] = field(default_factory=dict)  # contact -> its Primary company
    statuses: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    writes: int = 0
    unsent: int = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.writes += 1
            choice = self.rng.random()
            try:
                if choice < 0.3 or not self.primary:
                    self.create()
                elif choice < 0.55:
                    self.update()
                elif choice < 0.85:
                    self.relink()
                else:
                    self.rename()
            except httpx.ConnectError:
                continue

    @property
    def sent(self) -> int:
        return self.writes - self.unsent

    def send(self, method: str, path: str, body: object, ok: int) -> httpx.Response | None:
        """The reply if the write was acknowledged (``ok``), else None. A write that could
        not be sent (the server is down) is not counted; a 4xx is a wrong answer."""
        try:
            reply = self.client.request(method, path, json=body)
        except httpx.ConnectError:
            self.unsent += 1
            time.sleep(0.05)  # wait for the server to come back rather than spin
            raise
        except httpx.HTTPError as exc:  # sent, but the reply never came
            self.statuses[type(exc).__name__] += 1
            return None
        self.statuses[str(reply.status_code)] += 1
        if 400 <= reply.status_code < 500 and reply.status_code != 429:
            self.wrong.append(f"{method} {path}: {reply.status_code} {reply.text[:200]}")
        return reply if reply.status_code == ok else None

    def create(self) -> None:
        company = self.rng.choice(self.companies)
        reply = self.send("POST", "/crm/v3/objects/contacts", {
            "properties": {"email": f"{self.name}-{self.writes}@probe.example",
                           "firstname": "v0"},
            "associations": [{"to": {"id": str(company)}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": PRIMARY}]}],
        }, 201)
        if reply is not None:
            contact = int(reply.json()["id"])
            self.primary[contact] = company
            self.expected[("firstname", contact)] = Expected("v0")
            self.expected[("exists", contact)] = Expected(True)

    def update(self) -> None:
        contact = self.rng.choice(list(self.primary))
        value = f"v{self.writes}"
        reply = self.send("PATCH", f"/crm/v3/objects/contacts/{contact}",
                          {"properties": {"firstname": value}}, 200)
        self._record(("firstname", contact), value, reply is not None)

    def relink(self) -> None:
        """Add or remove an unlabeled association with a company that is not the Primary."""
        contact = self.rng.choice(list(self.primary))
        company = self.rng.choice([c for c in self.companies if c != self.primary[contact]])
        path = f"/crm/v4/objects/contacts/{contact}/associations"
        linked = self.rng.random() < 0.5
        reply = (self.send("PUT", f"{path}/default/companies/{company}", None, 200) if linked
                 else self.send("DELETE", f"{path}/companies/{company}", None, 204))
        self._record(("link", contact, company), linked, reply is not None)

    def rename(self) -> None:
        value = f"{self.name} Ø{self.writes}"
        reply = self.send("PATCH", f"/crm/v3/objects/companies/{self.company}",
                          {"properties": {"name": value}}, 200)
        self._record(("name", self.company), value, reply is not None)

    def _record(self, key: tuple[object, ...], value: object, acked: bool) -> None:
        expected = self.expected.setdefault(key, Expected(False) if key[0] == "link"
                                            else Expected())
        if acked:
            expected.ack(value)
        else:
            expected.unsure(value)


def actual_state(engine: Engine, account_id: int, keys: list[tuple[object, ...]]
                 ) -> dict[tuple[object, ...], object]:
    """What the database holds for each key a writer expects something of."""
    r, v, p, a = t.records, t.property_values, t.properties, t.associations
    with read_transaction(engine) as conn:
        names = {(ot, n): pid for ot, n, pid in conn.execute(select(
            p.c.object_type, p.c.name, p.c.property_id).where(p.c.account_id == account_id))}
        values = {(rid, pid): value for rid, pid, value in conn.execute(select(
            v.c.record_id, v.c.property_id, v.c.value).where(v.c.account_id == account_id))}
        live = set(conn.execute(select(r.c.record_id).where(
            r.c.account_id == account_id, r.c.archived.is_(False))).scalars())
        links = {(f, to) for f, to in conn.execute(select(a.c.from_id, a.c.to_id).where(
            a.c.account_id == account_id, a.c.to_type == "companies",
            a.c.type_id == UNLABELED))}
    found: dict[tuple[object, ...], object] = {}
    for key in keys:
        kind, record = key[0], key[1]
        if kind == "exists":
            found[key] = record in live
        elif kind == "link":
            found[key] = (record, key[2]) in links
        else:
            object_type = "contacts" if kind == "firstname" else "companies"
            found[key] = values.get((record, names[object_type, str(kind)]))
    return found


def terminate_backends(url: str, stop: threading.Event, every: float = 0.1) -> int:
    """Terminate every other connection to the database until ``stop``; returns how many."""
    killed = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(every):
            killed += len(conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall())
    return killed


@dataclass
class Chaos:
    """The server and worker processes of the probe, and what was done to them."""

    server: Server
    workers: list[subprocess.Popen[bytes]]
    url: str
    kills: int = 0
    terminated: int = 0

    def kill_and_restart(self, rng: random.Random) -> None:
        time.sleep(rng.uniform(0.8, 1.6))
        self.server.kill()
        if self.workers:
            index = rng.randrange(len(self.workers))
            self.workers[index].send_signal(signal.SIGKILL)
            self.workers[index].wait(30)
            self.workers[index] = spawn_worker(self.url)
        self.kills += 1
        self.server.start()

    def stop(self) -> None:
        self.server.kill(signal.SIGTERM)
        for proc in self.workers:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)

    def storm(self, seconds: float) -> None:
        stop = threading.Event()
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(terminate_backends(self.url,
                                                                                  stop)))
        thread.start()
        time.sleep(seconds)
        stop.set()
        thread.join()
        self.terminated += result[0] if result else 0


@pytest.fixture
def probe_world(database: str) -> Iterator[tuple[Engine, World, str]]:
    """An account with six companies, whose contacts copy their Primary company's name and
    the name of their first associated company (any label), and a token for it."""
    engine = engine_for(Settings(database_url=database))
    w = World.new(engine)
    w.create_each("companies", [{"name": f"Company Ø{i}"} for i in range(6)])
    w.define("contacts", "primary_company_sync", "companies", "name", [PRIMARY], None)
    w.define("contacts", "first_company_sync", "companies", "name", None, "FIRST_CREATED")
    token = create_token(engine, w.account_id, "all", w.principal.user_id).token
    yield engine, w, token
    engine.dispose()


def test_no_acknowledged_write_is_lost_when_processes_are_killed(
        probe_world: tuple[Engine, World, str], database: str, tally: Tally,
        tmp_path: Path) -> None:
    engine, w, token = probe_world
    companies = companies_of(engine, w.account_id)
    postgres = database.startswith("postgresql")
    server = Server(database, free_port(), tmp_path / "server.log")
    server.start()
    chaos = Chaos(server, [spawn_worker(database) for _ in range(2)] if postgres else [],
                  database)
    writers = [Writer(httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30,
                                   headers={"Authorization": f"Bearer {token}"}),
                      f"w{i}", companies, companies[i], random.Random(i),
                      {("name", companies[i]): Expected(f"Company Ø{i}")})
               for i in range(WRITERS)]
    clock = {"start": time.monotonic()}
    try:
        run_writers(writers, lambda: disturb(chaos, postgres))
        clock["disturbed"] = time.monotonic()
        tally.attempt(server.answers(), "the server did not answer after the probe")
        tally.attempt(all(p.poll() is None for p in chaos.workers),
                      f"a worker process exited: exit codes {[p.poll() for p in chaos.workers]}")
        wait_for(lambda: settled(engine, w.account_id), every=0.2)
        clock["settled"] = time.monotonic()
    finally:
        chaos.stop()
        for writer in writers:
            writer.client.close()
    check_writes(engine, w.account_id, writers, tally)
    result = run_verify(database)
    tally.attempt(result.returncode == 0 and result.stdout.strip().endswith("0 difference(s)"),
                  f"verify: {result.stdout[-2000:]}{result.stderr[-500:]}")
    print(summary(database, chaos, writers, clock))


def summary(database: str, chaos: Chaos, writers: list[Writer], clock: dict[str, float]
            ) -> str:
    """One line of what the probe did (``pytest -s`` shows it)."""
    replies = dict(sum((x.statuses for x in writers), Counter()))
    acked = sum(1 for x in writers for e in x.expected.values() if e.acked is not _UNSET)
    return (f"\n{database.split(':')[0]}: {chaos.kills} server kills, {chaos.terminated} "
            f"backends terminated, {sum(x.sent for x in writers)} writes sent, {acked} keys "
            f"acknowledged, replies {replies}; disturbed for "
            f"{clock['disturbed'] - clock['start']:.1f} s, settled "
            f"{clock.get('settled', clock['disturbed']) - clock['disturbed']:.1f} s later")


def companies_of(engine: Engine, account_id: int) -> list[int]:
    r = t.records
    with read_transaction(engine) as conn:
        return list(conn.execute(select(r.c.record_id).where(
            r.c.account_id == account_id, r.c.object_type == "companies"
        ).order_by(r.c.record_id)).scalars())


def disturb(chaos: Chaos, postgres: bool) -> None:
    rng = random.Random(7)
    for _ in range(KILLS):
        chaos.kill_and_restart(rng)
    if postgres:
        chaos.storm(STORM_S)
    time.sleep(1.0)  # writes acknowledged after the last disturbance count too


def run_writers(writers: list[Writer], disturbance: Callable[[], None]) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=x.run, args=(stop,)) for x in writers]
    for thread in threads:
        thread.start()
    try:
        disturbance()
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


def check_writes(engine: Engine, account_id: int, writers: list[Writer], tally: Tally) -> None:
    """Count every write tried; a 4xx is a wrong answer, a missing acknowledged one lost."""
    expected = {key: e for x in writers for key, e in x.expected.items()}
    actual = actual_state(engine, account_id, list(expected))
    for x in writers:
        for _ in range(x.sent - len(x.wrong)):
            tally.attempt(True, "")
        for wrong in x.wrong:
            tally.attempt(False, wrong)
    missing = [f"{key}: acknowledged {e.acked!r} (or {sorted(map(str, e.maybe))}), "
               f"found {actual[key]!r}" for key, e in expected.items()
               if not e.holds(actual[key])]
    tally.lose(len(missing), "\n".join(missing[:20]))
