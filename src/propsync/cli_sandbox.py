"""``propsync sandbox create|list|delete`` and ``propsync export``: Enterprise sandboxes,
copies of an account to rehearse in (issue 16), and an account's canonical JSON."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from propsync.cli_common import engine as engine_
from propsync.cli_common import err, fail
from propsync.cli_common import progress as progress_
from propsync.domain.errors import PropsyncError

if TYPE_CHECKING:
    from sqlalchemy import Engine

sandbox_app = typer.Typer(help="Sandboxes (Enterprise): copies of an account to rehearse in.",
                          no_args_is_help=True)


@sandbox_app.command("create")
def sandbox_create(
    source: Annotated[int, typer.Option("--from", help="The account to copy (Enterprise).")],
    records: Annotated[str, typer.Option(
        help="'all', or 'sample:N': N records of each object type with every record "
             "associated with them.")] = "all",
    name: Annotated[str | None, typer.Option(
        help="The sandbox's name (default: '<source name> (sandbox)').")] = None,
    settle: Annotated[bool, typer.Option(
        help="Wait until the sandbox's sync values and lists are computed (a sample's, or "
             "when the source had work pending), running the workers here.")] = True,
) -> None:
    """Copy an account into a new sandbox: schema, labels, sync properties, workflows
    (turned off), lists, reports, records and users (no tokens). Prints the sandbox's id
    and, on the last line, a super-admin token for it (shown only once)."""
    from propsync.services.sandboxes import create_sandbox_from

    engine = engine_()
    try:
        with progress_() as progress:
            made = create_sandbox_from(
                engine, source, records, name,
                lambda table, done, total: progress(f"copying {table}", done, total))
            if settle:
                _settle_sandbox(engine, made.account_id, progress)
    except PropsyncError as exc:
        fail(exc)
    assert made.token is not None
    typer.echo(f"sandbox {made.account_id} {made.name!r} of account {source}: "
               f"{made.copied_records:,} records ({made.records})")
    typer.echo(made.token.token)


def _settle_sandbox(engine: Engine, account_id: int,
                    progress: Callable[[str, int, int | None], None]) -> None:
    """Run the sync and list workers here until the sandbox has nothing left to compute
    (a server's workers may share the work)."""
    import time

    from propsync.lists.runner import ListWorker
    from propsync.storage.account_copy import unsettled
    from propsync.storage.db import read_transaction
    from propsync.sync.worker import SyncWorker

    sync_worker, list_worker = SyncWorker(engine), ListWorker(engine)
    while True:
        with read_transaction(engine) as conn:
            left = unsettled(conn, account_id)
        progress("computing sync values and lists", 0, None)
        if not left:
            return
        if not (sync_worker.drain() + list_worker.drain()):
            time.sleep(0.05)


@sandbox_app.command("list")
def sandbox_list(account: Annotated[int, typer.Option("--account", help="Account id.")]
                 ) -> None:
    """The account's sandboxes, newest first."""
    from propsync.services.sandboxes import list_sandboxes_of

    try:
        found = list_sandboxes_of(engine_(), account)
    except PropsyncError as exc:
        fail(exc)
    for s in found:
        typer.echo(f"{s.account_id}\t{s.name}")


@sandbox_app.command("delete")
def sandbox_delete(
    sandbox_id: Annotated[int, typer.Argument(metavar="SANDBOX_ID", help="The sandbox.")],
) -> None:
    """Delete a sandbox: every row of it, in every table. An account that is not a sandbox
    is refused; the sandbox's source is not touched."""
    from propsync.services.sandboxes import delete_sandbox_by_id

    try:
        with progress_() as progress:
            gone = delete_sandbox_by_id(
                engine_(), sandbox_id,
                lambda table, done, total: progress(f"deleting {table}", done, total))
    except PropsyncError as exc:
        fail(exc)
    typer.echo(f"deleted sandbox {gone.account_id} {gone.name!r} of account {gone.source_id}")


def export(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    path: Annotated[Path | None, typer.Argument(
        metavar="[FILE]", help="The file to write (default: standard output).")] = None,
) -> None:
    """Write an account's content as canonical JSON: definitions, records, values,
    associations, history, workflows, lists, reports (ids and times as stored; no secrets).
    The same content always gives the same bytes."""
    import sys

    from propsync.services.sandboxes import export_account

    engine = engine_()
    try:
        if path is None:
            export_account(engine, account, sys.stdout)
            return
        with path.open("w", encoding="utf-8", newline="\n") as out:
            rows = export_account(engine, account, out)
    except PropsyncError as exc:
        fail(exc)
    err.print(f"exported account {account}: {rows:,} rows to {path}")
