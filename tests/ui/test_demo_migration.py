"""The migration assistant end to end on ``make run``'s demo account, in Chromium, on
SQLite and PostgreSQL, at 1280 px and on a 390 px phone (issue 16's "done when").

As the demo's administrator: the scan finds the demo's copy workflows (the city and
industry copies one way, the phone pair two-way and left alone, the domain copy with its
condition explained); the city copy is planned (the dry run counts exactly the stale
copies the demo seeded), applied, cloned (its list and report), compared (the report's
clone moves exactly the stale copies, each record linked), acknowledged, cut over and
cleaned up. The API then says the same: the migration CLEANED_UP, the report comparison
naming exactly the stale copies, the phone pair untouched. Screenshots of each step are
kept (``PROPSYNC_SCREENSHOTS``) for docs/screenshots and the README."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.filters import Filter
from propsync.services import demo
from propsync.services import search as search_svc
from tests.conftest import BACKENDS, drop_database, make_database, run_server
from tests.integration.test_demo_migrations import stale_copies
from tests.patience import wait_until
from tests.ui.conftest import GUARD_MS, shoot, sign_in
from tests.ui.test_migrations import fits, until_done

pytestmark = pytest.mark.xdist_group("ui")


@dataclass
class DemoServer:
    base_url: str
    seeded: demo.Demo
    stale: set[int]
    width: int
    store: str


CONTACTS = 80


def industry_copies(engine: Engine, account_id: int) -> int:
    """Contacts whose industry copy the demo's workflow (run by the server) has written."""
    principal = Principal(account_id, 1, frozenset(), frozenset(ALL_SCOPES), Role.SUPER_ADMIN)
    return search_svc.search(engine, principal, "contacts", search_svc.SearchRequest(
        groups=[[Filter(demo.COPY_PROPERTY, "HAS_PROPERTY")]], limit=1)).total


@pytest.fixture(scope="module", params=[(s, w) for s in BACKENDS for w in (1280, 390)],
                ids=lambda p: f"{p[0]}-{p[1]}px")
def demo_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[DemoServer]:
    store, width = request.param
    url = make_database(store, tmp_path_factory.mktemp("demo"))
    engine = engine_for(Settings(database_url=url))
    seeded = demo.seed_demo(engine, companies=30, contacts=CONTACTS, deals=10, seed=11)
    stale = stale_copies(engine, seeded.account_id)
    with run_server(engine) as running:
        wait_until(lambda: industry_copies(engine, seeded.account_id) == CONTACTS,
                   "the demo's industry workflow to copy every contact's industry")
        yield DemoServer(running.base_url, seeded, stale, width, store)
    engine.dispose()
    drop_database(url)


