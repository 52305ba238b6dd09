"""Automation → Workflows in a browser, on a desktop (1280 px) and a phone (390 px): a copy
workflow made in the editor, turned on with the count of records it would enroll, running
on a company's edit and shown on the contact's page, its run log, turned off; the editor
from the keyboard; a plain user sees no control that changes anything."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from propsync.domain.auth import Role
from propsync.services import workflows as flow_svc
from propsync.services.accounts import create_user
from propsync.web.flow_form import FlowForm, Step, to_definition
from tests.conftest import RunningServer
from tests.integration.flows import BRANCHING
from tests.ui.conftest import PRIMARY, Admin, shoot, sign_in
from tests.ui.test_shell import sideways

pytestmark = pytest.mark.xdist_group("ui")


def make_copy_workflow(page: Page, name: str, script: bool = True) -> str:
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
    if script:
        expect(page.get_by_role("textbox", name="Value")).to_be_hidden()  # nothing to compare
    page.get_by_role("checkbox", name="City", exact=True).check()
    page.get_by_label("Add an action").select_option("copy_to")
    page.get_by_role("button", name="Add action").click()
    step = page.locator(".step").first
    to = step.get_by_role("combobox", name="To every associated")
    expect(to).to_be_focused()
    to.select_option(to.locator("option", has_text="Contact · any association")
                     .get_attribute("value"))
    if not script:  # the server shows the associated records' properties
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
    shoot(page, f"workflow-on-record-{width}")

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


def test_the_editor_is_used_from_the_keyboard(page: Page, admin: Admin) -> None:
    """Every button of the editor is a plain form button: focus lands on what it added or
    moved, menus are chosen by typing, and Enter in a field saves."""
    page.goto("/ui/automation/workflows/new?objectType=contacts")
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type("Typed by keyboard")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Enrolls")).to_be_focused()
    property_ = page.get_by_role("combobox", name="Property", exact=True)
    property_.focus()
    page.keyboard.type("Job")
    expect(property_).to_have_value("jobtitle")
    page.keyboard.press("Tab")
    expect(page.get_by_role("combobox", name="Operator")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("Engineer")
    page.get_by_role("button", name="+ Condition (and)").focus()
    page.keyboard.press("Enter")  # the new condition's menu has focus after the reload
    second = page.locator("#c-0-1-property")
    expect(second).to_be_focused()
    expect(page.locator("#c-0-0-value")).to_have_value("Engineer")  # kept what was typed
    page.get_by_role("button", name="Remove condition 2 of group 1").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Trigger")).to_be_focused()
    expect(page.locator("#c-0-1-property")).to_have_count(0)

    kind = page.get_by_label("Add an action")
    for wanted, first_field in (("set", "#s-0-target"), ("delay", "#s-1-delay")):
        kind.focus()
        page.keyboard.type({"set": "Set", "delay": "Wait"}[wanted])
        expect(kind).to_have_value(wanted)
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Add action")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator(first_field)).to_be_focused()
    page.keyboard.type("5")
    page.get_by_role("button", name="Move step 2 up").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".step legend").first).to_have_text("Step 1: Wait")
    # the moved step is first now, so focus is on its other button: it can go back down
    expect(page.get_by_role("button", name="Move step 1 down")).to_be_focused()
    target = page.locator("#s-1-target")
    target.focus()
    page.keyboard.type("Lifecycle")
    expect(target).to_have_value("lifecyclestage")
    page.keyboard.press("Tab")
    page.keyboard.type("customer")
    page.keyboard.press("Enter")  # Enter in a field saves the workflow
    expect(page.get_by_role("status")).to_contain_text("Workflow created")
    flow_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    flow = flow_svc.get_flow(admin.engine, admin.principal, flow_id).flow
    assert [type(a).__name__ for a in (flow.actions[i] for i in ("1", "2"))] == [
        "Delay", "SetProperty"]
    assert flow.enrollment.groups[0][0].property_name == "jobtitle"


def test_a_refusal_is_shown_with_the_form_as_typed(page: Page, admin: Admin) -> None:
    admin.create("contacts", {"firstname": "Nora"})
    page.goto("/ui/automation/workflows/new")
    page.get_by_label("Name", exact=True).fill("Bad date")
    page.get_by_role("combobox", name="Property", exact=True).select_option("createdate")
    page.get_by_role("combobox", name="Operator").select_option("IS_GREATER_THAN")
    page.get_by_role("textbox", name="Value").fill("not a date")
    page.get_by_role("button", name="Save workflow").last.click()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("not a date")  # the service's own words
    expect(alert).to_be_focused()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Bad date")
    expect(page.get_by_role("textbox", name="Value")).to_have_value("not a date")
    expect(page.locator(".group.has-error")).to_have_count(1)
    page.get_by_role("button", name="Save workflow").last.click()  # still refused, unsaved
    assert flow_svc.list_flows(admin.engine, admin.principal, None, 10).flows == []


def test_a_flow_the_editor_cannot_show_is_read_only(page: Page, admin: Admin) -> None:
    """A branch made through the API: its page describes it, its editor shows its JSON."""
    flow = flow_svc.create_flow(admin.engine, admin.principal, BRANCHING)
    page.goto(f"/ui/automation/workflows/{flow.flow_id}")
    expect(page.locator("main")).to_contain_text("Go on by Lifecycle stage")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("status")).to_contain_text("The editor cannot show every part")
    expect(page.locator("pre.json")).to_contain_text('"STATIC_BRANCH"')
    expect(page.get_by_role("button", name="Save workflow")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_plain_user_sees_no_control_that_changes_a_workflow(
        anonymous_page: Page, admin: Admin, width: int) -> None:
    flow = flow_svc.create_flow(admin.engine, admin.principal, {**to_definition(FlowForm(
        name="Set title", manual=True, steps=(Step("set", target="jobtitle", value="x"),)),
        {}), "isEnabled": True})
    email = f"user-{admin.email}"
    create_user(admin.engine, admin.account_id, email, "a long passphrase", "Plain User",
                role=Role.USER)
    page = anonymous_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, email, "a long passphrase")
    page.wait_for_url("**/ui/records/contacts")
    page.goto("/ui/automation/workflows")
    expect(page.get_by_role("link", name="Set title")).to_be_visible()
    expect(page.get_by_role("link", name="Create workflow")).to_have_count(0)
    page.get_by_role("link", name="Set title").click()
    expect(page.get_by_role("heading", name="Set title")).to_be_visible()
    main = page.locator("main")
    for name in ("Edit", "Turn off", "Turn on"):
        expect(main.get_by_role("link", name=name)).to_have_count(0)
    for name in ("Find", "Enroll", "Delete workflow…"):
        expect(main.get_by_role("button", name=name)).to_have_count(0)
    expect(main.locator("summary", has_text="Delete workflow")).to_have_count(0)
    assert sideways(page) is None
    for address in (f"/ui/automation/workflows/{flow.flow_id}/edit",
                    "/ui/automation/workflows/new",
                    f"/ui/automation/workflows/{flow.flow_id}/turn-off"):
        reply = page.goto(address)
        assert reply is not None and reply.status == 403, address
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert flow_svc.get_flow(admin.engine, admin.principal, str(flow.flow_id)).enabled


def test_the_editor_works_without_script(browser: Browser, ui_server: RunningServer,
                                         admin: Admin) -> None:
    context = browser.new_context(base_url=ui_server.base_url, java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, admin.email, admin.password)
        page.wait_for_url("**/ui/records/contacts")
        flow_id = make_copy_workflow(page, "Without script", script=False)
        flow = flow_svc.get_flow(admin.engine, admin.principal, flow_id).flow
        assert flow.written_properties()[0][1] == "city"
    finally:
        context.close()
