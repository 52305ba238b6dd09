"""Record lists and record pages in Chromium, at 1280 px and at 390 px (a phone): columns,
sort and filter by a sync property, the search finding synced values, a sync property
without an edit control, its history following the value live, and the live filter's
count saying what is shown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from propsync.domain.history import ValueSource
from propsync.services import properties as prop_svc
from propsync.services import records as record_svc
from tests.ui.conftest import PRIMARY, Admin
from tests.ui.test_records import sync_property

pytestmark = pytest.mark.xdist_group("ui")


@pytest.fixture
def people(admin: Admin) -> dict[str, int]:
    """Contacts whose ``company_city`` copies their Primary company's city."""
    ids = {}
    for name, city in (("Nora", "Bergen"), ("Ola", "Oslo"), ("Kari", "Tromsø")):
        company = admin.create("companies", {"name": f"{name} AS", "city": city})
        ids[name] = admin.create("contacts", {"firstname": name, "lastname": "Test"},
                                 ((company, PRIMARY),))
        ids[f"{name} AS"] = company
    sync_property(admin, "contacts", "company_city", "companies", "city",
                  [("HUBSPOT_DEFINED", 1)])
    admin.settle()
    return ids


def listed(page: Page) -> list[str]:
    return page.locator("table.record-list tbody tr td:first-child").all_inner_texts()


def no_sideways_scroll(page: Page) -> None:
    """The list's own part of the page fits: only its table scrolls, inside its box."""
    for box in (".list-tools", ".table-wrap"):
        width = page.evaluate(f"document.querySelector('{box}').getBoundingClientRect().right")
        assert width <= page.viewport_size["width"] + 1, box  # type: ignore[index]


def test_columns_sort_and_filter_by_a_sync_property(page: Page, people: dict[str, int],
                                                    width: int) -> None:
    page.goto("/ui/records/contacts")
    page.get_by_text("Columns (3)").click()
    columns = page.get_by_role("group", name="Columns to show")
    columns.get_by_label("Company city").check()
    columns.get_by_label("City", exact=True).uncheck()
    page.get_by_role("button", name="Show columns").click()
    header = page.get_by_role("columnheader", name=re.compile("Company city"))
    expect(header).to_be_visible()
    header.get_by_role("link").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert listed(page) == ["Nora Test", "Ola Test", "Kari Test"]
    page.get_by_role("columnheader", name=re.compile("Company city")).get_by_role("link").click()
    expect(page.get_by_role("columnheader", name=re.compile("Company city"))
           ).to_have_attribute("aria-sort", "descending")
    assert listed(page) == ["Kari Test", "Ola Test", "Nora Test"]
    no_sideways_scroll(page)
    page.goto("/ui/records/contacts")  # the choice is remembered
    expect(page.get_by_role("columnheader", name=re.compile("Company city"))).to_be_visible()
    page.get_by_text("Filter", exact=True).click()
    page.get_by_label("Property").select_option(label="Company city (synced)")
    page.get_by_label("Condition").select_option("EQ")
    page.get_by_label("Value").fill("oslo")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_text("1 record where Company city is “oslo”")).to_be_visible()
    assert listed(page) == ["Ola Test"]
    no_sideways_scroll(page)


def test_the_search_finds_a_synced_value(page: Page, people: dict[str, int],
                                         width: int) -> None:
    page.goto("/ui/records/contacts")
    page.get_by_role("searchbox", name="Search contacts").fill("tromsø")
    page.get_by_role("searchbox", name="Search contacts").press("Enter")
    expect(page.get_by_text("1 record matching “tromsø”")).to_be_visible()
    assert listed(page) == ["Kari Test"]


def test_a_sync_property_has_no_edit_control_only_where_it_comes_from(
        page: Page, admin: Admin, people: dict[str, int], width: int) -> None:
    page.goto(f"/ui/records/contacts/{people['Nora']}")
    row = page.locator("#prop-company_city")
    expect(row.locator(".prop-value")).to_have_text("Bergen")
    expect(row.get_by_text("Edit", exact=True)).to_have_count(0)
    expect(row.get_by_role("textbox")).to_have_count(0)
    expect(row.get_by_role("button", name="Save")).to_have_count(0)
    expect(row.locator(".synced-from a")).to_have_text("Nora AS")
    expect(row.get_by_role("button", name="Why this value?")).to_be_visible()
    expect(page.locator("#prop-firstname").get_by_text("Edit", exact=True)).to_be_visible()


def test_the_history_of_a_value_that_changes_live_follows_it(
        page: Page, admin: Admin, people: dict[str, int], width: int) -> None:
    page.goto(f"/ui/records/contacts/{people['Nora']}")
    row = page.locator("#prop-company_city")
    row.get_by_text("History (1)").click()
    record_svc.update_records(admin.engine, admin.principal, "companies",
                              [(str(people["Nora AS"]), {"city": "Bodø"})],
                              ValueSource("API"))
    expect(row.locator(".prop-value")).to_have_text("Bodø", timeout=15_000)
    history = row.locator(".history")
    expect(history.locator("summary")).to_have_text("History (2)")
    expect(history).to_have_attribute("open", "")  # it stays open
    expect(history.locator("li").first).to_contain_text("Bodø")


def test_the_live_filters_count_says_what_is_shown(page: Page, admin: Admin,
                                                   width: int) -> None:
    deals = prop_svc.list_properties(admin.engine, admin.principal, "deals")
    total = len(deals)
    matching = sum("deal" in f"{v.definition.label} {v.definition.name}".lower() for v in deals)
    assert 0 < matching < total
    page.goto("/ui/settings/properties?objectType=deals")
    count = page.locator("[data-filter-count]")
    expect(count).to_have_text(f"{total} of {total} properties")
    page.get_by_role("searchbox", name="Search properties").fill("deal")
    expect(count).to_have_text(f"{matching} of {total} properties")  # known beforehand
    expect(page.locator("#property-table tbody tr:visible")).to_have_count(matching)
    page.get_by_role("searchbox", name="Search properties").fill("")
    expect(count).to_have_text(f"{total} of {total} properties")
