"""The account's users and teams, as its super admins manage them (SPEC 2).

Anyone may read who the users and teams are (pages name them in access rules); only a
super admin adds users, changes roles and changes teams. Nobody widens their own access:
a super admin cannot join a team that a property's access rule admits them through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine

from propsync.domain.auth import (
    TEAMS_READ,
    TEAMS_WRITE,
    USERS_READ,
    USERS_WRITE,
    Principal,
    Role,
    widens,
)
from propsync.domain.errors import (
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.services.accounts import create_user
from propsync.storage import accounts as store
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import load_restricted

MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    name: str
    role: Role
    team_ids: frozenset[int] = frozenset()

    @property
    def display_name(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class Team:
    team_id: int
    name: str
    members: frozenset[int]


def list_users(engine: Engine, principal: Principal) -> list[User]:
    """The users of the principal's account, in id order, with their roles and teams."""
    principal.require(USERS_READ)
    with read_transaction(engine) as conn:
        return _users(conn, principal.account_id)


def _users(conn: Connection, account_id: int) -> list[User]:
    teams = store.load_teams(conn, account_id)
    return [User(r.user_id, r.email, r.name, Role(r.role),
                 frozenset(tid for tid, _, members in teams if r.user_id in members))
            for r in store.load_users(conn, account_id)]


def add_user(engine: Engine, principal: Principal, email: str, name: str, role: Role,
             password: str | None = None) -> User:
    """A new user of the account (super admins only)."""
    principal.require(USERS_WRITE)
    principal.require_super_admin("add users")
    if password is not None and not MIN_PASSWORD <= len(password) <= 200:
        raise _invalid(f"A password needs {MIN_PASSWORD} to 200 characters.", "INVALID_PASSWORD")
    user_id = create_user(engine, principal.account_id, email.strip(), password, name.strip(),
                          role)
    # as stored (create_user keeps the e-mail in lower case); a token that may add users
    # need not be one that may list them
    return User(user_id, email.strip().lower(), name.strip(), role)


def change_role(engine: Engine, principal: Principal, user_id: int, role: Role) -> User:
    """Give a user another role (super admins only); the account keeps a super admin."""
    principal.require(USERS_WRITE)
    principal.require_super_admin("change a user's role")
    return set_role(engine, principal.account_id, user_id, role)


def set_role(engine: Engine, account_id: int, user_id: int, role: Role) -> User:
    """Give a user another role, as the operator does from the CLI; refused if the account
    would be left without a super admin."""
    with write_transaction(engine) as conn:
        store.lock_members(conn, account_id)
        users = {u.user_id: u for u in _users(conn, account_id)}
        if user_id not in users:
            raise NotFoundError(f"Account {account_id} has no user {user_id}.")
        admins = [u.user_id for u in users.values() if u.role is Role.SUPER_ADMIN]
        if role is not Role.SUPER_ADMIN and admins == [user_id]:
            raise _invalid(f"{users[user_id].display_name} is the account's only super admin; "
                           "make another user super admin first.", "LAST_SUPER_ADMIN")
        store.set_role(conn, account_id, user_id, role.value)
    return replace(users[user_id], role=role)


def account_users(engine: Engine, account_id: int) -> list[User]:
    """The users of an account, as the operator lists them from the CLI."""
    with read_transaction(engine) as conn:
        if not store.account_exists(conn, account_id):
            raise NotFoundError(f"There is no account {account_id}.")
        return _users(conn, account_id)


def list_teams(engine: Engine, principal: Principal) -> list[Team]:
    principal.require(TEAMS_READ)
    with read_transaction(engine) as conn:
        return [Team(*row) for row in store.load_teams(conn, principal.account_id)]


