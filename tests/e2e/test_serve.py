"""``make run`` as a user runs it: ``propsync demo --if-empty`` then ``propsync serve``
with the user's ``--port``; every address printed is the one really served."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.patience import WAIT_GUARD_S, run_command

URL = re.compile(r"https?://[^\s)>'\"]+")


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PROPSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}"}


@pytest.fixture
def serving(environment: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """``propsync serve --port P`` running; yields P and the lines it printed up to the
    banner's last line."""
    port = free_port()
    with (tmp_path / "serve.err").open("w") as errors:
        process = subprocess.Popen([sys.executable, "-m", "propsync", "serve", "--port",
                                    str(port)], env=environment, stdout=subprocess.PIPE,
                                   stderr=errors, text=True)
        try:
            yield port, banner_of(process)
        finally:
            process.terminate()
            process.wait(WAIT_GUARD_S)
            if process.stdout is not None:
                process.stdout.close()


def banner_of(process: subprocess.Popen[str]) -> list[str]:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    printed: list[str] = []
    while not any("API docs" in line for line in printed):
        try:
            line = lines.get(timeout=WAIT_GUARD_S)
        except queue.Empty:
            pytest.fail(f"propsync serve printed no banner in {WAIT_GUARD_S:.0f} s: {printed}")
        assert line is not None, f"propsync serve ended before its banner: {printed}"
        printed.append(line)
    return printed


def test_serve_prints_the_addresses_it_serves_on_the_port_asked_for(serving):
    port, printed = serving
    urls = URL.findall("\n".join(printed))
    assert {u.split("/", 3)[-1] for u in urls} >= {"ui/", "docs", "redoc"}, printed
    for url in urls:
        assert url.startswith(f"http://127.0.0.1:{port}"), printed
        assert httpx.get(url, follow_redirects=True).status_code == 200, url


def test_the_demo_prints_no_address_that_serve_could_contradict(environment):
    seeded = run_command([sys.executable, "-m", "propsync", "demo", "--if-empty"],
                         env=environment)
    assert seeded.returncode == 0, seeded.stderr
    assert URL.findall(seeded.stdout) == [], seeded.stdout
    assert "Sign in" in seeded.stdout and seeded.stdout.strip().splitlines()[-1].startswith("pat-")
