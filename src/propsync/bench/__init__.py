"""``propsync bench``: the sync engine measured beside what the database itself can do.

Every figure sits beside a baseline measured in the same run on the same rows (the raw SQL
statement, a real copy workflow, the same writes without sync properties, one worker),
because the machines this runs on are shared and noisy: the ratios are what carry over.

Modules: ``dataset`` (the seeded data set), ``processes`` (a real API server, worker
processes), ``scenarios`` (backfill, fan-out, single edit, write overhead), ``workflow``
(the copy workflow through ``/automation/v4/flows``, and the scenarios run once by it and
once by the sync property), ``scaling`` (PostgreSQL worker processes, for sync values and
for workflow actions) and ``report`` (Rich table, JSON, PNG).

Order of a store's run: seed; the workflow scenarios (before any sync property exists, so
the sync engine does none of their work), the flow deleted and the renamed companies given
their seeded names back; the backfill (which creates the sync property); the fan-out; the
API scenarios (with the sync property's side of the workflow comparison); worker scaling.
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

from propsync.bench import lists, scaling, scenarios, search, workflow
from propsync.bench.dataset import Dataset, seed
from propsync.bench.processes import Server, api_server
from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.storage.db import is_postgres_engine


@dataclass(frozen=True)
class Scale:
    companies: int
    edits: int  # single edits per mode (idle, under load), for sync values and workflows
    edit_seconds: float  # ... or fewer, when a mode has run this long (said in the output)
    stream_edits: int  # renames in the workflow-vs-sync stream
    writes: int  # API writes per account in the write-overhead scenario
    scaling_edits: int  # renames in the worker-scaling streams (PostgreSQL)
    load_rate: float = 20.0  # background writes per second for "under load"
    searches: int = 50  # searches by the sync property (and as many by email)


SCALES = {
    "tiny": Scale(200, 10, 10, 5, 10, 50, searches=5),
    "small": Scale(2_000, 1_000, 12, 50, 100, 500),
    "medium": Scale(20_000, 1_000, 300, 100, 400, 1_000),
    "large": Scale(200_000, 1_000, 300, 100, 400, 1_000),
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
    postgres = is_postgres_engine(engine)
    try:
        if postgres:
            with engine.connect() as conn:
                figures["server_version"] = conn.execute(text("SHOW server_version")
                                                         ).scalar_one()
        with ui.phase(f"{store}: seed {scale.companies:,} companies, "
                      f"{5 * scale.companies:,} contacts, {2 * scale.companies:,} deals"):
            data = seed(engine, scale.companies)
        flows = _workflow_scenarios(data, database_url, store, scale, scale_name, postgres,
                                    samples, ui)
        with ui.phase(f"{store}: backfill of {len(data.contacts):,} contacts"):
            figures["backfill"] = scenarios.backfill(data, database_url)
        with ui.phase(f"{store}: a report of {len(data.contacts):,} contacts by the sync "
                      "property, beside a hand-written GROUP BY"):
            figures["report"] = scenarios.report(data)
        with ui.phase(f"{store}: fan-out to {data.fanout_targets:,} contacts"):
            figures["fanout"] = scenarios.fanout(data)
        with api_server(database_url) as server:
            sync = _api_scenarios(figures, samples, data, server, store, scale, scale_name, ui)
        figures["vs_workflow"] = workflow.compare(flows, sync,
                                                  figures["fanout"]["raw_sql_seconds"])
        figures["notes"].append(workflow.NOTE)
        if "note" in flows["edit"]:
            figures["notes"].append(flows["edit"]["note"])
        if postgres:
            with ui.phase(f"{store}: worker scaling (1, 2, 4 propsync worker processes)",
                          2 * len(scaling.COUNTS)) as tick:
                figures["worker_scaling"] = scaling.worker_scaling(
                    data, database_url, scale.scaling_edits, tick)
            figures["workflow_throughput"] = _beside_sync(flows["throughput"],
                                                          figures["worker_scaling"])
    finally:
        engine.dispose()
    return figures, samples


ONLY = ("search", "lists")


def run_only(kinds: tuple[str, ...]) -> Callable[[str, str, str, Ui],
                                                tuple[dict[str, Any], dict[str, list[float]]]]:
    """The scenarios ``kinds`` alone (``propsync bench --only search,lists``), for the large
    scale, whose full run takes hours: seed, the sync property's backfill (its values are
    searched and filtered on), then the searches and/or the dynamic list."""

    def run(database_url: str, store: str, scale_name: str, ui: Ui
            ) -> tuple[dict[str, Any], dict[str, list[float]]]:
        scale = SCALES[scale_name]
        engine = engine_for(Settings(database_url=database_url))
        figures: dict[str, Any] = {"notes": [f"only {', '.join(kinds)} (--only)"]}
        try:
            with ui.phase(f"{store}: seed {scale.companies:,} companies, "
                          f"{5 * scale.companies:,} contacts, {2 * scale.companies:,} deals"):
                data = seed(engine, scale.companies)
            figures["seed_seconds"] = round(data.seconds, 1)
            with ui.phase(f"{store}: backfill of {len(data.contacts):,} contacts"):
                figures["backfill"] = scenarios.backfill(data, database_url)
            with api_server(database_url) as server, server.client(data.token) as client:
                if "search" in kinds:
                    with ui.phase(f"{store}: {len(search.KINDS) * scale.searches} searches "
                                  f"of {len(search.KINDS)} kinds, each beside its SQL"):
                        figures["search"] = search.search_latency(
                            data, client, scale.searches, scenarios.SYNC_NAME)
                if "lists" in kinds:
                    with ui.phase(f"{store}: a two-filter dynamic list, {scale.edits} joins "
                                  "and leaves", scale.edits) as tick:
                        figures["lists"] = lists.scenario(data, client, scale.edits, tick)
        finally:
            engine.dispose()
        return figures, {}

    return run


def _workflow_scenarios(data: Dataset, database_url: str, store: str, scale: Scale,
                        scale_name: str, postgres: bool, samples: dict[str, list[float]],
                        ui: Ui) -> dict[str, Any]:
    """The copy workflow's side: made through the API, then its fan-out, its stream and its
    edit-to-action latency through one ``propsync serve``; on PostgreSQL its action
    throughput with ``propsync worker`` processes. Then the flow is deleted and the renamed
    companies get their seeded names back (untimed), before any sync property exists."""
    out: dict[str, Any] = {}
    renamed = {data.hub, *workflow.stream_companies(data, scale.stream_edits)}
    with api_server(database_url) as server, server.client(data.token) as client:
        flow_id = out["flow_id"] = workflow.create_flow(client)
        with ui.phase(f"{store}: copy workflow, fan-out to {data.fanout_targets:,} contacts"):
            out["fanout"] = workflow.fanout(data, client, workflow.COPY_NAME,
                                            "Hub renamed for the workflow")
        with ui.phase(f"{store}: copy workflow, stream of {scale.stream_edits} renames",
                      scale.stream_edits) as tick:
            out["stream"] = workflow.stream(data, client, workflow.COPY_NAME, "Workflow edit",
                                            scale.stream_edits, tick,
                                            workflow.workflow_idle(client, flow_id))
        with ui.phase(f"{store}: copy workflow, single edits through the API, idle",
                      scale.edits) as tick:
            latencies, _ = scenarios.edit_latencies(
                data, server, scale.edits, scale.edit_seconds, None, tick,
                prop=workflow.COPY_NAME, tag="workflow")
    samples["workflow"] = latencies
    measured = scenarios.latency_companies(data)[0]
    renamed |= {measured[i % len(measured)] for i in range(len(latencies))}
    out["edit"] = {"edits": len(latencies), **scenarios.percentiles(latencies)}
    if len(latencies) < scale.edits:
        out["edit"]["note"] = (f"workflow single edits: {len(latencies):,} measured, fewer "
                               f"than {scale.edits:,} (a mode stops after "
                               f"{scale.edit_seconds:g} s at {scale_name} scale)")
    if postgres:
        with ui.phase(f"{store}: workflow action throughput (1, 4 propsync worker processes)",
                      len(scaling.WORKFLOW_COUNTS)) as tick:
            out["throughput"] = scaling.workflow_throughput(
                data, database_url, flow_id, scale.scaling_edits, tick)
        renamed |= set(data.small_companies()[:scale.scaling_edits])
    workflow.delete_flow(data, flow_id)
    workflow.restore_names(data, renamed)
    return out


def _beside_sync(flows: dict[str, Any], sync: dict[str, Any]) -> dict[str, Any]:
    """Workflow actions/s beside the sync engine's edits/s with as many workers: the same
    renames of the same companies, each copied to the same Primary contacts."""
    out = dict(flows)
    for count in ("1", "4"):
        out[f"sync_ratio_{count}"] = scenarios.ratio(sync[count]["stream_edits_per_s"],
                                                     flows[count]["actions_per_s"])
    return out


def _api_scenarios(figures: dict[str, Any], samples: dict[str, list[float]],
                   data: Dataset, server: Server, store: str, scale: Scale, scale_name: str,
                   ui: Ui) -> dict[str, Any]:
    """Searches, single edits, the sync property's side of the workflow comparison and write
    overhead, through one ``propsync serve``; returns that side. Searches come first, while
    every company has its seeded name."""
    with ui.phase(f"{store}: {len(search.KINDS) * scale.searches} searches of "
                  f"{len(search.KINDS)} kinds, each beside its SQL"), \
            server.client(data.token) as client:
        figures["search"] = search.search_latency(data, client, scale.searches,
                                                  scenarios.SYNC_NAME)
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
    sync: dict[str, Any] = {"edit": scenarios.percentiles(idle)}
    with server.client(data.token) as client:
        with ui.phase(f"{store}: sync property, fan-out to {data.fanout_targets:,} contacts "
                      "through the API"):
            sync["fanout"] = workflow.fanout(data, client, scenarios.SYNC_NAME,
                                             "Hub renamed for the sync property")
        with ui.phase(f"{store}: sync property, stream of {scale.stream_edits} renames",
                      scale.stream_edits) as tick:
            sync["stream"] = workflow.stream(data, client, scenarios.SYNC_NAME, "Synced edit",
                                             scale.stream_edits, tick,
                                             workflow.sync_idle(client))
    with ui.phase(f"{store}: a two-filter dynamic list, {scale.edits} joins and leaves",
                  scale.edits) as tick, server.client(data.token) as client:
        figures["lists"] = lists.scenario(data, client, scale.edits, tick)
    with ui.phase(f"{store}: write overhead, 0 / 1 / 10 sync properties",
                  3 * 2 * max(scale.writes // 2, 1)) as tick:
        figures["write_overhead"] = scenarios.write_overhead(data.engine, server, scale.writes,
                                                             tick)
    with ui.phase(f"{store}: writes without sync properties, engine on / off",
                  4 * max(scale.writes // 2, 1)) as tick:
        figures["engine_off"] = scenarios.engine_off(data.engine, scale.writes, tick)
    return sync
