"""The API docs render in Chromium with no internet: every request that would leave the
machine is refused, and Swagger UI still lists the operations, ReDoc still documents
them, and neither page breaks its Content-Security-Policy."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.conftest import RunningServer
from tests.ui.conftest import GUARD_MS
from tests.ui.test_content_policy import watch_violations

pytestmark = pytest.mark.xdist_group("ui")

WIDTHS = (1280, 390)


def offline_page(browser: Browser, server: RunningServer, width: int) -> tuple[Page, list[str]]:
    """A page of its own context that reaches only this machine; the list collects every
    request refused for leaving it."""
    context = browser.new_context(base_url=server.base_url,
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(GUARD_MS)
    refused: list[str] = []

    def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_this_machine)
    return page, refused


@pytest.mark.parametrize("width", WIDTHS)
def test_swagger_ui_lists_the_operations_offline(browser: Browser, ui_server: RunningServer,
                                                 width: int) -> None:
    page, refused = offline_page(browser, ui_server, width)
    violations = watch_violations(page)
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/crm/v3/objects/{objectType}")
           .first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens, with its details
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert refused == [] and violations == []
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_redoc_documents_the_operations_offline(browser: Browser, ui_server: RunningServer,
                                                width: int) -> None:
    page, refused = offline_page(browser, ui_server, width)
    violations = watch_violations(page)
    page.goto("/redoc")
    expect(page.locator("[data-section-id^='operation/']").first).to_be_attached()
    expect(page.get_by_text("/crm/v3/objects/{objectType}").first).to_be_attached()
    if width >= 1280:  # on a phone the menu, with the search box, is folded away
        page.get_by_placeholder("Search...").fill("batch")  # the search worker runs
        expect(page.locator("[data-role='search:results'] li").first).to_be_attached()
    # ReDoc's "API docs by Redocly" badge is an image on a CDN: the policy refuses it on
    # purpose, and ReDoc then leaves it out.
    assert refused == [] and [v for v in violations if "cdn.redoc.ly" not in v] == []
    page.context.close()
