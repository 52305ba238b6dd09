"""Record pages, property pages and the sync overview, in a browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.history import ValueSource
from propsync.domain.properties import AccessRule
from propsync.services import properties as prop_svc
from propsync.services import records as record_svc
from propsync.services.accounts import create_user
from propsync.services.associations import TypeSpec
from propsync.services.sync_properties import SourceRequest
from tests.seed import seed_contacts_of
from tests.ui.conftest import GUARD_MS, PRIMARY, Admin, shoot, sign_in

pytestmark = pytest.mark.xdist_group("ui")
DEAL_TO_CONTACT = TypeSpec("HUBSPOT_DEFINED", 3)  # the unlabeled default


def sync_property(admin: Admin, target: str, name: str, source: str, prop: str,
                  types: list[tuple[str, int]] | None, selection: str | None = None) -> None:
    prop_svc.create_property(admin.engine, admin.principal, target, prop_svc.PropertyInput(
        name=name, label=name.replace("_", " ").capitalize(), type=None, field_type=None,
        group_name=f"{target[:-1] if target != 'companies' else 'company'}information",
        sync_source=SourceRequest(source, prop, types, selection)))


@pytest.fixture
def synced(admin: Admin) -> tuple[int, int]:
    """A contact whose ``company_city`` copies its Primary company's city."""
    company = admin.create("companies", {"name": "Fjord Labs", "city": "Bergen"})
    contact = admin.create("contacts", {"firstname": "Nora", "lastname": "Berg"},
                           ((company, PRIMARY),))
    sync_property(admin, "contacts", "company_city", "companies", "city",
                  [("HUBSPOT_DEFINED", 1)])
    admin.settle()
    return company, contact


def test_a_sync_property_on_a_record_is_read_only_and_explained(page: Page, admin: Admin,
                                                                synced: tuple[int, int]) -> None:
    company, contact = synced
    page.goto(f"/ui/records/contacts/{contact}")
    row = page.locator("#prop-company_city")
    expect(row.locator(".prop-value")).to_have_text("Bergen")
    expect(row.locator(".synced-from a")).to_have_attribute("href",
                                                            f"/ui/records/companies/{company}")
    row.get_by_role("button", name="Why this value?").click()
    popover = page.locator("#explain-company_city")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text("Fjord Labs")
    expect(popover).to_contain_text("winner")
    shoot(page, "record-explain")
    page.keyboard.press("Escape")
    expect(row.get_by_text("Edit", exact=True)).to_have_count(0)  # nothing to set here


def test_values_are_edited_with_history_and_bad_input_is_explained(page: Page, admin: Admin,
                                                                   synced: tuple[int, int]) -> None:
    company, _ = synced
    page.goto(f"/ui/records/companies/{company}")
    employees = page.locator("#prop-numberofemployees")
    employees.get_by_text("Edit").click()
    employees.get_by_label("Number of employees").fill("12")
    employees.get_by_role("button", name="Save").click()
    expect(page.locator("#prop-numberofemployees .prop-value")).to_have_text("12")
    page.locator("#prop-numberofemployees").get_by_text("History (1)").click()
    expect(page.locator("#prop-numberofemployees .history")).to_contain_text("UI")
    city = page.locator("#prop-city")
    city.get_by_text("Edit").click()
    city.get_by_label("City").fill("")
    city.get_by_role("button", name="Save").click()
    expect(page.locator("#prop-city .prop-value")).to_have_text("")


def test_associations_are_added_relabelled_and_removed(page: Page, admin: Admin,
                                                       synced: tuple[int, int]) -> None:
    _, contact = synced
    other = admin.create("companies", {"name": "Polar Energy", "city": "Tromsø"})
    page.goto(f"/ui/records/contacts/{contact}")
    companies = page.locator(".assoc-group", has=page.get_by_role("heading", name="Companies"))
    companies.get_by_text("Add company").click()
    companies.get_by_label("Company ID").fill(str(other))
    companies.get_by_role("button", name="Associate").click()
    expect(page.get_by_role("status")).to_have_text("Association added.")
    item = page.locator(".assoc-list li", has=page.get_by_role("link", name="Polar Energy"))
    item.get_by_text("Labels / remove").click()
    item.get_by_label("Primary").check()
    item.get_by_role("button", name="Save labels").click()
    expect(page.get_by_role("status")).to_have_text("Labels saved.")
    item = page.locator(".assoc-list li", has=page.get_by_role("link", name="Polar Energy"))
    expect(item.locator(".badge.label")).to_have_text("Primary")
    # Primary moved to Polar Energy, so the Primary-only sync property follows it.
    expect(page.locator("#prop-company_city .prop-value")).to_have_text("Tromsø",
                                                                        timeout=GUARD_MS)
    shoot(page, "record-page")
    item.get_by_text("Labels / remove").click()
    item.get_by_role("button", name="Remove association").click()
    expect(page.get_by_role("status")).to_have_text("Association removed.")
    expect(page.get_by_role("link", name="Polar Energy")).to_have_count(0)
    companies = page.locator(".assoc-group", has=page.get_by_role("heading", name="Companies"))
    companies.get_by_text("Add company").click()
    companies.get_by_label("Company ID").fill("999999999")
    companies.get_by_role("button", name="Associate").click()
    expect(page.get_by_role("alert")).to_contain_text("No companies record has the id")


