"""A search as large as the API accepts runs on both stores, whatever limits the SQLite
build sets: an IN filter of 500 values on a sync property is a union per value, and
SQLite refuses a compound SELECT of more terms than SQLITE_MAX_COMPOUND_SELECT (500 by
default, lower in some builds)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from propsync.domain.filters import MAX_VALUES, Filter
from propsync.services.search import SearchRequest, search
from tests.integration.world import PRIMARY, World

STRICT_BUILD = 100  # a compound SELECT limit lower than the values of one filter


@pytest.fixture(scope="module")
def strict(quiet_engine: Engine) -> Iterator[Engine]:
    """The module's own database; on SQLite every connection allows only ``STRICT_BUILD``
    terms in a compound SELECT."""

    def limit(dbapi_connection: Any, _: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, STRICT_BUILD)

    event.listen(quiet_engine, "connect", limit)
    quiet_engine.dispose()  # connections made before the listener go
    yield quiet_engine
    event.remove(quiet_engine, "connect", limit)
    quiet_engine.dispose()


def test_an_in_filter_of_the_most_values_accepted_on_a_sync_property_runs(strict):
    w = World.new(strict)
    company = w.one("companies", name="Acme", city="Bergen")
    linked = w.one("contacts", email="linked@example.com")
    w.one("contacts", email="alone@example.com")
    w.link("contacts", linked, "companies", company, [PRIMARY])
    w.define("contacts", "company_city", "companies", "city", [PRIMARY], None)
    w.settle()
    values = (*[f"city {i}" for i in range(MAX_VALUES - 1)], "bergen")
    for operator, expected in (("IN", {linked}), ("NOT_IN", set())):
        flt = Filter("company_city", operator, values=values)
        result = search(strict, w.principal, "contacts", SearchRequest(
            groups=[[flt, Filter("email", "EQ", "linked@example.com")]]))
        assert {v.id for v in result.views} == expected
