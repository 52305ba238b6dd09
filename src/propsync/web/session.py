"""Signed session cookies: who is signed in, and the CSRF token of their forms.

The cookie is ``base64(json payload) . HMAC-SHA256(secret, payload)``; it cannot be
forged without the server secret, and expires after ``MAX_AGE_S``. A visitor who has
not signed in still gets a session (without a user) so the sign-in form has a token.
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
    csrf: str
    account_id: int | None = None
    user_id: int | None = None
    issued_s: int = 0

    @property
    def signed_in(self) -> bool:
        return self.account_id is not None and self.user_id is not None

    @classmethod
    def anonymous(cls) -> Session:
        return cls(secrets.token_urlsafe(24), issued_s=int(time.time()))

    def for_user(self, account_id: int, user_id: int) -> Session:
        """A new session for a user who just signed in (a fresh CSRF token too)."""
        return Session(secrets.token_urlsafe(24), account_id, user_id, int(time.time()))

    def accepts(self, token: str | None) -> bool:
        """Is ``token`` this session's CSRF token?"""
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


def encode(session: Session, secret: bytes) -> str:
    payload = json.dumps({"c": session.csrf, "a": session.account_id, "u": session.user_id,
                          "t": session.issued_s}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(body, secret)}"


def decode(cookie: str | None, secret: bytes) -> Session | None:
    """The session in ``cookie``, or ``None`` if it is absent, forged, malformed or expired."""
    if not cookie or "." not in cookie:
        return None
    body, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(body, secret)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        session = Session(str(data["c"]), _opt_int(data["a"]), _opt_int(data["u"]), int(data["t"]))
    except (ValueError, KeyError, TypeError):
        return None
    if time.time() - session.issued_s > MAX_AGE_S:
        return None
    return session


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _sign(body: str, secret: bytes) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
