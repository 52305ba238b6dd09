"""How long a test waits before it calls something hung.

No test measures time: a test waits for a condition, a reply or a process, and the limits
here only guard against a hang. They are generous (minutes), so a test on a machine
busy with other work is slower but passes; when one runs out, the failure says what did
not happen.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence

import pytest

PROCESS_GUARD_S = 900.0  # a command the test runs to its end
WAIT_GUARD_S = 600.0  # a condition the test waits for


def run_command(args: Sequence[str], timeout_s: float = PROCESS_GUARD_S, **kwargs: object
                ) -> subprocess.CompletedProcess[str]:
    """Run ``args`` to its end, capturing its output as text; fail clearly if it hangs."""
    try:
        return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout_s,
                              **kwargs)  # type: ignore[call-overload, no-any-return]
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`{' '.join(args)}` had not ended after {timeout_s:.0f} s: it hangs.\n"
                    f"stdout: {exc.stdout!r}\nstderr: {exc.stderr!r}", pytrace=False)


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = WAIT_GUARD_S,
               every: float = 0.02) -> None:
    """Poll ``condition`` until it is true; fail saying ``what`` never happened if it hangs."""
    give_up = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > give_up:
            pytest.fail(f"gave up after {timeout_s:.0f} s waiting for {what}", pytrace=False)
        time.sleep(every)
