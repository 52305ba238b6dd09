"""Probes of sign-in, sessions and tokens (issue 12, points 9-11): brute force, session
replay, revoked tokens, forged and expired cookies, notice injection, rate limits.

Each probe keeps a tally: a wrong or throttled password let in, a replayed, forged or
expired cookie that still signs someone in, a revoked token still served, injected text
shown, and every request served beyond a rate limit count as failures.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.history import ValueSource
from propsync.services import records as record_svc
from propsync.services.accounts import create_account, create_token, create_user
from tests.conftest import BACKENDS, RunningServer, drop_database, make_database, run_server
from tests.e2e.web import WebClient
from tests.reliability.conftest import SCALE, Tally

pytestmark = pytest.mark.reliability
PASSWORD = "correct horse battery"
PER_INTERVAL = 20  # requests per token per 10 s on the probed server
DAILY = 30  # requests per account per day on the two servers that share a database


@dataclass
class Site:
    front: RunningServer  # behind a trusted proxy (127.0.0.1), 20 requests per 10 s
    daily: tuple[RunningServer, RunningServer]  # two processes, one database, 30 a day


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    url = make_database(request.param, Path(tmp_path_factory.mktemp("signin-probe")))
    engine = engine_for(Settings(database_url=url))
    front = Settings(trusted_proxies=("127.0.0.1",), rate_limit_max=PER_INTERVAL,
                     rate_limit_daily=0)
    daily = Settings(rate_limit_max=0, rate_limit_daily=DAILY)
    with run_server(engine, front) as proxied, run_server(engine, daily) as one, \
            run_server(engine, daily) as two:
        yield Site(proxied, (one, two))
    engine.dispose()
    drop_database(url)


@pytest.fixture
def clients() -> Iterator[list[WebClient]]:
    opened: list[WebClient] = []
    yield opened
    for client in opened:
        client.close()


def browser(site: Site, clients: list[WebClient]) -> WebClient:
    """A client of the front server from an address of its own."""
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    clients.append(WebClient.open(site.front, address))
    return clients[-1]


@dataclass
class Member:
    account_id: int
    user_id: int
    email: str


def member(server: RunningServer) -> Member:
    account = create_account(server.engine, f"Probe {uuid.uuid4().hex[:6]}")
    email = f"p-{uuid.uuid4().hex[:8]}@example.com"
    return Member(account, create_user(server.engine, account, email, PASSWORD), email)


def signed_out_page(reply: httpx.Response) -> bool:
    """Did the UI treat the request as nobody's (to the sign-in page, or a refused form)?"""
    return reply.status_code == 403 or (
        reply.status_code == 303 and reply.headers["location"].startswith("/ui/login"))


def test_guessing_passwords_never_lets_a_wrong_or_throttled_attempt_in(site, clients,
                                                                       tally: Tally):
    for _ in range(SCALE):
        person, web = member(site.front), browser(site, clients)
        started = time.monotonic()
        for i in range(100):  # 15 a second, as in the issue
            time.sleep(max(0.0, started + i / 15 - time.monotonic()))
            status = web.sign_in(person.email, f"guess {i}").status_code
            tally.attempt(status in (401, 429), f"wrong password {i}: {status}")
        right = web.sign_in(person.email, PASSWORD).status_code
        tally.attempt(right == 429, f"the right password during the throttle: {right}")


def test_a_signed_out_session_is_not_replayed(site, clients, tally: Tally):
    for _ in range(5 * SCALE):
        person, web = member(site.front), browser(site, clients)
        web.sign_in(person.email, PASSWORD)
        cookie, csrf = web.cookie, web.csrf("/ui/records/contacts")
        web.sign_out()
        thief = WebClient.open(site.front, "192.0.2.1")
        clients.append(thief)
        thief.client.cookies.set("propsync_session", cookie or "")
        for path in ("/ui/records/contacts", "/ui/settings/tokens", "/ui/settings/properties"):
            reply = thief.client.get(path)
            tally.attempt(signed_out_page(reply), f"replayed GET {path}: {reply.status_code}")
        for path, form in (("/ui/settings/tokens", {"name": "x", "scope": ALL_SCOPES[0]}),
                           ("/ui/logout", {})):
            reply = thief.client.post(path, data={"csrf": csrf, **form})
            tally.attempt(signed_out_page(reply), f"replayed POST {path}: {reply.status_code}")


