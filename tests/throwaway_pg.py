"""A PostgreSQL server for the tests when none answers where ``PROPSYNC_TEST_PG`` says.

On a fresh machine with PostgreSQL's programs installed but no server running, the suite
starts its own: ``initdb`` into a temporary folder, ``pg_ctl start`` on a free port of
127.0.0.1 (trust, no fsync: it holds nothing worth keeping), and removes it at the end.
Without the programs, one line says what to install.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

MISSING = ("The tests on PostgreSQL need a server at {url} or PostgreSQL's programs to start "
           "one: apt install postgresql (Debian, Ubuntu), or set PROPSYNC_TEST_PG to a "
           "server's admin URL.")
GUARD_S = 600  # initdb and pg_ctl on a busy machine: a hang guard, not a measure


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=10):
            return True
    except psycopg.OperationalError:
        return False


def find_programs() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: ``PROPSYNC_TEST_PG_BIN``, else the newest
    PostgreSQL installed (Debian keeps them off PATH), else PATH's."""
    given = os.environ.get("PROPSYNC_TEST_PG_BIN")
    candidates = [Path(given)] if given else [
        *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True,
                key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0),
        *([Path(found).parent] if (found := shutil.which("initdb")) else [])]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


@dataclass
class Cluster:
    """A running throwaway server: its folder, programs and admin URL."""

    folder: Path
    programs: Path
    url: str

    def stop(self) -> None:
        _run(self.programs / "pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate",
             "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def start(programs: Path) -> Cluster:
    """Create and start a server with ``programs``; as root, it runs as user postgres
    (PostgreSQL refuses to run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="propsync-test-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    data = str(folder / "data")
    _run(programs / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-sync")
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    _run(programs / "pg_ctl", "-D", data, "-l", str(folder / "server.log"), "-o", options,
         "-w", "-t", str(GUARD_S), "start")
    return Cluster(folder, programs, f"postgresql://postgres@127.0.0.1:{port}/postgres")


def _run(program: Path, *args: str, check: bool = True) -> None:
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*as_postgres, str(program), *args], capture_output=True, text=True,
                          timeout=GUARD_S)
    if check and done.returncode != 0:
        raise RuntimeError(f"{program.name} failed: {done.stdout}{done.stderr}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
