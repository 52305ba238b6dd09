"""The wizard's steps at 1280 px and on a 390 px phone: names proposed in every language,
every Next advances or says why not, focus lands on the step, and a sync property's
source is changed with the same steps and a summary of what the change recomputes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from propsync.domain.auth import Role
from propsync.services import properties as prop_svc
from propsync.services.accounts import create_user
from propsync.services.sync_properties import SourceRequest
from tests.conftest import RunningServer
from tests.ui.conftest import PRIMARY, UNLABELED, Admin, sign_in

pytestmark = pytest.mark.xdist_group("ui")


def current(page: Page, title: str) -> None:
    expect(page.locator(".stepper li.current")).to_contain_text(title)


def next_(page: Page) -> None:
    page.get_by_role("button", name="Next").click()


def to_labels_step(page: Page, label: str) -> None:
    page.goto("/ui/settings/properties/new?objectType=contacts")
    next_(page)
    page.get_by_label("Label").fill(label)
    next_(page)
    page.get_by_label("Property sync").check()
    next_(page)
    page.get_by_label("Company", exact=True).check()
    next_(page)
    page.get_by_role("radio", name=re.compile(r"^Company name name")).check()
    next_(page)
    current(page, "Association labels")


def test_the_name_proposed_from_a_danish_label_keeps_its_letters(
        page: Page, admin: Admin, width: int) -> None:
    page.goto("/ui/settings/properties/new?objectType=contacts")
    next_(page)
    page.get_by_label("Label").fill("Ærlig Øl & Å")
    name = page.get_by_label("Internal name")
    expect(name).to_have_value("aerlig_ol_a")  # proposed while typing
    name.fill("")
    next_(page)  # a blank name: the server proposes it
    current(page, "Field type")
    page.get_by_role("button", name="Back").click()
    current(page, "Basic info")
    expect(page.get_by_label("Internal name")).to_have_value("aerlig_ol_a")


def test_choosing_primary_says_the_labels_step_is_the_last_one(
        page: Page, admin: Admin, width: int) -> None:
    acme = admin.create("companies", {"name": "Acme"})
    admin.create("contacts", {"firstname": "Ada"}, ((acme, PRIMARY),))
    to_labels_step(page, "Primary company")
    page.get_by_label("Select association labels").check()
    page.get_by_role("checkbox", name=re.compile(r"^Primary")).check()
    next_(page)
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("at most one company can qualify")
    expect(notice).to_contain_text("press Create")
    expect(notice).to_be_focused()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Primary company")).to_be_visible()


def test_focus_goes_to_the_step_and_back_comes_before_next(
        page: Page, admin: Admin, width: int) -> None:
    page.goto("/ui/settings/properties/new?objectType=contacts")
    expect(page.get_by_role("heading", name="Object type", exact=True)).to_be_focused()
    next_(page)
    expect(page.get_by_label("Label")).to_be_focused()
    page.keyboard.type("Budget")
    page.keyboard.press("Enter")  # Enter still goes forward, not back
    current(page, "Field type")
    expect(page.get_by_role("heading", name="Field type", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Single-line text")).to_be_focused()
    page.get_by_role("button", name="Back").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Next")).to_be_focused()
    next_(page)  # no field type chosen: the message has the focus
    expect(page.get_by_role("alert")).to_be_focused()


@pytest.fixture
def synced(admin: Admin) -> Iterator[tuple[int, int]]:
    """Two contacts, each with a Primary company (Acme) and a newer unlabeled one (Beta),
    and a sync property that copies the Primary company's name."""
    acme = admin.create("companies", {"name": "Acme", "domain": "acme.example"})
    beta = admin.create("companies", {"name": "Beta", "domain": "beta.example"})
    first = admin.create("contacts", {"firstname": "Ada"}, ((acme, PRIMARY), (beta, UNLABELED)))
    second = admin.create("contacts", {"firstname": "Bob"}, ((acme, PRIMARY),))
    prop_svc.create_property(admin.engine, admin.principal, "contacts", prop_svc.PropertyInput(
        name="company_sync", label="Company (sync)", type=None, field_type=None,
        group_name="contactinformation",
        sync_source=SourceRequest("companies", "name", [("HUBSPOT_DEFINED", 1)], None)))
    admin.settle()
    yield first, second


def test_a_sync_propertys_source_is_changed_with_the_wizards_steps(
        page: Page, admin: Admin, synced: tuple[int, int], width: int) -> None:
    first, _ = synced
    page.goto("/ui/settings/properties/contacts/company_sync")
    page.get_by_role("link", name="Change source…").click()
    current(page, "Source object")
    expect(page.get_by_label("Company", exact=True)).to_be_checked()
    next_(page)
    current(page, "Source property")
    expect(page.get_by_role("radio", name=re.compile(r"^Company name name"))).to_be_checked()
    page.get_by_role("radio", name=re.compile(r"^Company domain name")).check()
    next_(page)
    current(page, "Association labels")
    expect(page.get_by_label("Select association labels")).to_be_checked()
    page.get_by_label("All association labels").check()
    next_(page)
    current(page, "Record to sync from")
    page.get_by_label("Choose which company to sync from").select_option(label="Last created")
    next_(page)
    current(page, "Review the change")
    summary = page.locator("#redefine-summary")
    expect(summary).to_contain_text("copies companies · Company name over Primary")
    expect(summary).to_contain_text("copies companies · Company domain name over all "
                                    "association labels, last created")
    expect(page.locator("#recompute-count")).to_have_text("2")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Source changed")
    expect(page.locator(".facts").first).to_contain_text("Company · domain")
    admin.settle()
    page.goto(f"/ui/records/contacts/{first}")
    expect(page.locator("#prop-company_sync .prop-value")).to_have_text("beta.example")


def test_a_refused_source_is_explained_before_the_review(
        page: Page, admin: Admin, synced: tuple[int, int], width: int) -> None:
    prop_svc.create_property(admin.engine, admin.principal, "companies", prop_svc.PropertyInput(
        name="back_copy", label="Back copy", type=None, field_type=None,
        group_name="companyinformation",
        sync_source=SourceRequest("contacts", "company_sync", None, "FIRST_CREATED")))
    page.goto("/ui/settings/properties/contacts/company_sync/redefine")
    next_(page)
    current(page, "Source property")
    page.get_by_role("radio", name=re.compile(r"^Back copy back_copy")).check()
    next_(page)
    page.get_by_label("Select association labels").check()
    next_(page)
    expect(page.get_by_role("alert")).to_contain_text("would copy, through a chain")
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)


def test_only_admins_with_property_settings_change_a_source(
        browser: Browser, ui_server: RunningServer, admin: Admin,
        synced: tuple[int, int], width: int) -> None:
    email = f"user-{uuid.uuid4().hex[:6]}@example.com"
    create_user(admin.engine, admin.account_id, email, admin.password, "Plain User", Role.USER)
    context = browser.new_context(base_url=ui_server.base_url,
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, email, admin.password)
    page.wait_for_url("**/ui/records/contacts")
    page.goto("/ui/settings/properties/contacts/company_sync")
    expect(page.get_by_role("heading", name="Company (sync)")).to_be_visible()
    expect(page.get_by_role("link", name="Change source…")).to_have_count(0)
    reply = page.goto("/ui/settings/properties/contacts/company_sync/redefine")
    assert reply is not None and reply.status == 403
    context.close()
