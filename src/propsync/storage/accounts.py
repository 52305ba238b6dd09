"""Accounts, users, teams and API tokens."""

from __future__ import annotations

from sqlalchemy import Connection, and_, insert, select, update

from propsync.storage import tables as t
from propsync.storage.ids import allocate_id
from propsync.storage.properties import seed_defaults


def insert_account(conn: Connection, name: str, tier: str, now_ms: int) -> int:
    """A new account with the default properties and groups of every object type."""
    account_id = allocate_id(conn, "accounts")
    conn.execute(insert(t.accounts).values(
        account_id=account_id, name=name, tier=tier, created_ms=now_ms))
    seed_defaults(conn, account_id, now_ms)
    return account_id


def account_exists(conn: Connection, account_id: int) -> bool:
    a = t.accounts
    found = conn.execute(select(a.c.account_id).where(a.c.account_id == account_id)).first()
    return found is not None


def account_tier(conn: Connection, account_id: int) -> str:
    a = t.accounts
    tier = conn.execute(select(a.c.tier).where(a.c.account_id == account_id)).scalar()
    return str(tier or "professional")


def insert_user(
    conn: Connection, account_id: int, email: str, name: str, password_hash: str | None,
    now_ms: int, role: str,
) -> int:
    user_id = allocate_id(conn, "users")
    conn.execute(insert(t.users).values(
        account_id=account_id, user_id=user_id, email=email, name=name,
        password_hash=password_hash, created_ms=now_ms, role=role))
    return user_id


def user_role(conn: Connection, account_id: int, user_id: int) -> str | None:
    """The user's role, or ``None`` if the account has no such user."""
    u = t.users
    return conn.execute(select(u.c.role).where(
        u.c.account_id == account_id, u.c.user_id == user_id)).scalar()


def set_password_hash(conn: Connection, account_id: int, user_id: int, password_hash: str
                      ) -> None:
    u = t.users
    conn.execute(update(u).where(u.c.account_id == account_id, u.c.user_id == user_id)
                 .values(password_hash=password_hash))


def find_user_by_email(conn: Connection, account_id: int, email: str) -> int | None:
    u = t.users
    return conn.execute(select(u.c.user_id).where(
        u.c.account_id == account_id, u.c.email == email)).scalar()


def user_ids(conn: Connection, account_id: int) -> list[int]:
    u = t.users
    return list(conn.execute(select(u.c.user_id).where(u.c.account_id == account_id)
                             .order_by(u.c.user_id)).scalars())


def insert_team(conn: Connection, account_id: int, name: str, members: list[int]) -> int:
    team_id = allocate_id(conn, "teams")
    conn.execute(insert(t.teams).values(account_id=account_id, team_id=team_id, name=name))
    if members:
        conn.execute(insert(t.team_members), [
            {"account_id": account_id, "team_id": team_id, "user_id": m} for m in members])
    return team_id


def team_ids_of(conn: Connection, account_id: int, user_id: int) -> frozenset[int]:
    m = t.team_members
    return frozenset(conn.execute(select(m.c.team_id).where(
        m.c.account_id == account_id, m.c.user_id == user_id)).scalars())


def team_ids(conn: Connection, account_id: int) -> list[int]:
    tm = t.teams
    return list(conn.execute(select(tm.c.team_id).where(tm.c.account_id == account_id)).scalars())


def insert_token(
    conn: Connection, account_id: int, user_id: int, token_hash: str, scopes: str, name: str,
    now_ms: int,
) -> int:
    token_id = allocate_id(conn, "tokens")
    conn.execute(insert(t.tokens).values(
        account_id=account_id, token_id=token_id, user_id=user_id, name=name,
        token_hash=token_hash, scopes=scopes, created_ms=now_ms))
    return token_id


def find_token(conn: Connection, account_id: int, token_hash: str
               ) -> tuple[int, str, str] | None:
    """``(user_id, scopes, role of the user)`` of the token with that hash in that account."""
    tk, u = t.tokens, t.users
    row = conn.execute(select(tk.c.user_id, tk.c.scopes, u.c.role).join(u, and_(
        u.c.account_id == tk.c.account_id, u.c.user_id == tk.c.user_id)).where(
        tk.c.account_id == account_id, tk.c.token_hash == token_hash)).first()
    return (row.user_id, row.scopes, row.role) if row else None
