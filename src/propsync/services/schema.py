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
from propsync.domain.sync_rule import SyncDefinition
from propsync.services.sync_properties import may_see_source
from propsync.storage.properties import load_properties
from propsync.storage.sync import load_sync_properties

PropertyWrites = list[tuple[PropertyDefinition, StoredValue | None]]


MAX_NAME = 100  # characters of a property name a refusal repeats (HubSpot's names are shorter)


@dataclass(frozen=True)
class Catalogue:
    """Properties of one object type, split by what the principal may do with them."""

    object_type: str
    by_name: dict[str, PropertyDefinition]
    visible: dict[str, PropertyDefinition]
    principal: Principal
    synced: dict[int, SyncDefinition]

    @classmethod
    def load(cls, conn: Connection, principal: Principal, object_type: str) -> Catalogue:
        props = load_properties(conn, principal.account_id, object_type)
        by_name = {p.name: p for p in props}
        visible = {
            p.name: p for p in props
            if p.access.can_view(principal.user_id, principal.team_ids)
        }
        synced = {d.property_id: d for d in load_sync_properties(conn, principal.account_id)
                  if d.target_type == object_type}
        return cls(object_type, by_name, visible, principal, synced)

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
                prop = self.writable(name)
                result.append((prop, normalize_value(prop, raw)))
            except (ValidationError, ForbiddenError) as exc:
                first = first or exc
                errors += [ErrorDetail(d.message, d.code, d.context, f"{where}.{name}")
                           for d in exc.details] or [ErrorDetail(exc.message, in_=where)]
        if first is not None:
            raise type(first)(_summary(errors), errors)
        return result

    def viewable(self, name: str, path: str) -> PropertyDefinition:
        """The property ``name`` that a request names at ``path``, if the principal may view
        its values; else the refusal, naming the part of the request (403 restricted, 400
        unknown) and never a restricted property's definition."""
        prop = self.visible.get(name[:MAX_NAME])
        if prop is None and name in self.by_name:
            message = f"{path}: you may not view this property's values."
            raise PermissionDeniedError(message, [ErrorDetail(
                message, "PROPERTY_VIEW_RESTRICTED", {"path": [path]})])
        if prop is None or len(name) > MAX_NAME:
            message = (f"{path}: {self.object_type} has no property named "
                       f"{name[:MAX_NAME]!r}.")
            raise ValidationError(message, [ErrorDetail(message, "PROPERTY_DOESNT_EXIST",
                                                        {"path": [path]}, path)])
        return prop

    def writable(self, name: str) -> PropertyDefinition:
        """The property ``name`` if the principal may write its values; else the refusal
        (unknown, restricted, calculated, a sync property, or view-only)."""
        prop = self.visible.get(name)
        if prop is None and name in self.by_name:
            message = (f"You may not edit property {name!r}: its access is restricted to "
                       "other users. Ask an administrator for access.")
            raise PermissionDeniedError(message, [ErrorDetail(
                message, "PROPERTY_EDIT_RESTRICTED", {"propertyName": [name]})])
        if prop is None:
            message = (f"Property {name!r} does not exist on {self.object_type}. "
                       "Create it first, or check the spelling of its internal name.")
            raise ValidationError(message, [ErrorDetail(
                message, "PROPERTY_DOESNT_EXIST", {"propertyName": [name]})])
        if prop.calculated:
            message = f"Property {name!r} is calculated by propsync and cannot be set."
            raise ReadOnlyValueError(message, [ErrorDetail(
                message, "READ_ONLY_VALUE", {"propertyName": [name]})])
        if prop.id in self.synced:
            raise _read_only_sync(prop, self.synced[prop.id], self.principal)
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


def _read_only_sync(
    prop: PropertyDefinition, d: SyncDefinition, principal: Principal
) -> ReadOnlyValueError:
    """The refusal of a write to a sync value; it names the source only to a token that
    may read the source type's schema."""
    if not may_see_source(principal, d):
        message = (f"Property {prop.name!r} is a sync property: it copies its value from an "
                   "associated record and is read-only.")
        return ReadOnlyValueError(message, [ErrorDetail(
            message, "READ_ONLY_VALUE", {"propertyName": [prop.name]})])
    labels = "any association" if d.association_type_ids is None else (
        "association type(s) " + ", ".join(str(i) for i in sorted(d.association_type_ids)))
    message = (f"Property {prop.name!r} is a sync property: it copies {d.source_type}."
               f"{d.source_property} from the associated {d.source_type} record ({labels}) and "
               f"is read-only. Change {d.source_property} on that {d.source_type} record "
               "instead; a two-way sync needs a workflow.")
    return ReadOnlyValueError(message, [ErrorDetail(
        message, "READ_ONLY_VALUE",
        {"propertyName": [prop.name], "syncSource": [f"{d.source_type}.{d.source_property}"]})])
