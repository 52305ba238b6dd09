"""The property catalogue of one object type as one principal sees it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from propsync.domain.auth import Principal
from propsync.domain.errors import (
    ErrorDetail,
    ForbiddenError,
    PermissionDeniedError,
    ReadOnlyValueError,
    ValidationError,
)
from propsync.domain.properties import PropertyDefinition, StoredValue, normalize_value
from propsync.storage.properties import load_properties

PropertyWrites = list[tuple[PropertyDefinition, StoredValue | None]]


@dataclass(frozen=True)
class Catalogue:
    """Properties of one object type, split by what the principal may do with them."""

    object_type: str
    by_name: dict[str, PropertyDefinition]
    visible: dict[str, PropertyDefinition]
    principal: Principal

    @classmethod
    def load(cls, conn: Connection, principal: Principal, object_type: str) -> Catalogue:
        props = load_properties(conn, principal.account_id, object_type)
        by_name = {p.name: p for p in props}
        visible = {
            p.name: p for p in props
            if p.access.can_view(principal.user_id, principal.team_ids)
        }
        return cls(object_type, by_name, visible, principal)

    def readable(self, names: Iterable[str]) -> list[PropertyDefinition]:
        """The named properties the principal may see; unknown or hidden names are skipped."""
        return [self.visible[n] for n in dict.fromkeys(names) if n in self.visible]

    def writes(
        self, values: Mapping[str, object], where: str = "properties"
    ) -> PropertyWrites:
        """Validate one input's ``properties``: every error is collected, then raised together."""
        result: PropertyWrites = []
        errors: list[ErrorDetail] = []
        first: Exception | None = None
        for name, raw in values.items():
            try:
                prop = self._writable(name)
                result.append((prop, normalize_value(prop, raw)))
            except (ValidationError, ForbiddenError) as exc:
                first = first or exc
                errors += [ErrorDetail(d.message, d.code, d.context, f"{where}.{name}")
                           for d in exc.details] or [ErrorDetail(exc.message, in_=where)]
        if first is not None:
            raise type(first)(_summary(errors), errors)
        return result

    def _writable(self, name: str) -> PropertyDefinition:
        prop = self.visible.get(name)
        if prop is None:
            message = (f"Property {name!r} does not exist on {self.object_type}. "
                       "Create it first, or check the spelling of its internal name.")
            raise ValidationError(message, [ErrorDetail(
                message, "PROPERTY_DOESNT_EXIST", {"propertyName": [name]})])
        if prop.calculated:
            message = f"Property {name!r} is calculated by propsync and cannot be set."
            raise ReadOnlyValueError(message, [ErrorDetail(
                message, "READ_ONLY_VALUE", {"propertyName": [name]})])
        if not prop.access.can_edit(self.principal.user_id, self.principal.team_ids):
            message = (f"You may view but not edit property {name!r}: its edit access is "
                       "restricted. Ask an administrator for edit access.")
            raise PermissionDeniedError(message, [ErrorDetail(
                message, "PROPERTY_EDIT_RESTRICTED", {"propertyName": [name]})])
        return prop


def _summary(errors: list[ErrorDetail]) -> str:
    if len(errors) == 1:
        return errors[0].message
    return f"{len(errors)} property values were not valid: " + " ".join(e.message for e in errors)
