"""A failing request takes nothing else down (issue 12, point 7): after a 500 the client's
kept-alive connection stays open for its next request.

The test's own app has one extra route that fails on purpose (the product has none) and
one that says which client port it answers, so the test sees whether its second request
came over the same connection as the first.
"""

from __future__ import annotations

import httpx
from fastapi import Request
from sqlalchemy import Engine

from propsync.api.app import create_app
from tests.conftest import UNLIMITED, run_server


def test_a_500_leaves_the_kept_alive_connection_open_for_the_next_request(engine: Engine):
    app = create_app(engine, run_worker=False, settings=UNLIMITED)

    @app.get("/test/fail")
    def fail() -> None:
        raise RuntimeError("a bug, on purpose")

    @app.get("/test/port")
    def port(request: Request) -> int:
        assert request.client is not None
        return request.client.port

    with run_server(engine, app=app) as server, httpx.Client(base_url=server.base_url) as client:
        before = client.get("/test/port").json()
        failed = client.get("/test/fail")
        after = client.get("/test/port")
    assert failed.status_code == 500
    body = failed.json()
    assert body["category"] == "INTERNAL_ERROR" and "a bug" not in body["message"]
    assert after.status_code == 200
    assert after.json() == before  # the same connection: it was not closed after the 500
