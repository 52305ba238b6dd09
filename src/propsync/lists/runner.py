"""The list worker: a loop beside the sync and workflow workers that follows the change
feed as reader ``lists`` and evaluates lists whole when they need it, each step one
transaction (``lists/evaluator.py``).

It is woken like the others (a commit that recorded watched changes, or that created a
list or changed its filter; NOTIFY from other processes), and otherwise sleeps until the
next list whose filter relative to today moves (at most ``max_sleep_s``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from propsync import draining
from propsync.clock import now_ms
from propsync.domain.feed import LISTS_READER as READER
from propsync.lists.evaluator import evaluate_changes, evaluate_due
from propsync.storage import feed
from propsync.storage import lists as store
from propsync.storage.db import read_transaction, write_transaction

log = logging.getLogger("propsync.lists")
TRANSIENT = ("40001", "40P01")  # serialization failure, deadlock


@dataclass(frozen=True)
class ListConfig:
    change_batch: int = 1000  # feed rows a step applies
    max_sleep_s: float = 30.0
    unseen_s: float = 0.002
    unseen_wait_s: float = 2.0


class ListWorker:
    """Follows the feed and evaluates due lists until nothing is left, then waits."""

    def __init__(self, engine: Engine, config: ListConfig | None = None) -> None:
        self.engine = engine
        self.config = config or ListConfig()
        self.unseen = False

    def step(self) -> bool:
        with read_transaction(self.engine) as conn:
            unread = feed.has_unread(conn, READER)
            due = store.has_due_whole(conn, now_ms())
        self.unseen = False
        did = unread and self._retrying(self.follow)
        if due:
            did = self._retrying(self.evaluate) or did
        return did

    def follow(self) -> bool:
        """Apply the next batch of the feed; ``False`` when it had nothing."""
        with write_transaction(self.engine) as conn:
            batch = feed.read(conn, READER, self.config.change_batch)
            if batch is None:
                return False
            evaluate_changes(conn, batch.rows, now_ms())
            feed.advance(conn, batch)
        self.unseen = not batch.rows
        return bool(batch.rows)

    def evaluate(self) -> bool:
        with write_transaction(self.engine) as conn:
            return evaluate_due(conn, now_ms())

    def drain(self, max_steps: int = 1_000_000, stop: threading.Event | None = None) -> int:
        return draining.drain(self.step, lambda: self.unseen, self.config.unseen_s,
                              self.config.unseen_wait_s, max_steps, stop)

    def sleep_s(self) -> float:
        with read_transaction(self.engine) as conn:
            due = store.next_eval_ms(conn)
        if due is None:
            return self.config.max_sleep_s
        return min(self.config.max_sleep_s, max(0.0, (due - now_ms()) / 1000))

    def run(self, stop: threading.Event, wake: threading.Event) -> None:
        while not stop.is_set():
            wait = self.config.max_sleep_s
            try:
                self.drain(stop=stop)
                wait = min(self.sleep_s(), 1.0) if self.unseen else self.sleep_s()
            except Exception:  # keep the worker alive; the work stays where it was
                log.exception("list step failed; retrying shortly")
                wait = 0.5
            wake.wait(wait)
            wake.clear()

    def _retrying(self, step: Callable[[], bool]) -> bool:
        for attempt in range(5):
            try:
                return step()
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) not in TRANSIENT or attempt == 4:
                    raise
        return False
