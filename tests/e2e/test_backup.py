"""``propsync backup FILE`` and ``propsync restore FILE``, as a user runs them, on both stores.

A backup taken while a writer keeps writing is one consistent moment: restored into a fresh
database, the engine settles, ``verify`` finds 0 differences, searches (ordinary and sync
properties, non-ASCII values) answer as they did, and the writer's writes are there up to
some point with none missing before it. A restore refuses a database that holds data
unless forced, and refuses a damaged or foreign file, changing nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, select, text

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.changes import Watch
from propsync.domain.feed import SYNC_READER, WORKFLOWS_READER
from propsync.services.accounts import create_token
from propsync.storage import feed
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.migrate import upgrade
from tests.conftest import BACKENDS, drop_database, make_database, run_server
from tests.e2e.test_cli import propsync
from tests.e2e.test_verify_indexes import found, reloaded_by_the_sqlite3_shell
from tests.integration.world import PRIMARY, World
from tests.seed import seed_contacts_of

COMPANIES = {"ØSTFOLD ENERGI AS": 1200, "Ærø Fisk": 800, "Acme": 3000}
SEARCHES = [
    [{"propertyName": "company_name_sync", "operator": "EQ", "value": "ØSTFOLD ENERGI AS"}],
    [{"propertyName": "company_name_sync", "operator": "EQ", "value": "ærø fisk"}],
    [{"propertyName": "company_name_sync", "operator": "IN", "values": ["acme", "ÆRØ FISK"]}],
    [{"propertyName": "company_revenue_sync", "operator": "GT", "value": "1000"}],
    [{"propertyName": "firstname", "operator": "EQ", "value": "øystein"}],
    [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@ærø.no"}],
]


@dataclass
class Databases:
    """Databases of one store, dropped when the test ends."""

    store: str
    folder: Path
    urls: list[str] = field(default_factory=list)
    engines: list[Engine] = field(default_factory=list)

    def new(self) -> str:
        self.urls.append(make_database(self.store, self.folder))
        return self.urls[-1]

    def engine(self, url: str) -> Engine:
        self.engines.append(engine_for(Settings(database_url=url)))
        return self.engines[-1]


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    made = Databases(request.param, tmp_path)
    yield made
    for engine in made.engines:
        engine.dispose()
    for url in made.urls:
        drop_database(url)


def seed_searchable(engine: Engine) -> tuple[World, str]:
    """An account whose contacts copy their Primary company's name and revenue; returns
    it and a token for it."""
    w = World.new(engine)
    for n, (name, revenue) in enumerate(COMPANIES.items()):
        company = w.one("companies", name=name, annualrevenue=revenue)
        domain = "ærø.no" if n == 1 else "example.com"
        for contact in w.create_each("contacts", [
                {"email": f"c{n}-{i}@{domain}", "firstname": "Øystein" if i % 3 else "Ola"}
                for i in range(12)]):
            w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.define("contacts", "company_revenue_sync", "companies", "annualrevenue", [PRIMARY], None)
    w.settle()
    return w, create_token(engine, w.account_id, "all", w.principal.user_id).token


def answers(engine: Engine, token: str) -> list[tuple[int, list[str]]]:
    """``(total, ids)`` of every search in ``SEARCHES``, through the API."""
    with run_server(engine) as server, httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        replies = [client.post("/crm/v3/objects/contacts/search", json={
            "filterGroups": [{"filters": f}], "limit": 100,
            "sorts": [{"propertyName": "email", "direction": "ASCENDING"}]}) for f in SEARCHES]
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    return [(r.json()["total"], [x["id"] for x in r.json()["results"]]) for r in replies]


@dataclass
class Writer:
    """Writes one new contact after another (each linked to a company it renames now and
    then), until stopped; ``done`` counts the acknowledged ones."""

    world: World
    company: int
    done: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            contact = self.world.one("contacts", email=f"w{self.done}@example.com")
            self.world.link("contacts", contact, "companies", self.company, [PRIMARY])
            if self.done % 10 == 0:
                self.world.set("companies", self.company, name=f"Writer {self.done}")
            self.done += 1


def written(engine: Engine, account_id: int) -> set[int]:
    """The numbers of the writer's contacts present in the database."""
    v, p = t.property_values, t.properties
    with read_transaction(engine) as conn:
        emails = conn.execute(select(v.c.value).join(p, (p.c.account_id == v.c.account_id) & (
            p.c.property_id == v.c.property_id)).where(
            v.c.account_id == account_id, p.c.name == "email")).scalars().all()
    return {int(e[1:].split("@")[0]) for e in emails if e.startswith("w")}


