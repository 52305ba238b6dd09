"""Guessing passwords through the sign-in form: throttled per e-mail and per client address,
with growing waits, the same answer for known and unknown e-mail addresses (issue 12.9).

The servers of this module have a database of their own (a throttled address must not
lock other tests out); one trusts 127.0.0.1 as a proxy, so that each test chooses its
client address with ``X-Forwarded-For``, the other trusts nobody.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.services.accounts import create_account, create_user
from tests.conftest import BACKENDS, RunningServer, drop_database, make_database, run_server
from tests.e2e.web import WebClient, alert_text

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module", params=BACKENDS)
def servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[RunningServer, RunningServer]]:
    """``(behind a trusted proxy, trusting nobody)`` over one fresh database."""
    url = make_database(request.param, Path(tmp_path_factory.mktemp("throttle")))
    engine = engine_for(Settings(database_url=url))
    proxied = Settings(trusted_proxies=("127.0.0.1",), rate_limit_max=0, rate_limit_daily=0)
    with run_server(engine, proxied) as behind_proxy, run_server(engine) as direct:
        yield behind_proxy, direct
    engine.dispose()
    drop_database(url)


@pytest.fixture
def proxied(servers: tuple[RunningServer, RunningServer]) -> RunningServer:
    return servers[0]


@pytest.fixture
def web() -> Iterator[Callable[..., WebClient]]:
    """Opens web clients (``WebClient.open``'s arguments); closed when the test ends."""
    opened: list[WebClient] = []

    def open_client(server: RunningServer, address: str | None = None) -> WebClient:
        opened.append(WebClient.open(server, address))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


def new_user(server: RunningServer) -> str:
    account = create_account(server.engine, f"Throttle {uuid.uuid4().hex[:6]}")
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    create_user(server.engine, account, email, PASSWORD)
    return email


def new_address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def unknown_email() -> str:
    return f"nobody-{uuid.uuid4().hex[:8]}@example.com"


def test_the_right_password_after_many_wrong_ones_is_refused_while_throttled(proxied, web):
    email, browser = new_user(proxied), web(proxied, new_address())
    replies = [browser.sign_in(email, f"guess {i}") for i in range(10)]
    assert all(r.status_code in (401, 429) for r in replies)
    assert [r.status_code for r in replies[:5]] == [401] * 5
    assert 429 in [r.status_code for r in replies[5:]]
    right = browser.sign_in(email, PASSWORD)
    assert right.status_code == 429, "the right password was accepted during a throttle"
    assert "Try again in" in alert_text(right)
    assert int(right.headers["Retry-After"]) >= 1
    assert browser.client.get("/ui/records/contacts").status_code == 303  # still signed out


def _normalised(text: str) -> str:
    return re.sub(r"\d+ (second|minute)s?", r"N \1", text)


def test_known_and_unknown_addresses_get_the_same_answers(proxied, web):
    known, unknown = new_user(proxied), unknown_email()
    answers = []
    for email in (known, unknown):
        browser = web(proxied, new_address())
        replies = [browser.sign_in(email, f"guess {i}") for i in range(7)]
        answers.append([(r.status_code, _normalised(alert_text(r))) for r in replies])
    assert answers[0] == answers[1]
    assert answers[0][0] == (401, "That e-mail and password do not match a user. Check both "
                                  "and try again.")
    assert answers[0][-1][0] == 429


def test_waiting_lets_the_user_in_and_a_success_resets_the_count(proxied, web):
    email, browser = new_user(proxied), web(proxied, new_address())
    replies = [browser.sign_in(email, f"guess {i}") for i in range(6)]
    assert replies[-1].status_code == 429
    time.sleep(int(replies[-1].headers["Retry-After"]) + 0.2)
    assert browser.sign_in(email, PASSWORD).status_code == 303
    browser.sign_out()
    again = [browser.sign_in(email, f"again {i}").status_code for i in range(6)]
    assert again == [401] * 5 + [429]


def test_one_address_trying_many_addresses_is_throttled_and_another_is_not(proxied, web):
    browser = web(proxied, new_address())
    codes = [browser.sign_in(unknown_email(), "password1").status_code for _ in range(25)]
    assert codes[:20] == [401] * 20 and codes[-1] == 429
    other = web(proxied, new_address())
    assert other.sign_in(unknown_email(), "password1").status_code == 401


def test_forwarded_for_counts_only_from_a_trusted_proxy(servers, web):
    browser = web(servers[1])
    codes = []
    for _ in range(22):  # a new forwarded address each time: ignored, the peer is counted
        browser.client.headers["X-Forwarded-For"] = new_address()
        codes.append(browser.sign_in(unknown_email(), "password1").status_code)
    assert codes[-1] == 429
