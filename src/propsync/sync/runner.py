"""Running workers: a thread inside the server (embedded mode), or a process of its own.

A worker is three loops: the sync worker, and beside it the workflow worker
(``workflows/runner.py``) and the list worker (``lists/runner.py``). All wake as soon as
a commit leaves work: in-process through the engine's commit hook, across processes
through PostgreSQL LISTEN/NOTIFY.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Engine

from propsync.lists.runner import ListWorker
from propsync.storage.db import (
    NOTIFY_CHANNEL,
    PROCESS_TOKEN,
    is_postgres_engine,
    off_sync_work,
    on_sync_work,
)
from propsync.sync.worker import SyncWorker
from propsync.workflows.runner import WorkflowWorker

log = logging.getLogger("propsync.sync")


@dataclass
class RunningWorker:
    """The worker threads and the events that stop and wake them (``wake`` the sync
    worker's, ``wake_workflows`` the workflow worker's)."""

    engine: Engine
    stop: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)
    wake_workflows: threading.Event = field(default_factory=threading.Event)
    wake_lists: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def wake_all(self) -> None:
        self.wake.set()
        self.wake_workflows.set()
        self.wake_lists.set()

    def shutdown(self, timeout: float = 10) -> None:
        off_sync_work(self.engine, self.wake_all)
        self.stop.set()
        self.wake_all()
        for thread in self.threads:
            thread.join(timeout)


def start_worker(engine: Engine, listen_url: str | None = None) -> RunningWorker:
    """Start the worker threads over ``engine`` (the sync worker and the workflow worker);
    with ``listen_url`` they also hear NOTIFY."""
    running = RunningWorker(engine)
    on_sync_work(engine, running.wake_all)
    worker = SyncWorker(engine)
    running.threads.append(threading.Thread(
        target=worker.run, args=(running.stop, running.wake), name="propsync-sync",
        daemon=True))
    running.threads.append(threading.Thread(
        target=WorkflowWorker(engine).run, args=(running.stop, running.wake_workflows),
        name="propsync-workflows", daemon=True))
    running.threads.append(threading.Thread(
        target=ListWorker(engine).run, args=(running.stop, running.wake_lists),
        name="propsync-lists", daemon=True))
    if listen_url and is_postgres_engine(engine):
        listener = threading.Thread(target=_listen, args=(listen_url, running),
                                    name="propsync-listen", daemon=True)
        running.threads.append(listener)
    for thread in running.threads:
        thread.start()
    return running


def _listen(url: str, running: RunningWorker) -> None:
    """Set ``wake`` on every NOTIFY from another process, until stopped."""
    while not running.stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                while not running.stop.is_set():
                    for notice in conn.notifies(timeout=1.0, stop_after=1):
                        if notice.payload != PROCESS_TOKEN:  # ours woke it already
                            running.wake_all()
        except psycopg.Error:
            log.warning("lost the LISTEN connection; reconnecting", exc_info=True)
            running.stop.wait(1.0)


def run_until_stopped(engine: Engine, listen_url: str | None) -> None:
    """Run a worker in this process until SIGINT/SIGTERM (``propsync worker``)."""
    running = start_worker(engine, listen_url)

    def _stop(*_: object) -> None:
        running.stop.set()
        running.wake_all()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not running.stop.wait(0.5):
        pass
    running.shutdown()
