"""``propsync migrate``: the migration assistant's read-only steps on the command line,
thin over ``services/migration_scan.py``.

- ``propsync migrate scan --account N [--file PATH ...] [--dir PATH]``: the account's
  workflows (without files), or workflow JSON exported from HubSpot (files and/or a
  folder's ``*.json``) judged against the account's schema; a Rich table.
- ``propsync migrate plan --account N --flow ID [--top K] [--sample K]``: the sync
  property proposed for one stored workflow and its dry run.

Both run as the account's operator (``migration_scan.operator``) and write nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from propsync.domain.errors import PropsyncError

if TYPE_CHECKING:
    from propsync.domain.migration_scan import Verdict
    from propsync.services.migration_scan import Plan, ScanResult

migrate_app = typer.Typer(help="The migration assistant: from copy workflows to sync "
                               "properties (scan, plan).", no_args_is_help=True)

ACCOUNT = Annotated[int, typer.Option("--account", help="Account id.")]


def _fail(exc: PropsyncError) -> None:
    Console(stderr=True).print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
    raise typer.Exit(1)


@migrate_app.command("scan")
def scan(
    account: ACCOUNT,
    file: Annotated[list[Path] | None, typer.Option(
        "--file", help="A workflow exported from HubSpot (GET /automation/v4/flows/{id}); "
        "repeat for several.")] = None,
    folder: Annotated[Path | None, typer.Option(
        "--dir", help="A folder of exported workflows (its *.json files).")] = None,
) -> None:
    """Which workflows copy a value across an association, and which of them a sync
    property could replace (nothing is created)."""
    from propsync.cli import _engine
    from propsync.services import migration_scan as svc
    from propsync.services.migration_documents import read_documents

    engine = _engine()
    try:
        principal = svc.operator(engine, account)
        if file or folder:
            result = svc.scan_documents(engine, principal, read_documents(file or [], folder))
        else:
            result = svc.scan_account(engine, principal)
    except PropsyncError as exc:
        _fail(exc)
    print_scan(Console(), result)


def print_scan(console: Console, result: ScanResult) -> None:
    table = Table(title="Workflows scanned", show_lines=True)
    for name in ("Workflow", "Kind", "Sync property", "Why / what differs"):
        table.add_column(name, overflow="fold")
    for f in result.flows:
        v = f.verdict
        why = _why(v)
        if f.excluded is not None:
            why += (f"\n{f.excluded:,} records would get a value that the workflow's "
                    "conditions leave out.")
        table.add_row(escape(f"{f.key} {v.name}".strip()), v.kind.value,
                      escape(_proposal_words(v)), escape(why))
    console.print(table)
    counts = {k: len(result.of(k)) for k in {f.verdict.kind for f in result.flows}}
    summary = ", ".join(f"{n} {k.value}" for k, n in sorted(counts.items())) or "no workflow"
    console.print(escape(summary))
    if result.hidden:
        console.print(f"{result.hidden} more workflow(s) name properties or object types "
                      "you may not see; they are not listed.")


def _proposal_words(v: Verdict) -> str:
    p = v.proposal
    if p is None:
        return ""
    return (f"{p.target_type}.{p.target_property} ← {p.source_type}.{p.source_property} "
            f"over {', '.join(p.labels)}, {p.selection.value.replace('_', ' ').lower()} "
            f"(copy {p.direction.value.lower()})")


def _why(v: Verdict) -> str:
    lines = list(v.reasons) + [d.text for d in v.differences]
    return "\n".join(lines)


@migrate_app.command("plan")
def plan(
    account: ACCOUNT,
    flow: Annotated[str, typer.Option("--flow", help="The workflow's id.")],
    top: Annotated[int, typer.Option("--top", help="How many values to show.")] = 10,
    sample: Annotated[int, typer.Option("--sample", help="How many differing record ids "
                                        "to show.")] = 20,
) -> None:
    """The sync property that would replace one workflow, and a dry run of it."""
    from propsync.cli import _engine
    from propsync.services import migration_scan as svc

    engine = _engine()
    try:
        result = svc.plan_flow(engine, svc.operator(engine, account), flow, top, sample)
    except PropsyncError as exc:
        _fail(exc)
    print_plan(Console(), result)


def print_plan(console: Console, p: Plan) -> None:
    v, prop, d = p.verdict, p.proposal, p.dry_run
    console.print(escape(f"Workflow {p.flow_id} {v.name!r}: {v.kind.value}"))
    console.print(escape(f"Sync property {prop.target_type}.{prop.name} ({prop.label}): "
                         f"{_proposal_words(v)}"))
    for line in [*(x.text for x in v.differences), *v.notes]:
        console.print(escape(f"  - {line}"), soft_wrap=True)
    table = Table(title="Dry run: the values it would hold")
    table.add_column("Value", overflow="fold")
    table.add_column("Records", justify="right")
    for value, n in d.top_values:
        table.add_row(escape(value), f"{n:,}")
    console.print(table)
    console.print(f"{d.targets:,} {prop.target_type}: {d.with_value:,} would get a value.")
    console.print(f"{d.differing:,} differ today from the workflow's copy: {d.stale:,} stale, "
                  f"{d.missing:,} never copied, {d.orphaned:,} the sync property would clear.")
    if d.sample:
        console.print("First differing records: " + ", ".join(str(i) for i in d.sample))
    if p.excluded is not None:
        console.print(f"{p.excluded:,} records would get a value the workflow's conditions "
                      "leave out.")
