"""The ``propsync`` command: a thin layer over the services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from propsync.cli_common import WORKER_START_PATIENCE_S, err
from propsync.cli_common import engine as _engine
from propsync.cli_common import fail as _fail
from propsync.cli_common import progress as _progress
from propsync.cli_common import settings as _settings
from propsync.cli_migrate import migrate_app
from propsync.cli_sandbox import export, sandbox_app
from propsync.domain.auth import Role
from propsync.domain.errors import PropsyncError

if TYPE_CHECKING:
    from rich.console import Console as RichConsole
    from sqlalchemy import Engine

    from propsync.storage.indexes import IndexProblem
    from propsync.sync.verify import Difference

app = typer.Typer(help="propsync: a CRM record platform with sync properties.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts (tenants).", no_args_is_help=True)
users_app = typer.Typer(help="Users of an account.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams of users (for property access rules).",
                        no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(teams_app, name="teams")
app.add_typer(migrate_app, name="migrate")
app.add_typer(sandbox_app, name="sandbox")
app.command()(export)

@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the API (and apply pending migrations first); prints its addresses once up."""
    from propsync.bootstrap import app_for
    from propsync.serving import serve_until_stopped

    settings = _settings(host=host, port=port)
    serve_until_stopped(app_for(settings), settings.host, settings.port, typer.echo)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to PROPSYNC_DATABASE_URL."""
    _engine()
    typer.echo("database is up to date")


@accounts_app.command("create")
def accounts_create(
    name: str,
    tier: Annotated[str, typer.Option(help="professional or enterprise.")] = "professional",
) -> None:
    """Create an account; prints its id on the last line."""
    from propsync.services.accounts import create_account

    try:
        typer.echo(create_account(_engine(), name, tier))
    except PropsyncError as exc:
        _fail(exc)


_ROLE_HELP = ("super_admin (users, teams, access rules: everything), admin (properties, "
              "sync properties, labels) or user (records only). Default: super_admin for "
              "the account's first user, user for the others.")


@users_app.command("create")
def users_create(
    email: str,
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    password: Annotated[str | None, typer.Option(help="Password for signing in.")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    role: Annotated[Role | None, typer.Option(help=_ROLE_HELP)] = None,
) -> None:
    """Create a user of an account; prints the user id on the last line."""
    from propsync.services.accounts import create_user

    try:
        typer.echo(create_user(_engine(), account, email, password, name, role))
    except PropsyncError as exc:
        _fail(exc)


@users_app.command("list")
def users_list(account: Annotated[int, typer.Option("--account", help="Account id.")]) -> None:
    """List an account's users: id, role, e-mail and name, one per line."""
    from propsync.services.members import account_users

    try:
        for u in account_users(_engine(), account):
            typer.echo(f"{u.user_id}\t{u.role.value}\t{u.email}\t{u.name}")
    except PropsyncError as exc:
        _fail(exc)


@users_app.command("set-role")
def users_set_role(
    user: int,
    role: Annotated[Role, typer.Argument(help=_ROLE_HELP.split(". Default")[0] + ".")],
    account: Annotated[int, typer.Option("--account", help="Account id.")],
) -> None:
    """Give a user another role (the account keeps at least one super admin)."""
    from propsync.services.members import set_role

    try:
        set_role(_engine(), account, user, role)
        typer.echo(f"user {user} is now {role.value}")
    except PropsyncError as exc:
        _fail(exc)


@tokens_app.command("create")
def tokens_create(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated scopes, or 'all'.")] = "all",
    user: Annotated[int | None, typer.Option(help="User the token acts for.")] = None,
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "",
) -> None:
    """Create an API token; prints the token (shown only once) on the last line."""
    from propsync.services.accounts import create_token

    try:
        typer.echo(create_token(_engine(), account, scopes, user, name).token)
    except PropsyncError as exc:
        _fail(exc)


@tokens_app.command("list")
def tokens_list(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
) -> None:
    """List the account's API tokens (never their secrets): id, name, user, scopes, use."""
    from propsync.domain.properties import format_ms
    from propsync.services.tokens import tokens_of

    typer.echo("id  name  user  created  last-used  state  scopes")
    for v in tokens_of(_engine(), account):
        used = format_ms(v.last_used_ms) if v.last_used_ms else "never"
        state = f"revoked-{format_ms(v.revoked_ms)}" if v.revoked_ms else "active"
        typer.echo(f"{v.token_id}  {v.name or '-'}  {v.user_email}  {format_ms(v.created_ms)}"
                   f"  {used}  {state}  {','.join(v.scopes)}")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="TOKEN_ID", help="The token's id.")],
    account: Annotated[int, typer.Option("--account", help="Account id.")],
) -> None:
    """Revoke an API token: every request with it is refused from now on."""
    from propsync.services.tokens import revoke

    try:
        view = revoke(_engine(), account, token_id)
    except PropsyncError as exc:
        _fail(exc)
    typer.echo(f"token {view.token_id} ({view.name or 'unnamed'}) revoked")


