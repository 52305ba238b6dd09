"""Reports in the browser, at 1280 px and 390 px: made with the editor, drawn as a chart
(the canvas is drawn by the vendored Chart.js) above a table of the same figures,
downloaded as CSV with the table's rows, shown as of a past date, cloned and deleted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from propsync.services import list_members as members_svc
from propsync.services import lists as list_svc
from propsync.services import reports as report_svc
from tests.ui.conftest import Admin, shoot

pytestmark = pytest.mark.xdist_group("ui")


def test_a_report_made_in_the_editor_is_drawn_tabled_and_downloaded(
        page: Page, admin: Admin, width: int, tmp_path: Path) -> None:
    for stage, count in (("lead", 3), ("customer", 2), ("subscriber", 1)):
        for i in range(count):
            admin.create("contacts", {"firstname": f"{stage} {i}", "lifecyclestage": stage})
    admin.create("contacts", {"firstname": "Nobody"})
    page.goto("/ui/reports")
    expect(page.get_by_role("heading", name="No reports yet")).to_be_visible()
    shoot(page, f"reports-empty-{width}")
    page.get_by_role("link", name="Create report").first.click()
    page.get_by_label("Name").fill("Contacts by stage")
    page.get_by_label("Group by").select_option("lifecyclestage")
    page.get_by_label("Chart").select_option("COLUMN")
    page.get_by_label("Property", exact=True).select_option("firstname")
    page.get_by_label("Operator").select_option("IS_KNOWN")
    shoot(page, f"report-editor-{width}")
    page.get_by_role("button", name="Create report").click()
    expect(page.get_by_role("status")).to_have_text("Report created.")
    canvas = page.locator("#report-chart")
    expect(canvas).to_have_attribute("data-drawn", "4")
    assert canvas.bounding_box()["width"] > 200  # type: ignore[index]
    table = page.locator("#report-figures")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.locator("tbody tr").first).to_contain_text("Lead")
    expect(table.locator("tfoot")).to_contain_text("7")
    shoot(page, f"report-page-{width}")
    with page.expect_download() as got:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "report.csv"
    got.value.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows == [["lifecyclestage", "Records"], ["Lead", "3"], ["Customer", "2"],
                    ["Subscriber", "1"], ["(no value)", "1"], ["Total", "7"]]

    page.get_by_label("As of").fill("2001-01-01")
    page.get_by_role("button", name="Show").click()
    expect(table).to_contain_text("No records then")
    expect(page.locator("#report-chart")).to_have_attribute("data-drawn", "0")

    page.goto(page.url.split("?")[0])
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Property", exact=True)).to_have_value("firstname")
    page.get_by_label("Chart").select_option("PIE")
    page.get_by_role("button", name="+ Group").click()
    page.get_by_label("Property", exact=True).nth(1).select_option("lifecyclestage")
    page.get_by_label("Operator").nth(1).select_option("IS_UNKNOWN")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(table.locator("tfoot")).to_contain_text("7")  # firstname known, or no stage
    expect(canvas).to_have_attribute("data-drawn", "4")

    page.get_by_label("Name of the copy").fill("Stages again")
    page.get_by_role("button", name="Clone report").click()
    expect(page.get_by_role("status")).to_have_text("Report cloned: this is the copy.")
    expect(page.get_by_role("heading", name="Stages again")).to_be_visible()
    page.get_by_role("button", name="Delete report").click()
    expect(page.get_by_role("status")).to_have_text("Report deleted.")
    expect(page.locator("#report-table")).to_contain_text("Contacts by stage")
    shoot(page, f"reports-list-{width}")


@pytest.mark.parametrize("chart", ["BAR", "PIE", "LINE"])
def test_every_chart_type_is_drawn(page: Page, admin: Admin, width: int, chart: str) -> None:
    for amount, close in (("100", "2026-01-05"), ("50", "2026-02-10"), ("25", "2026-02-20")):
        admin.create("deals", {"dealname": f"Deal {amount}", "amount": amount,
                               "closedate": close})
    made = report_svc.create_report(admin.engine, admin.principal, {
        "name": f"Amount by month ({chart})", "objectType": "deals", "measure": "SUM",
        "measureProperty": "amount", "groupBy": "closedate", "chartType": chart})
    page.goto(f"/ui/reports/{made.report_id}")
    expect(page.locator("#report-chart")).to_have_attribute("data-drawn", "2")
    expect(page.locator("#report-figures tbody tr").first).to_contain_text("Jan 2026")
    expect(page.locator("#report-figures tbody tr").first).to_contain_text("100")
    if chart == "LINE":
        shoot(page, f"report-line-{width}")


def test_a_report_counts_the_members_of_a_list_chosen_in_the_editor(
        page: Page, admin: Admin, width: int) -> None:
    picked = [admin.create("contacts", {"firstname": f"In {i}", "lifecyclestage": "lead"})
              for i in range(2)]
    admin.create("contacts", {"firstname": "Out", "lifecyclestage": "customer"})
    made = list_svc.create_list(admin.engine, admin.principal, {
        "name": "Hand-picked", "objectTypeId": "0-1", "processingType": "MANUAL"})
    members_svc.change_members(admin.engine, admin.principal, str(made.list_id), picked, [])
    page.goto("/ui/reports/new")
    page.get_by_label("Name").fill("Picked by stage")
    page.get_by_label("Group by").select_option("lifecyclestage")
    page.get_by_label("Count only the members of a list").select_option(label="Hand-picked")
    page.get_by_role("button", name="Create report").click()
    expect(page.get_by_role("status")).to_have_text("Report created.")
    expect(page.locator("main")).to_contain_text(f"members of list {made.list_id}")
    table = page.locator("#report-figures")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tfoot")).to_contain_text("2")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Count only the members of a list")).to_have_value(
        str(made.list_id))
