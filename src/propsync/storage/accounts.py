"""Accounts, users, teams and API tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    RowMapping,
    and_,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)

from propsync.storage import tables as t
from propsync.storage.db import is_postgres
from propsync.storage.ids import allocate_id
from propsync.storage.properties import seed_defaults

# One account's users and teams change one writer at a time (SQLite serializes anyway):
# "the account keeps a super admin" and "team names are unique" are checked, then written.
_MEMBERS_LOCK_CLASS = 0x4D45_0000_0000


def lock_members(conn: Connection, account_id: int) -> None:
    """Hold off other writers of the account's users and teams until commit."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                     {"k": _MEMBERS_LOCK_CLASS + account_id})


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


@dataclass(frozen=True)
class FoundToken:
    """A token looked up by its hash, with what a request needs to act on it."""

    token_id: int
    user_id: int
    scopes: str
    role: str  # of the user
    tier: str  # of the account
    revoked_ms: int | None


def find_token(conn: Connection, account_id: int, token_hash: str) -> FoundToken | None:
    """The token with that hash in that account (one indexed read, joined with its user and
    account)."""
    tk, u, a = t.tokens, t.users, t.accounts
    row = conn.execute(select(tk.c.token_id, tk.c.user_id, tk.c.scopes, tk.c.revoked_ms,
                              u.c.role, a.c.tier).join(u, and_(
        u.c.account_id == tk.c.account_id, u.c.user_id == tk.c.user_id)).join(
        a, a.c.account_id == tk.c.account_id).where(
        tk.c.account_id == account_id, tk.c.token_hash == token_hash)).first()
    if row is None:
        return None
    return FoundToken(row.token_id, row.user_id, row.scopes, row.role, row.tier, row.revoked_ms)


@dataclass(frozen=True)
class TokenRow:
    """A token as it is listed: never its secret (only the secret's hash is stored)."""

    token_id: int
    name: str
    scopes: str
    user_id: int
    user_email: str
    created_ms: int
    last_used_ms: int | None
    revoked_ms: int | None


def token_rows(conn: Connection, account_id: int, user_id: int | None = None,
               token_id: int | None = None) -> list[TokenRow]:
    """The account's tokens (only ``user_id``'s, only ``token_id``, when given), by id."""
    tk, u = t.tokens, t.users
    query = select(tk.c.token_id, tk.c.name, tk.c.scopes, tk.c.user_id, u.c.email,
                   tk.c.created_ms, tk.c.last_used_ms, tk.c.revoked_ms).join(u, and_(
        u.c.account_id == tk.c.account_id, u.c.user_id == tk.c.user_id)).where(
        tk.c.account_id == account_id).order_by(tk.c.token_id)
    if user_id is not None:
        query = query.where(tk.c.user_id == user_id)
    if token_id is not None:
        query = query.where(tk.c.token_id == token_id)
    return [TokenRow(r.token_id, r.name, r.scopes, r.user_id, r.email, r.created_ms,
                     r.last_used_ms, r.revoked_ms) for r in conn.execute(query)]


def revoke_token(conn: Connection, account_id: int, token_id: int, now_ms: int) -> None:
    """Mark the token revoked (a token revoked before keeps its first revocation time)."""
    tk = t.tokens
    conn.execute(update(tk).where(tk.c.account_id == account_id, tk.c.token_id == token_id,
                                  tk.c.revoked_ms.is_(None)).values(revoked_ms=now_ms))


def mark_tokens_used(conn: Connection, used: Mapping[tuple[int, int], int]) -> None:
    """Record when each ``(account id, token id)`` was last used (epoch ms)."""
    if not used:
        return
    tk = t.tokens
    conn.execute(update(tk).where(
        tk.c.account_id == bindparam("a"), tk.c.token_id == bindparam("tk")).values(
        last_used_ms=bindparam("ms")),
        [{"a": a, "tk": token, "ms": ms} for (a, token), ms in used.items()])


def load_users(conn: Connection, account_id: int) -> list[RowMapping]:
    """``user_id, email, name, role`` of every user of the account, in id order."""
    u = t.users
    return list(conn.execute(select(u.c.user_id, u.c.email, u.c.name, u.c.role).where(
        u.c.account_id == account_id).order_by(u.c.user_id)).mappings())


def set_role(conn: Connection, account_id: int, user_id: int, role: str) -> None:
    u = t.users
    conn.execute(update(u).where(u.c.account_id == account_id, u.c.user_id == user_id)
                 .values(role=role))


def load_teams(conn: Connection, account_id: int) -> list[tuple[int, str, frozenset[int]]]:
    """``(team_id, name, member ids)`` of every team of the account, in id order."""
    tm, m = t.teams, t.team_members
    members: dict[int, set[int]] = {}
    for team_id, user_id in conn.execute(select(m.c.team_id, m.c.user_id).where(
            m.c.account_id == account_id)):
        members.setdefault(team_id, set()).add(user_id)
    rows = conn.execute(select(tm.c.team_id, tm.c.name).where(tm.c.account_id == account_id)
                        .order_by(tm.c.team_id))
    return [(r.team_id, r.name, frozenset(members.get(r.team_id, ()))) for r in rows]


def set_team(conn: Connection, account_id: int, team_id: int, name: str,
             members: frozenset[int]) -> None:
    """Rename the team and replace its members."""
    tm, m = t.teams, t.team_members
    conn.execute(update(tm).where(tm.c.account_id == account_id, tm.c.team_id == team_id)
                 .values(name=name))
    conn.execute(delete(m).where(m.c.account_id == account_id, m.c.team_id == team_id))
    if members:
        conn.execute(insert(m), [{"account_id": account_id, "team_id": team_id, "user_id": u}
                                 for u in sorted(members)])


def delete_team(conn: Connection, account_id: int, team_id: int) -> None:
    tm, m = t.teams, t.team_members
    for table in (m, tm):
        conn.execute(delete(table).where(table.c.account_id == account_id,
                                         table.c.team_id == team_id))
