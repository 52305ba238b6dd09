"""Probes: careless clients and a failing database take nothing else down (issue 12, points
6 and 7).

- Clients that send an expensive search and hang up: every other request is served, and
  the abandoned searches stop.
- A storm of concurrent mixed requests, some of which fail (bad input, unknown records,
  searches past their limits, a route that fails on purpose): no 5xx but the deliberate
  ones, no connection dropped, every acknowledged create kept.
- PostgreSQL ends the server's sessions (``pg_terminate_backend``) again and again while
  writes are acknowledged: no 5xx, no acknowledged write lost, and no write that was
  refused with "nothing was changed" saved after all.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, text

from propsync.api.app import create_app
from propsync.api.limits import Limits
from propsync.bench.dataset import seed
from propsync.bootstrap import engine_for
from propsync.config import Settings
from tests.conftest import (
    BACKENDS,
    UNLIMITED,
    RunningServer,
    drop_database,
    make_database,
    run_server,
)
from tests.e2e.busy import BUSY_SEARCH, QUICK_SEARCH, SEARCH, raw_search
from tests.patience import WAIT_GUARD_S
from tests.reliability.conftest import SCALE, Tally

pytestmark = pytest.mark.reliability

HEAVY = httpx.Request("POST", "/", json=BUSY_SEARCH).read()
LIMITS = Limits(timeout_s=3.0, expensive_reads=2, slot_wait_s=0.5)


@dataclass
class Loaded:
    """A database of the module's own: 10,000 contacts, and a token of their account."""

    engine: Engine
    token: str
    contacts: list[int]


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Loaded]:
    url = make_database(request.param, tmp_path_factory.mktemp("load"))
    engine = engine_for(Settings(database_url=url, pool_size=4, request_timeout_s=3.0))
    data = seed(engine, 2_000)
    yield Loaded(engine, data.token, data.contacts)
    engine.dispose()
    drop_database(url)


@contextmanager
def serving(loaded: Loaded, limits: Limits = LIMITS) -> Iterator[RunningServer]:
    """A server with its sync worker, tight limits, and one route that fails on purpose."""
    app = create_app(loaded.engine, limits=limits, settings=UNLIMITED)

    @app.get("/test/fail")
    def fail() -> None:
        raise RuntimeError("a bug, on purpose")

    with run_server(loaded.engine, app=app) as server:
        yield server


def client(server: RunningServer, token: str) -> httpx.Client:
    """A client on one kept-alive connection."""
    return httpx.Client(base_url=server.base_url, timeout=30, limits=httpx.Limits(
        max_connections=1), headers={"Authorization": f"Bearer {token}"})


def local_port(reply: httpx.Response) -> int:
    """The client's port of the connection ``reply`` came over."""
    return int(reply.extensions["network_stream"].get_extra_info("client_addr")[1])


def is_idle(engine: Engine) -> bool:
    """No connection of the server's pool is in use (its worker may borrow one briefly)."""
    return engine.pool.checkedout() <= 1  # type: ignore[attr-defined, no-any-return]


