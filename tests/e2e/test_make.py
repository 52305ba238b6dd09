"""``make test-fast``: the suite for the inner loop leaves out fuzzing, crash, model and
probe tests, and only those (chosen by the markers pyproject.toml defines)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tests.patience import run_command

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = {  # a file → the marker that keeps it out of make test-fast
    "tests/e2e/test_openapi_fuzz.py": "fuzz",
    "tests/e2e/test_sync_crash.py": "crash",
    "tests/e2e/test_lost_commit.py": "crash",
    "tests/reliability/test_crash.py": "crash",
    "tests/integration/test_sync_model.py": "model",
    "tests/reliability/test_bad_input.py": "reliability",
}


def fast_selection() -> str:
    """The ``-m`` expression ``make test-fast`` gives pytest."""
    shown = run_command(["make", "-n", "-s", "test-fast"], cwd=ROOT)
    assert shown.returncode == 0, shown.stderr
    command = next(shlex.split(line) for line in shown.stdout.splitlines() if "pytest" in line
                   and " -m " in line)
    return command[command.index("-m") + 1]


def collected(*args: str) -> set[str]:
    listed = run_command([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
                          *args], cwd=ROOT)
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr
    return {line.split("::")[0] for line in listed.stdout.splitlines() if "::" in line}


def test_the_markers_exist_for_every_kind_left_out():
    markers = run_command([sys.executable, "-m", "pytest", "--markers"], cwd=ROOT).stdout
    for marker in ("fuzz", "crash", "model", "reliability"):
        assert f"@pytest.mark.{marker}:" in markers


def test_make_test_fast_leaves_out_fuzzing_crash_model_and_probe_tests_only():
    fast = collected("-m", fast_selection())
    whole = collected()
    assert set(LEFT_OUT) <= whole
    assert not fast & set(LEFT_OUT)
    assert {"tests/unit/test_planner.py", "tests/e2e/test_objects_api.py",
            "tests/integration/test_sync_rules.py", "tests/ui/test_wizard.py"} <= fast
