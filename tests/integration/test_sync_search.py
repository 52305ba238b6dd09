"""Sync values stay searchable: filters on a sync property give the rule's answer, and the
database finds them through the sync value indexes, not by reading every record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event

from propsync.domain.filters import Filter
from propsync.services.search import SearchRequest, search
from tests.integration.world import PRIMARY, World, explain, grow

LONG = "Nordic Holding " + "x" * 90  # 105 characters: the index holds only the first 100


@dataclass
class Setting:
    world: World
    companies: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)




@pytest.fixture
def s(engine: Engine) -> Setting:
    """Contacts whose Primary company's name and revenue are synced; two company names
    share their first 100 characters."""
    w = World.new(engine)
    setting = Setting(w)
    names = {"acme": "Acme", "beta": "ÅLESUND ØST AS", "long": LONG + " Øst",
             "twin": LONG + " Vest"}
    revenue = {"acme": 500, "beta": 1500, "long": 2500}
    for key, name in names.items():
        values: dict[str, object] = {"name": name}
        if key in revenue:
            values["annualrevenue"] = revenue[key]
        setting.companies[key] = w.one("companies", **values)
        setting.contacts[key] = w.one("contacts", email=f"{key}@example.com",
                                      firstname="Øystein" if key == "beta" else "Ola")
        w.link("contacts", setting.contacts[key], "companies", setting.companies[key],
               [PRIMARY])
    setting.contacts["none"] = w.one("contacts", email="none@example.com")
    w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.define("contacts", "company_revenue_sync", "companies", "annualrevenue", [PRIMARY],
             None)
    w.settle()
    return setting


def found(s: Setting, *filters: Filter) -> set[str]:
    result = search(s.world.engine, s.world.principal, "contacts",
                    SearchRequest(groups=[list(filters)], limit=100))
    by_id = {v: k for k, v in s.contacts.items()}
    return {by_id[int(view.id)] for view in result.views}


@pytest.mark.parametrize(("flt", "expected"), [
    (Filter("company_name_sync", "EQ", "acme"), {"acme"}),
    (Filter("company_name_sync", "EQ", "ålesund øst as"), {"beta"}),  # every letter folds
    (Filter("company_name_sync", "EQ", "ÅLESUND ØST AS"), {"beta"}),
    (Filter("company_name_sync", "IN", values=("acme", "Ålesund Øst AS", "gamma")),
     {"acme", "beta"}),
    (Filter("firstname", "EQ", "ØYSTEIN"), {"beta"}),  # an ordinary property, too
    (Filter("company_name_sync", "EQ", LONG + " Vest"), {"twin"}),
    (Filter("company_name_sync", "NEQ", "acme"), {"beta", "long", "twin", "none"}),
    (Filter("company_name_sync", "NOT_IN", values=("acme", "ålesund øst as")),
     {"long", "twin", "none"}),
    (Filter("company_name_sync", "HAS_PROPERTY"), {"acme", "beta", "long", "twin"}),
    (Filter("company_revenue_sync", "EQ", "1500"), {"beta"}),
    (Filter("company_revenue_sync", "IN", values=("500", "2500")), {"acme", "long"}),
    (Filter("company_revenue_sync", "GT", "500"), {"beta", "long"}),
    (Filter("company_revenue_sync", "BETWEEN", "500", high_value="1500"), {"acme", "beta"}),
    (Filter("company_revenue_sync", "LT", "2000"), {"acme", "beta"}),
    (Filter("company_revenue_sync", "NOT_HAS_PROPERTY"), {"twin", "none"}),
])
def test_a_filter_on_a_sync_property_finds_the_records_the_rule_gives(s, flt, expected):
    assert found(s, flt) == expected


def test_a_renamed_source_is_found_by_its_new_name_once_synced(s):
    s.world.set("companies", s.companies["acme"], name="Acme Group")
    s.world.settle()
    assert found(s, Filter("company_name_sync", "EQ", "acme")) == set()
    assert found(s, Filter("company_name_sync", "EQ", "acme group")) == {"acme"}


@pytest.mark.parametrize(("flt", "index"), [
    (Filter("company_name_sync", "EQ", "acme"), "ix_property_values_text"),
    (Filter("company_name_sync", "IN", values=("acme", "ålesund øst as")),
     "ix_property_values_text"),
    (Filter("company_revenue_sync", "BETWEEN", "500", high_value="1500"),
     "ix_property_values_num"),
    (Filter("company_revenue_sync", "IN", values=("500", "2500")),
     "ix_property_values_num"),
])
def test_the_database_finds_sync_values_through_their_index(s, flt, index):
    """The plan of the search's statement (its page and its total) names the index
    (PostgreSQL is told not to prefer a sequential scan, which it would on tables this
    small)."""
    engine = s.world.engine
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "count(*) OVER ()" in statement:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        found(s, flt)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, params = seen[0]
    plan = explain(engine, statement, params,
                   grow=grow(s.world.account_id, synced_only=True))
    assert index in plan, plan
    assert "ix_property_values_synced_from" not in plan, plan  # every winner, walked
