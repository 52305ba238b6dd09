"""Running workers: a thread inside the server (embedded mode), or a process of its own.

A worker wakes as soon as a commit leaves sync work: in-process through the
engine's commit hook, across processes through PostgreSQL LISTEN/NOTIFY.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Engine

from propsync.storage.db import (
    NOTIFY_CHANNEL,
    PROCESS_TOKEN,
    is_postgres_engine,
    off_sync_work,
    on_sync_work,
)
from propsync.sync.worker import SyncWorker

log = logging.getLogger("propsync.sync")


@dataclass
class RunningWorker:
    """A worker thread and the events that stop and wake it."""

    engine: Engine
    stop: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def shutdown(self, timeout: float = 10) -> None:
        off_sync_work(self.engine, self.wake.set)
        self.stop.set()
        self.wake.set()
        for thread in self.threads:
            thread.join(timeout)


def start_worker(engine: Engine, listen_url: str | None = None) -> RunningWorker:
    """Start a worker thread over ``engine``; with ``listen_url`` it also hears NOTIFY."""
    running = RunningWorker(engine)
    on_sync_work(engine, running.wake.set)
    worker = SyncWorker(engine)
    loop = threading.Thread(target=worker.run, args=(running.stop, running.wake),
                            name="propsync-sync", daemon=True)
    running.threads.append(loop)
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
                            running.wake.set()
        except psycopg.Error:
            log.warning("lost the LISTEN connection; reconnecting", exc_info=True)
            running.stop.wait(1.0)


def run_until_stopped(engine: Engine, listen_url: str | None) -> None:
    """Run a worker in this process until SIGINT/SIGTERM (``propsync worker``)."""
    running = start_worker(engine, listen_url)

    def _stop(*_: object) -> None:
        running.stop.set()
        running.wake.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not running.stop.wait(0.5):
        pass
    running.shutdown()
