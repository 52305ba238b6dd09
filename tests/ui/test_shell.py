"""The shell every page shares, on a desktop (1280 px) and a phone (390 px), issue 13.2:
no page scrolls sideways, the menu reaches every section, unknown pages are HTML pages in
the UI's layout, the icon, the centered sign-in card, local times and the Save button.

The pages are discovered from the app's route table (every GET route under ``/ui``),
filled with the ids of a seeded account, so that a new page cannot escape the checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from playwright.sync_api import Browser, Page, expect

from propsync.domain.objects import OBJECT_TYPES
from propsync.services import lists as list_svc
from propsync.services import reports as report_svc
from propsync.services import workflows as flow_svc
from propsync.services.accounts import create_token, create_user
from propsync.storage import migrations as migration_store
from propsync.storage.db import write_transaction
from propsync.web.flow_form import Condition, FlowForm, Step, to_definition
from tests.conftest import RunningServer
from tests.ui.conftest import PRIMARY, Admin, shoot, sign_in
from tests.ui.test_records import sync_property

pytestmark = pytest.mark.xdist_group("ui")
WIDTHS = [1280, 390]
PHONE = 390

# GET routes under /ui that are not pages a person opens, and why.
NOT_PAGES = {
    "/ui/records/{objectType}/{recordId}/values.json": "JSON the record page polls",
    "/ui/records/{objectType}/{recordId}/explain/{name}": "the HTML fragment of a popover",
    "/ui/records/{objectType}/{recordId}/history/{name}": "the HTML fragment of a history the "
                                                         "record page redraws live",
    "/ui/settings/properties/{objectType}/{name}/status.json": "JSON a property page polls",
    "/ui/sync/status.json": "JSON the sync overview polls",
    "/ui/settings/propose-name": "JSON the wizard asks for an internal name",
    "/ui/reports/{reportId}/export.csv": "a report's figures as a CSV download",
}
LONG = "a-rather-long-value-without-spaces-that-a-phone-cannot-wrap-" * 2


@dataclass
class Seeded:
    """An account with a record of every type, a sync property, a token, a second user and
    a workflow (on, with a long name)."""

    admin: Admin
    records: dict[str, int]
    flow_id: str
    report_id: str = ""
    list_id: str = ""
    migration_id: str = ""


@pytest.fixture
def seeded(admin: Admin) -> Seeded:
    company = admin.create("companies", {"name": "Fjord Labs", "city": "Bergen",
                                         "domain": LONG + ".example.com"})
    contact = admin.create("contacts", {"firstname": "Nora", "lastname": "Berg",
                                        "email": LONG + "@example.com"}, ((company, PRIMARY),))
    records = {"companies": company, "contacts": contact,
               "deals": admin.create("deals", {"dealname": "Fjord renewal " + LONG}),
               "tickets": admin.create("tickets", {"subject": "Broken sync " + LONG})}
    assert set(records) == set(OBJECT_TYPES)
    sync_property(admin, "contacts", "company_city", "companies", "city",
                  [("HUBSPOT_DEFINED", 1)])
    create_token(admin.engine, admin.account_id, "crm.objects.contacts.read",
                 admin.user_id, name="Phone " + LONG)
    create_user(admin.engine, admin.account_id, f"second-{admin.email}", "a long passphrase",
                "Second " + LONG)
    flow = flow_svc.create_flow(admin.engine, admin.principal, {**to_definition(FlowForm(
        name="Copy " + LONG, object_type="companies", groups=((Condition("city", "IS_KNOWN"),),),
        steps=(Step("copy_to", target="city", source="city",
                    association="contacts:HUBSPOT_DEFINED:280"),)), {"city": "string"}),
        "isEnabled": True})
    report = report_svc.create_report(admin.engine, admin.principal, {
        "name": "Contacts by company city " + LONG, "objectType": "contacts",
        "groupBy": "company_city", "chartType": "PIE"})
    listed = list_svc.create_list(admin.engine, admin.principal, {
        "name": "Contacts in a city " + LONG, "objectTypeId": "0-1",
        "processingType": "DYNAMIC", "filterBranch": {
            "filterBranchType": "OR", "filterBranches": [{
                "filterBranchType": "AND", "filters": [{
                    "filterType": "PROPERTY", "property": "city", "operation": {
                        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]}})
    admin.settle()
    with write_transaction(admin.engine) as conn:  # a migration of the workflow, as planned
        migration = migration_store.insert_migration(conn, admin.account_id, flow.flow_id, {
            "flowName": "Copy " + LONG, "kind": "ONE_WAY_COPY", "objectType": "contacts",
            "oldProperty": "city", "name": "city_sync", "label": "City " + LONG,
            "source": {"objectType": "companies", "property": "city",
                       "associationTypes": [["HUBSPOT_DEFINED", 1]], "labels": ["Primary"],
                       "selection": "FIRST_CREATED"}, "differences": [LONG],
            "dryRun": {"targets": 1, "withValue": 1, "differing": 1, "stale": 1,
                       "missing": 0, "orphaned": 0, "topValues": [[LONG, 1]],
                       "sample": [contact], "excluded": None}}, admin.user_id, 1)
    return Seeded(admin, records, str(flow.flow_id), str(report.report_id),
                  str(listed.list_id), str(migration.migration_id))


def page_routes(server: RunningServer) -> list[str]:
    """The path of every GET route under /ui, from the running app's own route table."""
    app = server.server.config.app
    return sorted({c.path for c in iter_route_contexts(app.routes)
                   if isinstance(c.original_route, APIRoute) and "GET" in (c.methods or ())
                   and c.path and (c.path == "/ui" or c.path.startswith("/ui/"))})


