"""Automation → Workflows in a browser, on a desktop (1280 px) and a phone (390 px): a copy
workflow made in the editor, turned on with the count of records it would enroll, running
on a company's edit and shown on the contact's page, its run log, turned off; the editor
from the keyboard; a plain user sees no control that changes anything."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from propsync.domain.auth import Role
from propsync.services import workflows as flow_svc
from propsync.services.accounts import create_user
from propsync.services.members import change_role
from tests.ui.conftest import PRIMARY, Admin, shoot, sign_in
from tests.ui.test_shell import sideways

pytestmark = pytest.mark.xdist_group("ui")


def make_copy_workflow(page: Page, name: str) -> str:
    """Through the editor: companies enroll when their city is known (again when it
    changes), and copy their city to every associated contact. Returns the flow's id."""
    page.goto("/ui/automation/workflows")
    page.get_by_role("link", name="Create workflow").first.click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Enrolls").select_option("companies")
    if page.get_by_role("button", name="Use this object").is_visible():
        page.get_by_role("button", name="Use this object").click()
    expect(page.get_by_text("When a company meets conditions")).to_be_visible()
    page.get_by_label("Property", exact=True).first.select_option("city")
    page.get_by_label("Operator").select_option("IS_KNOWN")
    page.get_by_role("checkbox", name="City", exact=True).check()
    page.get_by_label("Add an action").select_option("copy_to")
    page.get_by_role("button", name="Add action").click()
    step = page.locator(".step").first
    expect(step.get_by_label("To every associated")).to_be_focused()
    step.get_by_label("To every associated").select_option(label="Any associated contact")
    if step.get_by_role("button", name="Show their properties").is_visible():
        step.get_by_role("button", name="Show their properties").click()
    step = page.locator(".step").first
    step.get_by_label("Copy the company's").select_option("city")
    step.get_by_label("Into their").select_option("city")
    shoot(page, f"workflow-editor-{page.viewport_size['width'] if page.viewport_size else 0}")
    page.get_by_role("button", name="Save workflow").last.click()
    expect(page.get_by_role("status")).to_contain_text("Workflow created")
    return page.url.rsplit("/", 1)[-1].split("?")[0]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_copy_workflow_is_made_in_the_editor(page: Page, admin: Admin, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    company = admin.create("companies", {"name": "Fjord Labs", "city": "Bergen"})
    admin.create("contacts", {"firstname": "Nora"}, ((company, PRIMARY),))
    page.goto("/ui/automation/workflows")
    expect(page.get_by_role("heading", name="No workflows yet")).to_be_visible()
    assert sideways(page) is None
    flow_id = make_copy_workflow(page, "City to contacts")
    stored = flow_svc.get_flow(admin.engine, admin.principal, flow_id)
    assert stored.object_type == "companies" and not stored.enabled
    assert stored.flow.enrollment.re_enroll_on == {"city"}
    expect(page.get_by_role("heading", name="Trigger")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Copy the company's City to every associated any associated contact's City")
    assert sideways(page) is None
    shoot(page, f"workflow-page-{width}")
    page.goto("/ui/automation/workflows")
    expect(page.get_by_role("link", name="City to contacts")).to_be_visible()
    assert sideways(page) is None
    shoot(page, f"workflows-list-{width}")