def create_team(engine: Engine, principal: Principal, name: str, members: Iterable[int]
                ) -> Team:
    """A new team (super admins only)."""
    principal.require(TEAMS_WRITE)
    principal.require_super_admin("create teams")
    wanted = frozenset(members)
    with write_transaction(engine) as conn:
        store.lock_members(conn, principal.account_id)
        clean = _check_team(conn, principal, name, wanted, None)
        team_id = store.insert_team(conn, principal.account_id, clean, sorted(wanted))
        _refuse_own_widening(conn, principal, team_id, frozenset(), wanted)
    return Team(team_id, clean, wanted)


def update_team(engine: Engine, principal: Principal, team_id: int, name: str | None = None,
                members: Iterable[int] | None = None) -> Team:
    """Rename a team and/or replace its members (super admins only)."""
    principal.require(TEAMS_WRITE)
    principal.require_super_admin("change teams")
    with write_transaction(engine) as conn:
        store.lock_members(conn, principal.account_id)
        current = _team(conn, principal.account_id, team_id)
        wanted = current.members if members is None else frozenset(members)
        clean = _check_team(conn, principal, current.name if name is None else name, wanted,
                            team_id)
        _refuse_own_widening(conn, principal, team_id, current.members, wanted)
        store.set_team(conn, principal.account_id, team_id, clean, wanted)
    return Team(team_id, clean, wanted)


def delete_team(engine: Engine, principal: Principal, team_id: int) -> None:
    """Delete a team that no property's access rule names (super admins only)."""
    principal.require(TEAMS_WRITE)
    principal.require_super_admin("delete teams")
    with write_transaction(engine) as conn:
        store.lock_members(conn, principal.account_id)
        lock_definitions(conn, principal.account_id)  # as an access rule naming it is set
        team = _team(conn, principal.account_id, team_id)
        naming = [f"{p.object_type}.{p.name}" for p in load_restricted(conn, principal.account_id)
                  if team_id in p.access.team_ids]
        if naming:
            raise _invalid(f"The team {team.name} is named in the access rules of "
                           f"{', '.join(naming)}; change those rules first.", "TEAM_IN_USE")
        store.delete_team(conn, principal.account_id, team_id)


def _team(conn: Connection, account_id: int, team_id: int) -> Team:
    for row in store.load_teams(conn, account_id):
        if row[0] == team_id:
            return Team(*row)
    raise NotFoundError(f"This account has no team {team_id}.")


def _check_team(conn: Connection, principal: Principal, name: str, members: frozenset[int],
                team_id: int | None) -> str:
    """The team's name, trimmed: not empty, not another team's; members are users here."""
    clean = name.strip()
    if not clean or len(clean) > 200:
        raise _invalid("A team needs a name of 1 to 200 characters.", "INVALID_TEAM_NAME")
    taken = {n.lower() for tid, n, _ in store.load_teams(conn, principal.account_id)
             if tid != team_id}
    if clean.lower() in taken:
        raise _invalid(f"There is already a team named {clean}.", "TEAM_NAME_TAKEN")
    unknown = sorted(members - set(store.user_ids(conn, principal.account_id)))
    if unknown:
        raise _invalid(f"This account has no user(s) {', '.join(map(str, unknown))}.",
                       "INVALID_MEMBER")
    return clean


def _refuse_own_widening(conn: Connection, principal: Principal, team_id: int,
                         before: frozenset[int], after: frozenset[int]) -> None:
    """Joining a team is refused if a restricted property admits its members and not you."""
    me = principal.user_id
    if me not in after or me in before:
        return
    teams = store.team_ids_of(conn, principal.account_id, me)
    rules = [(p.access, p.access) for p in load_restricted(conn, principal.account_id)]
    if widens(me, rules, teams - {team_id}, teams | {team_id}):
        message = ("Joining this team would let you view or edit property values that you "
                   "may not today, and nobody can widen their own access. Ask another super "
                   "admin to add you.")
        raise PermissionDeniedError(message, [ErrorDetail(message, "CANNOT_WIDEN_OWN_ACCESS")])


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, [ErrorDetail(message, code)])