def settle_all(engine: Engine, *worlds: World) -> None:
    for w in worlds:
        World(engine, w.principal).settle()


def test_a_backup_taken_while_a_writer_writes_restores_to_the_same_answers(
        databases: Databases, tmp_path: Path) -> None:
    url = databases.new()
    engine = databases.engine(url)
    searched, token = seed_searchable(engine)
    before = answers(engine, token)
    busy = World.new(engine)
    company = busy.one("companies", name="Writer 0")
    seed_contacts_of(engine, busy.account_id, company, 20_000)  # a backup of many pages
    writer = Writer(busy, company)
    thread = threading.Thread(target=writer.run)
    thread.start()
    try:
        while writer.done < 5:
            thread.join(0.01)
        at_start = writer.done
        backed_up = propsync(url, "backup", str(tmp_path / "propsync.backup"))
        at_end = writer.done
    finally:
        writer.stop.set()
        thread.join()
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    assert at_end > at_start  # the writer wrote while the backup ran

    fresh = databases.new()
    restored = propsync(fresh, "restore", str(tmp_path / "propsync.backup"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    copy = databases.engine(fresh)
    settle_all(copy, searched, busy)
    checked = propsync(fresh, "verify")
    assert checked.returncode == 0 and checked.stdout.strip().endswith("0 difference(s)"), (
        checked.stdout + checked.stderr)
    assert answers(copy, token) == before
    kept = written(copy, busy.account_id)
    assert kept == set(range(len(kept))) and at_start <= len(kept) <= at_end + 1


def accounts_in(url: str) -> list[str]:
    engine = engine_for(Settings(database_url=url), migrate=False)
    try:
        with read_transaction(engine) as conn:
            return list(conn.execute(select(t.accounts.c.name)).scalars())
    finally:
        engine.dispose()


def backup_of_one_account(databases: Databases, tmp_path: Path, name: str) -> Path:
    url = databases.new()
    assert propsync(url, "accounts", "create", name).returncode == 0
    path = tmp_path / f"{name}.backup"
    assert propsync(url, "backup", str(path)).returncode == 0
    return path


def test_restore_refuses_a_database_that_holds_data_unless_forced(
        databases: Databases, tmp_path: Path) -> None:
    backup = backup_of_one_account(databases, tmp_path, "One")
    target = databases.new()
    assert propsync(target, "accounts", "create", "Two").returncode == 0

    refused = propsync(target, "restore", str(backup))
    assert refused.returncode == 1 and "--force" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert accounts_in(target) == ["Two"]

    forced = propsync(target, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert accounts_in(target) == ["One"]


def test_restore_into_a_database_migrated_but_empty_needs_no_force(
        databases: Databases, tmp_path: Path) -> None:
    backup = backup_of_one_account(databases, tmp_path, "One")
    target = databases.new()
    assert propsync(target, "db", "upgrade").returncode == 0
    restored = propsync(target, "restore", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert accounts_in(target) == ["One"]


def is_untouched(url: str) -> bool:
    """Nothing was created in the database ``make_database`` made."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return not path.exists() or path.stat().st_size == 0
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone() == (0,)


def damaged_and_foreign_files(backup: Path, folder: Path) -> dict[str, Path]:
    data = backup.read_bytes()
    files = {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "text": b"propsync backup, honest\n" * 100,
        "sqlite header, then junk": b"SQLite format 3\x00" + b"\x00junk" * 1000,
        "postgres header, then junk": b"PGDMP" + b"\x01junk" * 1000,
    }
    paths = {name: folder / f"{name.replace(' ', '-')}.bin" for name in files}
    for name, content in files.items():
        paths[name].write_bytes(content)
    other = sqlite3.connect(folder / "other.db")
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    paths["a SQLite database of another program"] = folder / "other.db"
    paths["a file that is not there"] = folder / "missing.backup"
    return paths


def test_a_damaged_or_foreign_file_is_refused_with_a_clear_error_and_changes_nothing(
        databases: Databases, tmp_path: Path) -> None:
    backup = backup_of_one_account(databases, tmp_path, "One")
    target = databases.new()
    for what, path in damaged_and_foreign_files(backup, tmp_path).items():
        result = propsync(target, "restore", "--force", str(path))
        assert result.returncode == 1, (what, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, (what, result.stderr)
        assert str(path.name) in result.stderr, (what, result.stderr)
        assert is_untouched(target), what


def test_a_file_of_the_other_store_is_refused_saying_so(
        databases: Databases, tmp_path: Path) -> None:
    backup = backup_of_one_account(databases, tmp_path, "One")
    other = make_database("postgres" if databases.store == "sqlite" else "sqlite", tmp_path)
    try:
        result = propsync(other, "restore", str(backup))
        assert result.returncode == 1 and "across stores" in result.stderr, result.stderr
        assert is_untouched(other)
    finally:
        drop_database(other)


def test_a_backup_of_an_older_schema_is_migrated_when_restored(
        databases: Databases, tmp_path: Path) -> None:
    old = databases.new()
    engine = engine_for(Settings(database_url=old), migrate=False)
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(t.accounts.insert().values(account_id=7, name="Old", created_ms=0))
    engine.dispose()
    assert propsync(old, "backup", str(tmp_path / "old.backup")).returncode == 0
    target = databases.new()
    restored = propsync(target, "restore", str(tmp_path / "old.backup"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "0005" in restored.stdout
    assert accounts_in(target) == ["Old"]
    assert propsync(target, "verify").returncode == 0


def test_a_sqlite_file_reloaded_by_another_tool_restores_with_a_sound_sync_value_index(
        tmp_path: Path) -> None:
    reloaded, w = reloaded_by_the_sqlite3_shell(tmp_path)
    target = make_database("sqlite", tmp_path)
    restored = propsync(target, "restore", reloaded.removeprefix("sqlite:///"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    engine = engine_for(Settings(database_url=target))
    try:
        assert found(engine, w) == 50
        assert propsync(target, "verify").returncode == 0
    finally:
        engine.dispose()


def test_the_change_feed_goes_on_after_a_restore_on_a_server_behind_the_source(
        databases: Databases, tmp_path: Path) -> None:
    """Each reader resumes where it was, and new changes come after the restored ones,
    even when the source server's transaction ids were far ahead of the target's (a dump
    moved to a new server): PostgreSQL's restore shifts the restored positions."""
    url = databases.new()
    engine = databases.engine(url)
    w = World.new(engine)
    with write_transaction(engine) as conn:
        feed.set_watches(conn, w.account_id, WORKFLOWS_READER, [Watch("tickets")])
    tickets = w.create_each("tickets", [{"subject": f"T{n}"} for n in range(6)])
    with write_transaction(engine) as conn:
        batch = feed.read(conn, WORKFLOWS_READER, 2)
        assert batch is not None
        feed.advance(conn, batch)
        if engine.dialect.name == "postgresql":  # (SQLite's positions have no txid)
            # as if the source server had run a trillion transactions more than the target
            for table in ("change_log", "change_readers"):
                conn.execute(text(f"UPDATE {table} SET txid = txid + 1000000000000"))
    assert propsync(url, "backup", str(tmp_path / "feed.backup")).returncode == 0

    fresh = databases.new()
    restored = propsync(fresh, "restore", str(tmp_path / "feed.backup"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    copy = databases.engine(fresh)
    later = World(copy, w.principal).one("tickets", subject="after the restore")
    read: list[int] = []
    for _ in range(10):
        with write_transaction(copy) as conn:
            batch = feed.read(conn, WORKFLOWS_READER, 100)
            assert batch is not None
            feed.advance(conn, batch)
        read += [c.record_id for _, c in batch.rows]
        if later in read:
            break
    assert read == [*tickets[2:], later]
    with read_transaction(copy) as conn:
        assert feed.unread_count(conn, SYNC_READER, w.account_id) == len(tickets) + 1
