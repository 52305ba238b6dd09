"""``propsync migrate``: the migration assistant's read-only steps on the command line,
thin over ``services/migration_scan.py``.

- ``propsync migrate scan --account N [--file PATH ...] [--dir PATH]``: the account's
  workflows (without files), or workflow JSON exported from HubSpot (files and/or a
  folder's ``*.json``) judged against the account's schema; a Rich table.
- ``propsync migrate plan --account N --flow ID [--top K] [--sample K]``: the sync
  property proposed for one stored workflow and its dry run.

Both run as the account's operator (``migration_scan.operator``) and write nothing.

The migration itself (``services/migrations.py``), as the operator too:

- ``propsync migrate start --account N --flow ID [--accept-differences]``;
- ``propsync migrate status --account N [ID]``;
- ``propsync migrate run --account N ID [--through STEP]``: the next steps up to STEP
  (apply, clone, compare — the default —, cut-over, clean-up), running the sync and list
  workers here while it waits (a progress bar for the backfill); run it again after a
  crash;
- ``propsync migrate acknowledge --account N ID --asset KEY ...``,
  ``propsync migrate history --account N ID``, ``propsync migrate undo --account N ID``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from propsync.cli_common import ACCOUNT
from propsync.cli_common import engine as _engine
from propsync.cli_common import fail as _fail
from propsync.domain.errors import PropsyncError
from propsync.domain.migrations import State, Step

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from propsync.domain.auth import Principal
    from propsync.domain.migration_scan import Verdict
    from propsync.services.migration_scan import Plan, ScanResult
    from propsync.services.migrations import Migration

migrate_app = typer.Typer(help="The migration assistant: from copy workflows to sync "
                               "properties (scan, plan, start, run, status, acknowledge, "
                               "history, undo).", no_args_is_help=True)



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


# --- the migration itself (services/migrations.py) ------------------------------------------

RUN_ORDER = ("apply", "clone", "compare", "cut-over", "clean-up")


def _operator_engine(account: int) -> tuple[Engine, Principal]:
    from propsync.services import migration_scan as svc

    engine = _engine()
    try:
        return engine, svc.operator(engine, account)
    except PropsyncError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits


@migrate_app.command("start")
def start(
    account: ACCOUNT,
    flow: Annotated[str, typer.Option("--flow", help="The copy workflow's id.")],
    accept_differences: Annotated[bool, typer.Option(
        "--accept-differences", help="Accept what a sync property does differently from a "
        "workflow with conditions (a conditional copy).")] = False,
) -> None:
    """Start migrating one copy workflow to a sync property (nothing is made yet)."""
    from propsync.services import migrations as runs

    engine, principal = _operator_engine(account)
    try:
        made = runs.start(engine, principal, flow, accept_differences)
    except PropsyncError as exc:
        _fail(exc)
    print_migration(Console(), made)


@migrate_app.command("replay")
def replay(
    account: ACCOUNT,
    sandbox: Annotated[str, typer.Option("--sandbox", help="The sandbox it was rehearsed in.")],
    migration: Annotated[str, typer.Argument(help="The rehearsed migration's id, in the "
                                             "sandbox.")],
) -> None:
    """Start on the account the migration rehearsed in one of its sandboxes: the same
    workflow and sync property, planned (then `migrate run` it)."""
    from propsync.services import migrations as runs

    engine, principal = _operator_engine(account)
    try:
        made = runs.replay(engine, principal, sandbox, migration)
    except PropsyncError as exc:
        _fail(exc)
    print_migration(Console(), made)


@migrate_app.command("status")
def status(
    account: ACCOUNT,
    migration: Annotated[str | None, typer.Argument(help="A migration's id (all without)."
                                                    )] = None,
) -> None:
    """The account's migrations, or one migration's steps in full."""
    from propsync.services import migrations as runs

    engine, principal = _operator_engine(account)
    console = Console()
    try:
        if migration is not None:
            print_migration(console, runs.get_migration(engine, principal, migration))
            return
        table = Table(title="Migrations")
        for name in ("Id", "Workflow", "Sync property", "State", "Next step"):
            table.add_column(name, overflow="fold")
        after: str | None = None
        while True:
            page, after, _ = runs.list_migrations(engine, principal, after, runs.MAX_PAGE)
            for m in page:
                p = m.proposal
                table.add_row(str(m.migration_id), escape(f"{m.flow_id} {p.get('flowName')}"),
                              escape(f"{p.get('objectType')}.{p.get('name')}"),
                              m.state.value, _next_words(m.state))
            if after is None:
                break
        console.print(table)
    except PropsyncError as exc:
        _fail(exc)


def _next_words(state: State) -> str:
    from propsync.domain.migrations import next_step

    step = next_step(state)
    return step.value if step else ""


@migrate_app.command("run")
def run(
    account: ACCOUNT,
    migration: Annotated[str, typer.Argument(help="The migration's id.")],
    through: Annotated[str, typer.Option(
        "--through", help="The last step to run: apply, clone, compare, cut-over or "
        "clean-up. Cut-over turns the copy workflow off; clean-up deletes it.")] = "compare",
) -> None:
    """Run the migration's next steps up to --through (default: compare), with progress.
    Resumable: after a crash, run it again."""
    from propsync.domain.migrations import Step, next_step, reached
    from propsync.services import migrations as runs

    if through not in RUN_ORDER:
        Console(stderr=True).print(f"[red]error:[/red] --through is one of "
                                   f"{', '.join(RUN_ORDER)}.")
        raise typer.Exit(2)
    engine, principal = _operator_engine(account)
    console = Console()
    last = Step(through)
    try:
        m = runs.get_migration(engine, principal, migration)
        while not reached(m.state, last):
            step = next_step(m.state)
            if step is None:
                break
            console.print(f"{step.value} …")
            m = _run_one(engine, principal, migration, step, console)
    except PropsyncError as exc:
        _fail(exc)
    print_migration(console, m)


def _run_one(engine: Engine, principal: Principal, migration: str, step: Step,
             console: Console) -> Migration:
    """One step, the workers run here while it waits (the backfill; lists evaluated)."""
    from rich.progress import BarColumn, Progress, TextColumn

    from propsync.domain.errors import ConflictError
    from propsync.services import migrations as runs

    if step is Step.APPLY:
        m = runs.run_step(engine, principal, migration, step)
        with Progress(TextColumn("backfill"), BarColumn(),
                      TextColumn("{task.completed:,}/{task.total:,} records"),
                      console=console, transient=True) as bar:
            task = bar.add_task("backfill", total=1)
            while m.state is State.APPLYING:
                if m.backfill is not None:
                    bar.update(task, completed=m.backfill.done,
                               total=max(m.backfill.total, 1))
                _work(engine)
                m = runs.run_step(engine, principal, migration, step)
        return m
    while True:
        try:
            return runs.run_step(engine, principal, migration, step)
        except ConflictError as exc:
            if not any(d.code == "LIST_PROCESSING" for d in exc.details):
                raise
            _work(engine)  # a clone list is being evaluated: evaluate it here


def _work(engine: Engine) -> None:
    import time

    from propsync.lists.runner import ListWorker
    from propsync.sync.worker import SyncWorker

    if not SyncWorker(engine).drain() + ListWorker(engine).drain():
        time.sleep(0.05)


@migrate_app.command("acknowledge")
def acknowledge(
    account: ACCOUNT,
    migration: Annotated[str, typer.Argument(help="The migration's id.")],
    asset: Annotated[list[str], typer.Option(
        "--asset", help="A differing asset whose differences you accept, as the "
        "comparison names it (list:ID, report:ID, workflow:ID); repeat for several.")],
) -> None:
    """Accept the differences the comparison found in these assets (clean-up needs every
    difference accepted, or none)."""
    from propsync.domain.migrations import Step
    from propsync.services import migrations as runs

    engine, principal = _operator_engine(account)
    try:
        m = runs.run_step(engine, principal, migration, Step.ACKNOWLEDGE, {"assets": asset})
    except PropsyncError as exc:
        _fail(exc)
    print_migration(Console(), m)


@migrate_app.command("history")
def history(
    account: ACCOUNT,
    migration: Annotated[str, typer.Argument(help="The migration's id.")],
) -> None:
    """Fill the sync property's history from the old property's (optional; once is
    enough, again adds nothing)."""
    from propsync.domain.migrations import Step
    from propsync.services import migrations as runs

    engine, principal = _operator_engine(account)
    try:
        m = runs.run_step(engine, principal, migration, Step.FILL_HISTORY)
    except PropsyncError as exc:
        _fail(exc)
    print_migration(Console(), m)


@migrate_app.command("undo")
def undo(
    account: ACCOUNT,
    migration: Annotated[str, typer.Argument(help="The migration's id.")],
) -> None:
    """Undo the migration (up to and including cut-over): the workflow on again, the
    clones and the sync property deleted."""
    from propsync.domain.migrations import Step
    from propsync.services import migrations as runs

    engine, principal = _operator_engine(account)
    try:
        m = runs.run_step(engine, principal, migration, Step.UNDO)
    except PropsyncError as exc:
        _fail(exc)
    print_migration(Console(), m)


def print_migration(console: Console, m: Migration) -> None:
    s = m.stored
    p, r = s.proposal, s.results
    console.print(escape(f"Migration {s.migration_id}: workflow {s.flow_id} "
                         f"{p.get('flowName')!r} → {p.get('objectType')}.{p.get('name')}"))
    console.print(f"State: {s.state.value}" + (f"; next: {m.next.value}" if m.next else ""))
    d = p.get("dryRun", {})
    console.print(f"Plan: {d.get('differing', 0):,} of {d.get('targets', 0):,} records "
                  f"differ today ({d.get('stale', 0):,} stale copies).")
    if m.backfill is not None:
        console.print(f"Backfill: {m.backfill.done:,}/{m.backfill.total:,}"
                      + (" (done)" if m.backfill.live else ""))
    for a in r.get("clone", {}).get("assets", []):
        console.print(escape(f"  {a['kind']} {a['originalId']} {a['originalName']!r}: "
                             f"{a['status']} {a.get('cloneId') or ''} ({a['note']})"),
                      soft_wrap=True)
    acknowledged = r.get("acknowledged", {})
    for a in r.get("compare", {}).get("assets", []):
        if a["same"]:
            console.print(escape(f"  {a['key']}: same as its clone {a['cloneId']}"))
            continue
        ok = " (acknowledged)" if acknowledged.get(a["key"]) == a["fingerprint"] else ""
        console.print(escape(f"  {a['key']}: differs from its clone {a['cloneId']}{ok}: "
                             f"{_difference_words(a)}"), soft_wrap=True)
    if "history" in r:
        console.print(f"History: {r['history']['copied']:,} entries copied.")
    if "cleanUp" in r:
        console.print(escape(f"Old property: {r['cleanUp']['oldProperty']['why']}"))


def _difference_words(a: dict[str, Any]) -> str:
    if a["kind"] == "list":
        o, c = a["onlyInOriginal"], a["onlyInClone"]
        ids = [x["recordId"] for x in o["records"] + c["records"]]
        return (f"{o['total']:,} only in the original, {c['total']:,} only in the clone "
                f"(first: {', '.join(ids)})")
    if a["kind"] == "report":
        ids = [x["recordId"] for g in a["groups"] for x in g["records"]]
        return f"{a['moved']:,} records counted differently (first: {', '.join(ids)})"
    return "definitions differ: " + ", ".join(a.get("differences", []))
