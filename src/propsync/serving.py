"""Serving the app with uvicorn, and telling the user where to browse once it listens."""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import suppress

import uvicorn
from fastapi import FastAPI


def banner(host: str, port: int) -> list[str]:
    """What ``propsync serve`` prints once it listens on ``host``:``port``."""
    # a wildcard address is not one to browse to: show the loopback of its family
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    return [f"propsync is serving at {base}",
            f"  Web UI:    {base}/ui/",
            f"  API docs:  {base}/docs  and  {base}/redoc"]


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, printing the banner once it listens, with the port it really
    bound (so ``--port 0`` shows the port chosen)."""

    def __init__(self, config: uvicorn.Config, say: Callable[[str], object]) -> None:
        super().__init__(config)
        self.say = say

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers and self.servers[0].sockets:
            port = int(self.servers[0].sockets[0].getsockname()[1])
            for line in banner(self.config.host, port):
                self.say(line)


def serve_until_stopped(app: FastAPI, host: str, port: int, say: Callable[[str], object]
                        ) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted, announcing it with ``say``."""
    # propsync reads X-Forwarded-* itself, from PROPSYNC_TRUSTED_PROXIES only (uvicorn's own
    # handling would believe any local peer).
    config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
    with suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down cleanly already
        AnnouncingServer(config, say).run()
