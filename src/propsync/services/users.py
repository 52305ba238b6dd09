"""Signing users in with e-mail and password, and the principal a signed-in user acts as.

A user who signs in to the web UI acts with every scope; what they may see and edit
is still bounded by each property's access rule (SPEC 2), exactly as for a token.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.errors import AuthenticationError
from propsync.services.accounts import check_password
from propsync.storage import accounts as store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction


def sign_in(engine: Engine, email: str, password: str) -> Principal:
    """The principal of the user with this e-mail and password, or a 401.

    An e-mail used in several accounts signs in to the first account whose user has
    that password.
    """
    u = t.users
    with read_transaction(engine) as conn:
        rows = conn.execute(select(u.c.account_id, u.c.user_id, u.c.password_hash).where(
            u.c.email == email.strip().lower()).order_by(u.c.account_id)).all()
    for row in rows:
        if row.password_hash and check_password(password, row.password_hash):
            return principal_of(engine, row.account_id, row.user_id)
    raise AuthenticationError("That e-mail and password do not match a user. Check both and "
                              "try again.")


def principal_of(engine: Engine, account_id: int, user_id: int) -> Principal:
    """The principal of an existing user (with their teams), or a 401 if they are gone."""
    with read_transaction(engine) as conn:
        role = store.user_role(conn, account_id, user_id)
        if role is None:
            raise AuthenticationError("This user no longer exists; sign in again.")
        teams = store.team_ids_of(conn, account_id, user_id)
    return Principal(account_id, user_id, teams, frozenset(ALL_SCOPES), Role(role))
