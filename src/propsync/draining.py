"""Draining a reader of the change feed: work until nothing is left, waiting briefly for rows
a running transaction still hides (shared by the sync, workflow and list workers), and the
loop the workflow and list workers share (``FeedLoop``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from propsync.clock import now_ms
from propsync.storage.db import read_transaction

MAX_PAUSE_S = 0.05  # the longest single wait for hidden rows
TRANSIENT = ("40001", "40P01")  # serialization failure, deadlock: the step runs again
log = logging.getLogger("propsync.workers")


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


class FeedLoop:
    """The loop of a worker that reads the change feed beside other work (the workflow and
    list workers): ``drain`` until nothing is left, then sleep until woken or until
    ``next_due_ms`` (a delayed action, a list whose relative date moves), at most
    ``max_sleep_s``; a step that failed is tried again shortly, the work staying where it
    was. A subclass gives ``step`` (setting ``unseen`` when feed rows were still hidden),
    ``next_due_ms``, ``config`` (``max_sleep_s``, ``unseen_s``, ``unseen_wait_s``) and
    ``what`` (its work, in the log)."""

    engine: Engine
    config: Any
    what = "feed"
    unseen = False  # the last step found feed rows it could not read yet
    # Errors after which a step runs again at once (besides deadlocks and serialization
    # failures).
    again: tuple[type[Exception], ...] = ()

    def step(self) -> bool:
        raise NotImplementedError

    def next_due_ms(self, conn: Connection) -> int | None:
        raise NotImplementedError

    def drain(self, max_steps: int = 1_000_000, stop: threading.Event | None = None) -> int:
        """Work until nothing is left to do now (or ``max_steps``); returns the steps.
        Feed rows still hidden by a running transaction are work left (``drain``)."""
        return drain(self.step, lambda: self.unseen, self.config.unseen_s,
                     self.config.unseen_wait_s, max_steps, stop)

    def sleep_s(self) -> float:
        """How long to wait when idle: until the earliest due work, within bounds."""
        with read_transaction(self.engine) as conn:
            due = self.next_due_ms(conn)
        if due is None:
            return float(self.config.max_sleep_s)
        return float(min(self.config.max_sleep_s, max(0.0, (due - now_ms()) / 1000)))

    def run(self, stop: threading.Event, wake: threading.Event) -> None:
        """Work whenever woken or work falls due, until ``stop`` is set."""
        while not stop.is_set():
            wait = self.config.max_sleep_s
            try:
                self.drain(stop=stop)
                wait = min(self.sleep_s(), 1.0) if self.unseen else self.sleep_s()
            except Exception:  # keep the worker alive; the work stays where it was
                log.exception("%s step failed; retrying shortly", self.what)
                wait = 0.5
            wake.wait(wait)
            wake.clear()

    def retrying(self, step: Callable[[], bool]) -> bool:
        """``step``, again (up to five times in all) after a deadlock, a serialization
        failure or one of ``again``."""
        for attempt in range(5):
            try:
                return step()
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) not in TRANSIENT or attempt == 4:
                    raise
            except self.again:
                if attempt == 4:
                    raise
        return False
