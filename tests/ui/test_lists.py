"""Lists in a browser, on a desktop (1280 px) and a phone (390 px): a dynamic list made
with the plain form follows a contact's edit, its conditions changed on its page and
shown in words, its members linked to their records; a manual list's members added and
removed by hand; a clone with one property put in another's place."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from propsync.services import lists as svc
from propsync.services import properties as prop_svc
from tests.ui.conftest import Admin, shoot
from tests.ui.test_shell import sideways

pytestmark = pytest.mark.xdist_group("ui")


def shows_member(page: Page, record: int) -> None:
    """The list's page shows the record once the worker has evaluated the list (the page
    is plain HTML: it is loaded again until then)."""
    link = page.get_by_role("link", name=f"Contact {record}")
    for _ in range(300):
        if link.count():
            break
        page.wait_for_timeout(100)
        page.reload()
    expect(link).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_dynamic_list_made_with_the_form_follows_edits(page: Page, admin: Admin,
                                                         width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    # A long label makes a long option in the clone's menus: the phone's page stays narrow.
    prop_svc.create_property(admin.engine, admin.principal, "contacts", prop_svc.PropertyInput(
        "industry_copy", "Company industry as the sales team's copy workflow last wrote it",
        "string", "text", "contactinformation"))
    ada = admin.create("contacts", {"firstname": "Ada", "city": "Paris"})
    admin.create("contacts", {"firstname": "Bo", "city": "Rome"})
    page.goto("/ui/lists")
    expect(page.get_by_role("heading", name="No lists yet")).to_be_visible()
    assert sideways(page) is None
    page.get_by_label("Name", exact=True).fill("Parisians")
    page.get_by_label("Property of condition 1").select_option("city")
    page.get_by_label("Operator of condition 1").select_option("eq")
    page.get_by_label("Value of condition 1").fill("Paris")
    shoot(page, f"lists-create-{width}")
    page.get_by_role("button", name="Create list").last.click()
    expect(page.get_by_role("status")).to_contain_text("List created")
    expect(page.locator("main")).to_contain_text("City is “Paris”")
    list_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    shows_member(page, ada)
    bo = admin.create("contacts", {"firstname": "Bo", "city": "Paris"})
    page.get_by_label("Operator of condition 1").select_option("starts")
    page.get_by_label("Value of condition 1").fill("par")
    page.get_by_label("Property of condition 2").select_option("firstname")
    page.get_by_label("Operator of condition 2").select_option("known")
    page.get_by_role("button", name="Save conditions").click()
    expect(page.get_by_role("status")).to_contain_text("Filters saved")
    expect(page.locator("main")).to_contain_text("City starts with “par” and First name "
                                                 "is known")
    shows_member(page, bo)
    assert sideways(page) is None
    shoot(page, f"list-{width}")
    page.get_by_role("link", name=f"Contact {ada}").click()
    page.wait_for_url(f"**/ui/records/contacts/{ada}")
    page.goto("/ui/lists")
    expect(page.locator("#list-table")).to_contain_text("Parisians")
    shoot(page, f"lists-{width}")
    assert svc.get_list(admin.engine, admin.principal, list_id).size == 2


def test_a_manual_list_takes_members_by_hand_and_a_clone_replaces_a_property(
        page: Page, admin: Admin) -> None:
    a = admin.create("contacts", {"firstname": "Ann"})
    b = admin.create("contacts", {"firstname": "Ben"})
    page.goto("/ui/lists")
    page.get_by_label("Name", exact=True).fill("Picked")
    page.get_by_label("Manual: records added by hand").check()
    page.get_by_role("button", name="Create list").last.click()
    expect(page.get_by_role("status")).to_contain_text("List created")
    page.get_by_label("Add records by id").fill(f"{a} {b}")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Members added")
    page.get_by_role("button", name=f"Remove contact {a}").click()
    expect(page.get_by_role("status")).to_contain_text("Member removed")
    expect(page.get_by_role("link", name=f"Contact {b}")).to_be_visible()
    expect(page.get_by_role("link", name=f"Contact {a}")).to_have_count(0)
    page.get_by_label("Add records by id").fill("999999999")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("999999999")
    dynamic = svc.create_list(admin.engine, admin.principal, {
        "name": "By first name", "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterBranch": {"filterBranchType": "OR", "filterBranches": [{
            "filterBranchType": "AND", "filters": [{
                "filterType": "PROPERTY", "property": "firstname", "operation": {
                    "operationType": "STRING", "operator": "IS_EQUAL_TO", "value": "Ann"}}]}]}})
    page.goto(f"/ui/lists/{dynamic.list_id}")
    page.get_by_label("Name of the copy").fill("By last name")
    page.get_by_label("Replace property").select_option("firstname")
    page.get_by_label("Put in its place").select_option("lastname")
    page.get_by_role("button", name="Clone").click()
    expect(page.get_by_role("status")).to_contain_text("List cloned")
    expect(page.locator("main")).to_contain_text("Last name is “Ann”")
