"""Who is calling, and what their token allows: scopes and the principal of a request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from propsync.domain.errors import ForbiddenError
from propsync.domain.objects import OBJECT_TYPES

ALL_SCOPES: tuple[str, ...] = tuple(
    f"crm.{kind}.{ot}.{mode}"
    for ot in OBJECT_TYPES
    for kind in ("objects", "schemas")
    for mode in ("read", "write")
)


class Role(StrEnum):
    """What a user may manage (SPEC 2); a token acts with its user's role."""

    SUPER_ADMIN = "super_admin"  # users, teams, access rules: everything
    ADMIN = "admin"  # with the property-settings permission: properties, sync properties, labels
    USER = "user"  # records only, within property access

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {Role.SUPER_ADMIN: "Super admin", Role.ADMIN: "Admin (property settings)",
               Role.USER: "User"}


@dataclass(frozen=True)
class Principal:
    """A user of an account with a ``role``, acting through a token with ``scopes``."""

    account_id: int
    user_id: int
    team_ids: frozenset[int]
    scopes: frozenset[str]
    role: Role

    def require(self, *scopes: str) -> None:
        """Raise 403 unless every scope in ``scopes`` was granted."""
        missing = [s for s in scopes if s not in self.scopes]
        if missing:
            raise ForbiddenError(
                "This token is missing the scopes this call needs: "
                f"{', '.join(missing)}. Create a token with them "
                "(`propsync tokens create --scopes ...`).",
                context={"requiredGranularScopes": missing},
            )


def object_scope(object_type: str, write: bool = False) -> str:
    return f"crm.objects.{object_type}.{'write' if write else 'read'}"


def schema_scope(object_type: str, write: bool = False) -> str:
    return f"crm.schemas.{object_type}.{'write' if write else 'read'}"


def parse_scopes(raw: str) -> frozenset[str]:
    """``all`` or a comma/space separated list of known scopes; unknown ones are refused."""
    if raw.strip() == "all":
        return frozenset(ALL_SCOPES)
    scopes = frozenset(s for s in raw.replace(",", " ").split() if s)
    unknown = sorted(scopes - set(ALL_SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)} (known: {', '.join(ALL_SCOPES)})")
    return scopes
