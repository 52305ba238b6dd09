"""Settings → API tokens in a browser, on a desktop (1280 px) and a phone (390 px): a super
admin sees every token of the account, a user their own; creating shows the secret once;
Revoke asks first, and the token is refused at once (issue 12.10)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from propsync.domain.auth import Role
from propsync.services.accounts import create_token, create_user
from tests.conftest import RunningServer
from tests.ui.conftest import GUARD_MS, Admin, shoot, sign_in

pytestmark = pytest.mark.xdist_group("ui")
WIDTHS = [1280, 390]


@pytest.fixture
def open_page(browser: Browser, ui_server: RunningServer) -> Iterator[Callable[..., Page]]:
    """Opens a page ``width`` pixels wide, signed in as ``email``."""
    contexts = []

    def open_signed_in(width: int, email: str, password: str) -> Page:
        context = browser.new_context(base_url=ui_server.base_url,
                                      viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(GUARD_MS)
        sign_in(page, email, password)
        page.wait_for_url("**/ui/records/contacts")
        return page

    yield open_signed_in
    for context in contexts:
        context.close()


def status_with(server: RunningServer, token: str, path: str) -> int:
    with httpx.Client(base_url=server.base_url,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        return client.get(path).status_code


def fits(page: Page) -> bool:
    """Nothing in the page's main content reaches past the window's right edge."""
    return bool(page.evaluate("""Array.from(document.querySelectorAll('main *')).every(
        e => e.getBoundingClientRect().right <= window.innerWidth + 1)"""))


def plain_user(admin: Admin) -> tuple[int, str, str]:
    email, password = f"user-{uuid.uuid4().hex[:8]}@example.com", "a user's password"
    user_id = create_user(admin.engine, admin.account_id, email, password, "Ulla User",
                          role=Role.USER)
    return user_id, email, password


@pytest.mark.parametrize("width", WIDTHS)
def test_a_super_admin_sees_every_token_and_revokes_one_after_confirming(
        open_page, admin: Admin, ui_server: RunningServer, width: int) -> None:
    user_id, user_email, _ = plain_user(admin)
    theirs = create_token(admin.engine, admin.account_id, "all", user_id, "Ulla's script")
    create_token(admin.engine, admin.account_id, "all", admin.user_id, "Admin's export")
    page = open_page(width, admin.email, admin.password)
    if width >= 960:  # the settings menu is a sidebar on wide screens
        page.goto("/ui/settings/properties")
        page.get_by_role("link", name="API tokens").click()
    else:
        page.goto("/ui/settings/tokens")
    expect(page.get_by_role("heading", name="Tokens of this account")).to_be_visible()
    row = page.locator(f"#token-{theirs.token_id}")
    expect(row).to_contain_text("Ulla's script")
    expect(row).to_contain_text(user_email)
    expect(page.locator("#token-table")).to_contain_text("Admin's export")
    assert fits(page)
    row.get_by_text("Revoke…").click()
    expect(row.get_by_text("Every app using it is refused from now on")).to_be_visible()
    shoot(page, f"tokens-revoke-{width}")
    assert status_with(ui_server, theirs.token, "/crm/v3/objects/contacts") == 200
    row.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("Token revoked")
    expect(page.locator(f"#token-{theirs.token_id}")).to_contain_text("Revoked")
    assert status_with(ui_server, theirs.token, "/crm/v3/objects/contacts") == 401


@pytest.mark.parametrize("width", WIDTHS)
def test_a_user_creates_a_token_sees_its_secret_once_and_only_their_own(
        open_page, admin: Admin, ui_server: RunningServer, width: int) -> None:
    create_token(admin.engine, admin.account_id, "all", admin.user_id, "Admin's export")
    _, email, password = plain_user(admin)
    page = open_page(width, email, password)
    page.goto("/ui/settings/tokens")
    expect(page.get_by_role("heading", name="Your tokens")).to_be_visible()
    expect(page.locator("#token-table")).not_to_contain_text("Admin's export")
    page.get_by_label("Name").fill("Newsletter sync")
    page.get_by_label("read records of contacts").check()
    page.get_by_label("edit records of contacts").check()
    page.get_by_label("read users and tokens").check()
    page.get_by_role("button", name="Create token").click()
    secret_box = page.get_by_label("Your new token")
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert secret.startswith("pat-")
    assert fits(page)
    shoot(page, f"tokens-created-{width}")
    assert status_with(ui_server, secret, "/crm/v3/objects/contacts") == 200
    assert status_with(ui_server, secret, "/crm/v3/objects/companies") == 403
    assert status_with(ui_server, secret, "/propsync/v1/tokens") == 200
    assert status_with(ui_server, secret, "/propsync/v1/teams") == 403
    page.goto("/ui/settings/tokens")
    expect(page.locator("#token-table")).to_contain_text("Newsletter sync")
    assert secret not in page.content()


def test_a_token_that_may_do_nothing_is_refused_with_a_reason(page: Page) -> None:
    page.goto("/ui/settings/tokens")
    page.get_by_label("Name").fill("Empty")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one thing")
    expect(page.get_by_label("Name")).to_have_value("Empty")
