"""The sync worker: turns recorded changes into recomputed sync values, batch by batch.

Each step is one short transaction, so a worker can be killed at any instant:
what it had claimed rolls back onto the queue and the next worker redoes it.
Recomputation reads the current state, so redoing is harmless and order is
irrelevant. Steps, most urgent first:

1. plan: read the change feed after the sync engine's cursor (storage/feed.py), queue
   the targets the changes affect (set-based) and the fan-out jobs of changed source
   values, and move the cursor past them, all in one transaction;
2. apply: claim a batch of queued targets of one sync property, recompute them;
3. fan out: copy a changed source value to the next batch of targets it wins;
4. backfill: recompute the next batch of a new or redefined sync property.

Between passes, a running worker prunes the feed's rows every reader has passed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from propsync import draining
from propsync.clock import now_ms
from propsync.domain.changes import Change
from propsync.domain.feed import SYNC_READER
from propsync.domain.sync_rule import SyncDefinition
from propsync.storage import associations as assoc_store
from propsync.storage import feed, statistics
from propsync.storage import sync as store
from propsync.storage.db import (
    is_postgres,
    mark_sync_work,
    read_transaction,
    write_transaction,
)
from propsync.sync.apply import StaleRow, backfill, fan_out, recompute
from propsync.sync.planner import inverse_ids, plan, records_changes

log = logging.getLogger("propsync.sync")


@dataclass(frozen=True)
class WorkerConfig:
    change_batch: int = 2000
    target_batch: int = 2000
    # The first fan-out and backfill batches. While a batch runs it holds its targets'
    # row locks (on SQLite, the database's one write lock), so later batches are sized to
    # take about ``batch_s`` each, from what the last one took, within
    # [``min_batch``, ``max_batch``]; ``batch_s = None`` keeps the first sizes.
    fanout_batch: int = 2000
    backfill_batch: int = 2000
    batch_s: float | None = 0.08
    min_batch: int = 200
    max_batch: int = 20_000
    # A changed source that wins at most this many targets has them queued for
    # recomputation (batched with everything else queued) instead of a fan-out job of its
    # own: a stream of edits to small companies then costs one transaction per batch, not
    # one per edit.
    small_fanout: int = 100
    # How long a worker woken during its own work lets a stream of edits gather.
    gather_s: float = 0.02
    # A plan of at most this many changes applies the first batch it queued at once.
    fast_lane: int = 20
    # How often a running worker looks for tables whose planner statistics went stale
    # (storage/statistics.py): one cheap read of PostgreSQL's counters.
    statistics_s: float = 5.0
    # How often a running worker prunes the change feed, and at most how many rows a
    # transaction deletes (a full one is followed by another at once).
    prune_s: float = 1.0
    prune_batch: int = 5000
    # PostgreSQL: the feed had rows the worker could not read yet (a transaction that
    # started before their writers' was still running): it looks again after this, then
    # after twice as long each time, up to ``idle_s``.
    unseen_s: float = 0.002
    unseen_wait_s: float = 2.0  # how long ``drain`` waits for them before it returns


class SyncWorker:
    """Runs the three steps until there is nothing left, then waits to be woken."""

    def __init__(self, engine: Engine, config: WorkerConfig | None = None) -> None:
        self.engine = engine
        self.config = config or WorkerConfig()
        self.sizes = {"fanout": self.config.fanout_batch, "backfill": self.config.backfill_batch}
        self._first_sizes = dict(self.sizes)
        self._statistics_at = 0.0  # when ``keep_statistics`` last looked (monotonic)
        self._filled: set[str] = set()  # tables a finished backfill filled: analyze them
        self._pruned_at = 0.0  # when ``keep_feed`` last pruned (monotonic)
        # The last look at the feed found rows after the cursor that no read could take yet.
        self.unseen = False

    def step(self) -> bool:
        """Do one unit of work, the most urgent kind first; ``False`` when there was none.

        One read asks which kinds have work (it takes no lock, so on SQLite it does not
        queue behind writers); only those are tried, each in its own write transaction.
        """
        steps = (self.plan_changes, self.apply_targets, self.fan_out, self.backfill_batch)
        with read_transaction(self.engine) as conn:
            ready = store.waiting_work(conn)
        if not ready[0]:
            self.unseen = False
        return any(self._retrying(step) for step, waiting in zip(steps, ready, strict=True)
                   if waiting)

    def drain(self, max_steps: int = 1_000_000, stop: threading.Event | None = None) -> int:
        """Work until nothing is pending (or ``max_steps``); returns the steps taken.

        Changes that no read could take yet (PostgreSQL: a transaction that started before
        their writers' was still running) are pending too: it waits for them, looking
        again after ``unseen_s``, twice as long each time, for at most ``unseen_wait_s``
        in a row (or until ``stop`` is set)."""
        return draining.drain(self.step, lambda: self.unseen, self.config.unseen_s,
                               self.config.unseen_wait_s, max_steps, stop)

    def run(self, stop: threading.Event, wake: threading.Event, idle_s: float = 1.0) -> None:
        """Work whenever woken (or every ``idle_s``) until ``stop`` is set.

        A lone edit is taken at once. When more work arrived while the worker was busy
        (a stream of writes), it first lets the stream gather for ``gather_s``, so that
        one plan and one recompute serve many edits instead of each paying for its own,
        which would take the CPU from the writers. Changes it could not read yet (their
        writers' transactions started after one still running) are looked for again
        soon, as that transaction's end wakes no one.
        """
        unseen_s = self.config.unseen_s
        while not stop.is_set():
            try:
                self.drain(stop=stop)
                self.keep_statistics()
                self.keep_feed()
            except Exception:  # keep the worker alive; the work stays queued
                log.exception("sync step failed; retrying shortly")
                stop.wait(0.5)
            if self.unseen:
                stop.wait(unseen_s)
                unseen_s = min(idle_s, unseen_s * 2)
                continue
            unseen_s = self.config.unseen_s
            if wake.is_set():
                stop.wait(self.config.gather_s)
            wake.wait(idle_s)
            wake.clear()

    def keep_statistics(self) -> list[str]:
        """ANALYZE what a finished backfill filled, at once, and every ``statistics_s`` the
        tables that changed a lot since their last ANALYZE (a batch create, an import);
        returns the tables analyzed. Between steps, never in a request."""
        now = time.monotonic()
        if not self._filled and now - self._statistics_at < self.config.statistics_s:
            return []
        self._statistics_at = now
        tables = set(statistics.stale_tables(self.engine)) | self._filled
        self._filled.clear()
        return statistics.analyze(self.engine, sorted(tables))

    def keep_feed(self) -> int:
        """Every ``prune_s``, delete a batch of the change feed's rows that every reader
        has passed (at once again after a full batch); returns how many. Between steps,
        never in a request."""
        now = time.monotonic()
        if now - self._pruned_at < self.config.prune_s:
            return 0
        pruned = self.prune_feed()
        self._pruned_at = 0.0 if pruned >= self.config.prune_batch else now
        return pruned

    def prune_feed(self) -> int:
        with _step_transaction(self.engine) as conn:
            return feed.prune(conn, self.config.prune_batch)

    def _retrying(self, step: Callable[[], bool]) -> bool:
        for attempt in range(5):
            try:
                return step()
            except DBAPIError as exc:  # deadlock or serialization failure: try again
                if not _is_transient(exc) or attempt == 4:
                    raise
            except StaleRow:  # rolled back: do it again
                if attempt == 4:
                    raise
        return False

    def plan_changes(self) -> bool:
        """Read the next changes of the feed, queue what they require and move the sync
        engine's cursor past them, in one transaction: the commit acknowledges them. While
        another worker holds the cursor (PostgreSQL), there is nothing to do here."""
        with _step_transaction(self.engine) as conn:
            # read and advance in one statement: this transaction's commit acknowledges
            batch = feed.take(conn, SYNC_READER, self.config.change_batch)
            self.unseen = batch is not None and not batch.rows
            if batch is None or not batch.rows:
                return False
            by_account: dict[int, list[Change]] = defaultdict(list)
            for account_id, change in batch.rows:
                by_account[account_id].append(change)
            defs = {account_id: _enqueue(conn, account_id, by_account[account_id],
                                         self.config.small_fanout)
                    for account_id in sorted(by_account)}
            if len(batch.rows) <= self.config.fast_lane:
                # A few changes (a single edit, say): apply what they queued in this same
                # transaction rather than in the next step's.
                self._apply_claimed(conn, defs)
            else:  # more than this worker's next step: other workers may share it
                mark_sync_work(conn)
        return True

    def apply_targets(self) -> bool:
        with _step_transaction(self.engine) as conn:
            return self._apply_claimed(conn)

    def _apply_claimed(self, conn: Connection,
                       known: dict[int, list[SyncDefinition]] | None = None) -> bool:
        """Recompute a claimed batch of queued targets (``known``: the definitions this
        transaction already read, by account)."""
        claim = store.claim_targets(conn, self.config.target_batch)
        if claim is None:
            return False
        account_id, property_id, ids = claim
        defs = (known or {}).get(account_id)
        if defs is None:
            defs = store.load_sync_properties(conn, account_id)
        prop = next((d for d in defs if d.property_id == property_id), None)
        if prop is not None:
            recompute(conn, prop, ids, now_ms(), records_changes(defs, prop))
        return True

    def fan_out(self) -> bool:
        size, start = self.sizes["fanout"], time.perf_counter()
        with _step_transaction(self.engine) as conn:
            job = store.claim_fanout(conn)
            if job is None:
                return False
            defs = store.load_sync_properties(conn, job.account_id)
            prop = next((d for d in defs if d.property_id == job.property_id), None)
            if prop is None:  # deleted meanwhile
                store.advance_fanout(conn, job, job.cursor, finished=True)
                return True
            full = fan_out(conn, prop, job, size, now_ms(), records_changes(defs, prop))[1]
        if full:
            self.resize("fanout", size, time.perf_counter() - start)
        return True

    def backfill_batch(self) -> bool:
        size, start = self.sizes["backfill"], time.perf_counter()
        with _step_transaction(self.engine) as conn:
            prop = store.claim_backfill(conn)
            if prop is None:
                return False
            defs = store.load_sync_properties(conn, prop.account_id)
            now = now_ms()
            cursor, done, finished = backfill(conn, prop, size, now,
                                              records_changes(defs, prop))
            store.advance_backfill(conn, prop, cursor, done, finished, now)
        if not finished:
            self.resize("backfill", size, time.perf_counter() - start)
        elif prop.backfill_done + done >= statistics.MIN_CHANGED:
            self._filled.update(("property_values", "records"))  # its values, updatedAt
        return True

    def resize(self, kind: str, size: int, seconds: float) -> None:
        """Size the next full batch of ``kind`` to take about ``batch_s``, moving at most
        by half or double at a time, so that one slow or quick batch does not swing it."""
        budget, config = self.config.batch_s, self.config
        if budget is None or seconds <= 0:
            return
        first = self._first_sizes[kind]
        low, high = min(config.min_batch, first), max(config.max_batch, first)
        factor = min(2.0, max(0.5, budget / seconds))
        self.sizes[kind] = min(high, max(low, round(size * factor)))


@contextmanager
def _step_transaction(engine: Engine) -> Iterator[Connection]:
    """A worker step's write transaction. On PostgreSQL its commit does not wait for the
    WAL to reach the disk (``synchronous_commit = off``): a step only derives values from
    what is already durable, and a step lost in a crash is lost whole, its claims with it,
    so the work is simply done again; nothing a user wrote can be lost this way."""
    with write_transaction(engine, wake=False) as conn:
        if is_postgres(conn):
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        yield conn


def _enqueue(conn: Connection, account_id: int, changes: list[Change], small_fanout: int
             ) -> list[SyncDefinition]:
    """Queue what ``changes`` require; returns the account's definitions, as read."""
    defs = store.load_sync_properties(conn, account_id)
    if not defs:
        return defs
    work = plan(changes, defs)
    now = now_ms()
    by_id: dict[int, SyncDefinition] = {d.property_id: d for d in defs}
    for property_id, targets in work.targets.items():
        store.enqueue_targets(conn, account_id, property_id, targets, now)
    if work.via_sources:
        inverses = {t.type_id: t.inverse_id
                    for t in assoc_store.load_types(conn, account_id).values()}
        for property_id, sources in work.via_sources.items():
            prop = by_id[property_id]
            store.enqueue_associated(conn, prop, sources, inverse_ids(prop, inverses), now)
    for property_id, sources in work.fanouts.items():
        prop = by_id[property_id]
        large = store.enqueue_won_targets(conn, prop, sources, small_fanout, now)
        store.enqueue_fanouts(conn, prop, large, now)
    return defs


def _is_transient(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")
