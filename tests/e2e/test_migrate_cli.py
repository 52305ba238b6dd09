"""``propsync migrate scan`` and ``propsync migrate plan`` as a user runs them: a real
process per call, on both stores; the account's workflows, exported files, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from propsync.bootstrap import engine_for
from propsync.config import Settings
from tests.conftest import BACKENDS, drop_database, make_database
from tests.e2e.test_cli import propsync
from tests.integration.flows import FlowWorld, equals, fetched, flow, known, set_property, source
from tests.integration.world import UNLABELED


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich tables fold long cells at the terminal's width: a wide one keeps each text on
    one line, so that it can be looked for."""
    monkeypatch.setenv("COLUMNS", "400")


@pytest.fixture(params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, FlowWorld,
                                                                              dict[str, int]]]:
    url = make_database(request.param, tmp_path)
    engine = engine_for(Settings(database_url=url))
    w = FlowWorld.new(engine)
    w.prop("contacts", "company_name")
    company = w.one("companies", name="Acme")
    contacts = w.create("contacts", 3, company_name="Acme")
    for c in contacts:
        w.link("contacts", c, "companies", company)
    w.set("contacts", contacts[1], company_name="Old name")
    copy = flow("contacts", [set_property("1", "company_name", fetched("co", "name"))],
                sources=[source("co", "companies", UNLABELED)], criteria=[known("createdate")],
                name="Name copy", enabled=False)
    flows = {"copy": w.flow(copy), "filtered": w.flow({
        **copy, "name": "Customers only", "enrollmentCriteria": flow(
            "contacts", [], criteria=[equals("lifecyclestage", "customer")])[
            "enrollmentCriteria"]}), "account": w.account_id, "stale": contacts[1]}
    yield url, w, flows
    engine.dispose()
    drop_database(url)


def test_scan_prints_each_workflow_and_plan_its_dry_run(seeded):
    url, _, ids = seeded
    out = propsync(url, "migrate", "scan", "--account", str(ids["account"]))
    assert out.returncode == 0, out.stderr
    assert "Name copy" in out.stdout and "ONE_WAY_COPY" in out.stdout
    assert "CONDITIONAL_COPY" in out.stdout and "lifecycle stage = customer" in out.stdout
    assert "3 records would get a value that the workflow's conditions leave out" in out.stdout
    plan = propsync(url, "migrate", "plan", "--account", str(ids["account"]),
                    "--flow", str(ids["copy"]))
    assert plan.returncode == 0, plan.stderr
    assert "contacts.company_name_sync" in plan.stdout
    assert "1 differ today from the workflow's copy: 1 stale" in plan.stdout
    assert f"First differing records: {ids['stale']}" in plan.stdout


def test_exported_files_and_folders_are_scanned(seeded, tmp_path):
    url, _, ids = seeded
    folder = tmp_path / "exports"
    folder.mkdir()
    body = flow("contacts", [set_property("1", "company_name", fetched("co", "name"))],
                sources=[source("co", "companies", UNLABELED)],
                criteria=[known("createdate")], name="From HubSpot")
    (folder / "a.json").write_text(json.dumps({**body, "id": "77", "revisionId": "2"}))
    (folder / "broken.json").write_text("{not json")
    single = tmp_path / "many.json"
    single.write_text(json.dumps({"results": [body, {**body, "name": "Second"}]}))
    out = propsync(url, "migrate", "scan", "--account", str(ids["account"]),
                   "--file", str(single), "--dir", str(folder))
    assert out.returncode == 0, out.stderr
    for text in ("From HubSpot", "Second", "broken.json", "NOT_CONVERTIBLE", "ONE_WAY_COPY"):
        assert text in out.stdout, text


@pytest.mark.parametrize("args", [
    ("migrate", "scan", "--account", "999999"),
    ("migrate", "plan", "--account", "999999", "--flow", "1"),
])
def test_unknown_accounts_fail_with_one_readable_line(tmp_path, args):
    result = propsync(f"sqlite:///{tmp_path / 'cli.db'}", "db", "upgrade")
    assert result.returncode == 0
    result = propsync(f"sqlite:///{tmp_path / 'cli.db'}", *args)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no account 999999" in result.stderr


def test_an_unknown_flow_and_a_missing_file_are_refused(seeded, tmp_path):
    url, _, ids = seeded
    for args in (("plan", "--flow", "424242"), ("scan", "--file", str(tmp_path / "nope.json"))):
        result = propsync(url, "migrate", args[0], "--account", str(ids["account"]), *args[1:])
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
