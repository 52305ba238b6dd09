"""Signing users in with e-mail and password, and the principal a signed-in user acts as.

A user who signs in to the web UI acts with every scope; what they may see and edit
is still bounded by each property's access rule (SPEC 2), exactly as for a token.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.errors import AuthenticationError
from propsync.services import signin_throttle as throttle
from propsync.services.accounts import check_password
from propsync.storage import accounts as store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction


def sign_in(engine: Engine, email: str, password: str, address: str) -> Principal:
    """The principal of the user with this e-mail and password, or a 401; a 429
    (``SignInThrottled``) while the e-mail address or the client ``address`` must wait
    after failed attempts (services/signin_throttle.py).

    An unknown e-mail address costs the same password check as a known one and gets the
    same answers, so sign-in does not tell which addresses have users. An e-mail used in
    several accounts signs in to the first account whose user has that password.
    """
    wanted = email.strip().lower()
    throttle.admit(engine, wanted, address)
    found = _user_with_password(engine, wanted, password)
    if found is None:
        raise AuthenticationError("That e-mail and password do not match a user. Check both "
                                  "and try again.")
    throttle.succeeded(engine, wanted, address)
    return principal_of(engine, *found)


# Checked when no user has the e-mail address (or a password): as slow as a real check.
_NO_USER_HASH = f"scrypt$16384$8$1${'00' * 16}${'00' * 64}"


def _user_with_password(engine: Engine, email: str, password: str) -> tuple[int, int] | None:
    """``(account id, user id)`` of the first user with ``email`` and ``password``."""
    u = t.users
    with read_transaction(engine) as conn:
        rows = conn.execute(select(u.c.account_id, u.c.user_id, u.c.password_hash).where(
            u.c.email == email).order_by(u.c.account_id)).all()
    candidates = [(r.account_id, r.user_id, r.password_hash) for r in rows if r.password_hash]
    if not candidates:
        check_password(password, _NO_USER_HASH)
        return None
    for account_id, user_id, stored in candidates:
        if check_password(password, stored):
            return account_id, user_id
    return None


def principal_of(engine: Engine, account_id: int, user_id: int) -> Principal:
    """The principal of an existing user (with their teams), or a 401 if they are gone."""
    with read_transaction(engine) as conn:
        role = store.user_role(conn, account_id, user_id)
        if role is None:
            raise AuthenticationError("This user no longer exists; sign in again.")
        teams = store.team_ids_of(conn, account_id, user_id)
    return Principal(account_id, user_id, teams, frozenset(ALL_SCOPES), Role(role))
