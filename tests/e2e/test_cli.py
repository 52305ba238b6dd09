"""The ``propsync`` command as a user runs it: a real process per call, on both stores."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from propsync.bootstrap import engine_for
from propsync.config import Settings
from tests.conftest import BACKENDS, drop_database, make_database, run_server
from tests.patience import run_command

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("serve", "worker", "verify", "backup", "restore", "demo", "bench", "db upgrade",
            "accounts create", "users create", "users list", "users set-role", "teams create",
            "tokens create", "tokens list", "tokens revoke",
            "sandbox create", "sandbox list", "sandbox delete", "export")


def propsync(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROPSYNC_DATABASE_URL": url}
    return run_command([sys.executable, "-m", "propsync", *args], env=env)


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    database = make_database(request.param, tmp_path)
    yield database
    drop_database(database)


def test_create_account_user_team_and_token_then_use_the_token(url):
    assert last_line(propsync(url, "db", "upgrade")) == "database is up to date"
    account = last_line(propsync(url, "accounts", "create", "Acme"))
    user = last_line(propsync(url, "users", "create", "--account", account, "ada@acme.example",
                              "--password", "s3cret"))
    team = last_line(propsync(url, "teams", "create", "--account", account, "Finance",
                              "--member", user))
    token = last_line(propsync(url, "tokens", "create", "--account", account, "--scopes",
                               "crm.objects.contacts.read,crm.objects.contacts.write"))
    assert account.isdigit() and user.isdigit() and team.isdigit()
    assert re.fullmatch(r"pat-\d+-[0-9a-f]{40}", token)
    engine = engine_for(Settings(database_url=url))
    with run_server(engine) as server:
        client = httpx.Client(base_url=server.base_url,
                              headers={"Authorization": f"Bearer {token}"})
        assert client.post("/crm/v3/objects/contacts", json={"properties": {}}).status_code == 201
        assert client.get("/crm/v3/objects/companies").status_code == 403
        client.close()
    engine.dispose()


def test_users_get_roles_and_the_last_super_admin_stays_one(url):
    account = last_line(propsync(url, "accounts", "create", "Acme"))
    first = last_line(propsync(url, "users", "create", "--account", account, "ada@acme.example"))
    admin = last_line(propsync(url, "users", "create", "--account", account, "bo@acme.example",
                               "--role", "admin"))
    plain = last_line(propsync(url, "users", "create", "--account", account, "cy@acme.example"))
    listed = propsync(url, "users", "list", "--account", account).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [
        [first, "super_admin"], [admin, "admin"], [plain, "user"]]
    refused = propsync(url, "users", "set-role", first, "user", "--account", account)
    assert refused.returncode == 1 and "only super admin" in refused.stderr
    assert last_line(propsync(url, "users", "set-role", plain, "super_admin", "--account",
                              account)) == f"user {plain} is now super_admin"
    bad = propsync(url, "users", "create", "--account", account, "x@acme.example", "--role",
                   "owner")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_tokens_are_listed_without_secrets_and_revoked(url):
    account = last_line(propsync(url, "accounts", "create", "Acme"))
    last_line(propsync(url, "users", "create", "--account", account, "ada@acme.example"))
    kept = last_line(propsync(url, "tokens", "create", "--account", account, "--name", "kept"))
    gone = last_line(propsync(url, "tokens", "create", "--account", account, "--name", "gone"))
    listing = propsync(url, "tokens", "list", "--account", account)
    assert listing.returncode == 0, listing.stderr
    assert "kept" in listing.stdout and "gone" in listing.stdout
    assert kept[-40:] not in listing.stdout and gone[-40:] not in listing.stdout
    gone_id = next(line.split()[0] for line in listing.stdout.splitlines()
                   if " gone " in f" {line} ")
    revoked = propsync(url, "tokens", "revoke", "--account", account, gone_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    assert "revoked" in propsync(url, "tokens", "list", "--account", account).stdout
    missing = propsync(url, "tokens", "revoke", "--account", account, "999999")
    assert missing.returncode == 1 and "999999" in missing.stderr
    engine = engine_for(Settings(database_url=url))
    with run_server(engine) as server:
        for token, status in ((kept, 200), (gone, 401)):
            client = httpx.Client(base_url=server.base_url,
                                  headers={"Authorization": f"Bearer {token}"})
            assert client.get("/crm/v3/objects/contacts").status_code == status
            client.close()
    engine.dispose()


def test_demo_seeds_once_and_prints_a_working_token_each_time(url):
    first = propsync(url, "demo", "--if-empty")
    again = propsync(url, "demo", "--if-empty")
    assert "admin@demo.propsync.local" in first.stdout
    tokens = [last_line(first), last_line(again)]
    assert all(t.startswith("pat-") for t in tokens) and tokens[0] != tokens[1]
    engine = engine_for(Settings(database_url=url))
    with run_server(engine) as server:
        client = httpx.Client(base_url=server.base_url,
                              headers={"Authorization": f"Bearer {tokens[1]}"})
        contacts = client.get("/crm/v3/objects/contacts", params={
            "limit": 1, "associations": "companies"}).json()["results"]
        assert contacts and contacts[0]["associations"]["companies"]["results"]
        labels = client.get("/crm/v4/associations/contacts/companies/labels").json()["results"]
        assert "Billing contact" in {lb["label"] for lb in labels}
        client.close()
    engine.dispose()


@pytest.mark.parametrize("args", [
    ("tokens", "create", "--account", "999999"),
    ("users", "create", "--account", "999999", "x@y.example"),
    ("users", "create", "--account", "1", "not-an-email"),
    ("tokens", "create", "--account", "1", "--scopes", "crm.nothing"),
    ("accounts", "create", "X", "--tier", "platinum"),
])
def test_bad_input_fails_with_one_readable_line_and_no_traceback(tmp_path, args):
    result = propsync(f"sqlite:///{tmp_path / 'cli.db'}", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and result.stderr.strip()


def test_a_bad_database_url_is_explained(tmp_path):
    result = propsync("mysql://nowhere/db", "db", "upgrade")
    assert result.returncode == 2 and "PROPSYNC_DATABASE_URL" in result.stderr


def test_help_lists_every_command_and_the_readme_documents_each():
    top = propsync("sqlite:///unused.db", "--help").stdout
    readme = (ROOT / "README.md").read_text()
    for command in COMMANDS:
        assert command.split()[0] in top
        assert f"propsync {command}" in readme, command
        assert propsync("sqlite:///unused.db", *command.split(), "--help").returncode == 0


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def test_bench_at_tiny_scale_writes_figures_in_the_shape_of_the_issue(store, tmp_path):
    """A program, not a test of speed: no figure is compared with a time, only the shape.
    SQLite is the quick one; PostgreSQL adds worker scaling (four worker processes), for
    sync values and for the copy workflow's actions."""
    url = make_database(store, tmp_path)
    try:
        _bench_tiny(url, store, tmp_path)
    finally:
        drop_database(url)


