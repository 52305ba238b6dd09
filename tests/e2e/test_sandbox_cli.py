"""``propsync sandbox`` and ``propsync export`` as a user runs them, on both stores: the
source's export is the same bytes after its sandbox was created, used and deleted; a
sample sandbox passes ``propsync verify`` right after ``create``; a Professional account
is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.lists.runner import ListWorker
from propsync.services import lists as list_service
from tests.conftest import BACKENDS, drop_database, make_database
from tests.e2e.test_cli import last_line, propsync
from tests.integration.world import World


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    database = make_database(request.param, tmp_path)
    yield database
    for engine in _ENGINES.pop(database, []):  # before the drop: no connection left open
        engine.dispose()
    drop_database(database)


_ENGINES: dict[str, list[Engine]] = {}


def seeded(url: str, tier: str) -> tuple[str, World]:
    assert last_line(propsync(url, "db", "upgrade")) == "database is up to date"
    account = last_line(propsync(url, "accounts", "create", "Acme", "--tier", tier))
    user = last_line(propsync(url, "users", "create", "--account", account,
                              "ada@acme.example", "--password", "s3cret"))
    engine = engine_for(Settings(database_url=url))
    _ENGINES.setdefault(url, []).append(engine)
    w = World(engine, Principal(int(account), int(user), frozenset(), frozenset(ALL_SCOPES),
                                Role.SUPER_ADMIN))
    companies = w.create_each("companies", [{"name": f"Company {i}"} for i in range(3)])
    contacts = w.create_each("contacts", [{"email": f"c{i}@acme.example"} for i in range(6)])
    for i, contact in enumerate(contacts):
        w.link("contacts", contact, "companies", companies[i % 3])
    w.define("contacts", "company_name", "companies", "name")
    w.define("companies", "first_email", "contacts", "email")
    list_service.create_list(engine, w.principal, {
        "name": "Everyone at Company 0", "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterBranch": {"filterBranchType": "OR", "filterBranches": [{
            "filterBranchType": "AND", "filters": [{
                "filterType": "PROPERTY", "property": "company_name", "operation": {
                    "operationType": "MULTISTRING", "operator": "IS_EQUAL_TO",
                    "values": ["Company 0"]}}]}]}})
    w.settle()
    ListWorker(engine).drain()  # the list is evaluated: the source has nothing left to do
    return account, w


def test_the_source_is_byte_for_byte_the_same_after_its_sandbox_lived_and_died(url, tmp_path):
    account, w = seeded(url, "enterprise")
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    assert propsync(url, "export", "--account", account, str(before)).returncode == 0
    made = propsync(url, "sandbox", "create", "--from", account, "--records", "sample:1")
    token = last_line(made)
    found = re.search(r"sandbox (\d+) 'Acme \(sandbox\)' of account (\d+)", made.stdout)
    assert found and found.group(2) == account, made.stdout
    sandbox = found.group(1)
    assert re.fullmatch(rf"pat-{sandbox}-[0-9a-f]{{40}}", token)
    checked = propsync(url, "verify", "--account", sandbox)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert last_line(checked) == "0 difference(s)"
    listed = propsync(url, "sandbox", "list", "--account", account)
    assert listed.stdout.split("\t")[0] == sandbox
    # use the sandbox: edit, archive, create, redefine
    sw = World(w.engine, Principal(int(sandbox), w.principal.user_id, frozenset(),
                                   frozenset(ALL_SCOPES), Role.SUPER_ADMIN))
    company = sw.create("companies")[0]
    contact = sw.one("contacts", email="new@acme.example")
    sw.link("contacts", contact, "companies", company)
    sw.set("companies", company, name="Only in the sandbox")
    sw.settle()
    assert sw.value("contacts", contact, "company_name") == "Only in the sandbox"
    refused = propsync(url, "sandbox", "delete", account)
    assert refused.returncode == 1 and "not a sandbox" in refused.stderr
    assert last_line(propsync(url, "sandbox", "delete", sandbox)).startswith(
        f"deleted sandbox {sandbox}")
    assert propsync(url, "export", "--account", account, str(after)).returncode == 0
    assert before.read_bytes() == after.read_bytes()
    assert b'"company_name"' in before.read_bytes()
    to_stdout = propsync(url, "export", "--account", account)
    assert to_stdout.stdout.encode() == before.read_bytes()
    assert propsync(url, "sandbox", "list", "--account", account).stdout == ""


def test_a_professional_account_gets_a_clear_refusal(url):
    account, _ = seeded(url, "professional")
    refused = propsync(url, "sandbox", "create", "--from", account)
    assert refused.returncode == 1
    assert "Sandboxes are an Enterprise feature" in refused.stderr
    assert propsync(url, "sandbox", "list", "--account", account).stdout == ""
    bad = propsync(url, "sandbox", "create", "--from", account, "--records", "some")
    assert bad.returncode == 1 and "sample:N" in bad.stderr
