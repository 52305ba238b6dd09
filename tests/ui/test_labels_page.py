"""Settings → Association labels, and access rules shown by name, at 1280 px and 390 px."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from propsync.domain.auth import Role
from propsync.domain.properties import AccessRule
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services.accounts import create_user
from propsync.services.members import create_team
from propsync.services.sync_properties import SourceRequest
from tests.conftest import RunningServer
from tests.ui.conftest import Admin, sign_in

pytestmark = pytest.mark.xdist_group("ui")


def open_labels(page: Page, width: int) -> None:
    page.goto("/ui/settings/properties")
    link = page.locator(".sidebar").get_by_role("link", name="Association labels")
    expect(link).to_have_attribute("href", "/ui/settings/labels")
    if width >= 1280:
        link.click()
    else:  # the phone layout's menu is the page shell's: go straight there
        page.goto("/ui/settings/labels")
    expect(page.get_by_role("heading", name="Association labels")).to_be_visible()


def test_an_admin_creates_renames_and_deletes_a_label(page: Page, admin: Admin,
                                                      width: int) -> None:
    open_labels(page, width)
    table = page.locator("#label-table")
    expect(table).to_contain_text("Primary")
    expect(table).to_contain_text("HubSpot (cannot change)")
    new = page.locator("#new-label")
    new.get_by_label("Label", exact=True).fill("Billing contact")
    new.get_by_label("Inverse label").fill("Billed company")
    expect(new.get_by_label("Internal name")).to_have_value("billing_contact")
    page.get_by_role("button", name="Create label").click()
    expect(page.get_by_role("status")).to_have_text("Label created.")
    row = table.locator("tr", has_text="Billing contact")
    expect(row).to_contain_text("Billed company")
    expect(row).to_contain_text("Your account")

    new.get_by_label("Label", exact=True).fill("Billing contact")
    new.get_by_role("button", name="Create label").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    expect(table.locator("tr", has_text="Billing contact")).to_have_count(1)

    row.get_by_text("Rename…").click()
    row.get_by_label("Label", exact=True).fill("Invoice contact")
    row.get_by_role("button", name="Save label").click()
    expect(page.get_by_role("status")).to_have_text("Label renamed.")
    expect(table).to_contain_text("Invoice contact")
    expect(table).not_to_contain_text("Billing contact")

    page.get_by_role("combobox", name="From").select_option(label="Company")
    page.get_by_role("combobox", name="To").select_option(label="Contact")
    page.get_by_role("button", name="Show labels").click()
    expect(page.get_by_role("heading", name="Company to contact", exact=True)).to_be_visible()
    expect(table.locator("tr", has_text="Billed company")).to_contain_text("Invoice contact")

    row = table.locator("tr", has_text="Billed company")
    row.get_by_text("Delete…").click()
    row.get_by_role("button", name="Delete Billed company").click()
    expect(page.get_by_role("status")).to_contain_text("Label deleted")
    expect(table).not_to_contain_text("Billed company")
    names = {t.label for t in label_svc.list_labels(admin.engine, admin.principal,
                                                    "contacts", "companies")}
    assert "Invoice contact" not in names


def test_a_label_a_sync_property_uses_is_not_deleted(page: Page, admin: Admin,
                                                    width: int) -> None:
    made = label_svc.create_label(admin.engine, admin.principal, "contacts", "companies",
                                  "Employer", "employer", "Employee")
    prop_svc.create_property(admin.engine, admin.principal, "contacts", prop_svc.PropertyInput(
        name="employer_name", label="Employer name", type=None, field_type=None,
        group_name="contactinformation", sync_source=SourceRequest(
            "companies", "name", [("USER_DEFINED", made[0].type_id)], "FIRST_CREATED")))
    page.goto("/ui/settings/labels")
    row = page.locator("#label-table tr", has_text="Employer")
    row.get_by_text("Delete…").click()
    row.get_by_role("button", name="Delete Employer").click()
    expect(page.get_by_role("alert")).to_contain_text("contacts.employer_name")
    expect(page.locator("#label-table")).to_contain_text("Employer")


def test_a_user_without_property_settings_sees_the_labels_read_only(
        browser: Browser, ui_server: RunningServer, admin: Admin, width: int) -> None:
    label_svc.create_label(admin.engine, admin.principal, "contacts", "companies",
                           "Reseller", "reseller", None)
    email = f"user-{uuid.uuid4().hex[:6]}@example.com"
    create_user(admin.engine, admin.account_id, email, admin.password, "Plain User", Role.USER)
    context = browser.new_context(base_url=ui_server.base_url,
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, email, admin.password)
    page.wait_for_url("**/ui/records/contacts")
    page.goto("/ui/settings/labels")
    expect(page.locator("#label-table")).to_contain_text("Reseller")
    expect(page.get_by_role("button", name="Create label")).to_have_count(0)
    expect(page.get_by_text("Rename…")).to_have_count(0)
    expect(page.get_by_text("Only super admins and admins")).to_be_visible()
    context.close()


def test_access_rules_name_their_users_and_teams(page: Page, admin: Admin, width: int) -> None:
    team = create_team(admin.engine, admin.principal, "Finance", [admin.user_id])
    prop_svc.create_property(admin.engine, admin.principal, "contacts", prop_svc.PropertyInput(
        name="salary", label="Salary", type="number", field_type="number",
        group_name="contactinformation", access=AccessRule(
            view_users=frozenset({admin.user_id}), view_teams=frozenset({team.team_id}))))
    page.goto("/ui/settings/properties?objectType=contacts")
    row = page.locator("#property-table tr", has_text="Salary")
    expect(row).to_contain_text("UI Admin")
    expect(row).to_contain_text("team Finance")
    page.goto("/ui/settings/properties/contacts/salary")
    rule = page.locator("#access-rule")
    expect(rule).to_contain_text("UI Admin")
    expect(rule).to_contain_text("team Finance")
    expect(rule).not_to_contain_text(f"user {admin.user_id}")
