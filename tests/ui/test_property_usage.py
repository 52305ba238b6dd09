"""A property's "Used in" tab and cloning a workflow with a property replaced, in a browser
on a desktop (1280 px) and a phone (390 px)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from propsync.services import properties as prop_svc
from propsync.services import workflows as flow_svc
from propsync.services.sync_properties import SourceRequest, create_sync_property
from tests.ui.conftest import Admin, shoot
from tests.ui.test_shell import sideways

pytestmark = pytest.mark.xdist_group("ui")
COMPANY_TO_CONTACT = 280


def _text_property(admin: Admin, ot: str, name: str, label: str) -> None:
    group = {"contacts": "contactinformation", "companies": "companyinformation"}[ot]
    prop_svc.create_property(admin.engine, admin.principal, ot, prop_svc.PropertyInput(
        name=name, label=label, type="string", field_type="text", group_name=group))


def _region_flow(name: str) -> dict[str, Any]:
    """Companies enrolled when their region is known copy it to their contacts."""
    return {
        "type": "PLATFORM_FLOW", "objectTypeId": "0-2", "flowType": "WORKFLOW", "name": name,
        "isEnabled": False, "enrollmentCriteria": {
            "type": "LIST_BASED", "shouldReEnroll": False, "listFilterBranch": {
                "filterBranchType": "OR", "filterBranches": [{
                    "filterBranchType": "AND", "filters": [{
                        "filterType": "PROPERTY", "property": "region", "operation": {
                            "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]}},
        "actions": [{"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5",
                     "fields": {"property_name": "home_region",
                                "value": {"type": "OBJECT_PROPERTY", "propertyName": "region"},
                                "association": {"associationCategory": "HUBSPOT_DEFINED",
                                                "associationTypeId": COMPANY_TO_CONTACT}}}]}


@pytest.fixture
def used(admin: Admin) -> int:
    """companies.region: copied by a contact sync property, and read by a company flow
    that writes the contacts' home_region; returns the flow's id."""
    _text_property(admin, "companies", "region", "Region")
    _text_property(admin, "companies", "territory", "Territory")
    _text_property(admin, "contacts", "home_region", "Home region")
    create_sync_property(admin.engine, admin.principal, "contacts", "company_region",
                         "Company region", SourceRequest("companies", "region", None,
                                                         "FIRST_CREATED"))
    return flow_svc.create_flow(admin.engine, admin.principal,
                                _region_flow("Region to contacts")).flow_id


def test_used_in_lists_every_use_grouped_by_kind_with_links(page: Page, admin: Admin,
                                                           used: int, width: int) -> None:
    page.goto("/ui/settings/properties/companies/region")
    expect(page.get_by_role("link", name="Used in 2")).to_be_visible()
    page.get_by_role("link", name="Used in").click()
    expect(page.get_by_role("heading", name="Sync properties 1")).to_be_visible()
    expect(page.get_by_role("heading", name="Workflows 1")).to_be_visible()
    flows = page.locator("table[data-kind='workflow']")
    expect(flows).to_contain_text("enrollment filter; action 1 copies it")
    assert sideways(page) is None
    shoot(page, f"property-used-in-{width}")
    flows.get_by_role("link", name="Region to contacts").click()
    expect(page).to_have_url(f"{page.url.split('/ui/')[0]}/ui/automation/workflows/{used}")
    page.goto("/ui/settings/properties/contacts/home_region?tab=used")
    expect(page.locator("table[data-kind='workflow']")).to_contain_text(
        "action 1 writes it on associated records")
    page.get_by_role("link", name="Details").click()
    page.get_by_text("Delete property…").click()
    page.get_by_role("button", name="Delete Home region").click()
    expect(page.get_by_role("alert")).to_contain_text("Region to contacts")


def test_a_workflow_is_cloned_with_a_property_replaced(page: Page, admin: Admin, used: int,
                                                      width: int) -> None:
    page.goto(f"/ui/automation/workflows/{used}")
    page.get_by_role("link", name="Clone").click()
    page.get_by_label("Name").fill("Territory to contacts")
    page.get_by_label("Replace", exact=True).select_option("companies.region")
    page.get_by_label("with").select_option("companies.territory")
    assert sideways(page) is None
    shoot(page, f"workflow-clone-{width}")
    page.get_by_role("button", name="Clone").click()
    expect(page.get_by_role("status")).to_contain_text("Workflow cloned")
    expect(page.get_by_role("heading", name="Territory to contacts")).to_be_visible()
    clone_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    clone = flow_svc.get_flow(admin.engine, admin.principal, clone_id)
    assert clone.flow.enrollment.properties == {"territory"} and not clone.enabled
    page.goto("/ui/settings/properties/companies/territory?tab=used")
    expect(page.get_by_role("link", name="Territory to contacts")).to_be_visible()


def test_an_incompatible_replacement_is_refused_on_the_clone_page(page: Page, admin: Admin,
                                                                 used: int) -> None:
    prop_svc.create_property(admin.engine, admin.principal, "companies", prop_svc.PropertyInput(
        name="headcount", label="Headcount", type="number", field_type="number",
        group_name="companyinformation"))
    page.goto(f"/ui/automation/workflows/{used}/clone")
    page.get_by_label("Replace", exact=True).select_option("companies.region")
    page.get_by_label("with").select_option("companies.headcount")
    page.get_by_role("button", name="Clone").click()
    expect(page.get_by_role("alert")).to_contain_text("headcount cannot replace region")
    expect(page.get_by_label("with")).to_have_value("companies.headcount")


def test_the_wizard_refuses_a_new_source_that_retypes_a_sync_property_a_flow_reads(
        page: Page, admin: Admin, used: int, width: int) -> None:
    prop_svc.create_property(admin.engine, admin.principal, "companies", prop_svc.PropertyInput(
        name="headcount", label="Headcount", type="number", field_type="number",
        group_name="companyinformation"))
    reads = _region_flow("Reads the copy")
    reads.update(objectTypeId="0-1", enrollmentCriteria={
        "type": "LIST_BASED", "shouldReEnroll": False, "listFilterBranch": {
            "filterBranchType": "OR", "filterBranches": [{
                "filterBranchType": "AND", "filters": [{
                    "filterType": "PROPERTY", "property": "company_region", "operation": {
                        "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]}},
        actions=[{"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5",
                  "fields": {"property_name": "home_region", "value": {
                      "type": "OBJECT_PROPERTY", "propertyName": "company_region"}}}])
    flow_svc.create_flow(admin.engine, admin.principal, reads)
    page.goto("/ui/settings/properties/contacts/company_region/redefine")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("radio", name=re.compile(r"^Headcount headcount")).check()
    alert = page.get_by_role("alert")
    for _ in range(4):  # labels, then the record to sync from, then the review refuses
        page.get_by_role("button", name="Next").click()
        if alert.count():
            break
    expect(alert).to_contain_text("cannot be changed to another type")
    expect(alert).to_contain_text("Reads the copy")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
