"""A request's time budget bounds its transactions as a whole, on both stores, and nothing
of it stays on the pooled connections that workers use afterwards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text

from propsync.domain.errors import RequestStoppedError
from propsync.storage import deadline
from propsync.storage.db import read_transaction
from propsync.storage.deadline import RequestScope

# A fraction of a second of work in one statement: a sleep on PostgreSQL (0.3 s), a count
# on SQLite, which has no sleep (about 0.4 s here; longer on a slower machine, which only
# stops the test's requests sooner).
SLOW = {"postgresql": "SELECT pg_sleep(0.3)",
        "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                  "WHERE i < 2000000) SELECT count(*) FROM n"}


@contextmanager
def request_scope(budget_s: float) -> Iterator[RequestScope]:
    scope = RequestScope(budget_s)
    token = deadline.enter(scope)
    try:
        yield scope
    finally:
        deadline.leave(token)


def test_statements_that_each_fit_the_budget_are_stopped_when_together_they_do_not(
        engine: Engine):
    """PostgreSQL's statement_timeout counts per statement: each of ten short ones fits a
    1 s limit set when the transaction began, so what is left is set again as they go."""
    slow = SLOW[engine.dialect.name]
    with request_scope(1.0), pytest.raises(RequestStoppedError, match="1 s limit"), \
            read_transaction(engine) as conn:
        for _ in range(10):
            conn.exec_driver_sql(slow)


def test_a_request_leaves_no_limit_on_the_connections_workers_use_next(engine: Engine):
    """Once a request's deadline has passed, slow statements outside any request (a
    worker's) still run on the pooled connection the request used."""
    with request_scope(0.2) as scope, read_transaction(engine) as conn:
        conn.execute(text("SELECT 1"))
    time.sleep(max(0.0, scope.left_s()) + 0.05)
    with read_transaction(engine) as conn:  # outside any request, as a worker
        conn.exec_driver_sql(SLOW[engine.dialect.name])
        conn.exec_driver_sql(SLOW[engine.dialect.name])
        if engine.dialect.name == "postgresql":
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "0"
