"""Who is calling, and what their token allows: scopes and the principal of a request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from propsync.domain.errors import ErrorDetail, ForbiddenError, PermissionDeniedError
from propsync.domain.objects import OBJECT_TYPES
from propsync.domain.properties import AccessRule

# HubSpot's scopes for users and teams (its user provisioning API).
USERS_READ, USERS_WRITE = "settings.users.read", "settings.users.write"
TEAMS_READ, TEAMS_WRITE = "settings.users.teams.read", "settings.users.teams.write"
# HubSpot's one scope of the Automation v4 workflows API (reading and changing flows).
AUTOMATION = "automation"
# HubSpot's scope for its reports and dashboards; propsync's reports ask for it.
BUSINESS_INTELLIGENCE = "business-intelligence"
# HubSpot's scopes of the Lists v3 API.
LISTS_READ, LISTS_WRITE = "crm.lists.read", "crm.lists.write"
ALL_SCOPES: tuple[str, ...] = (
    *(f"crm.{kind}.{ot}.{mode}" for ot in OBJECT_TYPES for kind in ("objects", "schemas")
      for mode in ("read", "write")),
    USERS_READ, USERS_WRITE, TEAMS_READ, TEAMS_WRITE, AUTOMATION, BUSINESS_INTELLIGENCE,
    LISTS_READ, LISTS_WRITE,
)


class Role(StrEnum):
    """What a user may manage (SPEC 2); a token acts with its user's role."""

    SUPER_ADMIN = "super_admin"  # users, teams, access rules: everything
    ADMIN = "admin"  # with the property-settings permission: properties, sync properties,
    # labels, workflows
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

    @property
    def is_super_admin(self) -> bool:
        return self.role is Role.SUPER_ADMIN

    @property
    def manages_properties(self) -> bool:
        """Super admins and admins with the property-settings permission."""
        return self.role in (Role.SUPER_ADMIN, Role.ADMIN)

    def require_property_settings(self) -> None:
        """Raise 403 unless the user may change properties, sync properties, labels and
        workflows."""
        if not self.manages_properties:
            raise _denied("Only super admins and admins with the property-settings permission "
                          "can change properties, sync properties, association labels and "
                          "workflows. Ask one of them.", "PROPERTY_SETTINGS_REQUIRED")

    def require_super_admin(self, what: str) -> None:
        """Raise 403 unless the user is a super admin; ``what`` names the refused action."""
        if not self.is_super_admin:
            raise _denied(f"Only a super admin can {what}. Ask one of the account's super "
                          "admins.", "SUPER_ADMIN_REQUIRED")


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


def check_access_change(principal: Principal, name: str, old: AccessRule, new: AccessRule
                        ) -> None:
    """Only a super admin changes an access rule, and nobody widens their own access.

    ``name`` is the property the rule belongs to; an unchanged rule always passes.
    """
    if old == new:
        return
    principal.require_super_admin(f"change who can view and edit the values of {name}")
    if widens(principal.user_id, [(old, new)], principal.team_ids, principal.team_ids):
        raise _denied(f"This change would let you view or edit values of {name} that you "
                      "may not today, and nobody can widen their own access. Ask another super "
                      "admin to make it.", "CANNOT_WIDEN_OWN_ACCESS")


def widens(user_id: int, rules: Iterable[tuple[AccessRule, AccessRule]],
           teams_before: frozenset[int], teams_after: frozenset[int]) -> bool:
    """Does the user, in teams ``teams_after`` under the new rules, view or edit anything
    they could not in ``teams_before`` under the old ones?"""
    for old, new in rules:
        if new.can_view(user_id, teams_after) and not old.can_view(user_id, teams_before):
            return True
        if new.can_edit(user_id, teams_after) and not old.can_edit(user_id, teams_before):
            return True
    return False


def _denied(message: str, code: str) -> PermissionDeniedError:
    return PermissionDeniedError(message, [ErrorDetail(message, code)])
