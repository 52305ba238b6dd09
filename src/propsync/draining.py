"""Draining a reader of the change feed: work until nothing is left, waiting briefly for rows
a running transaction still hides (shared by the sync and the workflow workers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_PAUSE_S = 0.05  # the longest single wait for hidden rows


def drain(step: Callable[[], bool], unseen: Callable[[], bool], unseen_s: float,
          unseen_wait_s: float, max_steps: int, stop: threading.Event | None) -> int:
    """Call ``step`` until it finds nothing (or ``max_steps``); returns the steps taken.

    When a step found nothing but ``unseen()`` says rows follow the reader's cursor that no
    read could take yet (PostgreSQL: a transaction that started before their writers' was
    still running), look again after ``unseen_s``, twice as long each time up to
    ``MAX_PAUSE_S``, for at most ``unseen_wait_s`` in a row, or until ``stop`` is set."""
    steps, waited, pause = 0, 0.0, unseen_s
    while steps < max_steps:
        if step():
            steps, waited, pause = steps + 1, 0.0, unseen_s
        elif unseen() and waited < unseen_wait_s:
            if stop is not None and stop.wait(pause):
                break
            if stop is None:
                time.sleep(pause)
            waited, pause = waited + pause, min(pause * 2, MAX_PAUSE_S)
        else:
            break
    return steps
