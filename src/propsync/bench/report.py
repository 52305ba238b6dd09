"""The benchmark's outputs: a Rich table with every target met or missed, the JSON figures and
a PNG of the latency distributions and throughputs (matplotlib)."""

from __future__ import annotations

import json
import operator
import os
import platform
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

STORES = ("sqlite", "postgres")


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure (a dotted path into a store's results), its unit and,
    when the issue sets one, its target."""

    label: str
    path: str
    unit: str = ""
    op: str | None = None  # "<=" or ">="
    limit: float | None = None

    def value(self, figures: Mapping[str, Any]) -> Any:
        node: Any = figures
        for part in self.path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    def target(self) -> str:
        return f"{self.op} {self.limit:g}{self.unit}" if self.op and self.limit is not None else ""

    def verdict(self, value: Any) -> tuple[bool, str] | None:
        """``(met, text)``, or None when the row has no target or no value."""
        if self.op is None or self.limit is None or not isinstance(value, int | float):
            return None
        compare: Callable[[float, float], bool] = operator.le if self.op == "<=" else operator.ge
        if compare(value, self.limit):
            return True, "met"
        if value == 0:
            return False, "missed"
        factor = value / self.limit if self.op == "<=" else self.limit / value
        return False, f"missed by {factor:.2f}x" if factor < 2 else f"missed by {factor:.1f}x"


ROWS = (
    Row("single edit p50, idle", "single_edit.p50_ms", " ms", "<=", 20),
    Row("single edit p95, idle", "single_edit.p95_ms", " ms"),
    Row("single edit p99, idle", "single_edit.p99_ms", " ms", "<=", 100),
    Row("single edit p50, under load", "single_edit.p50_under_load_ms", " ms"),
    Row("single edit p99, under load", "single_edit.p99_under_load_ms", " ms", "<=", 250),
    Row("  edits measured, idle", "single_edit.edits"),
    Row("  edits measured, under load", "single_edit.edits_under_load"),
    Row("  background load, writes/s", "single_edit.load_writes_per_s"),
    Row("fan-out: targets", "fanout.targets"),
    Row("fan-out: engine", "fanout.seconds", " s"),
    Row("fan-out: raw SQL UPDATE", "fanout.raw_sql_seconds", " s"),
    Row("fan-out: ratio to raw SQL", "fanout.ratio", "x", "<=", 2),
    Row("backfill: targets", "backfill.targets"),
    Row("backfill: engine", "backfill.seconds", " s"),
    Row("backfill: rows/s", "backfill.rows_per_s"),
    Row("backfill: raw INSERT ... SELECT", "backfill.raw_sql_seconds", " s"),
    Row("backfill: ratio to raw SQL", "backfill.ratio", "x", "<=", 3),
    Row("backfill: peak RSS", "backfill.peak_rss_mb", " MB", "<=", 1024),
    Row("report: contacts by sync property", "report.records"),
    Row("report: run (median)", "report.seconds", " s"),
    Row("report: hand-written GROUP BY", "report.raw_sql_seconds", " s"),
    Row("report: ratio to raw SQL", "report.ratio", "x", "<=", 2),
    Row("copy workflow: fan-out (API)", "vs_workflow.fanout.workflow_seconds", " s"),
    Row("sync property: fan-out (API)", "vs_workflow.fanout.sync_seconds", " s"),
    Row("fan-out speedup vs the workflow", "vs_workflow.fanout_speedup", "x", ">=", 20),
    Row("  workflow fan-out / raw SQL UPDATE", "vs_workflow.fanout.workflow_to_raw_sql", "x"),
    Row("  sync fan-out (API) / raw SQL UPDATE", "vs_workflow.fanout.sync_to_raw_sql", "x"),
    Row("copy workflow: stream", "vs_workflow.stream.workflow_seconds", " s"),
    Row("sync property: stream (API)", "vs_workflow.stream.sync_seconds", " s"),
    Row("stream speedup vs the workflow", "vs_workflow.stream_speedup", "x"),
    Row("  workflow done, after the last rename", "vs_workflow.stream.workflow_after_last_seconds",
        " s"),
    Row("  sync done, after the last rename", "vs_workflow.stream.sync_after_last_seconds", " s"),
    Row("workflow action visible p50, idle", "vs_workflow.edit.p50_ms", " ms"),
    Row("workflow action visible p95, idle", "vs_workflow.edit.p95_ms", " ms"),
    Row("workflow action visible p99, idle", "vs_workflow.edit.p99_ms", " ms", "<=", 1000),
    Row("  workflow edits measured", "vs_workflow.edit.edits"),
    Row("  p50: workflow / sync value", "vs_workflow.edit.ratio_p50", "x"),
    Row("  p99: workflow / sync value", "vs_workflow.edit.ratio_p99", "x"),
    Row("search EQ, sync property, p50", "search.sync_eq_p50_ms", " ms", "<=", 20),
    Row("search EQ, email, p50", "search.email_eq_p50_ms", " ms", "<=", 20),
    Row("search EQ, custom text property, p50", "search.custom_eq_p50_ms", " ms", "<=", 20),
    Row("  API / hand-written SQL", "search.custom_eq_ratio", "x"),
    Row("search IN (3 values), custom text, p50", "search.custom_in_p50_ms", " ms", "<=",
        20),
    Row("search CONTAINS_TOKEN, p50", "search.token_p50_ms", " ms", "<=", 200),
    Row("  API / hand-written SQL", "search.token_ratio", "x"),
    Row("search CONTAINS_TOKEN prefix (abc*), p50", "search.token_prefix_p50_ms", " ms",
        "<=", 200),
    Row("  API / hand-written SQL", "search.token_prefix_ratio", "x"),
    Row("search free-text query (prefix), p50", "search.query_p50_ms", " ms", "<=", 200),
    Row("  API / hand-written SQL", "search.query_ratio", "x"),
    Row("API writes/s, 0 sync properties", "write_overhead.writes_per_s_0"),
    Row("API writes/s, 1 sync property", "write_overhead.writes_per_s_1"),
    Row("API writes/s, 10 sync properties", "write_overhead.writes_per_s_10"),
    Row("write overhead, 1 (0 / 1)", "write_overhead.ratio_1", "", "<=", 1.10),
    Row("write overhead, 10 (0 / 10)", "write_overhead.ratio_10"),
    Row("writes/s, no sync property (service)", "engine_off.writes_per_s"),
    Row("writes/s, engine off (service)", "engine_off.writes_per_s_engine_off"),
    Row("write overhead, engine on / off", "engine_off.ratio", "", "<=", 1.10),
    Row("workers 1: stream edits/s", "worker_scaling.1.stream_edits_per_s"),
    Row("workers 2: stream edits/s", "worker_scaling.2.stream_edits_per_s"),
    Row("workers 4: stream edits/s", "worker_scaling.4.stream_edits_per_s"),
    Row("stream speedup, 1 to 4 workers", "worker_scaling.speedup_4", "x", ">=", 1.6),
    Row("workers 1 / 2 / 4: fan-out", "worker_scaling.fanout_seconds", " s"),
    Row("fan-out speedup, 1 to 4 workers", "worker_scaling.fanout_speedup_4", "x"),
    Row("workflow actions/s, 1 worker", "workflow_throughput.1.actions_per_s"),
    Row("workflow actions/s, 4 workers", "workflow_throughput.4.actions_per_s"),
    Row("actions/s speedup, 1 to 4 workers", "workflow_throughput.speedup_4", "x"),
    Row("sync edits/s / workflow actions/s, 1", "workflow_throughput.sync_ratio_1", "x"),
    Row("sync edits/s / workflow actions/s, 4", "workflow_throughput.sync_ratio_4", "x"),
)


def _show(value: Any, unit: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " / ".join(_show(v, "") for v in value) + unit
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 1 else f"{value:,.2f}" if abs(value) < 100 \
            else f"{value:,.0f}"
        return text + unit
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def verdicts(results: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per store, each targeted figure with its target and whether it is met."""
    out: dict[str, dict[str, Any]] = {}
    for store in STORES:
        figures = results.get(store)
        if not isinstance(figures, Mapping):
            continue
        for row in ROWS:
            value = row.value(figures)
            verdict = row.verdict(value)
            if verdict is not None:
                out.setdefault(store, {})[row.path] = {
                    "value": value, "target": row.target(), "met": verdict[0],
                    "verdict": verdict[1]}
    return out


NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def _rows(results: Mapping[str, Any], mark: Callable[[bool, str], str]
          ) -> tuple[list[str], list[tuple[Row, list[str]]]]:
    """The stores present, and each row that has a figure with its cells (a value, then
    its verdict as ``mark(met, verdict)`` where the row has a target)."""
    stores = [s for s in STORES if isinstance(results.get(s), Mapping)]
    rows = []
    for row in ROWS:
        cells = []
        for store in stores:
            value = row.value(results[store])
            verdict = row.verdict(value)
            text = _show(value, row.unit)
            if verdict is not None:
                text += " " + mark(*verdict)
            cells.append(text)
        if any(cells):
            rows.append((row, cells))
    return stores, rows


def table(results: Mapping[str, Any]) -> Table:
    def mark(met: bool, verdict: str) -> str:
        colour = "green" if met else "red"
        return f"[{colour}]{verdict}[/{colour}]"

    stores, rows = _rows(results, mark)
    out = Table(title=f"propsync bench, scale {results.get('scale')}", title_justify="left")
    out.add_column("figure")
    for store in stores:
        out.add_column(NAMES[store], justify="right")
    out.add_column("target", justify="right")
    for row, cells in rows:
        out.add_row(row.label, *cells, row.target())
    return out


def print_summary(console: Console, results: Mapping[str, Any]) -> None:
    console.print(table(results))
    for store in STORES:
        figures = results.get(store)
        if not isinstance(figures, Mapping):
            continue
        for note in figures.get("notes", []):
            console.print(f"[dim]{store}: {note}[/dim]")


def machine(results: Mapping[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(),
                            "python": platform.python_version(), "cpus": os.cpu_count(),
                            "sqlite": sqlite3.sqlite_version}
    try:
        model = next(line.split(":", 1)[1].strip() for line in
                     Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
        info["cpu"] = model
        mem_kb = next(int(line.split()[1]) for line in
                      Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        info["memory_gb"] = round(mem_kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    postgres = results.get("postgres")
    if isinstance(postgres, Mapping) and "server_version" in postgres:
        info["postgresql"] = postgres["server_version"]
    return info


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"scale": results["scale"], "machine": machine(results),
               **{k: v for k, v in results.items() if k not in ("scale", "machine")},
               "targets": verdicts(results)}
    path.write_text(json.dumps(payload, indent=2) + "\n")


def write_png(results: Mapping[str, Any], samples: Mapping[str, Mapping[str, list[float]]],
              path: Path) -> None:
    """Latency distributions (sync values idle and under load, workflow actions idle),
    write and stream throughputs, the sync property against the copy workflow, worker
    scaling (sync values and workflow actions), the ratios to raw SQL against their
    targets, and the fan-out and stream times of both ways beside the raw UPDATE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stores = [s for s in STORES if isinstance(results.get(s), Mapping)]
    fig, axes = plt.subplots(2, 3, figsize=(19, 9))
    fig.suptitle(f"propsync bench, scale {results.get('scale')}")
    _latency_panel(axes[0][0], stores, samples)
    _throughput_panel(axes[0][1], stores, results)
    _versus_panel(axes[0][2], stores, results)
    _scaling_panel(axes[1][0], results)
    _ratio_panel(axes[1][1], stores, results)
    _times_panel(axes[1][2], stores, results)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _latency_panel(ax: Any, stores: list[str], samples: Mapping[str, Mapping[str, list[float]]]
                   ) -> None:
    kinds = (("idle", "-", "sync, idle"), ("load", "--", "sync, loaded"),
             ("workflow", ":", "workflow, idle"))
    for store in stores:
        for kind, style, label in kinds:
            values = sorted(samples.get(store, {}).get(kind, []))
            if values:
                share = [(i + 1) / len(values) for i in range(len(values))]
                ax.step(values, share, style, where="post", label=f"{store}, {label}")
    for limit, colour in ((20, "green"), (100, "orange"), (250, "red"), (1000, "purple")):
        ax.axvline(limit, color=colour, linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_xlabel("single edit: API response to visible on every target (ms)")
    ax.set_ylabel("share of edits")
    ax.set_title("Single-edit latency (CDF; targets 20 / 100 / 250 ms,\n"
                 "workflow action 1,000 ms)")
    ax.legend(fontsize=7)


def _throughput_panel(ax: Any, stores: list[str], results: Mapping[str, Any]) -> None:
    labels = ["writes/s, 0 sync", "writes/s, 1 sync", "writes/s, 10 sync",
              "stream edits/s, copy workflow", "stream edits/s, sync"]
    paths = ["write_overhead.writes_per_s_0", "write_overhead.writes_per_s_1",
             "write_overhead.writes_per_s_10", "vs_workflow.stream.workflow_edits_per_s",
             "vs_workflow.stream.sync_edits_per_s"]
    width = 0.8 / max(len(stores), 1)
    for n, store in enumerate(stores):
        values = [Row("", p).value(results[store]) or 0 for p in paths]
        ax.bar([i + n * width for i in range(len(paths))], values, width, label=store)
    ax.set_xticks([i + width * (len(stores) - 1) / 2 for i in range(len(paths))])
    ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("per second")
    ax.set_title("Throughput through the HTTP API")
    ax.legend(fontsize=8)


def _scaling_panel(ax: Any, results: Mapping[str, Any]) -> None:
    scaling = results.get("postgres", {}).get("worker_scaling") if isinstance(
        results.get("postgres"), Mapping) else None
    ax.set_title("PostgreSQL: propsync worker processes")
    if not isinstance(scaling, Mapping):
        ax.text(0.5, 0.5, "not measured", ha="center", va="center")
        return
    counts = [c for c in ("1", "2", "4") if c in scaling]
    ax.plot([int(c) for c in counts], [scaling[c]["stream_edits_per_s"] for c in counts],
            "o-", label="sync stream: edits/s")
    flows = results["postgres"].get("workflow_throughput")
    if isinstance(flows, Mapping):
        done = [c for c in ("1", "4") if c in flows]
        ax.plot([int(c) for c in done], [flows[c]["actions_per_s"] for c in done], "^-",
                color="tab:green", label="copy workflow: actions/s")
    ax.set_xlabel("workers")
    ax.set_ylabel("edits propagated (actions run) per second")
    ax.set_xticks([int(c) for c in counts])
    other = ax.twinx()
    other.plot([int(c) for c in counts], [scaling[c]["fanout_seconds"] for c in counts],
               "s--", color="tab:red", label="fan-out: seconds")
    other.set_ylabel("fan-out seconds")
    ax.set_ylim(bottom=0)
    other.set_ylim(bottom=0)
    ax.legend(loc="lower left", fontsize=8)
    other.legend(loc="lower right", fontsize=8)


def _ratio_panel(ax: Any, stores: list[str], results: Mapping[str, Any]) -> None:
    items = [("fan-out / raw SQL", "fanout.ratio", 2.0),
             ("backfill / raw SQL", "backfill.ratio", 3.0),
             ("write overhead, 1", "write_overhead.ratio_1", 1.1)]
    width = 0.8 / max(len(stores), 1)
    for n, store in enumerate(stores):
        values = [Row("", p).value(results[store]) or 0 for _, p, _ in items]
        ax.bar([i + n * width for i in range(len(items))], values, width, label=store)
    for i, (_, _, limit) in enumerate(items):
        ax.hlines(limit, i - width / 2, i + width * (len(stores) - 0.5), colors="red",
                  linestyles=":")
    ax.set_xticks([i + width * (len(stores) - 1) / 2 for i in range(len(items))])
    ax.set_xticklabels([label for label, _, _ in items], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ratio, log scale (red: target, at most)")
    ax.set_title("Ratios to the baseline measured in the same run")
    ax.legend(fontsize=8)


def _versus_panel(ax: Any, stores: list[str], results: Mapping[str, Any]) -> None:
    items = [("fan-out", "vs_workflow.fanout_speedup"),
             ("stream", "vs_workflow.stream_speedup"),
             ("edit p50", "vs_workflow.edit.ratio_p50"),
             ("edit p99", "vs_workflow.edit.ratio_p99"),
             ("throughput,\n1 worker", "workflow_throughput.sync_ratio_1"),
             ("throughput,\n4 workers", "workflow_throughput.sync_ratio_4")]
    width = 0.8 / max(len(stores), 1)
    for n, store in enumerate(stores):
        values = [Row("", p).value(results[store]) or 0 for _, p in items]
        ax.bar([i + n * width for i in range(len(items))], values, width, label=store)
    ax.hlines(20, -width / 2, width * (len(stores) - 0.5), colors="red", linestyles=":")
    ax.axhline(1, color="grey", linewidth=0.8)
    ax.set_xticks([i + width * (len(stores) - 1) / 2 for i in range(len(items))])
    ax.set_xticklabels([label for label, _ in items], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("times better than the workflow, log scale")
    ax.set_title("Sync property vs copy workflow, same run\n(red: fan-out target, 20x)")
    ax.legend(fontsize=8)


def _times_panel(ax: Any, stores: list[str], results: Mapping[str, Any]) -> None:
    items = [("fan-out,\nworkflow", "vs_workflow.fanout.workflow_seconds"),
             ("fan-out,\nsync (API)", "vs_workflow.fanout.sync_seconds"),
             ("fan-out,\nraw UPDATE", "fanout.raw_sql_seconds"),
             ("stream,\nworkflow", "vs_workflow.stream.workflow_seconds"),
             ("stream,\nsync (API)", "vs_workflow.stream.sync_seconds")]
    width = 0.8 / max(len(stores), 1)
    for n, store in enumerate(stores):
        values = [Row("", p).value(results[store]) or 0 for _, p in items]
        ax.bar([i + n * width for i in range(len(items))], values, width, label=store)
    ax.set_xticks([i + width * (len(stores) - 1) / 2 for i in range(len(items))])
    ax.set_xticklabels([label for label, _ in items], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("seconds, log scale")
    ax.set_title("Fan-out and stream until visible through the API")
    ax.legend(fontsize=8)


def markdown(results: Mapping[str, Any]) -> str:
    """The table as Markdown, for docs/PERFORMANCE.md:
    ``python -c 'import json, sys; from propsync.bench.report import markdown;
    print(markdown(json.load(open(sys.argv[1]))))' bench/results/latest.json``."""
    stores, rows = _rows(results, lambda met, verdict: f"**{verdict}**")
    lines = ["| figure | " + " | ".join(NAMES[s] for s in stores) + " | target |",
             "|---|" + "---:|" * len(stores) + "---:|"]
    lines += [f"| {row.label.strip()} | " + " | ".join(cells) + f" | {row.target()} |"
              for row, cells in rows]
    return "\n".join(lines)