PARAMS = re.compile(r"\{(\w+)\}")


def fill(path: str, seeded: Seeded) -> list[str]:
    """Every address to visit for ``path``: its parameters filled with the seeded ids."""
    names = tuple(PARAMS.findall(path))
    fillings: dict[tuple[str, ...], list[dict[str, object]]] = {
        (): [{}],
        ("objectType",): [{"objectType": ot} for ot in OBJECT_TYPES],
        ("objectType", "recordId"): [{"objectType": ot, "recordId": i}
                                     for ot, i in seeded.records.items()],
        ("objectType", "name"): [{"objectType": "contacts", "name": "company_city"},
                                 {"objectType": "companies", "name": "domain"}],
        ("flowId",): [{"flowId": seeded.flow_id}],
        ("reportId",): [{"reportId": seeded.report_id}],
        ("listId",): [{"listId": seeded.list_id}],
        ("migrationId",): [{"migrationId": seeded.migration_id}],
    }
    if path.endswith("/redefine"):  # only a sync property has a source to change
        fillings[("objectType", "name")] = fillings[("objectType", "name")][:1]
    assert names in fillings, (f"{path}: teach tests/ui/test_shell.py to fill {names}, or "
                               "list the route in NOT_PAGES with the reason it is no page")
    return [PARAMS.sub(lambda m, v=values: str(v[m.group(1)]), path)  # type: ignore[misc]
            for values in fillings[names]]


def test_every_route_not_a_page_still_exists(ui_server: RunningServer) -> None:
    routes = page_routes(ui_server)
    assert [p for p in NOT_PAGES if p not in routes] == []
    assert len([p for p in routes if p not in NOT_PAGES]) >= 8