@pytest.fixture
def demo_page(browser: Browser, demo_server: DemoServer) -> Iterator[Page]:
    context = browser.new_context(base_url=demo_server.base_url, viewport={
        "width": demo_server.width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(GUARD_MS)
    sign_in(page, demo_server.seeded.email, demo_server.seeded.password)
    page.wait_for_url("**/ui/records/contacts")
    yield page
    context.close()


def keep(page: Page, d: DemoServer, step: str) -> None:
    assert fits(page), f"{step} is wider than {d.width} px"
    if d.store == "sqlite":
        shoot(page, f"demo-migration-{step}-{d.width}")


def card(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#copy-workflows > li").filter(
        has=page.get_by_role("link", name=name, exact=True))


def test_the_demo_city_copy_is_migrated_in_the_browser(demo_page: Page,
                                                       demo_server: DemoServer) -> None:
    page, d, stale = demo_page, demo_server, demo_server.stale
    page.goto("/ui/automation/migrations")
    expect(card(page, demo.CITY_FLOW)).to_contain_text("One way copy")
    expect(card(page, demo.COPY_FLOW)).to_contain_text("One way copy")
    for name in (demo.PHONE_DOWN, demo.PHONE_UP):  # the two-way pair: explained, left alone
        expect(card(page, name)).to_contain_text("Two way")
        expect(card(page, name).get_by_role("button")).to_have_count(0)
    domain = card(page, demo.DOMAIN_FLOW)
    expect(domain).to_contain_text("Conditional copy")
    expect(domain).to_contain_text("conditions leave out")
    keep(page, d, "1-scan")

    start = card(page, demo.CITY_FLOW).get_by_role("button", name="Start migration")
    start.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#migration-state")).to_have_text("Planned")
    n = len(stale)
    expect(page.locator("#dry-differing")).to_contain_text(f"{n} ({n} stale")
    sample = {int(x) for x in page.locator("#stale-sample a").all_inner_texts()}
    assert sample and sample <= stale
    keep(page, d, "2-plan")

    until_done(page, "Apply: create the sync property", "Applied")
    expect(page.locator("#backfill")).to_be_visible()
    keep(page, d, "3-apply")
    until_done(page, "Clone the lists, reports and workflows", "Cloned")
    clones = page.locator("#clone-table")
    expect(clones).to_contain_text(demo.CITY_LIST)
    expect(clones).to_contain_text(demo.CITY_REPORT)
    keep(page, d, "4-clone")

    until_done(page, "Compare each clone with its original", "Compared")
    report = page.locator("section.comparison").filter(has_text=demo.CITY_REPORT)
    expect(report).to_contain_text(f"{n} record(s) counted differently")
    named = {int(x) for x in report.locator("table.differences a").all_inner_texts()}
    assert named and named <= stale  # every record shown is a stale copy seeded
    expect(report.locator("table.differences")).to_contain_text("Stale copy")
    keep(page, d, "5-compare")

    boxes = page.locator("#step-compare").get_by_role("checkbox")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.get_by_role("button", name="Acknowledge the checked differences").click()
    expect(page.locator("#step-compare")).to_contain_text("Differs, acknowledged")
    until_done(page, "Cut over: turn the copy workflow off", "Cut over")
    expect(page.locator("#step-cut-over")).to_contain_text("is off")
    keep(page, d, "6-cut-over")
    until_done(page, "Clean up: delete the copy workflow", "Cleaned up")
    expect(page.locator("#step-clean-up")).to_contain_text("The copy workflow is deleted")
    keep(page, d, "7-clean-up")

    # The API says the same, with the demo's token.
    api = httpx.Client(base_url=d.base_url, timeout=60,
                       headers={"Authorization": f"Bearer {d.seeded.token}"})
    with api:
        migrations = api.get("/propsync/v1/migrations").json()["results"]
        assert [(m["plan"]["flowName"], m["state"]) for m in migrations] == [
            (demo.CITY_FLOW, "CLEANED_UP")]
        cloned = {a["originalName"]: a for a in migrations[0]["results"]["clone"]["assets"]}
        pair = cloned[demo.CITY_REPORT]
        got = api.get(f"/propsync/v1/reports/{pair['originalId']}/compare/"
                      f"{pair['cloneId']}", params={
                          "oldProperty": demo.CITY_COPY,
                          "newProperty": migrations[0]["syncProperty"], "sample": 20})
        assert got.status_code == 200, got.text
        body = got.json()
        moved = {int(r["recordId"]) for g in body["differences"] for r in g["records"]}
        assert moved == stale  # exactly the stale copies seeded, and all of them
        flows = api.get("/automation/v4/flows").json()["results"]
        names = {f["name"]: f for f in flows}
        assert demo.CITY_FLOW not in names  # cleaned up
        for name in (demo.PHONE_DOWN, demo.PHONE_UP):
            assert name in names  # the two-way pair is left alone


def test_the_demo_industry_copy_compares_clean(demo_page: Page, demo_server: DemoServer
                                               ) -> None:
    """The clean copy: its plan finds no stale copy, and its report's clone counts the same
    records, which the comparison says in words; clean-up needs no acknowledgement."""
    page = demo_page
    page.goto("/ui/automation/migrations")
    card(page, demo.COPY_FLOW).get_by_role("button", name="Start migration").click()
    expect(page.locator("#dry-differing")).to_contain_text("0 (0 stale")
    until_done(page, "Apply: create the sync property", "Applied")
    until_done(page, "Clone the lists, reports and workflows", "Cloned")
    until_done(page, "Compare each clone with its original", "Compared")
    expect(page.locator("#compare-summary")).to_have_text(
        "Every clone counts the same records as its original: nothing changes for the "
        f"people relying on {demo.COPY_PROPERTY}.")
    expect(page.locator("section.comparison").filter(has_text=demo.INDUSTRY_REPORT)
           ).to_contain_text("Same")
    until_done(page, "Cut over: turn the copy workflow off", "Cut over")
    until_done(page, "Clean up: delete the copy workflow", "Cleaned up")
    assert fits(page)
