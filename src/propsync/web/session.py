"""Session cookies: who is signed in, and the CSRF token of their forms.

The cookie is ``base64(json payload) . HMAC-SHA256(secret, payload)``; it cannot be
forged without the server secret, and expires after ``MAX_AGE_S``. A visitor who has not
signed in gets an anonymous session whose cookie holds its CSRF token, so the sign-in
form has one. A signed-in session lives in the database (services/sessions.py): its
cookie names the account and a random session id, nothing more, and the session is what
the database says (user, CSRF token), so signing out ends it for every copy of the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "propsync_session"
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True)
class Session:
    """A session; ``session_id`` (signed-in sessions only) is the id its cookie carries."""

    csrf: str
    account_id: int | None = None
    user_id: int | None = None
    issued_s: int = 0
    session_id: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.account_id is not None and self.user_id is not None

    @classmethod
    def anonymous(cls) -> Session:
        return cls(secrets.token_urlsafe(24), issued_s=int(time.time()))

    def accepts(self, token: str | None) -> bool:
        """Is ``token`` this session's CSRF token?"""
        return bool(token) and bool(self.csrf) and hmac.compare_digest(self.csrf, token or "")


def encode(session: Session, secret: bytes) -> str:
    fields: dict[str, object] = (
        {"a": session.account_id, "s": session.session_id} if session.session_id
        else {"c": session.csrf})
    payload = json.dumps({**fields, "t": session.issued_s}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(body, secret)}"


def decode(cookie: str | None, secret: bytes) -> Session | None:
    """What ``cookie`` claims, or ``None`` if it is absent, forged, malformed or expired.

    A signed-in cookie gives a session with only its account and ``session_id``: who is
    signed in, and the CSRF token, are for the database to say. A cookie from before
    server-side sessions (with a user but no session id) counts as anonymous.
    """
    if not cookie or "." not in cookie:
        return None
    body, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(body, secret)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        issued = int(data["t"])
        session = (Session("", int(data["a"]), None, issued, str(data["s"])) if "s" in data
                   else Session(str(data["c"]), issued_s=issued))
    except (ValueError, KeyError, TypeError):
        return None
    if time.time() - session.issued_s > MAX_AGE_S:
        return None
    return session


def _sign(body: str, secret: bytes) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
