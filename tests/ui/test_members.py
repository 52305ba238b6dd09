"""Users & teams, and what each role sees, in a browser at 1280 px and on a 390 px phone."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from propsync.domain.auth import Role
from propsync.domain.properties import AccessRule
from propsync.services import properties as prop_svc
from propsync.services.accounts import create_user
from tests.conftest import RunningServer
from tests.ui.conftest import GUARD_MS, Admin, shoot, sign_in

pytestmark = pytest.mark.xdist_group("ui")
WIDTHS = [1280, 390]


def member(admin: Admin, role: Role, name: str) -> tuple[int, str]:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@example.com"
    uid = create_user(admin.engine, admin.account_id, email, admin.password, name, role)
    return uid, email


def page_as(browser: Browser, server: RunningServer, email: str, password: str,
            width: int) -> Page:
    context = browser.new_context(base_url=server.base_url,
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(GUARD_MS)
    sign_in(page, email, password)
    page.wait_for_url("**/ui/records/contacts")
    return page


def fits(page: Page) -> bool:
    """The page does not scroll sideways."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_super_admin_adds_a_user_sets_a_role_and_keeps_a_team(
        browser: Browser, ui_server: RunningServer, admin: Admin, width: int) -> None:
    page = page_as(browser, ui_server, admin.email, admin.password, width)
    page.goto("/ui/settings/properties")
    page.get_by_role("link", name="Users & teams").click()
    expect(page.get_by_role("heading", name="Users & teams")).to_be_visible()
    page.get_by_text("Add user…").click()
    form = page.locator("#add-user")
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Name").fill("Ingrid Admin")
    form.get_by_label("Role").select_option("admin")
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_have_text("User added.")
    row = page.locator("#user-table tr", has_text=email)
    expect(row.get_by_label("Role of Ingrid Admin")).to_have_value("admin")
    row.get_by_label("Role of Ingrid Admin").select_option("user")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Role changed.")
    page.get_by_text("Create team…").click()
    team = page.locator("#create-team")
    team.get_by_label("Name").fill("Finance")
    team.get_by_label("Ingrid Admin").check()
    team.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_have_text("Team created.")
    expect(page.locator("details.team")).to_contain_text("Finance")
    expect(page.locator("details.team")).to_contain_text("Ingrid Admin")
    assert fits(page)
    shoot(page, f"users-and-teams-{width}")
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_plain_user_sees_records_and_property_definitions_but_no_settings_to_change(
        browser: Browser, ui_server: RunningServer, admin: Admin, width: int) -> None:
    _, email = member(admin, Role.USER, "Una User")
    page = page_as(browser, ui_server, email, admin.password, width)
    page.goto("/ui/settings/properties?objectType=companies")
    expect(page.get_by_role("heading", name="Properties")).to_be_visible()
    expect(page.get_by_role("link", name="Create property")).to_have_count(0)
    expect(page.get_by_role("link", name="Users & teams")).to_have_count(0)
    page.goto("/ui/settings/properties/companies/name")
    expect(page.get_by_role("heading", name="Edit")).to_have_count(0)
    expect(page.get_by_text("Delete property…")).to_have_count(0)
    response = page.goto("/ui/settings/users")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Only a super admin can manage users")
    response = page.goto("/ui/settings/properties/new")
    assert response is not None and response.status == 403
    assert fits(page)
    page.context.close()


def test_an_excluded_super_admin_cannot_add_herself_in_the_ui(
        browser: Browser, ui_server: RunningServer, admin: Admin) -> None:
    owner_id, owner_email = member(admin, Role.SUPER_ADMIN, "Olga Owner")
    prop_svc.create_property(admin.engine, admin.principal, "companies", prop_svc.PropertyInput(
        name="salary", label="Salary", type="string", field_type="text",
        group_name="companyinformation",
        access=AccessRule(view_users=frozenset({owner_id}), edit_users=frozenset({owner_id}))))
    company = admin.create("companies", {"name": "Acme"})
    page = page_as(browser, ui_server, admin.email, admin.password, 1280)
    page.goto("/ui/settings/properties/companies/salary")
    expect(page.locator("#access-rule")).to_contain_text("Olga Owner")
    page.get_by_label("UI Admin").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("nobody can widen their own access")
    page.goto(f"/ui/records/companies/{company}")
    expect(page.locator("#prop-salary")).to_have_count(0)
    page.context.close()
    owner = page_as(browser, ui_server, owner_email, admin.password, 1280)
    owner.goto("/ui/settings/properties/companies/salary")
    owner.get_by_label("UI Admin").check()
    owner.get_by_role("button", name="Save").click()
    expect(owner.get_by_role("status")).to_have_text("Changes saved.")
    expect(owner.locator("#access-rule")).to_contain_text("UI Admin")
    owner.context.close()