@pytest.fixture
def open_page(browser: Browser, ui_server: RunningServer) -> Iterator[Callable[..., Page]]:
    """Opens a page ``width`` pixels wide (signed in as ``admin`` when given)."""
    contexts = []

    def open_(width: int, admin: Admin | None = None, **options: object) -> Page:
        context = browser.new_context(base_url=ui_server.base_url,  # type: ignore[arg-type]
                                      viewport={"width": width, "height": 800}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if admin is not None:
            sign_in(page, admin.email, admin.password)
            page.wait_for_url("**/ui/records/contacts")
        return page

    yield open_
    for context in contexts:
        context.close()


def sideways(page: Page) -> str | None:
    """Why ``page`` scrolls sideways (or hides that it would), or None."""
    found = page.evaluate("""() => {
      const html = document.documentElement, body = document.body;
      const hidden = [html, body].map((e) => getComputedStyle(e).overflowX)
        .filter((v) => v !== "visible");
      if (hidden.length) return "overflow-x " + hidden.join(", ") + " on the page hides it";
      if (html.scrollWidth <= window.innerWidth) return null;
      const wide = [...body.querySelectorAll("*")]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""));
      return `scrollWidth ${html.scrollWidth} > ${window.innerWidth}: ` + wide.slice(0, 6);
    }""")
    return found if isinstance(found, str) else None


def open_menu(page: Page) -> None:
    """At phone width the sections sit behind the menu button: open it."""
    button = page.get_by_role("banner").get_by_role("button", name="Menu")
    if button.is_visible():
        if button.get_attribute("aria-expanded") != "true":
            button.click()
        expect(button).to_have_attribute("aria-expanded", "true")


def menu_misses(page: Page, sections: set[str]) -> list[str]:
    """The sections no visible link of the top bar leads to, all within the viewport."""
    open_menu(page)
    width = page.viewport_size["width"] if page.viewport_size else 0
    hrefs = []
    for link in page.get_by_role("banner").get_by_role("link").all():
        box = link.bounding_box()
        if link.is_visible() and box and box["x"] >= 0 and box["x"] + box["width"] <= width:
            hrefs.append(link.get_attribute("href") or "")
    return sorted(s for s in sections if not any(h == s or h.startswith(s + "/")
                                                 for h in hrefs))


def sections_of(routes: list[str]) -> set[str]:
    """Where the menu must lead: each record type's list, and every other top-level part."""
    found = set()
    for path in routes:
        part = path.split("/")[2] if path.count("/") >= 2 else ""
        if part == "records":
            found |= {f"/ui/records/{ot}" for ot in OBJECT_TYPES}
        elif part not in ("", "login", "static"):
            found.add(f"/ui/{part}")
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen_and_its_menu_reaches_every_section(
        open_page: Callable[..., Page], seeded: Seeded, width: int,
        ui_server: RunningServer) -> None:
    routes = page_routes(ui_server)
    sections = sections_of(routes)
    assert {"/ui/records/contacts", "/ui/sync", "/ui/settings"} <= sections
    page = open_page(width, seeded.admin)
    addresses = [a for p in routes if p not in NOT_PAGES for a in fill(p, seeded)]
    addresses.append("/ui/no-such-page")  # the not-found page has the same shell
    problems = []
    for address in addresses:
        reply = page.goto(address)
        if reply is None or "text/html" not in reply.headers["content-type"]:
            problems.append(f"{address}: not an HTML page")
            continue
        if reply.status >= 400 and address != "/ui/no-such-page":
            problems.append(f"{address}: answered {reply.status}")
        why = sideways(page)
        if why:
            problems.append(f"{address}: {why}")
        missing = menu_misses(page, sections)
        if missing:
            problems.append(f"{address}: the menu does not lead to {missing}")
    assert problems == []


def test_tables_scroll_inside_their_box_on_a_phone(open_page: Callable[..., Page],
                                                   seeded: Seeded) -> None:
    page = open_page(PHONE, seeded.admin)
    for address in ("/ui/records/contacts", "/ui/settings/properties", "/ui/sync",
                    "/ui/settings/properties/companies/city?tab=used", "/ui/settings/sandboxes"):
        page.goto(address)
        tables = page.locator("main table").all()
        assert tables, address
        for table in tables:
            overflow = table.evaluate("t => getComputedStyle(t.parentElement).overflowX")
            assert overflow == "auto", (address, overflow)
        assert sideways(page) is None, address


@pytest.mark.parametrize("width", WIDTHS)
def test_every_settings_link_is_in_view_on_every_settings_page(
        open_page: Callable[..., Page], seeded: Seeded, width: int) -> None:
    """The settings navigation shows all its links (on a phone it wraps into rows): a strip
    that scrolled sideways hid Users & teams and API tokens, and the current page's link
    with them, with nothing saying there was more."""
    page = open_page(width, seeded.admin)
    for address in ("/ui/settings/properties", "/ui/settings/labels", "/ui/settings/tokens",
                    "/ui/settings/users", "/ui/settings/sandboxes"):
        page.goto(address)
        links = page.locator(".sidebar nav a")
        assert links.count() == 6, address
        for link in links.all():
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
                address, link.text_content(), box)
        expect(page.locator(".sidebar nav a[aria-current=page]")).to_have_count(1)


def test_the_menu_opens_and_closes_from_the_keyboard(open_page: Callable[..., Page],
                                                     admin: Admin) -> None:
    page = open_page(PHONE, admin)
    button = page.get_by_role("banner").get_by_role("button", name="Menu")
    menu = page.locator("#" + (button.get_attribute("aria-controls") or "missing"))
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    first = menu.get_by_role("link").first
    expect(first).to_be_focused()  # focus goes into the menu it opened
    shoot(page, "phone-menu")
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()  # and back to the button when it closes
    page.keyboard.press(" ")
    expect(menu).to_be_visible()
    settings = menu.get_by_role("link", name="Settings")
    settings.click()
    page.wait_for_url("**/ui/settings/properties")
    expect(page.get_by_role("banner").get_by_role("button", name="Menu")).to_have_attribute(
        "aria-expanded", "false")


