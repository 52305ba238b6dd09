"""Automation → Workflows in a browser, on a desktop (1280 px) and a phone (390 px): a copy
workflow made in the editor, turned on with the count of records it would enroll, running
on a company's edit and shown on the contact's page, its run log, turned off; the editor
from the keyboard; a plain user sees no control that changes anything."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from propsync.services import workflows as flow_svc
from tests.ui.conftest import PRIMARY, Admin, shoot
from tests.ui.test_shell import sideways

pytestmark = pytest.mark.xdist_group("ui")


def make_copy_workflow(page: Page, name: str) -> str:
    """Through the editor: companies enroll when their city is known (again when it
    changes), and copy their city to every associated contact. Returns the flow's id."""
    page.goto("/ui/automation/workflows")
    page.get_by_role("link", name="Create workflow").first.click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Enrolls").select_option("companies")
    page.get_by_role("button", name="Use this object").click()
    expect(page.get_by_text("When a company meets conditions")).to_be_visible()
    expect(page.get_by_label("Enrolls")).to_be_focused()
    page.get_by_role("combobox", name="Property", exact=True).select_option("city")
    page.get_by_role("combobox", name="Operator").select_option("IS_KNOWN")
    expect(page.get_by_role("textbox", name="Value")).to_be_hidden()  # nothing to compare
    page.get_by_role("checkbox", name="City", exact=True).check()
    page.get_by_label("Add an action").select_option("copy_to")
    page.get_by_role("button", name="Add action").click()
    step = page.locator(".step").first
    to = step.get_by_role("combobox", name="To every associated")
    expect(to).to_be_focused()
    to.select_option(to.locator("option", has_text="Contact · any association")
                     .get_attribute("value"))
    if step.get_by_role("button", name="Show their properties").is_visible():  # no script
        step.get_by_role("button", name="Show their properties").click()
        step = page.locator(".step").first
    step.get_by_role("combobox", name="Copy the company's").select_option("city")
    step.get_by_role("combobox", name="Into their").select_option("city")
    shoot(page, f"workflow-editor-{page.viewport_size['width'] if page.viewport_size else 0}")
    page.get_by_role("button", name="Save workflow").last.click()
    expect(page.get_by_role("status")).to_contain_text("Workflow created")
    return page.url.rsplit("/", 1)[-1].split("?")[0]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_copy_workflow_made_in_the_editor_copies_a_company_edit_to_its_contact(
        page: Page, admin: Admin, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    company = admin.create("companies", {"name": "Fjord Labs", "city": "Bergen"})
    admin.create("companies", {"name": "Polar Energy", "city": "Tromsø"})
    admin.create("companies", {"name": "No City"})
    contact = admin.create("contacts", {"firstname": "Nora"}, ((company, PRIMARY),))
    page.goto("/ui/automation/workflows")
    expect(page.get_by_role("heading", name="No workflows yet")).to_be_visible()
    expect(page.get_by_role("link", name="Create a sync property")).to_be_visible()
    assert sideways(page) is None
    shoot(page, f"workflows-empty-{width}")

    flow_id = make_copy_workflow(page, "City to contacts")
    stored = flow_svc.get_flow(admin.engine, admin.principal, flow_id)
    assert stored.object_type == "companies" and not stored.enabled
    assert stored.flow.enrollment.re_enroll_on == {"city"}
    expect(page.locator("main")).to_contain_text(
        "Copy the company's City to the City of every associated contact.")
    assert sideways(page) is None

    page.get_by_role("link", name="Turn on").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "2 companies meet the trigger now")  # the two with a city
    expect(page.get_by_role("button", name="Turn on and enroll them (2)")).to_be_visible()
    assert sideways(page) is None
    shoot(page, f"workflow-turn-on-{width}")
    page.get_by_role("button", name="Turn on for future changes only").click()
    expect(page.get_by_role("status")).to_have_text("Workflow turned on.")
    assert flow_svc.get_flow(admin.engine, admin.principal, flow_id).enabled

    page.goto(f"/ui/records/companies/{company}")
    city = page.locator("#prop-city")
    city.get_by_text("Edit").click()
    city.get_by_label("City").fill("Oslo")
    city.get_by_role("button", name="Save").click()
    expect(page.locator("#prop-city .prop-value")).to_have_text("Oslo")

    page.goto(f"/ui/records/contacts/{contact}")
    value = page.locator("#prop-city .prop-value")
    expect(value).to_have_text("Oslo")  # the page follows the value live
    page.reload()
    page.locator("#prop-city").get_by_text("History").click()
    written = page.locator("#prop-city .history").get_by_role("link", name="City to contacts")
    expect(written).to_have_attribute("href", f"/ui/automation/workflows/{flow_id}")
    expect(page.locator("#prop-city .history")).to_contain_text("set by workflow")
    panel = page.locator(".record-workflows")
    expect(panel.get_by_role("link", name="City to contacts")).to_be_visible()
    expect(panel).to_contain_text("set 1 value here")
    assert sideways(page) is None

    written.click()
    runs = page.locator("#runs tbody tr")
    expect(runs).to_have_count(1)
    expect(runs.first).to_contain_text("Fjord Labs")
    expect(runs.first).to_contain_text("done")
    expect(runs.first.locator("td").last).to_have_text("1")
    expect(page.locator(".stats")).to_contain_text("1completed")
    assert sideways(page) is None
    shoot(page, f"workflow-page-{width}")

    page.get_by_role("link", name="Turn off").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "0 active enrollments will be cancelled")
    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_role("status")).to_have_text("Workflow turned off.")
    assert not flow_svc.get_flow(admin.engine, admin.principal, flow_id).enabled
    page.goto("/ui/automation/workflows")
    row = page.locator("#workflow-table tbody tr")
    expect(row).to_contain_text("City to contacts")
    expect(row).to_contain_text("Off")
    expect(row.locator("time")).to_have_count(1)  # the last run
    assert sideways(page) is None
    shoot(page, f"workflows-list-{width}")
