"""Accounts, users and API tokens: creating them, and turning a bearer token into a principal."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal, Role, parse_scopes
from propsync.domain.errors import (
    AlreadyExistsError,
    AuthenticationError,
    NotFoundError,
    ValidationError,
)
from propsync.storage import accounts as store
from propsync.storage import sessions as session_store
from propsync.storage.db import read_transaction, write_transaction

TIERS = ("professional", "enterprise")
_TOKEN = re.compile(r"^pat-(\d{1,18})-([0-9a-f]{40})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewToken:
    token_id: int
    token: str  # shown once; only its hash is stored


def create_account(engine: Engine, name: str, tier: str = "professional") -> int:
    if tier not in TIERS:
        raise ValidationError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}.")
    if not name.strip():
        raise ValidationError("An account needs a name.")
    with write_transaction(engine) as conn:
        return store.insert_account(conn, name.strip(), tier, now_ms())


def create_user(
    engine: Engine, account_id: int, email: str, password: str | None = None, name: str = "",
    role: Role | None = None,
) -> int:
    """A new user; without a ``role``, an account's first user is its super admin (as in the
    CRM this copies) and later users are plain users."""
    if not _EMAIL.match(email):
        raise ValidationError(f"{email!r} is not an e-mail address.")
    with write_transaction(engine) as conn:
        _require_account(conn, account_id)
        if store.find_user_by_email(conn, account_id, email.lower()) is not None:
            raise AlreadyExistsError(f"A user with the e-mail {email} already exists.")
        if role is None:
            role = Role.USER if store.user_ids(conn, account_id) else Role.SUPER_ADMIN
        hashed = hash_password(password) if password else None
        return store.insert_user(conn, account_id, email.lower(), name, hashed, now_ms(),
                                 role.value)


def set_password(engine: Engine, account_id: int, user_id: int, password: str) -> None:
    """Give a user a new password, and end every session they have: whoever signed in with
    the old one is signed out at once."""
    if not password:
        raise ValidationError("A password cannot be empty.")
    hashed = hash_password(password)
    with write_transaction(engine) as conn:
        if store.user_role(conn, account_id, user_id) is None:
            raise NotFoundError(f"Account {account_id} has no user {user_id}.")
        store.set_password_hash(conn, account_id, user_id, hashed)
        session_store.delete_sessions_of(conn, account_id, user_id)


def create_team(engine: Engine, account_id: int, name: str, members: list[int]) -> int:
    with write_transaction(engine) as conn:
        _require_account(conn, account_id)
        return store.insert_team(conn, account_id, name, members)


def create_token(
    engine: Engine, account_id: int, scopes: str, user_id: int | None = None, name: str = ""
) -> NewToken:
    """A new token acting for ``user_id`` (default: the account's first user)."""
    try:
        granted = parse_scopes(scopes)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    secret = secrets.token_hex(20)
    token = f"pat-{account_id}-{secret}"
    with write_transaction(engine) as conn:
        _require_account(conn, account_id)
        users = store.user_ids(conn, account_id)
        if user_id is None:
            if not users:
                user_id = store.insert_user(conn, account_id, f"api-{secret[:8]}@propsync.local",
                                            "API user", None, now_ms(), Role.SUPER_ADMIN.value)
            else:
                user_id = users[0]
        elif user_id not in users:
            raise NotFoundError(f"Account {account_id} has no user {user_id}.")
        token_id = store.insert_token(conn, account_id, user_id, _digest(token),
                                      " ".join(sorted(granted)), name, now_ms())
    return NewToken(token_id, token)


@dataclass(frozen=True)
class Caller:
    """Who is behind a bearer token: the principal, and the token and tier the API's rate
    limits count by."""

    principal: Principal
    token_id: int
    tier: str


def authenticate(engine: Engine, authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Bearer`` header, or a 401."""
    return identify(engine, authorization).principal


def identify(engine: Engine, authorization: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer`` header, or a 401 (a revoked token is
    refused from the moment it is revoked: nothing is cached)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthenticationError(
            "Authentication credentials not found. Send 'Authorization: Bearer <token>'.")
    token = authorization[7:].strip()
    match = _TOKEN.match(token)
    if match is None:
        raise AuthenticationError("The access token is not valid.")
    account_id = int(match.group(1))
    with read_transaction(engine) as conn:
        found = store.find_token(conn, account_id, _digest(token))
        if found is None:
            raise AuthenticationError("The access token is not valid.")
        if found.revoked_ms is not None:
            raise AuthenticationError("This access token was revoked. Create a new one "
                                      "(Settings > API tokens, or `propsync tokens create`).")
        teams = store.team_ids_of(conn, account_id, found.user_id)
    principal = Principal(account_id, found.user_id, teams, frozenset(found.scopes.split()),
                          Role(found.role))
    return Caller(principal, found.token_id, found.tier)


def _require_account(conn: Connection, account_id: int) -> None:
    if not store.account_exists(conn, account_id):
        raise NotFoundError(f"There is no account {account_id}.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """scrypt with a random salt, as ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n),
                                   r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)
