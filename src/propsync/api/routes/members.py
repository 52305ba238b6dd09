"""Users and teams of the account: anyone reads them, a super admin changes them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.members import (
    TeamCreate,
    TeamList,
    TeamOut,
    TeamUpdate,
    UserCreate,
    UserList,
    UserOut,
    UserUpdate,
    team_out,
    user_out,
)
from propsync.domain.errors import NotFoundError
from propsync.domain.record_ids import parse_record_id
from propsync.services import members as svc

router = APIRouter(prefix="/propsync/v1", tags=["Users and teams"], responses=ERROR_RESPONSES)


@router.get("/users", response_model=UserList)
def list_users(engine: EngineDep, principal: PrincipalDep) -> UserList:
    """The account's users with their roles and teams (scope `settings.users.read`)."""
    return UserList(results=[user_out(u) for u in svc.list_users(engine, principal)])


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserCreate, engine: EngineDep, principal: PrincipalDep) -> UserOut:
    """Add a user (super admins; scope `settings.users.write`)."""
    return user_out(svc.add_user(engine, principal, body.email, body.name, body.role,
                                 body.password))


@router.patch("/users/{userId}", response_model=UserOut)
def update_user(userId: str, body: UserUpdate, engine: EngineDep, principal: PrincipalDep
                ) -> UserOut:
    """Change a user's role (super admins); the account always keeps a super admin."""
    return user_out(svc.change_role(engine, principal, _id(userId, 'user'), body.role))


@router.get("/teams", response_model=TeamList)
def list_teams(engine: EngineDep, principal: PrincipalDep) -> TeamList:
    """The account's teams and their members (scope `settings.users.teams.read`)."""
    return TeamList(results=[team_out(t) for t in svc.list_teams(engine, principal)])


@router.post("/teams", status_code=201, response_model=TeamOut)
def create_team(body: TeamCreate, engine: EngineDep, principal: PrincipalDep) -> TeamOut:
    """Create a team (super admins; scope `settings.users.teams.write`)."""
    return team_out(svc.create_team(engine, principal, body.name, body.memberIds))


@router.patch("/teams/{teamId}", response_model=TeamOut)
def update_team(teamId: str, body: TeamUpdate, engine: EngineDep, principal: PrincipalDep
                ) -> TeamOut:
    """Rename a team or replace its members; nobody joins a team that widens their access."""
    return team_out(svc.update_team(engine, principal, _id(teamId, 'team'), body.name,
                                    body.memberIds))


@router.delete("/teams/{teamId}", status_code=204, response_class=Response)
def delete_team(teamId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Delete a team that no access rule names (super admins)."""
    svc.delete_team(engine, principal, _id(teamId, 'team'))
    return Response(status_code=204)


def _id(raw: str, kind: str) -> int:
    """A user or team id from a path (read as strictly as record ids); anything else: 404."""
    parsed = parse_record_id(raw)
    if parsed is None:
        raise NotFoundError(f"This account has no {kind} {raw[:40]!r}.")
    return parsed