def test_the_menu_is_the_plain_top_bar_on_a_desktop(open_page: Callable[..., Page],
                                                    admin: Admin) -> None:
    page = open_page(1280, admin)
    expect(page.get_by_role("banner").get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("banner").get_by_role("link", name="Settings")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Sync overview")).to_be_visible()
    box = page.get_by_role("banner").bounding_box()
    assert box is not None and box["height"] <= 64  # one row


def luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def color(css: str) -> tuple[float, ...]:
    return tuple(float(x) for x in re.findall(r"[\d.]+", css))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_inline_save_button_is_visible(open_page: Callable[..., Page], seeded: Seeded,
                                           width: int) -> None:
    page = open_page(width, seeded.admin)
    page.goto(f"/ui/records/companies/{seeded.records['companies']}")
    row = page.locator("#prop-numberofemployees")
    row.get_by_text("Edit").click()
    save = row.get_by_role("button", name="Save")
    expect(save).to_be_visible()
    ink, paper = save.evaluate("b => [getComputedStyle(b).color, "
                               "getComputedStyle(b).backgroundColor]")
    assert len(color(paper)) == 3 or color(paper)[3] == 1, f"see-through background {paper}"
    lighter, darker = sorted((luminance(color(ink)), luminance(color(paper))), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (ink, paper)
    box = save.bounding_box()
    assert box is not None and box["width"] >= 44 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_an_unknown_page_is_a_page_of_the_ui(open_page: Callable[..., Page], admin: Admin,
                                             width: int) -> None:
    page = open_page(width, admin)
    for address in ("/ui/nonexistent", "/ui/settings/nope/deeper", "/ui/static/missing.css"):
        reply = page.goto(address)
        assert reply is not None and reply.status == 404, address
        assert reply.headers["content-type"].startswith("text/html"), address
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.get_by_role("banner").get_by_role("link", name="propsync")).to_be_visible()
        assert sideways(page) is None
    reply = page.request.put("/ui/login")  # a method a page does not answer: also a page
    assert reply.status == 405 and reply.headers["content-type"].startswith("text/html")
    api = httpx.get(page.url.split("/ui/")[0] + "/crm/v3/nonexistent")
    assert api.status_code == 404 and api.json()["category"] == "OBJECT_NOT_FOUND"


def test_an_unknown_page_signed_out_leads_to_sign_in(open_page: Callable[..., Page]) -> None:
    page = open_page(PHONE)
    reply = page.goto("/ui/nonexistent")
    assert reply is not None and reply.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert sideways(page) is None


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_has_an_icon_and_asks_for_nothing_missing(
        open_page: Callable[..., Page], admin: Admin, width: int) -> None:
    page = open_page(width)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.goto("/ui/login")
    sign_in(page, admin.email, admin.password)
    page.wait_for_url("**/ui/records/contacts")
    page.goto("/ui/sync")
    icon = page.locator("link[rel=icon]")
    expect(icon).to_have_count(1)
    href = icon.get_attribute("href") or ""
    reply = page.request.get(href)
    assert reply.status == 200 and reply.headers["content-type"].startswith("image/")
    assert b"<svg" in reply.body()
    legacy = page.request.get("/favicon.ico")  # what a browser asks for without a link
    assert legacy.status == 200 and legacy.headers["content-type"].startswith("image/")
    assert failed == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sign_in_card_is_centered(open_page: Callable[..., Page], width: int) -> None:
    page = open_page(width)
    page.goto("/ui/login")
    card = page.locator(".signin")
    box = card.bounding_box()
    assert box is not None
    left, right = box["x"], width - (box["x"] + box["width"])
    assert abs(left - right) <= 2, (left, right)
    assert left >= 8  # not glued to the phone's edges
    assert sideways(page) is None


OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize("width", WIDTHS)
def test_times_are_shown_in_the_browsers_time_zone(open_page: Callable[..., Page],
                                                   seeded: Seeded, width: int) -> None:
    page = open_page(width, seeded.admin, timezone_id="Europe/Oslo", locale="en-GB")
    contact = seeded.records["contacts"]
    checked = 0
    for address in (f"/ui/records/contacts/{contact}", "/ui/settings/tokens",
                    "/ui/settings/properties/contacts/company_city?tab=history",
                    "/ui/records/contacts?col=createdate&col=lastmodifieddate&set=1"):
        page.goto(address)
        times = page.locator("main time")
        expect(times.first).to_be_attached()
        # datetime property values (createdate, …) are times too: none shows as raw UTC
        page.locator("main details.history").evaluate_all("ds => ds.forEach(d => d.open = true)")
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page.locator("main").inner_text())
        # one reading of every time, once app.js has shown each: the record page's live
        # status replaces its "updated" time within 1.5 s, which moved later ones' places
        page.wait_for_function("() => [...document.querySelectorAll('main time')]"
                               ".every((t) => t.dataset.shown === t.dateTime)")
        shown = times.evaluate_all("ts => ts.map((t) => [t.getAttribute('datetime'), "
                                   "t.textContent])")
        for stamp, text in shown:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", stamp), (
                address, stamp)
            at = datetime.fromisoformat(stamp).astimezone(OSLO)
            utc = datetime.fromisoformat(stamp).astimezone(UTC)
            assert at.strftime("%H:%M:%S") in text, (address, stamp, text)
            assert utc.strftime("%H:%M:%S") not in text, (address, stamp, text)
            assert "UTC" not in text and str(at.day) in text and not re.search(r"[AP]M", text)
            checked += 1
    assert checked >= 4