# Each kind of search (bench/search.py): its p50 through the API, its hand-written SQL's,
# and their ratio.
SEARCH_SHAPE = {f"{kind}_{figure}" for kind in ("sync_eq", "email_eq", "custom_eq", "custom_in",
                                                "token", "token_prefix", "query")
                for figure in ("p50_ms", "sql_p50_ms", "ratio")}


def test_bench_runs_the_search_and_list_scenarios_alone(tmp_path):
    """``--only search,lists``: seed, backfill, the searches (each reply's total checked
    against the seeded values, so a wrong answer fails the run) and the dynamic list (its
    size checked against hand-written SQL); JSON only. A name it does not know is refused."""
    url = make_database("sqlite", tmp_path)
    out = tmp_path / "search.json"
    try:
        refused = propsync(url, "bench", "--scale", "tiny", "--only", "search,report",
                           "--database-url", url, "--output", str(out))
        assert refused.returncode == 2 and "--only takes search, lists" in refused.stderr
        result = propsync(url, "bench", "--scale", "tiny", "--only", "search,lists",
                          "--database-url", url, "--output", str(out))
        assert result.returncode == 0, result.stdout + result.stderr
        figures = json.loads(out.read_text())["sqlite"]
        assert set(figures["search"]) >= SEARCH_SHAPE
        assert figures["lists"]["members"] > 0 and figures["lists"]["join"]["edits"] > 0
        assert set(figures) == {"notes", "seed_seconds", "backfill", "search", "lists"}
        assert not out.with_suffix(".png").exists()
    finally:
        drop_database(url)


