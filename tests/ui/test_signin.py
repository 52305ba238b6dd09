"""Signing in and out of the web UI with e-mail and password."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import Admin, sign_in

pytestmark = pytest.mark.xdist_group("ui")


def test_a_wrong_password_is_refused_with_a_readable_message(anonymous_page: Page,
                                                             admin: Admin) -> None:
    sign_in(anonymous_page, admin.email, "not the password")
    expect(anonymous_page.get_by_role("alert")).to_contain_text("do not match a user")
    anonymous_page.goto("/ui/settings/properties")
    expect(anonymous_page).to_have_url(
        f"{anonymous_page.url.split('/ui/')[0]}/ui/login?next=/ui/settings/properties")


def test_a_user_signs_in_lands_where_they_were_going_and_signs_out(anonymous_page: Page,
                                                                   admin: Admin) -> None:
    anonymous_page.goto("/ui/sync")
    anonymous_page.get_by_label("E-mail").fill(admin.email)
    anonymous_page.get_by_label("Password").fill(admin.password)
    anonymous_page.get_by_label("Password").press("Enter")
    expect(anonymous_page.get_by_role("heading", name="Sync overview")).to_be_visible()
    anonymous_page.get_by_role("button", name="Sign out").click()
    expect(anonymous_page.get_by_role("heading", name="Sign in to propsync")).to_be_visible()
    anonymous_page.goto("/ui/records/contacts")
    expect(anonymous_page.get_by_role("heading", name="Sign in to propsync")).to_be_visible()


def test_a_form_without_the_session_token_is_refused(page: Page) -> None:
    reply = page.request.post("/ui/logout", form={"csrf": "forged"})
    assert reply.status == 403
    assert "expired or did not come from propsync" in reply.text()
