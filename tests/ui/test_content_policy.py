"""The pages work under their Content-Security-Policy: Chromium reports no violation while a
person uses them (issue 12.10)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.ui.conftest import Admin
from tests.ui.test_records import synced  # noqa: F401  (a fixture)

pytestmark = pytest.mark.xdist_group("ui")


def watch_violations(page: Page) -> list[str]:
    """Every CSP violation Chromium reports on ``page`` from now on."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    return seen


def test_pages_set_a_policy_and_break_none_of_it(page: Page, admin: Admin,
                                                 synced: tuple[int, int]) -> None:  # noqa: F811
    _, contact = synced
    violations = watch_violations(page)
    reply = page.goto("/ui/settings/properties/contacts/company_city")
    assert reply is not None
    assert "script-src 'self'" in reply.headers["content-security-policy"]
    bar = page.locator(".progress span")
    expect(bar).to_have_attribute("style", "width: 100%;")
    page.goto(f"/ui/records/contacts/{contact}")
    page.locator("#prop-company_city").get_by_role("button", name="Why this value?").click()
    expect(page.locator("#explain-company_city")).to_contain_text("Fjord Labs")
    page.goto("/ui/settings/properties?objectType=companies")
    page.get_by_placeholder("Search by label or internal name").fill("city")
    expect(page.get_by_role("link", name="City", exact=True)).to_be_visible()
    page.goto("/ui/settings/users")
    page.get_by_text("Add user…").click()
    expect(page.locator("#add-user")).to_be_visible()
    page.goto("/ui/settings/properties/new?objectType=contacts")
    page.goto("/ui/records/contacts/999999999")
    page.get_by_role("link", name="Go back").click()
    expect(page).to_have_url(page.url.split("/ui/")[0] + "/ui/settings/properties/new"
                             "?objectType=contacts")
    assert violations == []
