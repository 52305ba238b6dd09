"""Browser tests: Playwright drives Debian's Chromium against a real server on SQLite.

The server and the browser are shared by the tests of this folder (one xdist group);
each test gets a fresh account, a signed-in browser context, and its own records.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.history import ValueSource
from propsync.services import records as record_svc
from propsync.services.accounts import create_account, create_user
from propsync.services.associations import AssociationInput, TypeSpec
from propsync.services.sync_properties import account_status
from tests.conftest import CHROMIUM, CHROMIUM_MISSING, RunningServer, run_server
from tests.patience import WAIT_GUARD_S

SCREENSHOTS = os.environ.get("PROPSYNC_SCREENSHOTS")  # a folder: wizard steps are saved there
PRIMARY = TypeSpec("HUBSPOT_DEFINED", 1)
UNLABELED = TypeSpec("HUBSPOT_DEFINED", 279)
SEED = ValueSource("IMPORT", "ui-test")
# Waits in the browser only guard against a hang (tests/patience.py): on a busy machine a
# page may take far longer than Playwright's default 5 s (expect) and 30 s (actions).
GUARD_MS = 120_000
expect.set_options(timeout=GUARD_MS)



@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("ui")
    engine = engine_for(Settings(database_url=f"sqlite:///{folder / 'ui.db'}"))
    with run_server(engine) as running:
        yield running
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():  # only in CI: elsewhere these tests are left out, saying why
        pytest.fail(CHROMIUM_MISSING, pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Admin:
    """A fresh account's user who signs in with e-mail and password."""

    account_id: int
    user_id: int
    email: str
    password: str
    engine: Engine

    @property
    def principal(self) -> Principal:
        return Principal(self.account_id, self.user_id, frozenset(), frozenset(ALL_SCOPES),
                         Role.SUPER_ADMIN)

    def create(self, object_type: str, values: dict[str, object],
               links: tuple[tuple[int, TypeSpec], ...] = ()) -> int:
        """A record made through the services, associated with ``links``."""
        view = record_svc.create_records(self.engine, self.principal, object_type, [
            record_svc.RecordInput(values, [AssociationInput(str(to), [spec])
                                            for to, spec in links])], SEED)[0]
        return view.id

    def settle(self, timeout: float = WAIT_GUARD_S) -> None:
        """Wait until the sync worker has applied every pending change."""
        deadline = time.monotonic() + timeout
        while account_status(self.engine, self.principal).pending:
            assert time.monotonic() < deadline, "sync did not settle"
            time.sleep(0.05)


@pytest.fixture
def admin(ui_server: RunningServer) -> Admin:
    engine = ui_server.engine
    account_id = create_account(engine, f"UI {uuid.uuid4().hex[:6]}", "enterprise")
    email, password = f"ui-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
    user_id = create_user(engine, account_id, email, password, "UI Admin")
    return Admin(account_id, user_id, email, password, engine)


@pytest.fixture
def anonymous_page(browser: Browser, ui_server: RunningServer) -> Iterator[Page]:
    context = browser.new_context(base_url=ui_server.base_url,
                                  viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(GUARD_MS)
    yield page
    context.close()


@pytest.fixture
def page(anonymous_page: Page, admin: Admin) -> Page:
    """A browser page signed in as ``admin``."""
    sign_in(anonymous_page, admin.email, admin.password)
    anonymous_page.wait_for_url("**/ui/records/contacts")
    return anonymous_page


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/ui/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def shoot(page: Page, name: str) -> None:
    """Keep a screenshot of the page when PROPSYNC_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(params=[1280, 390], ids=["1280px", "390px"])
def width(request: pytest.FixtureRequest, page: Page) -> int:
    """The test runs twice: on a 1280 px wide screen and on a 390 px wide phone."""
    page.set_viewport_size({"width": request.param, "height": 900})
    return int(request.param)
