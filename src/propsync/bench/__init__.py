"""``propsync bench``: the sync engine measured beside what the database itself can do.

Every figure sits beside a baseline measured in the same run on the same rows (the raw SQL
statement, the workflow way, the same writes without sync properties, one worker), because
the machines this runs on are shared and noisy: the ratios are what carry over.

Modules: ``dataset`` (the seeded data set), ``processes`` (a real API server, worker
processes), ``scenarios`` (backfill, fan-out, single edit, write overhead), ``workflow``
(the per-record loop a script would run), ``scaling`` (PostgreSQL worker processes) and
``report`` (Rich table, JSON, PNG).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import text

from propsync.bench import scaling, scenarios, workflow
from propsync.bench.dataset import Dataset, seed
from propsync.bench.processes import Server, api_server
from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.storage.db import is_postgres_engine


@dataclass(frozen=True)
class Scale:
    companies: int
    edits: int  # single edits per mode (idle, under load)
    edit_seconds: float  # ... or fewer, when a mode has run this long (said in the output)
    workflow_sample: int  # contacts the workflow-way fan-out copies before extrapolating
    stream_edits: int  # renames in the workflow-vs-sync stream
    writes: int  # API writes per account in the write-overhead scenario
    scaling_edits: int  # renames in the worker-scaling stream (PostgreSQL)
    load_rate: float = 20.0  # background writes per second for "under load"
    searches: int = 50  # searches by the sync property (and as many by email)


SCALES = {
    "tiny": Scale(200, 10, 10, 20, 5, 10, 50, searches=5),
    "small": Scale(2_000, 1_000, 12, 300, 20, 100, 100),
    "medium": Scale(20_000, 1_000, 300, 2_000, 100, 400, 1_000),
    "large": Scale(200_000, 1_000, 300, 2_000, 100, 400, 1_000),
}
FEWER_EDITS = ("single edit: {idle} idle and {load} loaded edits measured, fewer than 1,000 "
               "{why}")


class Ui:
    """A Rich progress display, with messages printed above it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                 transient=True)

    @contextmanager
    def phase(self, description: str, total: int | None = None
              ) -> Iterator[Callable[[], None]]:
        task = self.progress.add_task(description, total=total)
        start = time.perf_counter()
        yield lambda: self.progress.advance(task)
        self.progress.remove_task(task)
        self.console.print(f"  {description}: {time.perf_counter() - start:.1f} s")


def run_store(database_url: str, store: str, scale_name: str, ui: Ui
              ) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Every scenario on one database; returns the figures and the latency samples."""
    scale = SCALES[scale_name]
    engine = engine_for(Settings(database_url=database_url))
    figures: dict[str, Any] = {"notes": []}
    samples: dict[str, list[float]] = {}
    try:
        if is_postgres_engine(engine):
            with engine.connect() as conn:
                figures["server_version"] = conn.execute(text("SHOW server_version")
                                                         ).scalar_one()
        with ui.phase(f"{store}: seed {scale.companies:,} companies, "
                      f"{5 * scale.companies:,} contacts, {2 * scale.companies:,} deals"):
            data = seed(engine, scale.companies)
        with ui.phase(f"{store}: backfill of {len(data.contacts):,} contacts"):
            figures["backfill"] = scenarios.backfill(data, database_url)
        with ui.phase(f"{store}: fan-out to {data.fanout_targets:,} contacts"):
            figures["fanout"] = scenarios.fanout(data)
        with api_server(database_url) as server:
            _api_scenarios(figures, samples, data, server, store, scale, scale_name, ui)
        if is_postgres_engine(engine):
            with ui.phase(f"{store}: worker scaling (1, 2, 4 propsync worker processes)",
                          2 * len(scaling.COUNTS)) as tick:
                figures["worker_scaling"] = scaling.worker_scaling(
                    data, database_url, scale.scaling_edits, tick)
    finally:
        engine.dispose()
    return figures, samples


def _api_scenarios(figures: dict[str, Any], samples: dict[str, list[float]],
                   data: Dataset, server: Server, store: str, scale: Scale, scale_name: str,
                   ui: Ui) -> None:
    """Searches, single edits, the workflow way and write overhead, through one
    ``propsync serve``. Searches come first, while every company has its seeded name."""
    with ui.phase(f"{store}: {2 * scale.searches} searches, by the sync property and by "
                  "email"), server.client(data.token) as client:
        figures["search"] = scenarios.search_latency(data, client, scale.searches)
    with ui.phase(f"{store}: single edits through the API, idle", scale.edits) as tick:
        idle, _ = scenarios.edit_latencies(data, server, scale.edits, scale.edit_seconds,
                                           None, tick)
    with ui.phase(f"{store}: single edits under {scale.load_rate:g} background writes/s",
                  scale.edits) as tick:
        loaded, rate = scenarios.edit_latencies(data, server, scale.edits, scale.edit_seconds,
                                                scale.load_rate, tick)
    samples.update(idle=idle, load=loaded)
    with server.client(data.token) as client:
        scenarios.wait_api_synced(client)  # what the load left behind, before what follows
    under = {f"{k[:-3]}_under_load_ms": v for k, v in scenarios.percentiles(loaded).items()}
    figures["single_edit"] = {"edits": len(idle), "edits_under_load": len(loaded),
                              **scenarios.percentiles(idle), **under,
                              "load_writes_per_s": round(rate or 0.0, 1)}
    if min(len(idle), len(loaded)) < 1000:
        why = (f"(at most {scale.edits:,} per mode at {scale_name} scale, to keep the run "
               "within its time budget; medium and large ask for 1,000)"
               if scale.edits < 1000 else "")
        if min(len(idle), len(loaded)) < scale.edits:
            why += f" (a mode stops after {scale.edit_seconds:g} s)"
        figures["single_edit"]["note"] = FEWER_EDITS.format(
            idle=len(idle), load=len(loaded), why=why.strip())
        figures["notes"].append(figures["single_edit"]["note"])
    with server.client(data.token) as client:
        sample = min(scale.workflow_sample, data.fanout_targets)
        with ui.phase(f"{store}: the workflow way, fan-out ({sample:,} contacts copied)",
                      sample) as tick:
            fan = workflow.fanout(data, client, scale.workflow_sample, tick)
        with ui.phase(f"{store}: the workflow way, stream of {scale.stream_edits} edits",
                      2 * scale.stream_edits) as tick:
            stream = workflow.stream(data, client, scale.stream_edits, tick)
    figures["vs_workflow"] = {"fanout_speedup": fan["speedup"],
                              "stream_speedup": stream["speedup"], "fanout": fan,
                              "stream": stream, "note": workflow.NOTE}
    figures["notes"].append(workflow.NOTE)
    if "extrapolated_from" in fan:
        figures["vs_workflow"]["extrapolated_from"] = fan["extrapolated_from"]
        figures["notes"].append(
            f"the workflow-way fan-out copied {fan['extrapolated_from']:,} of "
            f"{fan['targets']:,} contacts and was extrapolated linearly")
    with ui.phase(f"{store}: write overhead, 0 / 1 / 10 sync properties",
                  3 * 2 * max(scale.writes // 2, 1)) as tick:
        figures["write_overhead"] = scenarios.write_overhead(data.engine, server, scale.writes,
                                                             tick)
    with ui.phase(f"{store}: writes without sync properties, engine on / off",
                  4 * max(scale.writes // 2, 1)) as tick:
        figures["engine_off"] = scenarios.engine_off(data.engine, scale.writes, tick)
