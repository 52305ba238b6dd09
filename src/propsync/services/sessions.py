"""Signed-in web sessions, kept in the database so that they can be ended.

A session lasts at most 12 hours from sign-in, and ends after 2 hours without a request
(an open record page polls, so it stays alive while someone has it open). Its cookie
carries a random id; only the id's SHA-256 is stored. Signing out ends the session at
once, for every copy of its cookie; a password change ends all the user's sessions
(``services/accounts.set_password``). When it was last seen is written at most once a
minute, so a page view costs a read, not a write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.storage import sessions as store
from propsync.storage.db import read_transaction, write_transaction

MAX_AGE_MS = 12 * 3600 * 1000
IDLE_MS = 2 * 3600 * 1000
TOUCH_MS = 60 * 1000


@dataclass(frozen=True)
class LiveSession:
    """A signed-in session: ``session_id`` goes in the cookie, never in the database."""

    session_id: str
    user_id: int
    csrf: str


def start(engine: Engine, account_id: int, user_id: int) -> LiveSession:
    """A new session for a user who just signed in (their expired ones are cleared)."""
    live = LiveSession(secrets.token_urlsafe(32), user_id, secrets.token_urlsafe(24))
    now = now_ms()
    with write_transaction(engine) as conn:
        store.delete_sessions_of(conn, account_id, user_id, now - MAX_AGE_MS, now - IDLE_MS)
        store.insert_session(conn, account_id, _hash(live.session_id), user_id, live.csrf, now)
    return live


def resume(engine: Engine, account_id: int, session_id: str) -> LiveSession | None:
    """The session with that id, or ``None`` if it ended, expired or never was."""
    now, key = now_ms(), _hash(session_id)
    with read_transaction(engine) as conn:
        found = store.find_session(conn, account_id, key)
    if found is None:
        return None
    if now - found.created_ms > MAX_AGE_MS or now - found.seen_ms > IDLE_MS:
        end(engine, account_id, session_id)
        return None
    if now - found.seen_ms > TOUCH_MS:
        with write_transaction(engine) as conn:
            store.touch_session(conn, account_id, key, now)
    return LiveSession(session_id, found.user_id, found.csrf)


def end(engine: Engine, account_id: int, session_id: str) -> None:
    """End a session (signing out): its cookie, and every copy of it, stops working."""
    with write_transaction(engine) as conn:
        store.delete_session(conn, account_id, _hash(session_id))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