def test_the_records_list_is_searchable(page: Page, admin: Admin,
                                        synced: tuple[int, int]) -> None:
    page.goto("/ui/records/contacts")
    page.get_by_role("searchbox", name="Search contacts").fill("nora")
    page.get_by_role("searchbox", name="Search contacts").press("Enter")
    expect(page.get_by_role("link", name="Nora Berg")).to_be_visible()
    expect(page.get_by_text("1 record matching")).to_be_visible()


def test_a_property_in_use_cannot_be_deleted_and_used_in_names_its_users(
        page: Page, admin: Admin, synced: tuple[int, int]) -> None:
    prop_svc.create_property(admin.engine, admin.principal, "companies", prop_svc.PropertyInput(
        name="region", label="Region", type="string", field_type="text",
        group_name="companyinformation"))
    sync_property(admin, "contacts", "company_region", "companies", "region",
                  None, "FIRST_CREATED")
    page.goto("/ui/settings/properties/companies/region")
    page.get_by_text("Delete property…").click()
    page.get_by_role("button", name="Delete Region").click()
    expect(page.get_by_role("alert")).to_contain_text("contacts.company_region")
    page.get_by_role("link", name="Used in").click()
    expect(page.get_by_role("link", name="Company region")).to_be_visible()
    page.get_by_role("link", name="Details").click()
    page.get_by_label("Only these users and teams:").check()
    page.get_by_label("UI Admin").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be restricted")


def test_the_sync_overview_draws_chains(page: Page, admin: Admin,
                                        synced: tuple[int, int]) -> None:
    _, contact = synced
    deal = admin.create("deals", {"dealname": "Renewal"}, ((contact, DEAL_TO_CONTACT),))
    sync_property(admin, "deals", "contact_company_city", "contacts", "company_city", None,
                  "LAST_CREATED")
    admin.settle()
    page.get_by_role("link", name="Sync overview").first.click()
    tree = page.locator(".tree")
    chain = tree.locator("li", has=page.get_by_role("link", name="contact · company_city"))
    expect(chain.get_by_role("link", name="deal · contact_company_city")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Company city"))).to_contain_text("LIVE")
    shoot(page, "sync-overview")
    page.goto(f"/ui/records/deals/{deal}")
    expect(page.locator("#prop-contact_company_city .prop-value")).to_have_text("Bergen")


def test_a_restricted_value_is_shown_only_to_the_users_it_names(
        page: Page, admin: Admin, synced: tuple[int, int]) -> None:
    _, contact = synced
    other = create_user(admin.engine, admin.account_id, f"hr-{admin.user_id}@example.com",
                        "another good password", "HR")
    prop_svc.create_property(admin.engine, admin.principal, "contacts", prop_svc.PropertyInput(
        name="salary", label="Salary", type="number", field_type="number",
        group_name="contactinformation", access=AccessRule(view_users=frozenset({other}),
                                                           edit_users=frozenset({other}))))
    hr = Principal(admin.account_id, other, frozenset(), frozenset(ALL_SCOPES), Role.SUPER_ADMIN)
    record_svc.update_records(admin.engine, hr, "contacts", [(str(contact), {"salary": 1000})],
                              ValueSource("API"))
    page.goto(f"/ui/records/contacts/{contact}")
    expect(page.locator("#prop-firstname")).to_be_visible()
    expect(page.locator("#prop-salary")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, f"hr-{admin.user_id}@example.com", "another good password")
    page.goto(f"/ui/records/contacts/{contact}")
    expect(page.locator("#prop-salary .prop-value")).to_have_text("1000")


def test_a_new_sync_property_page_follows_its_backfill_until_live(page: Page,
                                                                  admin: Admin) -> None:
    company = admin.create("companies", {"name": "Big Co"})
    seed_contacts_of(admin.engine, admin.account_id, company, 3000)
    sync_property(admin, "contacts", "big_company", "companies", "name",
                  [("HUBSPOT_DEFINED", 1)])
    with page.expect_response("**/big_company/status.json"):
        page.goto("/ui/settings/properties/contacts/big_company")
    expect(page.locator('[data-field="state"]')).to_have_text("LIVE", timeout=GUARD_MS)
    expect(page.locator('[data-field="done"]')).to_have_text("3000")
    expect(page.locator('[data-field="filled"]')).to_have_text("3000")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "3000")
