"""``make test`` on a machine where no PostgreSQL server answers: the suite starts a
throwaway one from the installed PostgreSQL programs, or says in one line what to install;
likewise without Chromium, whose tests it leaves out saying so in one line (not in CI).

Each test runs a small part of the suite in a pytest of its own, pointed at a port where
nothing listens (the machine's own server is left alone)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN, free_port
from tests.patience import run_command

ROOT = Path(__file__).resolve().parents[2]
SMALL = "tests/integration/test_change_log.py"


def suite(*args: str, **env: str) -> tuple[int, str]:
    """Run pytest on ``args`` with PROPSYNC_TEST_PG pointing where nothing answers (unless
    ``env`` says otherwise)."""
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    environment = {k: v for k, v in os.environ.items() if k != "CI"}
    environment.update({"PROPSYNC_TEST_PG": nowhere, **env})
    ran = run_command([sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider",
                       *args], cwd=ROOT, env=environment)
    return ran.returncode, ran.stdout + ran.stderr


@pytest.mark.skipif(not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                    reason="PostgreSQL's programs are not installed here")
def test_with_no_server_the_tests_on_postgresql_run_on_a_throwaway_one():
    code, output = suite(SMALL, "-k", "postgres")
    assert code == 0, output
    assert "7 passed" in output and "throwaway PostgreSQL" in output
    assert "Connection refused" not in output and "OperationalError" not in output


def test_with_no_server_nor_postgresql_one_line_says_what_to_install(tmp_path):
    code, output = suite(SMALL, PROPSYNC_TEST_PG_BIN=str(tmp_path))
    assert code == 0, output  # the SQLite half runs; the PostgreSQL half is left out
    assert "7 passed, 7 deselected" in output
    said = [line for line in output.splitlines() if "apt install postgresql" in line]
    assert len(said) == 1, output
    assert "OperationalError" not in output


def test_in_ci_a_missing_postgresql_stops_the_suite_with_that_line(tmp_path):
    code, output = suite(SMALL, PROPSYNC_TEST_PG_BIN=str(tmp_path), CI="true")
    assert code != 0
    assert "apt install postgresql" in output and "passed" not in output


def test_without_chromium_one_line_says_what_to_install_and_ci_fails(tmp_path):
    without = {"PROPSYNC_TEST_CHROMIUM": str(tmp_path / "chromium"),
               "PROPSYNC_TEST_PG": PG_ADMIN}
    code, output = suite("tests/ui/test_signin.py", "tests/unit/test_config.py", **without)
    assert code == 0 and " deselected" in output and " failed" not in output, output
    assert len([line for line in output.splitlines() if "apt-get install chromium" in line]) == 1
    code, output = suite("tests/ui/test_signin.py", CI="true", **without)
    assert code != 0 and "apt-get install chromium" in output
