"""Settings → Sync overview in a browser at 1280 and 390 px (issue 13.2): its totals are
its rows' sums under clear names, it follows the worker live without a reload, and its
table fits its card on a desktop and scrolls inside its box on a phone.

The server here runs no worker until the test starts one, so that the page first shows
work in each stage (changes not yet planned, records to backfill) and then sees it done.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from propsync.api.app import create_app
from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.feed import SYNC_READER
from propsync.services.accounts import create_account, create_user
from propsync.storage import feed
from propsync.storage.db import read_transaction
from propsync.sync.runner import start_worker
from tests.conftest import UNLIMITED, RunningServer, run_server
from tests.ui.conftest import PRIMARY, Admin, shoot, sign_in
from tests.ui.test_records import sync_property
from tests.ui.test_shell import sideways

pytestmark = pytest.mark.xdist_group("ui")
LONG_NAME = "company_headquarters_city_for_reporting_and_territory_planning"


@pytest.fixture
def still_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server over a database of its own, with no sync worker."""
    engine = engine_for(Settings(database_url=f"sqlite:///{tmp_path / 'still.db'}"))
    app = create_app(engine, run_worker=False, settings=UNLIMITED)
    with run_server(engine, app=app) as running:
        yield running
    engine.dispose()


def waiting_admin(engine: Engine) -> tuple[Admin, int]:
    """An account with two sync properties to backfill and changes not yet planned."""
    account_id = create_account(engine, f"Still {uuid.uuid4().hex[:6]}", "enterprise")
    email, password = f"still-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
    admin = Admin(account_id, create_user(engine, account_id, email, password, "Still"),
                  email, password, engine)
    company = admin.create("companies", {"name": "Fjord Labs", "city": "Bergen"})
    for n in range(3):
        admin.create("contacts", {"firstname": f"Early {n}"}, ((company, PRIMARY),))
    sync_property(admin, "contacts", LONG_NAME, "companies", "city", [("HUBSPOT_DEFINED", 1)])
    sync_property(admin, "contacts", "company_name", "companies", "name", None, "LAST_CREATED")
    for n in range(2):  # after the definitions: changes the worker has to plan
        admin.create("contacts", {"firstname": f"Late {n}"}, ((company, PRIMARY),))
    return admin, 5


def number(page: Page, total: str) -> int:
    return int(page.locator(f'[data-total="{total}"]').inner_text())


def column(page: Page, field: str) -> list[int]:
    return [int(c) for c in page.locator(f'tbody [data-field="{field}"]').all_inner_texts()]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_overview_adds_up_follows_the_worker_live_and_fits(
        browser: Browser, still_server: RunningServer, width: int) -> None:
    engine = still_server.engine
    admin, contacts = waiting_admin(engine)
    context = browser.new_context(base_url=still_server.base_url,
                                  viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, admin.email, admin.password)
        page.wait_for_url("**/ui/records/contacts")
        page.goto("/ui/sync")
        with read_transaction(engine) as conn:
            unplanned = feed.unread_count(conn, SYNC_READER, admin.account_id)
        assert unplanned > 0
        stats = page.locator(".stats")
        expect(stats).to_contain_text("changes not yet planned")
        assert number(page, "unplanned") == unplanned
        assert number(page, "queued") == sum(column(page, "queued"))
        assert number(page, "fanouts") == sum(column(page, "fanouts"))
        assert number(page, "backfillLeft") == 2 * 3  # both properties, 3 targets each
        expect(page.locator("tbody [data-field=backfill]").first).to_have_text("0 / 3")

        # the table fits its card at 1280; on a phone it scrolls inside its own box
        wrap = page.locator(".sync-table").locator("xpath=..")
        fit = wrap.evaluate("w => [w.scrollWidth, w.clientWidth, getComputedStyle(w).overflowX]")
        assert fit[2] == "auto"
        if width == 1280:
            assert fit[0] <= fit[1], fit
        assert sideways(page) is None

        page.evaluate("window.stillHere = true")  # gone if the page reloads
        running = start_worker(engine)
        try:
            expect(page.locator('[data-total="unplanned"]')).to_have_text("0", timeout=30_000)
            expect(page.locator('[data-total="backfillLeft"]')).to_have_text("0")
            expect(page.locator("tbody [data-field=state]")).to_have_text(["LIVE", "LIVE"])
            expect(page.locator("tbody [data-field=filled]")).to_have_text(
                [str(contacts), str(contacts)])
            expect(page.locator("tbody [data-field=backfill]").first).to_have_text("3 / 3")
            expect(page.locator("[data-sync-live]")).to_contain_text("checked")
            assert page.evaluate("window.stillHere") is True
            shoot(page, "sync-overview" if width == 1280 else "sync-overview-phone")
        finally:
            running.shutdown()
    finally:
        context.close()
