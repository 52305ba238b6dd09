"""Probes: how propsync holds up against attackers, careless clients and crashes.

Each probe is a test that tries many things and keeps a ``Tally`` of them: how many it
tried, how many failed (a 5xx, a leak, a refusal that changed something, a wrong answer
accepted) and how many acknowledged writes were lost. A probe passes when nothing failed
and nothing was lost. ``make test`` runs them at a size that keeps the suite quick;
``make reliability`` runs them larger (``PROPSYNC_PROBE_SCALE``, default 1 in the suite)
and prints every tally in one table, the figures docs/SECURITY.md and
docs/RELIABILITY.md quote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

# How much larger than in the suite each probe runs (``make reliability`` sets 10).
SCALE = max(1, int(os.environ.get("PROPSYNC_PROBE_SCALE", "1")))
_RESULTS = os.environ.get("PROPSYNC_PROBE_RESULTS")  # a JSON-lines file to append tallies to


@dataclass
class Tally:
    """What one probe tried, and what went wrong."""

    probe: str
    tried: int = 0
    failed: int = 0
    lost: int = 0
    failures: list[str] = field(default_factory=list)

    def attempt(self, ok: bool, what: str) -> None:
        """Count one try; ``what`` says what went wrong when ``ok`` is false."""
        self.tried += 1
        if not ok:
            self.failed += 1
            self.failures.append(what)

    def lose(self, count: int, what: str) -> None:
        """Acknowledged writes that are gone."""
        if count:
            self.lost += count
            self.failures.append(what)

    def check(self) -> None:
        assert self.failed == 0 and self.lost == 0, (
            f"{self.probe}: {self.failed} of {self.tried} failed, {self.lost} lost:\n"
            + "\n".join(self.failures[:20]))


_TALLIES: list[Tally] = []


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """A tally named after the test; checked (nothing failed, nothing lost) when it ends."""
    kept = Tally(request.node.name)
    yield kept
    _TALLIES.append(kept)
    if _RESULTS:
        with Path(_RESULTS).open("a") as out:
            out.write(json.dumps({k: v for k, v in asdict(kept).items()
                                  if k != "failures"}) + "\n")
    kept.check()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _TALLIES:
        return
    terminalreporter.section("reliability probes: tried / failed / lost")
    for t in sorted(_TALLIES, key=lambda x: x.probe):
        terminalreporter.write_line(f"{t.probe:<70} {t.tried:>7} {t.failed:>4} {t.lost:>4}")