def test_a_revoked_token_is_refused_everywhere(site, tally: Tally):
    server = site.daily[0]  # (no interval limit: every request is an answer about the token)
    for _ in range(5 * SCALE):
        person = member(server)
        token = create_token(server.engine, person.account_id, "all", person.user_id)
        keeper = create_token(server.engine, person.account_id, "all", person.user_id)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            auth = {"Authorization": f"Bearer {keeper.token}"}
            client.delete(f"/propsync/v1/tokens/{token.token_id}", headers=auth)
            auth = {"Authorization": f"Bearer {token.token}"}
            for method, path, body in (
                    ("GET", "/crm/v3/objects/contacts", None),
                    ("POST", "/crm/v3/objects/contacts", {"properties": {}}),
                    ("GET", "/propsync/v1/tokens", None),
                    ("DELETE", f"/propsync/v1/tokens/{keeper.token_id}", None)):
                status = client.request(method, path, json=body, headers=auth).status_code
                tally.attempt(status == 401, f"revoked token {method} {path}: {status}")


def _forgeries(good: str) -> list[str]:
    body, signature = good.rsplit(".", 1)
    claim = base64.urlsafe_b64encode(json.dumps(
        {"a": 1, "s": "guessed", "t": int(time.time())}).encode()).decode().rstrip("=")
    old_style = base64.urlsafe_b64encode(json.dumps(
        {"c": "x", "a": 1, "u": 1, "t": int(time.time())}).encode()).decode().rstrip("=")
    return [f"{body}.{'0' * 64}", f"{body[:-1]}A.{signature}", f"{claim}.{signature}",
            f"{old_style}.{signature}", uuid.uuid4().hex, good + "0", "", "."]


def test_forged_and_expired_cookies_sign_nobody_in(site, clients, tally: Tally):
    for _ in range(3 * SCALE):
        person, web = member(site.front), browser(site, clients)
        web.sign_in(person.email, PASSWORD)
        good = web.cookie or ""
        with site.front.engine.begin() as conn:  # a second session, 12 hours old
            expired = browser(site, clients)
            expired.sign_in(person.email, PASSWORD)
            conn.execute(text("UPDATE sessions SET created_ms = created_ms - 43201000 "
                              "WHERE account_id = :a AND created_ms = (SELECT MAX(created_ms) "
                              "FROM sessions WHERE account_id = :a)"),
                         {"a": person.account_id})
        for cookie in [*_forgeries(good), expired.cookie or ""]:
            replay = WebClient.open(site.front, "192.0.2.2")
            clients.append(replay)
            replay.client.cookies.set("propsync_session", cookie)
            reply = replay.client.get("/ui/records/contacts")
            tally.attempt(signed_out_page(reply), f"cookie {cookie[:30]!r}: {reply.status_code}")


def test_injected_notices_are_never_shown(site, clients, tally: Tally):
    person, web = member(site.front), browser(site, clients)
    principal = Principal(person.account_id, person.user_id, frozenset(),
                          frozenset(ALL_SCOPES), Role.SUPER_ADMIN)
    record = record_svc.create_records(site.front.engine, principal, "contacts", [
        record_svc.RecordInput({"firstname": "Ada"}, [])], ValueSource("IMPORT", "probe"))[0]
    web.sign_in(person.email, PASSWORD)
    for i in range(20 * SCALE):
        words = f"Call {uuid.uuid4().hex[:10]} now"
        for path, name in ((f"/ui/records/contacts/{record.id}", "notice"),
                           ("/ui/settings/properties", "deleted"),
                           ("/ui/settings/tokens", "notice")):
            page = web.client.get(path, params={name: words})
            tally.attempt(page.status_code == 200 and words not in page.text,
                          f"try {i}: {path}?{name}= shown ({page.status_code})")


def test_no_request_is_served_beyond_a_tokens_rate_limit(site, tally: Tally):
    for _ in range(3 * SCALE):
        person = member(site.front)
        token = create_token(site.front.engine, person.account_id, "all", person.user_id)
        served = 0
        with httpx.Client(base_url=site.front.base_url, timeout=30,
                          headers={"Authorization": f"Bearer {token.token}"}) as client:
            for i in range(2 * PER_INTERVAL):  # a burst well inside one 10 s interval
                status = client.get("/crm/v3/objects/contacts").status_code
                served += status == 200
                tally.attempt(status == (200 if i < PER_INTERVAL else 429),
                              f"request {i} of a burst: {status}")


def test_no_request_is_served_beyond_the_daily_limit_across_processes(site, tally: Tally):
    one, two = site.daily
    for _ in range(SCALE):
        person = member(one)
        token = create_token(one.engine, person.account_id, "all", person.user_id).token
        served = 0
        for turn in range(6):  # bursts on either process, a second and a half apart
            server = (one, two)[turn % 2]
            with httpx.Client(base_url=server.base_url, timeout=30,
                              headers={"Authorization": f"Bearer {token}"}) as client:
                for _ in range(10):
                    ok = client.get("/crm/v3/objects/contacts").status_code == 200
                    served += ok
                    tally.attempt(not ok or served <= DAILY,
                                  f"request {served} served over the daily {DAILY}")
            time.sleep(1.5)
        tally.attempt(served == DAILY, f"{served} served of a daily limit of {DAILY}")