class SharedTally:
    """A ``Tally`` that several threads count into."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.lock = threading.Lock()

    def attempt(self, ok: bool, what: str) -> None:
        with self.lock:
            self.tally.attempt(ok, what)


def wait_for(condition: Callable[[], bool], timeout_s: float = WAIT_GUARD_S) -> bool:
    give_up = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.05)
    return True


def test_abandoned_searches_leave_the_server_serving(loaded: Loaded, tally: Tally):
    """Rounds of five slow searches whose clients hang up (at once, or once at work);
    after each, a read and a quick search are served: the abandoned searches gave their
    two places back within the 2 s the quick search waits for one."""
    rng = random.Random(12)
    limits = Limits(timeout_s=30, expensive_reads=2, slot_wait_s=2)
    with serving(loaded, limits) as server, client(server, loaded.token) as api:
        for _ in range(10 * SCALE):
            sockets = [raw_search(server, loaded.token, HEAVY) for _ in range(5)]
            time.sleep(rng.uniform(0, 0.3))
            for sock in sockets:
                sock.close()
            reply = api.get(f"/crm/v3/objects/contacts/{rng.choice(loaded.contacts)}")
            tally.attempt(reply.status_code == 200,
                          f"a read beside abandoned searches: {reply.status_code}")
            reply = api.post(SEARCH, json=QUICK_SEARCH)
            tally.attempt(reply.status_code == 200,
                          f"a search after abandoned ones: {reply.status_code} {reply.text}")
        tally.attempt(wait_for(lambda: is_idle(loaded.engine)),
                      "abandoned searches still hold connections")


@dataclass
class Call:
    """One kind of request in the storm, and the answers that are right for it."""

    name: str
    send: Callable[[httpx.Client, random.Random], httpx.Response]
    expected: frozenset[int]


def _create(api: httpx.Client, rng: random.Random) -> httpx.Response:
    email = f"storm-{uuid.uuid4().hex}@example.com"
    return api.post("/crm/v3/objects/contacts", json={"properties": {"email": email}})


def storm_calls(contacts: list[int]) -> list[Call]:
    def some(rng: random.Random) -> int:
        return rng.choice(contacts)

    return [
        Call("read", lambda api, rng: api.get(f"/crm/v3/objects/contacts/{some(rng)}"),
             frozenset({200})),
        Call("update", lambda api, rng: api.patch(
            f"/crm/v3/objects/contacts/{some(rng)}",
            json={"properties": {"firstname": f"Storm {rng.randrange(1000)}"}}),
            frozenset({200, 429})),
        Call("create", _create, frozenset({201, 429})),
        Call("heavy search", lambda api, rng: api.post(SEARCH, json=BUSY_SEARCH),
             frozenset({200, 400, 429})),
        Call("list page", lambda api, rng: api.get("/crm/v3/objects/contacts"),
             frozenset({200, 429})),
        Call("bad input", lambda api, rng: api.post(SEARCH, content=b"{not json",
                                                     headers={"Content-Type": "application/json"}),
             frozenset({400})),
        Call("unknown record", lambda api, rng: api.get("/crm/v3/objects/contacts/999999999"),
             frozenset({404})),
        Call("deliberate bug", lambda api, rng: api.get("/test/fail"), frozenset({500})),
    ]


def _storm_thread(server: RunningServer, token: str, calls: list[Call], rounds: int,
                  seed_value: int, tally: SharedTally, created: list[str]) -> None:
    rng = random.Random(seed_value)
    with client(server, token) as api:
        port = None
        for _ in range(rounds):
            call = rng.choice(calls)
            try:
                reply = call.send(api, rng)
            except httpx.TransportError as exc:
                tally.attempt(False, f"{call.name}: the connection failed: {exc!r}")
                port = None
                continue
            tally.attempt(reply.status_code in call.expected,
                          f"{call.name}: {reply.status_code} {reply.text[:200]}")
            tally.attempt(port in (None, local_port(reply)),
                          f"the connection was dropped before a {call.name}")
            port = local_port(reply)
            if call.name == "create" and reply.status_code == 201:
                created.append(reply.json()["id"])


def test_a_storm_of_mixed_requests_drops_nothing(loaded: Loaded, tally: Tally):
    created: list[str] = []
    calls = storm_calls(loaded.contacts)
    with serving(loaded) as server, ThreadPoolExecutor(8) as threads:
        shared = SharedTally(tally)
        futures = [threads.submit(_storm_thread, server, loaded.token, calls, 25 * SCALE, n,
                                  shared, created) for n in range(8)]
        for future in futures:
            future.result()
    tally.lose(len(set(created) - existing(loaded.engine, created)),
               "acknowledged creates are missing")


def existing(engine: Engine, ids: list[str]) -> set[str]:
    with engine.connect() as conn:
        return {str(i) for i in conn.execute(text(
            "SELECT record_id FROM records WHERE record_id IN "
            f"({', '.join(str(int(i)) for i in ids) or 'NULL'})")).scalars()}


def saved_emails(engine: Engine, emails: list[str]) -> set[str]:
    if not emails:
        return set()
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT value FROM property_values WHERE value IN ("
                                     + ", ".join(f"'{e}'" for e in emails) + ")")).scalars())


@contextmanager
def terminating(engine: Engine, every_s: float) -> Iterator[list[int]]:
    """End every session of the server's database, every ``every_s``, until the block ends;
    yields the running count of sessions ended."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    stop, ended = threading.Event(), [0]

    def kill() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.wait(every_s):
                ended[0] += len(conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).fetchall())

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    try:
        yield ended
    finally:
        stop.set()
        killer.join()


def _writer(server: RunningServer, token: str, rounds: int, tally: SharedTally,
            acknowledged: list[str], refused: list[str]) -> None:
    with client(server, token) as api:
        for _ in range(rounds):
            email = f"kept-{uuid.uuid4().hex}@example.com"
            try:
                reply = api.post("/crm/v3/objects/contacts",
                                 json={"properties": {"email": email}})
            except httpx.TransportError as exc:
                tally.attempt(False, f"a create: the connection failed: {exc!r}")
                continue
            ok = reply.status_code == 201 or (
                reply.status_code == 429 and "Retry-After" in reply.headers)
            tally.attempt(ok, f"a create: {reply.status_code} {reply.text[:200]}")
            if reply.status_code == 201:
                acknowledged.append(email)
            elif reply.status_code == 429:
                refused.append(email)


@pytest.mark.parametrize("loaded", ["postgres"], indirect=True)
def test_writes_survive_postgres_ending_the_servers_sessions(loaded: Loaded, tally: Tally):
    acknowledged: list[str] = []
    refused: list[str] = []
    with serving(loaded) as server, terminating(loaded.engine, 0.2) as ended, \
            ThreadPoolExecutor(4) as threads:
        shared = SharedTally(tally)
        futures = [threads.submit(_writer, server, loaded.token, 50 * SCALE, shared,
                                  acknowledged, refused) for _ in range(4)]
        for future in futures:
            future.result()
    assert ended[0] > 0  # the storm happened
    tally.lose(len(set(acknowledged) - saved_emails(loaded.engine, acknowledged)),
               "acknowledged creates are missing")
    saved_anyway = saved_emails(loaded.engine, refused)
    tally.attempt(not saved_anyway, f"{len(saved_anyway)} creates refused with 429 "
                                    "('nothing was changed') were saved")

