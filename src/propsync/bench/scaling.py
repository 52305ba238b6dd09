"""Worker scaling (PostgreSQL): the same work with 1, 2 and 4 ``propsync worker`` processes.

The workers share the queue (``FOR UPDATE SKIP LOCKED``) and wake on LISTEN/NOTIFY. Four
processes are started once (starting seven would cost more than the measurements); for
``n`` workers the other ``4 - n`` are paused with SIGSTOP while nothing is pending, so
they hold no work. Per worker count:

- fan-out: rename the hub (service layer); seconds until nothing is pending;
- steady stream: ``edits`` renames of distinct companies with a few Primary contacts each
  (one change apiece, committed 50 to a transaction to build the backlog quickly) while
  the workers are paused (SIGSTOP), then resumed: edits propagated per second from resume
  to nothing pending. Pausing makes the
  figure the workers' own throughput, not the writer's (on a 2-core machine a writer
  running alongside would take the CPU the workers are meant to scale on).

``workflow_throughput`` does the same for the copy workflow (``bench.workflow``) with 1 and
4 workers: the same renames, each enrolling its company in the flow and running one action
(copy the name to the company's Primary contacts), committed while the workers are paused;
actions run per second from resume until the run log has one per rename.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Engine, text

from propsync.bench import workflow
from propsync.bench.dataset import Dataset
from propsync.bench.processes import Child, pause, resume, workers
from propsync.bench.scenarios import SOURCE, poll_until, wait_synced
from propsync.services import records as records_svc

COUNTS = (1, 2, 4)
WORKFLOW_COUNTS = (1, 4)
WRITE_BATCH = 50  # renames per transaction while the workers are paused (one change each)


def worker_scaling(data: Dataset, database_url: str, edits: int,
                   tick: Callable[[], None]) -> dict[str, Any]:
    """Four ``propsync worker`` processes are started once; for ``n`` workers the other
    ``4 - n`` stay paused (SIGSTOP) while nothing is pending, so they hold no work."""
    figures: dict[str, Any] = {}
    companies = data.small_companies()[:edits]
    with workers(database_url, max(COUNTS)) as started:
        _until_listening(data.engine, started, len(started))
        for count in COUNTS:
            active, idle = started[:count], started[count:]
            resume(active)
            pause_idle(data.engine, idle)
            start = time.perf_counter()
            records_svc.update_records(data.engine, data.principal, "companies",
                                       [(str(data.hub), {"name": f"Hub with {count}"})], SOURCE)
            wait_synced(data.engine, data.principal)
            fan = time.perf_counter() - start
            tick()
            pause_idle(data.engine, active)
            _rename(data, companies, f"S{count}")
            start = time.perf_counter()
            resume(active)
            wait_synced(data.engine, data.principal)
            drained = time.perf_counter() - start
            tick()
            figures[str(count)] = {"fanout_targets": data.fanout_targets,
                                   "fanout_seconds": round(fan, 3),
                                   "stream_edits": len(companies),
                                   "stream_seconds": round(drained, 3),
                                   "stream_edits_per_s": round(len(companies) / drained, 1)}
    one, four = figures["1"], figures["4"]
    figures["speedup_4"] = round(four["stream_edits_per_s"] / one["stream_edits_per_s"], 2)
    figures["fanout_seconds"] = [figures[str(c)]["fanout_seconds"] for c in COUNTS]
    figures["fanout_speedup_4"] = round(one["fanout_seconds"] / four["fanout_seconds"], 2)
    figures["method"] = ("four propsync worker processes, of which 4 - n are paused (SIGSTOP) "
                         "while idle; stream: renames of distinct companies (50 per "
                         "transaction) committed while the n are paused too, then drained "
                         "after SIGCONT; fan-out: one rename, the n running")
    return figures


def workflow_throughput(data: Dataset, database_url: str, flow_id: str, edits: int,
                        tick: Callable[[], None]) -> dict[str, Any]:
    """Copy-workflow actions per second with 1 and 4 ``propsync worker`` processes: ``edits``
    renames of distinct companies committed while every worker is paused, each enrolling its
    company in the flow ``flow_id``; seconds from resuming ``n`` of them until the flow's
    run log has grown by one action per rename (then, untimed, every copy is checked)."""
    figures: dict[str, Any] = {}
    companies = data.small_companies()[:edits]
    with workers(database_url, max(WORKFLOW_COUNTS)) as started:
        _until_listening(data.engine, started, len(started))
        for count in WORKFLOW_COUNTS:
            active = started[:count]
            pause_idle(data.engine, started)
            wanted = workflow.actions_run(data, flow_id) + len(companies)
            tag = f"W{count}"
            _rename(data, companies, tag)
            start = time.perf_counter()
            resume(active)
            poll_until(partial(_ran, data, flow_id, wanted))
            seconds = time.perf_counter() - start
            tick()
            expected = {contact: f"{tag}-{i}" for i, company in enumerate(companies)
                        for contact in data.primary_of[company]}
            if not workflow.copied(data, expected):
                raise RuntimeError(f"with {count} workers, the copy workflow ran "
                                   f"{len(companies)} actions but left a copy unwritten")
            figures[str(count)] = {"actions": len(companies), "seconds": round(seconds, 3),
                                   "actions_per_s": round(len(companies) / seconds, 1)}
        resume(started)
    figures["speedup_4"] = round(figures["4"]["actions_per_s"] / figures["1"]["actions_per_s"],
                                 2)
    figures["method"] = (f"{len(companies)} renames of distinct companies (50 per "
                         "transaction), each enrolling the company in the copy workflow "
                         "(one action: its name to its Primary contacts), committed while "
                         "four propsync worker processes are paused (SIGSTOP); n of them "
                         "resumed; until the flow's run log has one action per rename")
    return figures


def _ran(data: Dataset, flow_id: str, wanted: int) -> bool:
    return workflow.actions_run(data, flow_id) >= wanted


def _rename(data: Dataset, companies: list[int], tag: str) -> None:
    for first in range(0, len(companies), WRITE_BATCH):
        records_svc.update_records(data.engine, data.principal, "companies", [
            (str(company), {"name": f"{tag}-{first + i}"})
            for i, company in enumerate(companies[first:first + WRITE_BATCH])], SOURCE)


def pause_idle(engine: Engine, children: list[Child]) -> None:
    """SIGSTOP ``children`` at a moment when none of them is inside a transaction: one
    stopped mid-transaction would keep its row and advisory locks (a claimed enrollment,
    a change-log reader's turn) from the workers still running, and a measurement would
    wait for it forever. Those caught busy run on a moment and are stopped again."""
    busy = children
    while busy:
        pause(busy)
        names = [c.app_name for c in children]
        with engine.connect() as conn:
            working = set(conn.execute(text(
                "SELECT application_name FROM pg_stat_activity WHERE datname = "
                "current_database() AND application_name = ANY(:names) AND state <> 'idle'"),
                {"names": names}).scalars())
        busy = [c for c in children if c.app_name in working]
        resume(busy)
        if busy:
            time.sleep(0.02)


def _until_listening(engine: Engine, started: list[Child], count: int,
                     timeout: float = 60) -> None:
    """Until ``count`` worker processes LISTEN on this database (they are then ready)."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            listening = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'LISTEN %'")).scalar_one()
        if listening >= count:
            return
        dead = [c for c in started if c.process.poll() is not None]
        if dead:
            raise RuntimeError(f"a propsync worker exited: {dead[0].log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {listening} of {count} workers started within {timeout} s")
        time.sleep(0.1)
