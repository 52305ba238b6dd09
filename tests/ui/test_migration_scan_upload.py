"""Automation → Migrations → *Scan workflows exported from HubSpot* in a browser, at
1280 px and on a 390 px phone: two exported files chosen and scanned from the keyboard
(one a one-way copy, one not convertible), a folder of exports, JSON pasted next to a
file that is not JSON (its reason shown, the paste still judged); nothing wider than the
screen, and nothing created."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from propsync.services import workflows as flow_svc
from tests.integration.flows import fetched, flow, known, set_property, source
from tests.ui.conftest import UNLABELED, Admin, shoot
from tests.ui.test_migrations import fits

pytestmark = pytest.mark.xdist_group("ui")


def exported(prop: str, name: str) -> dict[str, Any]:
    """A contact workflow copying its first Unlabeled company's ``prop`` into the contact's
    Company name, as ``GET /automation/v4/flows/{id}`` on a HubSpot portal answers it."""
    body = flow("contacts", [set_property("1", "company", fetched("co", prop))],
                sources=[source("co", "companies", UNLABELED.type_id)],
                criteria=[known("createdate")], name=name)
    return {**body, "id": "4021", "revisionId": "2", "createdAt": "2024-03-01T10:00:00Z"}


def payload(name: str, body: Any) -> FilePayload:
    return {"name": name, "mimeType": "application/json",
            "buffer": json.dumps(body, indent=2).encode()}


def nothing_created(admin: Admin) -> bool:
    return flow_svc.list_flows(admin.engine, admin.principal, None, 10).flows == []


def test_two_exported_files_are_scanned_from_the_keyboard(page: Page, admin: Admin,
                                                          width: int) -> None:
    page.goto("/ui/automation/migrations")
    section = page.locator("#scan-upload")
    expect(section.get_by_role("heading", name="Scan workflows exported from HubSpot")
           ).to_be_visible()
    section.get_by_label("Workflow files").set_input_files([
        payload("company-name-copy.json", exported("name", "Company name copy")),
        payload("unknown-source.json", exported("no_such_property", "Unknown source"))])
    button = section.get_by_role("button", name="Scan workflows")
    button.focus()
    page.keyboard.press("Enter")  # from the keyboard
    results = page.locator("#scan-results")
    expect(results).to_contain_text("Nothing was created")
    good = results.locator("li", has_text="company-name-copy.json")
    expect(good).to_contain_text("One way copy")
    expect(good).to_contain_text("Proposed sync property: on Contacts, the value of name "
                                 "from the first created associated company")
    bad = results.locator("li", has_text="unknown-source.json")
    expect(bad).to_contain_text("Not convertible")
    expect(bad).to_contain_text("no_such_property")
    expect(page.locator("#scan-summary")).to_contain_text(
        "2 workflows judged: 1 one way copy, 1 not convertible")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert fits(page)
    shoot(page, f"migration-scan-upload-{width}")
    assert nothing_created(admin)


def test_a_folder_of_exports_is_scanned(page: Page, admin: Admin, width: int,
                                        tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "copy.json").write_text(json.dumps(exported("name", "Folder copy")))
    (folder / "notes.txt").write_text("not a workflow")
    page.goto("/ui/automation/migrations/scan")
    page.get_by_label("Or a folder of them").set_input_files(folder)
    page.get_by_role("button", name="Scan workflows").click()
    entry = page.locator("#scan-results li", has_text="exports/copy.json")
    expect(entry).to_contain_text("One way copy")
    expect(page.locator("#scan-unreadable")).to_contain_text("1 file(s) of the folder are "
                                                             "not .json")
    assert fits(page)


def test_pasted_json_is_judged_and_a_file_that_is_not_json_says_why(
        page: Page, admin: Admin, width: int) -> None:
    page.goto("/ui/automation/migrations")
    section = page.locator("#scan-upload")
    section.get_by_label("Workflow files").set_input_files([{
        "name": "broken.json", "mimeType": "application/json",
        "buffer": b'{"name": "Half an export",\n  "actions": [}'}])
    pasted = section.get_by_label("Or paste JSON")
    pasted.fill(json.dumps([exported("name", "Pasted copy")]))
    pasted.press("Tab")  # from the paste to the button, and Enter: no mouse
    expect(section.get_by_role("button", name="Scan workflows")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        "broken.json is not valid JSON: Expecting value at line 2, column 15.")
    expect(page.locator("#scan-results li", has_text="Pasted JSON#1")).to_contain_text(
        "One way copy")
    unread = page.locator("#scan-unreadable li", has_text="broken.json")
    expect(unread).to_contain_text("Not read")
    expect(page.get_by_label("Or paste JSON")).to_have_value(
        json.dumps([exported("name", "Pasted copy")]))  # kept, to scan again
    assert fits(page)
    shoot(page, f"migration-scan-unreadable-{width}")
    page.get_by_label("Or paste JSON").fill("")
    page.get_by_role("button", name="Scan workflows").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Choose one or more .json files")
    assert nothing_created(admin)