@teams_app.command("create")
def teams_create(
    name: str,
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    member: Annotated[list[int] | None, typer.Option(help="A user id (repeat for more).")] = None,
) -> None:
    """Create a team; prints its id on the last line."""
    from propsync.services.accounts import create_team

    try:
        typer.echo(create_team(_engine(), account, name, member or []))
    except PropsyncError as exc:
        _fail(exc)


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="Seed only if the database has no account yet.")] = False,
) -> None:
    """Seed a demo account (companies, contacts, deals, associations); prints a token last."""
    from propsync.services import demo as seed

    engine = _engine()
    existing = seed.find_demo_account(engine)
    if if_empty and seed.has_accounts(engine):
        if existing is None:
            typer.echo("The database already has accounts; create a token with "
                       "`propsync tokens create --account ID`.")
            return
        result = seed.demo_token(engine, existing)
    else:
        result = seed.seed_demo(engine)
    # the addresses are printed by `propsync serve`, which knows the port it listens on
    typer.echo(f"Demo account {result.account_id}")
    typer.echo(f"  Sign in:   {result.email} / {result.password}")
    typer.echo("  API token (sent as 'Authorization: Bearer <token>'):")
    typer.echo(result.token)


@app.command()
def worker() -> None:
    """Run a sync worker and a workflow worker until stopped (any number, on any machine
    reaching the database)."""
    from propsync.sync.runner import run_until_stopped

    settings = _settings()
    listen = None if settings.is_sqlite else settings.database_url
    run_until_stopped(_engine(patience_s=WORKER_START_PATIENCE_S), listen)


@app.command()
def verify(
    repair: Annotated[bool, typer.Option(
        help="Recompute every value that differs and rebuild every index that does.")] = False,
    account: Annotated[int | None, typer.Option(
        help="Only this account's values (the indexes are checked whole).")] = None,
) -> None:
    """Recompute every sync value from scratch, check the search indexes against their
    tables and every list against its filter and size; print the differences (there must
    be none). Exits 1 if any remain."""
    from rich.progress import Progress

    from propsync.lists.verify import repair_lists, verify_lists
    from propsync.sync import verify as checker

    engine = _engine()
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("verifying sync values", total=None)
        found = checker.verify(engine, account, progress=lambda n: bar.advance(task, n))
        bar.update(task, description="checking the search indexes")
        problems = checker.verify_indexes(engine)
        bar.update(task, description="checking lists")
        lists = verify_lists(engine, account)
    for ld in lists:
        typer.echo(f"account {ld.account_id} list {ld.list_id}: {ld.what}")
    for d in found:
        typer.echo(f"account {d.account_id} {d.target_type}.{d.property_name} record "
                   f"{d.record_id}: stored {d.actual!r}, rule gives {d.expected!r}")
    for p in problems:
        typer.echo(f"{f'index {p.index}' if p.index else 'database'}: {p.count} "
                   f"problem(s), e.g. {p.example}")
    unmended = [p for p in problems if p.index is None] if repair else problems
    if repair:
        _repair(engine, found, problems)
        if lists:
            typer.echo(f"repaired {repair_lists(engine, lists)} list(s)")
    typer.echo(f"{len(found) + sum(p.count for p in problems) + len(lists)} difference(s)")
    if unmended or ((found or lists) and not repair):
        raise typer.Exit(1)