def _bench_tiny(url: str, store: str, tmp_path: Path) -> None:
    out = tmp_path / "results" / "latest.json"
    result = propsync(url, "bench", "--scale", "tiny", "--database-url", url,
                      "--output", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/automation/v4/flows" in result.stdout  # the note: a real copy workflow
    assert re.search(r"\b(met|missed)\b", result.stdout)
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    figures = json.loads(out.read_text())
    assert figures["scale"] == "tiny" and {"platform", "cpus"} <= set(figures["machine"])
    shape = {
        "single_edit": {"p50_ms", "p99_ms", "p99_under_load_ms"},
        "fanout": {"targets", "seconds", "raw_sql_seconds", "ratio"},
        "backfill": {"targets", "seconds", "raw_sql_seconds", "ratio", "peak_rss_mb"},
        "vs_workflow": {"fanout_speedup", "stream_speedup", "fanout", "stream", "edit"},
        "write_overhead": {"ratio_1", "ratio_10"},
        "engine_off": {"writes_per_s", "writes_per_s_engine_off", "ratio"},
        "search": SEARCH_SHAPE,
        "report": {"records", "seconds", "raw_sql_seconds", "ratio"},
        **({"worker_scaling": {"1", "2", "4", "speedup_4"},
            "workflow_throughput": {"1", "4", "speedup_4", "sync_ratio_1", "sync_ratio_4"}}
           if store == "postgres" else {}),
    }
    for member, keys in shape.items():
        assert keys <= set(figures[store][member]), member
        assert all(isinstance(figures[store][member][k], int | float | dict) for k in keys)
    assert figures[store]["fanout"]["targets"] == 100
    assert figures[store]["backfill"]["targets"] == 1000
    assert figures[store]["report"]["records"] == 1000
    versus = figures[store]["vs_workflow"]
    assert versus["fanout"]["targets"] == 100
    assert {"workflow_seconds", "sync_seconds", "raw_sql_seconds", "workflow_to_raw_sql"} <= set(
        versus["fanout"])
    assert versus["stream"]["edits"] == 5 and versus["stream"]["targets"] > 0
    assert {"workflow_after_last_seconds", "sync_after_last_seconds"} <= set(versus["stream"])
    assert versus["edit"]["edits"] >= 2
    assert {"p50_ms", "p99_ms", "sync_p99_ms", "ratio_p99"} <= set(versus["edit"])
    assert "vs_workflow.edit.p99_ms" in figures["targets"][store]  # the 1 s goal is judged
    if store == "postgres":
        assert all(figures[store]["workflow_throughput"][n]["actions"] == 50 for n in "14")


def test_a_refusal_is_printed_whole_even_with_brackets(url):
    """A message quoting ``[text]`` is not taken for Rich markup and cut short."""
    account = last_line(propsync(url, "accounts", "create", "Acme"))
    bad = propsync(url, "users", "create", "--account", account, "not[bold]an-address")
    assert bad.returncode == 1 and "not[bold]an-address" in bad.stderr, bad.stderr


def test_a_worker_waits_for_a_database_it_cannot_use_yet(tmp_path):
    """``propsync worker`` started before its PostgreSQL database can be used (here: not
    created yet; in the crash probe, its connections being ended) waits for it, then
    migrates it and runs, instead of exiting at once."""
    import time

    import psycopg

    from tests.conftest import PG_ADMIN

    url = make_database("postgresql", tmp_path)
    drop_database(url)  # a name nobody has created yet
    env = {**os.environ, "PROPSYNC_DATABASE_URL": url}
    worker = subprocess.Popen([sys.executable, "-m", "propsync", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(1.5)
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
        deadline = time.monotonic() + 60
        while True:  # the worker migrates the new database, then runs
            with psycopg.connect(url) as conn:
                if conn.execute("SELECT to_regclass('alembic_version')").fetchone() != (None,):
                    break
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(30)
        if worker.stderr is not None:
            worker.stderr.close()
        drop_database(url)
