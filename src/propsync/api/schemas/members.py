"""Users and teams of an account (propsync's own API; ids are strings, as HubSpot's are)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from propsync.api.schemas.common import Model
from propsync.domain.auth import Role
from propsync.services.members import Team, User


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


Short = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=320), AfterValidator(_no_nul)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200),
                     AfterValidator(_no_nul)]
Id = Annotated[int, Field(ge=1, le=10**18 - 1)]


class UserCreate(Model):
    email: Email
    name: Short = ""
    role: Role = Role.USER
    password: Password | None = None


class UserUpdate(Model):
    role: Role


class UserOut(Model):
    id: str
    email: str
    name: str
    role: Role
    teamIds: list[str]


class UserList(Model):
    results: list[UserOut]


def user_out(u: User) -> UserOut:
    return UserOut(id=str(u.user_id), email=u.email, name=u.name, role=u.role,
                   teamIds=[str(t) for t in sorted(u.team_ids)])


class TeamCreate(Model):
    name: Short
    memberIds: list[Id] = Field(default_factory=list, max_length=1000)


class TeamUpdate(Model):
    name: Short | None = None
    memberIds: list[Id] | None = Field(default=None, max_length=1000)


class TeamOut(Model):
    id: str
    name: str
    memberIds: list[str]


class TeamList(Model):
    results: list[TeamOut]


def team_out(t: Team) -> TeamOut:
    return TeamOut(id=str(t.team_id), name=t.name, memberIds=[str(m) for m in sorted(t.members)])