def _repair(engine: Engine, found: list[Difference], problems: list[IndexProblem]) -> None:
    from propsync.sync import verify as checker

    if found:
        checker.repair(engine, found)
        typer.echo(f"repaired {len(found)} value(s)")
    for name in checker.repair_indexes(engine, problems):
        typer.echo(f"rebuilt index {name}")
    if any(p.index is None for p in problems):
        typer.echo("--repair cannot mend the database problems above")


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(
        metavar="FILE", help="The file to write (replaced, at the end, if it exists).")],
) -> None:
    """Write a consistent backup of the database to FILE, while it is served and written to:
    on SQLite with the online backup API (one read snapshot), on PostgreSQL with pg_dump
    --format=custom (PostgreSQL's client programs pg_dump, pg_restore and psql must be
    installed, of the server's major version or newer)."""
    from propsync.storage.backup import store_for

    try:
        with _progress() as progress:
            done = store_for(_settings()).backup(path, progress)
    except PropsyncError as exc:
        _fail(exc)
    typer.echo(f"backed up to {done.path} ({done.size:,} bytes, schema revision "
               f"{done.revision})")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="A backup made by propsync "
                                         "backup (or a propsync SQLite file).")],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a database that holds data.")] = False,
) -> None:
    """Replace the database with the backup FILE, all or nothing, then apply pending
    migrations. Refuses, changing nothing, a database that holds data (unless --force) and
    a damaged or foreign FILE. A SQLite backup restores into SQLite and a PostgreSQL backup
    into PostgreSQL; across stores is not supported. Stop propsync serve and propsync
    worker first."""
    from propsync.storage.backup import store_for

    try:
        with _progress() as progress:
            done = store_for(_settings()).restore(path, force, progress)
    except PropsyncError as exc:
        _fail(exc)
    typer.echo(f"restored {path} (schema revision {done.revision}, now {done.upgraded_to})")


@app.command()
def bench(
    scale: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    database_url: Annotated[list[str] | None, typer.Option(
        "--database-url", help="Run on this database only (repeat for several); default: a "
        "temporary SQLite file and a temporary PostgreSQL database created (and dropped) on "
        "postgresql://postgres@127.0.0.1:5432/.")] = None,
    output: Annotated[str, typer.Option(help="Where to write the JSON figures (the chart "
                                        "goes beside it, as .png).")] =
        "bench/results/latest.json",
    only: Annotated[str | None, typer.Option(
        help="Run only these scenarios, comma-separated: search, lists (seed, backfill, "
        "then the searches and/or the dynamic list; JSON only, no chart).")
    ] = None,
) -> None:
    """Measure the sync engine beside the raw database, a real copy workflow and itself
    without sync properties: a table with each target met or missed, JSON figures and a PNG
    chart."""
    import tempfile
    from pathlib import Path
    from typing import Any

    from propsync import bench as suite
    from propsync.bench import report

    if scale not in suite.SCALES:
        err.print(f"[red]error:[/red] --scale must be one of {', '.join(suite.SCALES)}")
        raise typer.Exit(2)
    kinds = tuple(k.strip() for k in only.split(",")) if only is not None else ()
    if only is not None and (not kinds or any(k not in suite.ONLY for k in kinds)):
        err.print(f"[red]error:[/red] --only takes {', '.join(suite.ONLY)} (comma-separated)")
        raise typer.Exit(2)
    run = suite.run_only(kinds) if kinds else suite.run_store
    console = Console()
    if not console.is_terminal:  # piped or logged: wide enough for the table
        console = Console(width=120)
    ui = suite.Ui(console)
    results: dict[str, Any] = {"scale": scale}
    samples: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder, ui.progress:
        for store, url, drop in _bench_targets(database_url, Path(folder), console):
            console.print(f"[bold]{store}[/bold]: {url}")
            try:
                results[store], samples[store] = run(url, store, scale, ui)
            finally:
                drop()
    report.print_summary(console, results)
    json_path = Path(output)
    report.write_json(results, json_path)
    if only:
        console.print(f"figures written to {json_path}")
        return
    report.write_png(results, samples, json_path.with_suffix(".png"))
    console.print(f"figures written to {json_path} and {json_path.with_suffix('.png')}")


def _bench_targets(
    urls: list[str] | None, folder: object, console: RichConsole
) -> list[tuple[str, str, Callable[[], None]]]:
    """``(store name, url, cleanup)`` for each database to measure."""
    import uuid

    import psycopg

    if urls:
        # Child processes (server, workers) hand the URL to psycopg: no driver suffix.
        return [("postgres" if u.startswith("postgres") else "sqlite",
                 u.replace("postgresql+psycopg://", "postgresql://"), lambda: None)
                for u in urls]
    targets: list[tuple[str, str, Callable[[], None]]] = [
        ("sqlite", f"sqlite:///{folder}/bench.db", lambda: None)]
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"propsync_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        console.print(f"[yellow]PostgreSQL on 127.0.0.1:5432 is not usable ({exc}); "
                      "measuring SQLite only[/yellow]")
        return targets

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    targets.append(("postgres", f"postgresql://postgres@127.0.0.1:5432/{name}", drop))
    return targets
