"""A write whose PostgreSQL session is lost while it commits is answered by what happened.

A proxy between the server and PostgreSQL passes everything through, until it is armed:
then, on the first connection that inserts a record, it lets the COMMIT reach PostgreSQL
and drops the connection before the reply comes back. The contact is saved, and the
server cannot tell from that connection; it asks PostgreSQL on another one
(``pg_xact_status``) and answers 201. A 429 saying "nothing was changed" would be false,
and a client that tried again would create the contact twice.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest

from propsync.api.app import create_app
from propsync.bootstrap import engine_for
from propsync.config import Settings
from tests.conftest import (
    PG_ADMIN,
    UNLIMITED,
    client_for,
    drop_database,
    make_database,
    new_tenant,
    run_server,
)

_COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # psycopg commits with a simple query
_INSERT = b"INSERT INTO records"
pytestmark = pytest.mark.crash


class CommitCutter:
    """A TCP proxy to PostgreSQL that, once ``armed``, cuts one writing connection between
    its COMMIT and PostgreSQL's reply."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.armed = threading.Event()
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", 5432))
            cutting = threading.Event()
            threading.Thread(target=self._up, args=(client, upstream, cutting),
                             daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, cutting),
                             daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket,
            cutting: threading.Event) -> None:
        wrote = False
        while data := _recv(client):
            wrote = wrote or (self.armed.is_set() and _INSERT in data)
            if wrote and _COMMIT in data and self.armed.is_set():
                self.armed.clear()
                cutting.set()
            upstream.sendall(data)
        _hang_up(upstream)

    def _down(self, upstream: socket.socket, client: socket.socket,
              cutting: threading.Event) -> None:
        while data := _recv(upstream):
            if cutting.is_set():  # PostgreSQL answered the COMMIT: the client never hears
                self.cuts += 1
                break
            client.sendall(data)
        _hang_up(client)
        _hang_up(upstream)

    def close(self) -> None:
        self.listener.close()


def _hang_up(sock: socket.socket) -> None:
    """Close ``sock`` now, waking the thread that reads it (``close`` alone would not)."""
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


@pytest.fixture
def cutter() -> Iterator[CommitCutter]:
    proxy = CommitCutter()
    yield proxy
    proxy.close()


def test_a_create_whose_commit_outlived_its_session_is_acknowledged(
        cutter: CommitCutter, tmp_path: Path):
    url = make_database("postgres", tmp_path)
    name = url.rsplit("/", 1)[1]
    engine = engine_for(Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{cutter.port}/{name}?sslmode=disable"))
    try:
        with run_server(engine, app=create_app(engine, run_worker=False,
                                                          settings=UNLIMITED)) as server:
            api = client_for(server, new_tenant(server).token)
            email = f"cut-{uuid.uuid4().hex}@example.com"
            cutter.armed.set()
            reply = api.post("/crm/v3/objects/contacts", json={"properties": {"email": email}})
        assert cutter.cuts == 1  # the COMMIT's reply was lost
        with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}") as conn:
            saved = conn.execute("SELECT count(*) FROM property_values WHERE value = %s",
                                 (email,)).fetchone()
        assert saved == (1,)
        assert reply.status_code == 201, reply.text
    finally:
        engine.dispose()
        drop_database(url)
