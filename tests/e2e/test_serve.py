"""``make run`` as a user runs it: ``propsync demo --if-empty`` then ``propsync serve``
with the user's ``--port``; every address printed is the one really served."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.patience import WAIT_GUARD_S, run_command

URL = re.compile(r"https?://[^\s)>'\"]+")


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PROPSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}"}


@pytest.fixture
def serving(environment: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """``propsync serve --port P`` running; yields P and the lines it printed up to the
    banner's last line."""
    port = free_port()
    with (tmp_path / "serve.err").open("w") as errors:
        process = subprocess.Popen([sys.executable, "-m", "propsync", "serve", "--port",
                                    str(port)], env=environment, stdout=subprocess.PIPE,
                                   stderr=errors, text=True)
        try:
            yield port, banner_of(process)
        finally:
            process.terminate()
            process.wait(WAIT_GUARD_S)
            if process.stdout is not None:
                process.stdout.close()


def banner_of(process: subprocess.Popen[str]) -> list[str]:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    printed: list[str] = []
    while not any("API docs" in line for line in printed):
        try:
            line = lines.get(timeout=WAIT_GUARD_S)
        except queue.Empty:
            pytest.fail(f"propsync serve printed no banner in {WAIT_GUARD_S:.0f} s: {printed}")
        assert line is not None, f"propsync serve ended before its banner: {printed}"
        printed.append(line)
    return printed


def test_serve_prints_the_addresses_it_serves_on_the_port_asked_for(serving):
    port, printed = serving
    urls = URL.findall("\n".join(printed))
    assert {u.split("/", 3)[-1] for u in urls} >= {"ui/", "docs", "redoc"}, printed
    for url in urls:
        assert url.startswith(f"http://127.0.0.1:{port}"), printed
        assert httpx.get(url, follow_redirects=True).status_code == 200, url


def test_the_demo_prints_no_address_that_serve_could_contradict(environment):
    seeded = run_command([sys.executable, "-m", "propsync", "demo", "--if-empty"],
                         env=environment)
    assert seeded.returncode == 0, seeded.stderr
    assert URL.findall(seeded.stdout) == [], seeded.stdout
    assert "Sign in" in seeded.stdout and seeded.stdout.strip().splitlines()[-1].startswith("pat-")


def test_the_demo_copy_workflow_fills_its_copies_once_serve_runs(environment):
    """The demo's copy workflow (the old way to copy a value, SPEC 5) is on, with every
    company enrolled; the server's embedded worker fills each contact's copy of its
    Primary company's industry, as the API shows."""
    seeded = run_command([sys.executable, "-m", "propsync", "demo", "--if-empty"],
                         env=environment)
    assert seeded.returncode == 0, seeded.stderr
    token = seeded.stdout.strip().splitlines()[-1]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "propsync", "serve", "--port",
                                str(port)], env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        banner_of(process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                          headers={"Authorization": f"Bearer {token}"}) as api:
            copied_as_its_company(api)
    finally:
        process.terminate()
        process.wait(WAIT_GUARD_S)
        if process.stdout is not None:
            process.stdout.close()


def copied_as_its_company(api: httpx.Client) -> None:
    """The copy workflow has run for every company: a contact holds its Primary
    company's industry."""
    flows = api.get("/automation/v4/flows").json()["results"]
    assert [f["name"] for f in flows] == [
        "Copy company industry to Primary contacts", "Copy company city to Primary contacts",
        "Copy company phone to Primary contacts",
        "Copy a contact's company phone back to its Primary company",
        "Copy the domain of software companies to Primary contacts"]
    assert all(f["isEnabled"] for f in flows)
    summary = f"/propsync/v1/workflows/{flows[0]['id']}/summary"
    deadline = time.monotonic() + WAIT_GUARD_S
    while api.get(summary).json()["active"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api.get(summary).json()["completed"] == 120
    contact = api.get("/crm/v3/objects/contacts", params={
        "limit": 1, "properties": "company_industry_copy"}).json()["results"][0]
    primary = api.get(f"/crm/v4/objects/contacts/{contact['id']}/associations/companies"
                      ).json()["results"]
    company_id = next(r["toObjectId"] for r in primary if any(
        t["typeId"] == 1 for t in r["associationTypes"]))
    company = api.get(f"/crm/v3/objects/companies/{company_id}",
                      params={"properties": "industry"}).json()
    assert contact["properties"]["company_industry_copy"] == \
        company["properties"]["industry"]
