"""Session cookies: signed, tamper-evident, expiring; a signed-in cookie names a session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from propsync.web import session as sessions
from propsync.web.session import Session

SECRET = b"a server secret of some length"


def test_an_anonymous_session_keeps_its_csrf_token_in_the_cookie() -> None:
    anonymous = Session.anonymous()
    back = sessions.decode(sessions.encode(anonymous, SECRET), SECRET)
    assert back == anonymous and not back.signed_in


def test_a_signed_in_cookie_carries_only_the_account_and_session_id() -> None:
    live = Session("csrf-token", 7, 42, int(time.time()), "random-session-id")
    back = sessions.decode(sessions.encode(live, SECRET), SECRET)
    assert back == Session("", 7, None, live.issued_s, "random-session-id")
    assert not back.signed_in  # until the database says who it is
    assert "csrf-token" not in sessions.encode(live, SECRET)


def test_a_cookie_from_before_server_side_sessions_signs_nobody_in() -> None:
    now = int(time.time())
    payload = json.dumps({"c": "token", "a": 7, "u": 42, "t": now}).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    old = f"{body}.{hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()}"
    assert sessions.decode(old, SECRET) == Session("token", issued_s=now)


def test_a_tampered_or_foreign_cookie_is_no_session() -> None:
    live = Session("x", 7, 42, int(time.time()), "sid")
    cookie = sessions.encode(live, SECRET)
    body, signature = cookie.rsplit(".", 1)
    forged = sessions.encode(Session("x", 8, 42, int(time.time()), "sid"), b"another secret!")
    assert sessions.decode(forged, SECRET) is None
    assert sessions.decode(forged.rsplit(".", 1)[0] + "." + signature, SECRET) is None
    for junk in (None, "", "no-dot", f"{body}.", f"!!!.{signature}", cookie + "0"):
        assert sessions.decode(junk, SECRET) is None


def test_an_old_session_has_expired() -> None:
    old = Session("token", 7, 42, int(time.time()) - sessions.MAX_AGE_S - 1, "sid")
    assert sessions.decode(sessions.encode(old, SECRET), SECRET) is None


def test_the_csrf_check_accepts_only_the_sessions_token() -> None:
    session = Session.anonymous()
    assert session.accepts(session.csrf)
    assert not session.accepts(None) and not session.accepts("") and not session.accepts("x")
    assert not Session("").accepts("")
