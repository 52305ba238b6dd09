"""No test depends on how fast the machine is: a busy machine makes the suite slower, never
red. Subprocesses get at least ten minutes before they count as hung, and no test reads a
wall clock to judge speed (tests/patience.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.patience import PROCESS_GUARD_S

TESTS = Path(__file__).resolve().parents[1]
WAITS_ON_A_PROCESS = {"run", "check_output", "check_call", "call", "wait", "communicate"}


def calls_in_tests() -> list[tuple[Path, ast.Call]]:
    return [(path, node) for path in sorted(TESTS.rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def named(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(
        call.func, "id", "")


def test_no_subprocess_is_called_hung_before_ten_minutes():
    short = [f"{path.relative_to(TESTS)}:{call.lineno}" for path, call in calls_in_tests()
             if named(call) in WAITS_ON_A_PROCESS for kw in call.keywords
             if kw.arg == "timeout" and isinstance(kw.value, ast.Constant)
             and kw.value.value < 600]
    assert PROCESS_GUARD_S >= 600 and short == []


def test_no_test_times_anything_on_the_wall_clock():
    timed = [f"{path.relative_to(TESTS)}:{call.lineno}" for path, call in calls_in_tests()
             if named(call) in {"perf_counter", "perf_counter_ns"}]
    assert timed == []
