"""Fixtures shared by every tier: databases (SQLite and PostgreSQL), a running server, accounts.

Every storage, sync and API test runs once per store. The PostgreSQL store is a
database of its own on the server ``PROPSYNC_TEST_PG`` names (127.0.0.1:5432 by default),
created for the test session and dropped after. When no server answers there, the suite
starts a throwaway one from the installed PostgreSQL programs (tests/throwaway_pg.py);
without those, the tests on PostgreSQL are skipped with one line saying what to install
(in CI, where they must run, the suite stops with that line instead).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from propsync.api.app import create_app
from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.services.accounts import create_account, create_token, create_user
from tests import throwaway_pg
from tests.patience import WAIT_GUARD_S

PG_ADMIN = os.environ.get("PROPSYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_MISSING: str | None = None  # set when no server answers and none can be started
BACKENDS = ["sqlite", "postgres"]
CHROMIUM = Path(os.environ.get("PROPSYNC_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_MISSING = (f"The browser tests need Debian's Chromium at {CHROMIUM}: "
                    "apt-get install chromium.")
_THROWAWAY = pytest.StashKey[throwaway_pg.Cluster]()
_PG_NOTE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Make sure PG_ADMIN answers, starting a throwaway server if need be. Under xdist only
    the controller does it: the workers it starts inherit PROPSYNC_TEST_PG."""
    global PG_ADMIN, PG_MISSING
    if hasattr(config, "workerinput") or throwaway_pg.answers(PG_ADMIN):
        return
    programs = throwaway_pg.find_programs()
    if programs is None:
        PG_MISSING = throwaway_pg.MISSING.format(url=PG_ADMIN)
        os.environ["PROPSYNC_TEST_PG_MISSING"] = PG_MISSING
        if os.environ.get("CI"):
            pytest.exit(PG_MISSING, returncode=pytest.ExitCode.USAGE_ERROR)
        return
    cluster = throwaway_pg.start(programs)
    config.stash[_THROWAWAY] = cluster
    config.stash[_PG_NOTE] = (f"PostgreSQL: nothing answers at {PG_ADMIN}; using a throwaway "
                              f"PostgreSQL at {cluster.url} started from {programs}")
    PG_ADMIN = os.environ["PROPSYNC_TEST_PG"] = cluster.url


def pytest_report_header(config: pytest.Config) -> str | None:
    return config.stash.get(_PG_NOTE, None)


def _pg_missing() -> str | None:
    return PG_MISSING or os.environ.get("PROPSYNC_TEST_PG_MISSING")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without PostgreSQL, or Chromium, leave out the tests that need it (the summary says
    why, in one line each)."""
    if _pg_missing():
        on_postgres = [item for item in items if "postgres" in getattr(
            getattr(item, "callspec", None), "params", {}).values()]
        config.hook.pytest_deselected(items=on_postgres)
        items[:] = [item for item in items if item not in on_postgres]


    if not CHROMIUM.exists() and not os.environ.get("CI"):  # in CI they must run, and fail
        in_browser = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
        config.hook.pytest_deselected(items=in_browser)
        items[:] = [item for item in items if item not in in_browser]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workerinput"):
        return
    if missing := _pg_missing():
        terminalreporter.write_line(f"Tests on PostgreSQL left out. {missing}", yellow=True)
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        terminalreporter.write_line(f"Tests in a browser left out. {CHROMIUM_MISSING}",
                                    yellow=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _THROWAWAY in config.stash:
        config.stash[_THROWAWAY].stop()


def make_database(kind: str, folder: Path) -> str:
    """A fresh, empty database of ``kind``; returns its URL."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'propsync-{uuid.uuid4().hex[:8]}.db'}"
    missing = _pg_missing()
    if missing:
        pytest.skip(missing)
    name = f"propsync_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=BACKENDS)
def quiet_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Engine]:
    """A database of the test module's own: no worker (such as the test server's) consumes
    its change log or its sync queues."""
    url = make_database(request.param, tmp_path_factory.mktemp("quiet"))
    engine = engine_for(Settings(database_url=url))
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """One database per store for the whole session (accounts keep tests apart)."""
    url = make_database(request.param, tmp_path_factory.mktemp(request.param))
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = engine_for(Settings(database_url=database_url))
    yield engine
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The test servers' settings: no API rate limits, so tests may send as many requests as
# they need (tests of the limits pass settings of their own).
UNLIMITED = Settings(rate_limit_max=0, rate_limit_daily=0)


@dataclass
class RunningServer:
    base_url: str
    engine: Engine
    server: uvicorn.Server
    thread: threading.Thread = field(repr=False)


@pytest.fixture(scope="session")
def server(engine: Engine) -> Iterator[RunningServer]:
    """A real HTTP server (uvicorn) on a free port, serving the API over ``engine``."""
    with run_server(engine) as running:
        yield running


@contextmanager
def run_server(engine: Engine, settings: Settings | None = None, app: FastAPI | None = None
               ) -> Iterator[RunningServer]:
    """Serve the API over ``engine`` (or ``app``, built over it) on a free port (in a thread)
    until the block ends; API rate limits are off unless ``settings`` turn them on."""
    port = free_port()
    settings = settings or UNLIMITED
    config = uvicorn.Config(app or create_app(engine, settings=settings), host="127.0.0.1",
                            port=port, log_level="warning", proxy_headers=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_GUARD_S
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield RunningServer(f"http://127.0.0.1:{port}", engine, srv, thread)
    srv.should_exit = True
    thread.join(timeout=10)


@dataclass
class Tenant:
    """A fresh account with a user and an all-scopes token, and an HTTP client using it."""

    account_id: int
    user_id: int
    token: str
    client: httpx.Client
    server: RunningServer

    def client_for(self, token: str) -> httpx.Client:
        return client_for(self.server, token)


_OPEN_CLIENTS: list[httpx.Client] = []


def client_for(server: RunningServer, token: str) -> httpx.Client:
    """An HTTP client sending ``token``; closed when the current test ends."""
    client = httpx.Client(base_url=server.base_url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    _OPEN_CLIENTS.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN_CLIENTS:
        _OPEN_CLIENTS.pop().close()


def new_tenant(server: RunningServer, scopes: str = "all") -> Tenant:
    """A fresh account with one user and a token with ``scopes`` acting for that user."""
    account_id = create_account(server.engine, f"Test {uuid.uuid4().hex[:6]}")
    user_id = create_user(server.engine, account_id, f"admin-{uuid.uuid4().hex[:6]}@example.com")
    token = create_token(server.engine, account_id, scopes, user_id).token
    return Tenant(account_id, user_id, token, client_for(server, token), server)


@pytest.fixture
def tenant(server: RunningServer) -> Tenant:
    return new_tenant(server)


@pytest.fixture
def api(tenant: Tenant) -> httpx.Client:
    """An HTTP client authenticated as a fresh account's administrator."""
    return tenant.client
