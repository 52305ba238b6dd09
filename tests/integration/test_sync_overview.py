"""The sync overview's counts (issue 13.2): each kind of waiting work under its own name,
the account's totals the sums of the rows, on a database no other worker steps."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from propsync.domain.auth import Principal, object_scope, schema_scope
from propsync.domain.errors import ForbiddenError
from propsync.domain.feed import SYNC_READER
from propsync.services.sync_overview import Overview, overview
from propsync.services.sync_properties import account_status
from propsync.storage import feed
from propsync.storage.db import read_transaction
from propsync.sync.worker import SyncWorker, WorkerConfig
from tests.integration.world import PRIMARY, World


@pytest.fixture
def w(quiet_engine: Engine) -> World:
    return World.new(quiet_engine)


def change_rows(w: World) -> int:
    """The account's change feed rows the sync engine has not read yet."""
    with read_transaction(w.engine) as conn:
        return feed.unread_count(conn, SYNC_READER, w.account_id)


def row(o: Overview, name: str) -> tuple[str, int, int, int, int]:
    p = next(p for p in o.properties if p.definition.name == name)
    return p.definition.state, p.filled, p.queued, p.fanouts, p.backfill_left


def test_each_stage_of_waiting_work_is_counted_and_the_totals_are_the_rows_sums(
        w: World) -> None:
    company = w.one("companies", name="Fjord", city="Bergen")
    contacts = w.create("contacts", 6)
    for contact in contacts:
        w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "company_city", "companies", "city", [PRIMARY], None)
    w.define("contacts", "company_name", "companies", "name", [PRIMARY], None)
    late = w.create("contacts", 2)  # after the definitions: their links are changes to plan
    for contact in late:
        w.link("contacts", contact, "companies", company, [PRIMARY])

    o = overview(w.engine, w.principal)
    assert o.unplanned == change_rows(w) > 0  # nobody's work until the worker plans it
    assert row(o, "company_city") == ("BACKFILLING", 0, 0, 0, 6)
    # a page following the numbers counts the values held of backfilling properties only
    assert row(overview(w.engine, w.principal, count_live_filled=False),
               "company_city") == ("BACKFILLING", 0, 0, 0, 6)
    assert (o.queued, o.fanouts, o.backfill_left) == (0, 0, 12)
    assert o.oldest_pending_age_ms is not None

    w.settle()
    o = overview(w.engine, w.principal)
    assert (o.unplanned, o.queued, o.fanouts, o.backfill_left) == (0, 0, 0, 0)
    assert row(o, "company_city") == ("LIVE", 8, 0, 0, 0)
    assert row(overview(w.engine, w.principal, count_live_filled=False),
               "company_city") == ("LIVE", None, 0, 0, 0)
    city = next(p.definition.property_id for p in o.properties
                if p.definition.name == "company_city")  # as the page still shows it
    assert row(overview(w.engine, w.principal, count_live_filled=False, also_count={city}),
               "company_city") == ("LIVE", 8, 0, 0, 0)

    # an edit of the source, planned but not applied: queued targets, then a fan-out job
    worker = SyncWorker(w.engine, WorkerConfig(small_fanout=100, fast_lane=0))
    w.set("companies", company, city="Oslo")
    assert overview(w.engine, w.principal).unplanned == 1
    assert worker.plan_changes()
    o = overview(w.engine, w.principal)
    assert o.unplanned == 0 and row(o, "company_city")[2:4] == (8, 0)
    assert o.queued == sum(p.queued for p in o.properties) == 8
    worker.drain()
    fanning = SyncWorker(w.engine, WorkerConfig(small_fanout=0, fast_lane=0))
    w.set("companies", company, name="Fjord AS")
    assert fanning.plan_changes()
    o = overview(w.engine, w.principal)
    assert row(o, "company_name")[2:4] == (0, 1) and o.fanouts == 1
    # what the API's single number adds up, stage by stage
    status = account_status(w.engine, w.principal)
    assert status.pending == o.unplanned + o.queued + o.fanouts + sum(
        max(p.backfill_left, 1) for p in o.properties if p.definition.state != "LIVE")
    fanning.drain()
    assert overview(w.engine, w.principal).fanouts == 0


def test_sync_properties_whose_source_schema_is_unreadable_are_left_out_of_rows_and_sums(
        w: World) -> None:
    company = w.one("companies", city="Bergen")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "company_city", "companies", "city", [PRIMARY], None)
    scopes = frozenset({object_scope("contacts"), schema_scope("contacts")})
    contacts_only = Principal(w.account_id, w.principal.user_id, frozenset(), scopes,
                              w.principal.role)
    o = overview(w.engine, contacts_only)
    assert o.properties == [] and o.backfill_left == 0
    nothing = Principal(w.account_id, w.principal.user_id, frozenset(), frozenset(),
                        w.principal.role)
    with pytest.raises(ForbiddenError):
        overview(w.engine, nothing)
