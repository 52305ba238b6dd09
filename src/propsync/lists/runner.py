"""The list worker: a loop beside the sync and workflow workers that follows the change
feed as reader ``lists`` and evaluates lists whole when they need it, each step one
transaction (``lists/evaluator.py``).

It is woken like the others (a commit that recorded watched changes, or that created a
list or changed its filter; NOTIFY from other processes), and otherwise sleeps until the
next list whose filter relative to today moves (at most ``max_sleep_s``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync import draining
from propsync.clock import now_ms
from propsync.domain.feed import LISTS_READER as READER
from propsync.lists.evaluator import evaluate_changes, evaluate_due
from propsync.storage import feed
from propsync.storage import lists as store
from propsync.storage.db import read_transaction, write_transaction


@dataclass(frozen=True)
class ListConfig:
    change_batch: int = 1000  # feed rows a step applies
    max_sleep_s: float = 30.0
    unseen_s: float = 0.002
    unseen_wait_s: float = 2.0


class ListWorker(draining.FeedLoop):
    """Follows the feed and evaluates due lists until nothing is left, then waits."""

    what = "list"

    def __init__(self, engine: Engine, config: ListConfig | None = None) -> None:
        self.engine = engine
        self.config = config or ListConfig()
        self.unseen = False

    def step(self) -> bool:
        with read_transaction(self.engine) as conn:
            unread = feed.has_unread(conn, READER)
            due = store.has_due_whole(conn, now_ms())
        self.unseen = False
        did = unread and self.retrying(self.follow)
        if due:
            did = self.retrying(self.evaluate) or did
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

    def next_due_ms(self, conn: Connection) -> int | None:
        """When the next list whose filter relative to today moves is due."""
        return store.next_eval_ms(conn)
