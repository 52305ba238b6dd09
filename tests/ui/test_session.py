"""Session cookies: signed, tamper-evident, expiring; CSRF tokens per session."""

from __future__ import annotations

import time

from propsync.web import session as sessions
from propsync.web.session import Session

SECRET = b"a server secret of some length"


def test_a_signed_in_session_survives_the_round_trip() -> None:
    signed_in = Session.anonymous().for_user(7, 42)
    back = sessions.decode(sessions.encode(signed_in, SECRET), SECRET)
    assert back == signed_in and back.signed_in


def test_signing_in_issues_a_new_csrf_token() -> None:
    anonymous = Session.anonymous()
    assert anonymous.for_user(1, 1).csrf != anonymous.csrf
    assert not anonymous.signed_in


def test_a_tampered_or_foreign_cookie_is_no_session() -> None:
    cookie = sessions.encode(Session.anonymous().for_user(7, 42), SECRET)
    body, signature = cookie.rsplit(".", 1)
    forged = sessions.encode(Session.anonymous().for_user(7, 1), b"another secret entirely")
    assert sessions.decode(forged, SECRET) is None
    assert sessions.decode(forged.rsplit(".", 1)[0] + "." + signature, SECRET) is None
    for junk in (None, "", "no-dot", f"{body}.", f"!!!.{signature}", cookie + "0"):
        assert sessions.decode(junk, SECRET) is None


def test_an_old_session_has_expired() -> None:
    old = Session("token", 7, 42, int(time.time()) - sessions.MAX_AGE_S - 1)
    assert sessions.decode(sessions.encode(old, SECRET), SECRET) is None


def test_the_csrf_check_accepts_only_the_sessions_token() -> None:
    session = Session.anonymous()
    assert session.accepts(session.csrf)
    assert not session.accepts(None) and not session.accepts("") and not session.accepts("x")
