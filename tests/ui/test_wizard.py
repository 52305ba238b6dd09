"""The create-property wizard, step by step as the help article tells it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from propsync.domain.properties import AccessRule
from propsync.services import properties as prop_svc
from tests.ui.conftest import GUARD_MS, PRIMARY, UNLABELED, Admin, shoot

pytestmark = pytest.mark.xdist_group("ui")


@pytest.fixture
def contact(admin: Admin) -> int:
    """A contact whose Primary company (Acme) is older than its other company (Beta)."""
    acme = admin.create("companies", {"name": "Acme"})
    beta = admin.create("companies", {"name": "Beta"})
    return admin.create("contacts", {"firstname": "Ada", "lastname": "Lovelace"},
                        ((acme, PRIMARY), (beta, UNLABELED)))


def step(page: Page, title: str) -> None:
    expect(page.locator(".stepper li.current")).to_contain_text(title)


def open_wizard(page: Page) -> None:
    """Settings icon in the top bar → Properties → Create property."""
    page.get_by_role("link", name="Settings").click()
    page.locator(".sidebar").get_by_role("link", name="Properties").click()
    expect(page.get_by_role("heading", name="Properties")).to_be_visible()
    page.get_by_role("link", name="Create property").click()


def basics(page: Page, label: str, shots: str = "") -> None:
    step(page, "Object type")
    page.get_by_label("Contact").check()
    shoot(page, f"{shots}1-object-type") if shots else None
    page.get_by_role("button", name="Next").click()
    step(page, "Basic info")
    page.get_by_label("Label").fill(label)
    shoot(page, f"{shots}2-basic-info") if shots else None
    page.get_by_role("button", name="Next").click()
    step(page, "Field type")
    page.get_by_label("Property sync").check()
    shoot(page, f"{shots}3-field-type") if shots else None
    page.get_by_role("button", name="Next").click()
    step(page, "Source object")
    page.get_by_label("Company", exact=True).check()
    shoot(page, f"{shots}4-source-object") if shots else None
    page.get_by_role("button", name="Next").click()
    step(page, "Source property")
    page.get_by_role("radio", name=re.compile(r"^Company name name")).check()
    shoot(page, f"{shots}5-source-property") if shots else None
    page.get_by_role("button", name="Next").click()


def test_all_labels_and_last_created_syncs_the_newest_company(page: Page, admin: Admin,
                                                             contact: int) -> None:
    open_wizard(page)
    basics(page, "Company name (sync)", shots="wizard-")
    step(page, "Association labels")
    page.get_by_label("All association labels").check()
    shoot(page, "wizard-6-association-labels")
    page.get_by_role("button", name="Next").click()
    step(page, "Record to sync from")
    page.get_by_label("Choose which company to sync from").select_option(label="Last created")
    shoot(page, "wizard-7-record-to-sync-from")
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name="Company name (sync)")).to_be_visible()
    expect(page.get_by_text("contacts.company_name_sync")).to_be_visible()
    expect(page.locator('[data-field="state"]')).to_have_text("LIVE")
    expect(page.locator('[data-field="filled"]')).to_have_text("1")
    shoot(page, "wizard-8-created")
    page.get_by_role("link", name="History").click()
    expect(page.locator("#definition-history")).to_contain_text(
        "Created as a sync property: copies companies · Company name over all association "
        "labels, last created")
    page.goto(f"/ui/records/contacts/{contact}")
    row = page.locator("#prop-company_name_sync")
    expect(row.locator(".prop-value")).to_have_text("Beta")
    expect(row.get_by_text("Synced from")).to_contain_text("Beta")


def test_primary_only_needs_no_selection_and_the_contact_follows_its_company(
        page: Page, admin: Admin, contact: int) -> None:
    open_wizard(page)
    basics(page, "Primary company")
    page.get_by_label("Select association labels").check()
    page.get_by_role("checkbox", name=re.compile(r"^Primary")).check()
    shoot(page, "wizard-6b-select-primary")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("button", name="Next")).to_have_count(0)
    page.get_by_role("button", name="Create").click()
    expect(page.locator('[data-field="state"]')).to_have_text("LIVE")

    page.goto(f"/ui/records/contacts/{contact}")
    value = page.locator("#prop-primary_company .prop-value")
    expect(value).to_have_text("Acme")
    company = page.locator("#prop-primary_company .synced-from a")
    company_page = page.context.new_page()
    company_page.goto(company.get_attribute("href") or "")
    company_page.locator("#prop-name").get_by_text("Edit").click()
    company_page.locator("#prop-name").get_by_label("Company name").fill("Acme Renamed")
    company_page.locator("#prop-name").get_by_role("button", name="Save").click()
    expect(company_page.get_by_role("status")).to_have_text("Saved.")
    expect(value).to_have_text("Acme Renamed", timeout=GUARD_MS)  # no reload of this page


def test_an_invalid_choice_is_explained_on_its_step_and_nothing_is_created(
        page: Page, admin: Admin) -> None:
    page.goto("/ui/settings/properties/new")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the property a label")
    page.get_by_label("Label").fill("Email")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("alert")).to_contain_text("already has a property named 'email'")
    page.get_by_label("Label").fill("Partner (sync)")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Property sync").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("radio", name=re.compile(r"^Contact")).check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("alert")).to_contain_text("only through a labelled association")
    names = [v.definition.name for v in prop_svc.list_properties(admin.engine, admin.principal,
                                                                 "contacts")]
    assert "partner_sync" not in names


def test_a_restricted_property_is_listed_but_disabled_with_the_reason(page: Page,
                                                                      admin: Admin) -> None:
    prop_svc.create_property(admin.engine, admin.principal, "companies", prop_svc.PropertyInput(
        name="credit_limit", label="Credit limit", type="number", field_type="number",
        group_name="companyinformation",
        access=AccessRule(view_users=frozenset({admin.user_id}))))
    page.goto("/ui/settings/properties/new?objectType=contacts")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Label").fill("Credit limit (sync)")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Property sync").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Company", exact=True).check()
    page.get_by_role("button", name="Next").click()
    restricted = page.get_by_role("radio", name=re.compile(r"^Credit limit"))
    expect(restricted).to_be_disabled()
    expect(page.locator("#why-credit_limit")).to_contain_text("Restricted view or edit access")
    expect(page.get_by_role("radio", name=re.compile(r"^Company name name"))).to_be_enabled()


def test_the_wizard_works_from_the_keyboard(page: Page, admin: Admin) -> None:
    page.goto("/ui/settings/properties/new?objectType=deals")
    page.get_by_label("Deal").focus()
    page.keyboard.press("ArrowUp")  # radios move with the arrow keys: Deal → Company
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the default button is Next
    step(page, "Basic info")
    expect(page.get_by_text("Object type: Company")).to_be_visible()
    expect(page.get_by_label("Label")).to_be_focused()
    page.keyboard.type("Main contact email")
    expect(page.get_by_label("Internal name")).to_have_value("main_contact_email")
    page.keyboard.press("Enter")
    step(page, "Field type")
    page.get_by_label("Single-line text").focus()
    for _ in range(6):
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Property sync")).to_be_checked()
    page.keyboard.press("Enter")
    step(page, "Source object")


def test_the_source_properties_can_be_filtered_and_labels_show_when_selecting(
        page: Page, admin: Admin) -> None:
    page.goto("/ui/settings/properties/new?objectType=contacts")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Label").fill("Primary company domain")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Property sync").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Company", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_placeholder("Filter properties").fill("domain")
    expect(page.get_by_role("radio", name=re.compile(r"^Company name name"))).to_be_hidden()
    page.get_by_role("radio", name=re.compile(r"^Company domain name")).check()
    page.get_by_role("button", name="Next").click()
    primary = page.get_by_role("checkbox", name=re.compile(r"^Primary"))
    expect(primary).to_be_hidden()
    page.get_by_label("Select association labels").check()
    expect(primary).to_be_visible()


def test_without_labels_between_the_objects_the_labels_step_is_skipped(page: Page,
                                                                      admin: Admin) -> None:
    page.goto("/ui/settings/properties/new?objectType=deals")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Label").fill("Contact e-mail")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Property sync").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Contact", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("radio", name=re.compile(r"^Email email")).check()
    page.get_by_role("button", name="Next").click()
    step(page, "Record to sync from")
    expect(page.locator(".stepper")).not_to_contain_text("Association labels")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("Several contact records can qualify")
    page.get_by_label("Choose which contact to sync from").select_option(label="First created")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Contact e-mail")).to_be_visible()
    expect(page.get_by_text("First created record")).to_be_visible()
