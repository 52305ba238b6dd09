"""What the ``propsync`` commands share: settings from the environment, the database's
engine, a refusal printed in its own words, and a progress bar on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from propsync.config import ConfigError, Settings
from propsync.domain.errors import PropsyncError

if TYPE_CHECKING:
    from sqlalchemy import Engine

err = Console(stderr=True)
ACCOUNT = Annotated[int, typer.Option("--account", help="Account id.")]


def settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except ConfigError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


WORKER_START_PATIENCE_S = 60.0  # a worker waits this long for its database at start


def engine(patience_s: float = 0.0) -> Engine:
    """The database's engine (migrations applied); with ``patience_s``, a database that
    cannot be used yet (restarting, its connections being ended) is tried again for that
    long before giving up: a worker started by a supervisor outlives a database's hiccup."""
    import time

    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from propsync.bootstrap import engine_for

    give_up = time.monotonic() + patience_s
    pause = 0.1
    while True:
        try:
            return engine_for(settings())
        except OperationalError as exc:
            if time.monotonic() + pause > give_up:
                failed: SQLAlchemyError = exc
                break
            err.print(f"[yellow]waiting for the database:[/yellow] "
                      f"{str(exc).splitlines()[0]}")
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        except SQLAlchemyError as exc:
            failed = exc
            break
    err.print(f"[red]error:[/red] cannot use the database: {failed.__class__.__name__}: "
              f"{str(failed).splitlines()[0]}")
    raise typer.Exit(2) from None


def fail(exc: PropsyncError) -> NoReturn:
    """The refusal in its own words: escaped, as a message may quote ``[text]`` that Rich
    would otherwise take for markup and swallow."""
    err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress bar on stderr, moved by ``(what, done, total)`` calls; each new ``what``
    gets a bar of its own (a spinner while its total is unknown)."""
    from rich.progress import Progress, TaskID

    with Progress(console=err, transient=True) as bar:
        current: list[tuple[str, TaskID]] = []

        def show(what: str, done: int, total: int | None) -> None:
            if not current or current[-1][0] != what:
                if current:
                    bar.remove_task(current.pop()[1])
                current.append((what, bar.add_task(what, total=total)))
            bar.update(current[-1][1], completed=done, total=total)

        yield show
