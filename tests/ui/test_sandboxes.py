"""Settings → Sandboxes in a browser, on a desktop (1280 px) and a phone (390 px): a super
admin creates a sandbox (a sample, from the keyboard), sees its token once, finds it
listed and deletes it after confirming; a Professional account is told why it has none;
a plain user only sees the list."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from propsync.domain.auth import Role
from propsync.services import sandboxes as svc
from propsync.services.accounts import create_account, create_user
from tests.ui.conftest import Admin, shoot, sign_in

pytestmark = pytest.mark.xdist_group("ui")


def fits(page: Page) -> bool:
    """Nothing in the page's main content reaches past the window's right edge."""
    return bool(page.evaluate("""Array.from(document.querySelectorAll('main *')).every(
        e => e.getBoundingClientRect().right <= window.innerWidth + 1)"""))


def test_create_a_sample_sandbox_then_delete_it_after_confirming(page: Page, admin: Admin,
                                                                   width: int) -> None:
    company = admin.create("companies", {"name": "Acme"})
    admin.create("contacts", {"email": "ada@acme.example"})
    if width >= 960:  # the settings menu is a sidebar on wide screens
        page.goto("/ui/settings/properties")
        page.get_by_role("link", name="Sandboxes").click()
    else:
        page.goto("/ui/settings/sandboxes")
    expect(page.get_by_role("heading", name="Sandboxes", exact=True)).to_be_visible()
    expect(page.locator("#sandbox-table")).to_contain_text("No sandboxes yet.")
    assert fits(page)
    # from the keyboard: the name, the sample choice, its size, then Enter
    name = page.get_by_label("Name")
    name.focus()
    page.keyboard.type("Rehearsal")
    sample = page.get_by_role("radio", name="A sample")
    sample.focus()
    page.keyboard.press("Space")
    expect(sample).to_be_checked()
    size = page.get_by_label("Records of each type in a sample")
    size.focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    created = page.get_by_role("status").filter(has_text="Sandbox created")
    expect(created).to_contain_text("Rehearsal")
    expect(created).to_contain_text("2 records copied")
    token = page.get_by_label("Token for sandbox").input_value()
    made = svc.list_sandboxes(admin.engine, admin.principal)
    assert [s.name for s in made] == ["Rehearsal"]
    assert token.startswith(f"pat-{made[0].account_id}-")
    row = page.locator(f"#sandbox-{made[0].account_id}")
    expect(row).to_contain_text("Rehearsal")
    assert fits(page)
    shoot(page, f"sandboxes-created-{width}")
    row.get_by_text("Delete…").click()
    expect(row.get_by_text("is deleted for good")).to_be_visible()
    assert fits(page)
    row.get_by_role("button", name="Delete sandbox").click()
    expect(page.get_by_role("status")).to_contain_text("Sandbox deleted")
    expect(page.locator("#sandbox-table")).to_contain_text("No sandboxes yet.")
    assert svc.list_sandboxes(admin.engine, admin.principal) == []
    page.goto(f"/ui/records/companies/{company}")
    expect(page.get_by_text("Acme").first).to_be_visible()  # the source is untouched


def test_a_refusal_is_shown_in_the_services_words_with_the_form_kept(page: Page, admin: Admin,
                                                                       width: int) -> None:
    page.goto("/ui/settings/sandboxes")
    page.get_by_label("Name").fill("Kept")
    page.get_by_role("radio", name="A sample").check()
    page.get_by_label("Records of each type in a sample").fill("")
    page.get_by_role("button", name="Create sandbox").click()
    expect(page.locator("#sandbox-error")).to_contain_text("sample:N")
    expect(page.get_by_label("Name")).to_have_value("Kept")
    expect(page.get_by_role("radio", name="A sample")).to_be_checked()
    assert fits(page)
    assert svc.list_sandboxes(admin.engine, admin.principal) == []


def test_a_professional_account_is_told_why_and_a_user_only_sees_the_list(
        anonymous_page: Page, admin: Admin) -> None:
    page = anonymous_page
    engine = admin.engine
    pro = create_account(engine, f"Pro {uuid.uuid4().hex[:6]}")
    email = f"pro-{uuid.uuid4().hex[:8]}@example.com"
    create_user(engine, pro, email, "pro password", "Pro Admin")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, email, "pro password")
        page.wait_for_url("**/ui/records/contacts")
        page.goto("/ui/settings/sandboxes")
        expect(page.locator("#needs-enterprise")).to_contain_text("Enterprise feature")
        expect(page.get_by_role("button", name="Create sandbox")).to_have_count(0)
        assert fits(page)
        page.context.clear_cookies()
    made = svc.create_sandbox(engine, admin.principal, "all", "Listed")
    user_email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    create_user(engine, admin.account_id, user_email, "user password", "Ulla", role=Role.USER)
    sign_in(page, user_email, "user password")
    page.wait_for_url("**/ui/records/contacts")
    page.goto("/ui/settings/sandboxes")
    expect(page.locator(f"#sandbox-{made.account_id}")).to_contain_text("Listed")
    expect(page.get_by_text("Delete…")).to_have_count(0)
    expect(page.get_by_text("Only a super admin can create or delete sandboxes.")
           ).to_be_visible()


def test_open_a_sandbox_work_there_and_come_back(page: Page, admin: Admin, width: int) -> None:
    contact = admin.create("contacts", {"email": "ada@acme.example"})
    made = svc.create_sandbox(admin.engine, admin.principal, "all", "Rehearsal")
    later_email = f"later-{uuid.uuid4().hex[:8]}@example.com"
    create_user(admin.engine, admin.account_id, later_email, "later password", "Late",
                role=Role.USER)
    page.goto("/ui/settings/sandboxes")
    page.locator(f"#sandbox-{made.account_id}").get_by_role("button", name="Open").click()
    expect(page.locator("#is-sandbox")).to_contain_text(
        f"sandbox of account {admin.account_id}")
    assert fits(page)
    shoot(page, f"sandbox-inside-{width}")
    # in the sandbox: its copy of the contact, edited there only; every page says where
    page.goto(f"/ui/records/contacts/{contact}")
    expect(page.get_by_text("ada@acme.example").first).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text(re.compile(
        rf"You are in a sandbox of UI \w+ \(account {admin.account_id}\): nothing you do "
        "here touches it"))
    assert fits(page)
    page.goto("/ui/settings/sandboxes")
    page.get_by_role("button", name=f"Back to account {admin.account_id}").click()
    expect(page.locator(f"#sandbox-{made.account_id}")).to_contain_text("Rehearsal")
    expect(page.locator("#is-sandbox")).to_have_count(0)
    expect(page.locator(".sandbox-banner")).to_have_count(0)
    # a user added after the copy is no user of the sandbox
    page.context.clear_cookies()
    sign_in(page, later_email, "later password")
    page.wait_for_url("**/ui/records/contacts")
    page.goto("/ui/settings/sandboxes")
    page.locator(f"#sandbox-{made.account_id}").get_by_role("button", name="Open").click()
    expect(page.locator("#sandbox-error")).to_contain_text("You are not a user of account")
    expect(page.locator("#is-sandbox")).to_have_count(0)
