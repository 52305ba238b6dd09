"""Processes the benchmark runs: a real API server and ``propsync worker`` processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    """A ``propsync`` child process; its log goes to a temporary file (a pipe nobody
    reads would block a chatty server)."""

    process: subprocess.Popen[bytes]
    log: IO[bytes] = field(repr=False)
    app_name: str = ""  # its PostgreSQL sessions' application_name

    @classmethod
    def start(cls, database_url: str, *args: str, app_name: str = "") -> Child:
        # The benchmark measures the engine, not HubSpot's API rate limits: those are off.
        env = {**os.environ, "PROPSYNC_DATABASE_URL": database_url,
               "PROPSYNC_RATE_LIMIT_MAX": "0", "PROPSYNC_RATE_LIMIT_DAILY": "0"}
        if app_name:
            env["PGAPPNAME"] = app_name  # its sessions, as pause_idle finds them
        log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        process = subprocess.Popen([sys.executable, "-m", "propsync", *args], env=env,
                                   stdout=subprocess.DEVNULL, stderr=log)
        return cls(process, log, app_name)

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def signal(self, number: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(number)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.log.close()


@dataclass
class Server:
    base_url: str
    child: Child

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60,
                            headers={"Authorization": f"Bearer {token}"})


@contextmanager
def api_server(database_url: str) -> Iterator[Server]:
    """``propsync serve`` (with its embedded sync worker) on a free port, until the block ends."""
    port = free_port()
    child = Child.start(database_url, "serve", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if child.process.poll() is not None:
                raise RuntimeError(f"propsync serve exited: {child.log_tail()}")
            try:
                if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("propsync serve did not start within 60 s")
            time.sleep(0.1)
        yield Server(base, child)
    finally:
        child.stop()


@contextmanager
def workers(database_url: str, count: int) -> Iterator[list[Child]]:
    """``count`` ``propsync worker`` processes, until the block ends."""
    started = [Child.start(database_url, "worker", app_name=f"propsync-bench-{os.getpid()}-{i}")
               for i in range(count)]
    try:
        yield started
    finally:
        for child in started:  # all at once: each takes a moment to wind down
            child.signal(signal.SIGCONT)
            child.signal(signal.SIGTERM)
        for child in started:
            child.stop()


def pause(children: list[Child]) -> None:
    for child in children:
        child.signal(signal.SIGSTOP)


def resume(children: list[Child]) -> None:
    for child in children:
        child.signal(signal.SIGCONT)
