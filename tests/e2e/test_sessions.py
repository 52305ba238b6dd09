"""Web sessions over HTTP: ended on sign-out and password change, expiring, Secure behind
HTTPS, security headers on every page, and notices only in propsync's words (issue 12.10)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.history import ValueSource
from propsync.services import records as record_svc
from propsync.services.accounts import create_account, create_user
from tests.conftest import BACKENDS, RunningServer, drop_database, make_database, run_server
from tests.e2e.web import WebClient

PASSWORD = "correct horse battery"
HOUR_MS = 3600 * 1000


@dataclass
class Person:
    account_id: int
    user_id: int
    email: str


@pytest.fixture
def web() -> Iterator[Callable[..., WebClient]]:
    opened: list[WebClient] = []

    def open_client(server: RunningServer, address: str | None = None,
                    https: bool = False) -> WebClient:
        opened.append(WebClient.open(server, address, https))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


@pytest.fixture
def person(server: RunningServer) -> Person:
    account = create_account(server.engine, f"Sessions {uuid.uuid4().hex[:6]}")
    email = f"s-{uuid.uuid4().hex[:8]}@example.com"
    return Person(account, create_user(server.engine, account, email, PASSWORD), email)


def signed_in(server: RunningServer, web: Callable[..., WebClient], person: Person
              ) -> WebClient:
    client = web(server)
    assert client.sign_in(person.email, PASSWORD).status_code == 303
    assert client.client.get("/ui/records/contacts").status_code == 200
    return client


def replay(server: RunningServer, web: Callable[..., WebClient], cookie: str | None) -> int:
    """The status of a page fetched with only a copy of ``cookie``."""
    copy = web(server)
    copy.client.cookies.set("propsync_session", cookie or "")
    return copy.client.get("/ui/records/contacts").status_code


def test_a_copied_cookie_stops_working_when_its_session_signs_out(server, web, person):
    client = signed_in(server, web, person)
    cookie = client.cookie
    assert replay(server, web, cookie) == 200
    assert client.sign_out().status_code == 303
    assert replay(server, web, cookie) == 303


def test_signing_in_starts_a_new_session_id(server, web, person):
    client = web(server)
    client.csrf()
    before = client.cookie
    assert client.sign_in(person.email, PASSWORD).status_code == 303
    assert client.cookie != before
    assert replay(server, web, before) == 303


def test_a_password_change_ends_the_users_sessions(server, web, person):
    first, second = signed_in(server, web, person), signed_in(server, web, person)
    from propsync.services.accounts import set_password
    set_password(server.engine, person.account_id, person.user_id, "a brand new password")
    assert replay(server, web, first.cookie) == 303
    assert replay(server, web, second.cookie) == 303
    assert web(server).sign_in(person.email, "a brand new password").status_code == 303


@pytest.mark.parametrize("column", ["created_ms", "seen_ms"])
def test_a_session_ends_twelve_hours_after_sign_in_or_two_idle_hours(server, web, person,
                                                                     column):
    client = signed_in(server, web, person)
    back = 12 * HOUR_MS + 1000 if column == "created_ms" else 2 * HOUR_MS + 1000
    with server.engine.begin() as conn:
        moved = conn.execute(text(f"UPDATE sessions SET {column} = {column} - :back "
                                  "WHERE account_id = :a"),
                             {"back": back, "a": person.account_id}).rowcount
    assert moved == 1
    assert client.client.get("/ui/records/contacts").status_code == 303


def test_a_forged_cookie_signs_nobody_in(server, web, person):
    cookie = signed_in(server, web, person).cookie or ""
    body, signature = cookie.rsplit(".", 1)
    for forged in (f"{body}.{'0' * len(signature)}", f"{body[:-2]}xx.{signature}",
                   "e30." + signature, "garbage", uuid.uuid4().hex):
        assert replay(server, web, forged) == 303


def test_a_form_of_another_session_is_refused(server, web, person):
    mine, theirs = signed_in(server, web, person), signed_in(server, web, person)
    reply = mine.client.post("/ui/logout", data={"csrf": theirs.csrf("/ui/records/contacts")})
    assert reply.status_code == 403
    assert replay(server, web, mine.cookie) == 200


@pytest.fixture(scope="module", params=BACKENDS)
def https_servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[RunningServer, RunningServer, RunningServer]]:
    """``(trusting no proxy, behind a trusted proxy, with PROPSYNC_SECURE_COOKIES)``."""
    url = make_database(request.param, Path(tmp_path_factory.mktemp("https")))
    engine = engine_for(Settings(database_url=url))
    quiet = {"rate_limit_max": 0, "rate_limit_daily": 0}
    with run_server(engine) as plain, \
            run_server(engine, Settings(trusted_proxies=("127.0.0.0/8",), **quiet)) as proxied, \
            run_server(engine, Settings(secure_cookies=True, **quiet)) as forced:
        yield plain, proxied, forced
    engine.dispose()
    drop_database(url)


def _cookie_header(client: WebClient) -> str:
    reply = client.client.get("/ui/login")
    return reply.headers.get("set-cookie", "")


def test_the_cookie_is_secure_when_the_client_came_over_https(https_servers, web):
    plain, proxied, forced = https_servers
    assert "secure" not in _cookie_header(web(plain)).lower()
    assert "secure" not in _cookie_header(web(proxied)).lower()
    assert "secure" in _cookie_header(web(proxied, https=True)).lower()
    assert "secure" not in _cookie_header(web(plain, https=True)).lower()  # untrusted peer
    assert "secure" in _cookie_header(web(forced)).lower()


def _security_headers_present(headers: dict[str, str], page: bool) -> list[str]:
    wrong = []
    policy = headers.get("content-security-policy", "")
    if "frame-ancestors 'none'" not in policy:
        wrong.append(f"CSP {policy!r}")
    if page and "script-src 'self'" not in policy:
        wrong.append(f"CSP of a page {policy!r}")
    for name, value in (("x-frame-options", "DENY"), ("referrer-policy", "same-origin"),
                        ("x-content-type-options", "nosniff")):
        if headers.get(name) != value:
            wrong.append(f"{name}: {headers.get(name)!r}")
    return wrong


def test_every_page_and_api_reply_sends_the_security_headers(server, tenant, web, person):
    client = signed_in(server, web, person)
    pages = ["/ui/login", "/ui/records/contacts", "/ui/settings/properties", "/ui/sync",
             "/ui/records/contacts/999999999", "/ui/no-such-page"]
    wrong = {p: _security_headers_present(dict(client.client.get(p).headers), True)
             for p in pages}
    wrong["static"] = _security_headers_present(
        dict(client.client.get("/ui/static/app.css").headers), False)
    wrong["api"] = _security_headers_present(
        dict(tenant.client.get("/crm/v3/objects/contacts").headers), False)
    assert not {k: v for k, v in wrong.items() if v}


def test_a_notice_shows_only_words_propsync_chose(server, web, person):
    principal = Principal(person.account_id, person.user_id, frozenset(),
                          frozenset(ALL_SCOPES), Role.SUPER_ADMIN)
    record = record_svc.create_records(server.engine, principal, "contacts", [
        record_svc.RecordInput({"firstname": "Ada"}, [])], ValueSource("IMPORT", "test"))[0]
    client = signed_in(server, web, person)
    injected = "Your account is suspended, call +1 555 0100"
    page = client.client.get(f"/ui/records/contacts/{record.id}", params={"notice": injected})
    assert page.status_code == 200 and "suspended" not in page.text
    props = client.client.get("/ui/settings/properties", params={"deleted": injected})
    assert props.status_code == 200 and "suspended" not in props.text
    saved = client.client.get(f"/ui/records/contacts/{record.id}", params={"notice": "saved"})
    assert 'role="status">Saved.</p>' in saved.text
