"""Free-text search (``query``), on both stores: the UI's search also looks in sync values,
the records are found as one set through the values index (not one probe per record),
and the total and the page come from the same statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event

from propsync.services.search import SearchRequest, search
from propsync.storage.tables import VALUE_TRIGRAMS
from tests.integration.world import PRIMARY, World, explain, grow


@dataclass
class Setting:
    world: World
    contacts: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def s(engine: Engine) -> Setting:
    """Contacts whose ``company_city`` copies their Primary company's city."""
    w = World.new(engine)
    setting = Setting(w)
    for key, city in (("nora", "Tromsø"), ("ola", "Bergen"), ("kari", "KİEL")):
        company = w.one("companies", name=f"{key} AS", city=city)
        setting.contacts[key] = w.one("contacts", firstname=key.capitalize(),
                                      email=f"{key}@example.com")
        w.link("contacts", setting.contacts[key], "companies", company, [PRIMARY])
    # "Kelvin" spelled with the Kelvin sign, which Python lowers to an ASCII k
    setting.contacts["none"] = w.one("contacts", firstname="Per", lastname="\u212aelvin")
    w.define("contacts", "company_city", "companies", "city", [PRIMARY], None)
    w.settle()
    return setting


def found(s: Setting, query: str, synced: bool = True) -> set[str]:
    result = search(s.world.engine, s.world.principal, "contacts",
                    SearchRequest(query=query, limit=100, query_synced=synced))
    by_id = {v: k for k, v in s.contacts.items()}
    assert result.total == len(result.views)
    return {by_id[int(view.id)] for view in result.views}


@pytest.mark.parametrize(("query", "expected"), [
    ("tromsø", {"nora"}),  # a synced value, any case
    ("TROMSØ", {"nora"}),
    ("ergen", {"ola"}),  # a part of one
    ("ki", {"kari"}),  # a first name and "KİEL" lowered as Python lowers it (kii̇el)
    ("kelvin", {"none"}),  # an ordinary value, spelled with the Kelvin sign
    ("example.com", {"nora", "ola", "kari"}),
    ("zzz", set()),
])
def test_the_uis_search_finds_ordinary_and_synced_values(s, query, expected):
    assert found(s, query) == expected


def test_the_apis_query_looks_only_in_hubspots_searchable_properties(s):
    assert found(s, "tromsø", synced=False) == set()
    assert found(s, "nora", synced=False) == {"nora"}


def test_the_page_and_its_total_are_one_statement_that_reads_the_values_index(s):
    """One statement reads the matching values as a set (the ordinary ones through their
    trigrams, the sync ones by property), instead of probing each record of the type; its
    plan says so on both stores (PostgreSQL is told not to prefer a sequential scan, which
    it would on tables this small)."""
    engine = s.world.engine
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM records" in statement and " LIKE " in statement.upper():
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert found(s, "example") == {"nora", "ola", "kari"}
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 1, [st for st, _ in seen]
    statement, params = seen[0]
    plan = explain(engine, statement, params, grow=grow(s.world.account_id))
    # the ordinary values through their trigrams, the sync values by property
    # the ordinary values by an index (their trigrams, or by property when the planner
    # expects most to match, as with "example" in every e-mail), never a scan
    assert VALUE_TRIGRAMS in plan or "VIRTUAL TABLE" in plan or \
        "ix_property_values_account_id_property_id_record_id" in plan, plan
    assert "Seq Scan on property_values" not in plan and "SCAN property_values" not in plan, \
        plan
    assert "ix_property_values_synced_from" in plan, plan
    assert "CORRELATED" not in plan and "SubPlan" not in plan, plan
