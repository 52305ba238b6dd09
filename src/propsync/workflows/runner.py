"""The workflow worker: a loop beside the sync worker that enrolls from the change feed
and runs due actions, each step one transaction.

It is woken like the sync worker (a commit that recorded watched changes; NOTIFY from
other processes) and otherwise sleeps until the earliest delayed action is due (at most
``max_sleep_s``). Several processes share the work on PostgreSQL: one reads the feed at a
time (its cursor is locked), and due enrollments are claimed with ``SKIP LOCKED``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync import draining
from propsync.clock import now_ms
from propsync.domain.feed import WORKFLOWS_READER as READER
from propsync.storage import enrollments, feed
from propsync.storage.db import plan_each_time, read_transaction, write_transaction
from propsync.workflows.enroller import enroll_changes
from propsync.workflows.executor import run_due
from propsync.workflows.set_property import Overtaken


@dataclass(frozen=True)
class WorkflowConfig:
    change_batch: int = 1000  # feed rows a step enrolls from
    action_batch: int = 200  # enrollments a step runs one action of
    max_sleep_s: float = 30.0  # the longest an idle worker waits without being woken
    # Feed rows a running transaction still hides (PostgreSQL: one that started before
    # their writers' has not ended): the worker looks again after ``unseen_s``, twice as
    # long each time up to 50 ms, for at most ``unseen_wait_s`` in a row.
    unseen_s: float = 0.002
    unseen_wait_s: float = 2.0


class WorkflowWorker(draining.FeedLoop):
    """Enrolls and runs actions until nothing is due, then waits to be woken."""

    what = "workflow"
    again = (Overtaken,)  # a newer write landed on a copy's target: the step runs again

    def __init__(self, engine: Engine, config: WorkflowConfig | None = None) -> None:
        self.engine = engine
        self.config = config or WorkflowConfig()
        self.unseen = False  # the last enrollment step found rows it could not read yet

    def step(self) -> bool:
        """One enrollment step and one action step, those that have work; ``False`` when
        neither had any. One read asks which have (so an idle worker writes nothing)."""
        with read_transaction(self.engine) as conn:
            unread = feed.has_unread(conn, READER)
            due = enrollments.next_due_ms(conn)
        self.unseen = False
        did = unread and self.retrying(self.enroll)
        if due is not None and due <= now_ms():
            did = self.retrying(self.execute) or did
        return did

    def enroll(self) -> bool:
        """Enroll from the next batch of the feed; ``False`` when it had nothing."""
        with write_transaction(self.engine) as conn:
            plan_each_time(conn)
            batch = feed.read(conn, READER, self.config.change_batch)
            if batch is None:  # another worker is reading the feed
                return False
            enroll_changes(conn, batch.rows, batch.recorded_ms, now_ms())
            feed.advance(conn, batch)
        self.unseen = not batch.rows
        return bool(batch.rows)

    def execute(self) -> bool:
        """Run the next action of a batch of due enrollments; ``False`` when none was."""
        with write_transaction(self.engine) as conn:
            plan_each_time(conn)
            return run_due(conn, now_ms(), self.config.action_batch) > 0

    def next_due_ms(self, conn: Connection) -> int | None:
        """When the earliest delayed action falls due."""
        return enrollments.next_due_ms(conn)
