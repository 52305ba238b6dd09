"""Automation → Migrations in a browser, at 1280 px and on a 390 px phone: a copy workflow
found by the scan is migrated step by step in the wizard (started, applied, cloned,
compared — the stale copy seeded shown with its record linked —, acknowledged, cut over,
cleaned up), with the keyboard for some steps and nothing wider than the screen; another
migration is undone after a confirmation."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from propsync.domain.objects import OBJECT_TYPES
from propsync.services import lists as list_svc
from propsync.services import reports as report_svc
from propsync.services import workflows as flow_svc
from propsync.services.properties import PropertyInput, create_property
from tests.integration.flows import fetched, flow, known, set_property, source
from tests.ui.conftest import UNLABELED, Admin, shoot

pytestmark = pytest.mark.xdist_group("ui")
GUARD_S = 60


def fits(page: Page) -> bool:
    """Nothing in the page's main content reaches past the window's right edge."""
    return bool(page.evaluate("""Array.from(document.querySelectorAll('main *')).every(
        e => e.getBoundingClientRect().right <= window.innerWidth + 1)"""))


def seed(admin: Admin) -> dict[str, int]:
    """Two companies, four contacts with a copy of their company's region (one stale), a
    list and a report on the copy, and the copy workflow (off)."""
    for ot, name in (("contacts", "company_region"), ("companies", "region")):
        create_property(admin.engine, admin.principal, ot, PropertyInput(
            name, name.replace("_", " ").capitalize(), "string", "text",
            OBJECT_TYPES[ot].group))
    acme = admin.create("companies", {"name": "Acme", "region": "North"})
    beta = admin.create("companies", {"name": "Beta", "region": "South"})
    ids = {}
    for key, company, copy in (("c1", acme, "North"), ("c2", beta, "South"),
                               ("stale", beta, "North"), ("c4", acme, "North")):
        ids[key] = admin.create("contacts", {"firstname": key, "company_region": copy},
                                ((company, UNLABELED),))
    list_svc.create_list(admin.engine, admin.principal, {
        "name": f"North {uuid.uuid4().hex[:4]}", "objectTypeId": "0-1",
        "processingType": "DYNAMIC", "filterBranch": {
            "filterBranchType": "OR", "filters": [], "filterBranches": [{
                "filterBranchType": "AND", "filterBranches": [], "filters": [{
                    "filterType": "PROPERTY", "property": "company_region", "operation": {
                        "operationType": "STRING", "operator": "IS_EQUAL_TO",
                        "value": "North"}}]}]}})
    report_svc.create_report(admin.engine, admin.principal, {
        "name": "By region", "objectType": "contacts", "groupBy": "company_region"})
    ids["flow"] = flow_svc.create_flow(admin.engine, admin.principal, flow(
        "contacts", [set_property("1", "company_region", fetched("co", "region"))],
        sources=[source("co", "companies", UNLABELED.type_id)],
        criteria=[known("createdate")], name="Region copy", enabled=False)).flow_id
    admin.settle()
    return ids


def until_done(page: Page, button: str, state: str) -> None:
    """Press the next step's button until the migration's state reads ``state`` (a step
    may wait for the workers: the backfill, a clone list's evaluation)."""
    deadline = time.monotonic() + GUARD_S
    while page.locator("#migration-state").inner_text() != state:
        assert time.monotonic() < deadline, page.locator("main").inner_text()[:500]
        found = page.get_by_role("button", name=button)
        if found.count():
            found.click()
        else:
            time.sleep(0.2)
            page.reload()


def test_a_copy_workflow_is_migrated_in_the_wizard(page: Page, admin: Admin,
                                                     width: int) -> None:
    ids = seed(admin)
    page.goto("/ui/automation/workflows")
    page.get_by_role("link", name="Migrations").click()
    expect(page.get_by_role("heading", name="Migrations", exact=True)).to_be_visible()
    card = page.locator(f"#copy-{ids['flow']}")
    expect(card).to_contain_text("One way copy")
    assert fits(page)
    shoot(page, f"migrations-{width}")
    start = card.get_by_role("button", name="Start migration")
    start.focus()
    page.keyboard.press("Enter")  # from the keyboard
    expect(page.get_by_role("status")).to_contain_text("Migration started")
    expect(page.locator("#migration-state")).to_have_text("Planned")
    sample = page.locator("#stale-sample")
    expect(sample.get_by_role("link", name=str(ids["stale"]))).to_have_attribute(
        "href", f"/ui/records/contacts/{ids['stale']}")
    assert fits(page)
    shoot(page, f"migration-planned-{width}")

    apply = page.get_by_role("button", name="Apply: create the sync property")
    apply.focus()
    page.keyboard.press("Enter")
    until_done(page, "Apply: create the sync property", "Applied")
    expect(page.locator("#backfill")).to_be_visible()
    until_done(page, "Clone the lists, reports and workflows", "Cloned")
    clones = page.locator("#clone-table")
    expect(clones).to_contain_text("North")
    expect(clones).to_contain_text("By region")
    expect(clones).to_contain_text("Not cloned")  # the copy workflow itself
    until_done(page, "Compare each clone with its original", "Compared")
    compare = page.locator("#step-compare")
    expect(compare).to_contain_text("2 of 2 clone(s) differ")
    expect(compare.get_by_role("link", name=str(ids["stale"])).first).to_be_visible()
    assert fits(page)
    shoot(page, f"migration-compared-{width}")

    boxes = compare.get_by_role("checkbox")
    expect(boxes).to_have_count(2)
    for i in range(2):
        boxes.nth(i).check()
    page.get_by_role("button", name="Acknowledge the checked differences").click()
    expect(page.locator("#step-compare")).to_contain_text("Differs, acknowledged")
    until_done(page, "Cut over: turn the copy workflow off", "Cut over")
    expect(page.locator("#step-cut-over")).to_contain_text("is off")
    until_done(page, "Clean up: delete the copy workflow", "Cleaned up")
    expect(page.locator("#step-clean-up")).to_contain_text("still used by")
    assert fits(page)
    shoot(page, f"migration-cleaned-up-{width}")
    page.goto("/ui/automation/migrations")
    expect(page.locator("#migration-table")).to_contain_text("Cleaned up")


def test_a_migration_is_undone_after_confirming(page: Page, admin: Admin, width: int
                                                ) -> None:
    ids = seed(admin)
    page.goto("/ui/automation/migrations")
    page.locator(f"#copy-{ids['flow']}").get_by_role("button", name="Start migration").click()
    until_done(page, "Apply: create the sync property", "Applied")
    page.get_by_text("Undo this migration…").click()
    page.get_by_role("button", name="Undo migration").click()
    expect(page.locator("#migration-state")).to_have_text("Undone")
    expect(page.locator("#undone")).to_contain_text("the sync property deleted")
    expect(page.get_by_role("button", name="Apply: create the sync property")).to_have_count(0)
    assert fits(page)


def test_a_rehearsal_in_a_sandbox_is_replayed_here(page: Page, admin: Admin, width: int
                                                   ) -> None:
    """Rehearsed in a sandbox as far as its comparison, the migration is offered on the
    account's Migrations page and replayed there: planned with the same sync property."""
    from dataclasses import replace

    from propsync.domain.errors import ConflictError
    from propsync.domain.migrations import State, Step
    from propsync.services import migrations as svc
    from propsync.services import sandboxes

    ids = seed(admin)
    made = sandboxes.create_sandbox(admin.engine, admin.principal, "all", "Rehearsal")
    inside = replace(admin.principal, account_id=made.account_id)
    rehearsal = svc.start(admin.engine, inside, str(ids["flow"]))
    for step, state in ((Step.APPLY, State.APPLIED), (Step.CLONE, State.CLONED),
                        (Step.COMPARE, State.COMPARED)):
        deadline = time.monotonic() + GUARD_S
        while True:  # the server's workers fill the sync property and evaluate the clones
            try:
                if svc.run_step(admin.engine, inside, str(rehearsal.migration_id),
                                step).state is state:
                    break
            except ConflictError:  # a clone list still being evaluated
                pass
            assert time.monotonic() < deadline, step
            time.sleep(0.1)
    page.goto("/ui/automation/migrations")
    offered = page.locator(f"#rehearsal-{made.account_id}-{rehearsal.migration_id}")
    expect(offered).to_contain_text("Region copy")
    expect(offered).to_contain_text("sandbox Rehearsal")
    assert fits(page)
    shoot(page, f"migrations-rehearsed-{width}")
    replay = offered.get_by_role("button", name="Replay here")
    replay.focus()
    page.keyboard.press("Enter")  # from the keyboard
    expect(page.get_by_role("status")).to_contain_text("from the sandbox's rehearsal")
    expect(page.locator("#migration-state")).to_have_text("Planned")
    assert fits(page)
    replayed = svc.list_migrations(admin.engine, admin.principal)[0]
    assert [m.proposal["name"] for m in replayed] == [rehearsal.stored.proposal["name"]]
