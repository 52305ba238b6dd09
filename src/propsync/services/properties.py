"""Property definition use cases: list, read, create, update, delete, and property groups.

A property with a ``syncSource`` is a sync property: its creation, redefinition and
deletion go through ``services.sync_properties``, and its type, field type and
options are always those of its source property.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlalchemy import Connection, Engine, func, select

from propsync.clock import now_ms
from propsync.domain.auth import Principal, schema_scope
from propsync.domain.errors import (
    AlreadyExistsError,
    ErrorDetail,
    NotFoundError,
    ValidationError,
)
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import (
    FIELD_TYPES,
    NAME_PATTERN,
    TYPES,
    AccessRule,
    Option,
    PropertyDefinition,
)
from propsync.domain.sync_rule import SyncDefinition
from propsync.services import sync_properties as sync_svc
from propsync.storage import accounts as account_store
from propsync.storage import properties as store
from propsync.storage import sync as sync_store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction

_T = TypeVar("_T")
BOOL_OPTIONS = (Option("true", "Yes", 0), Option("false", "No", 1))


@dataclass(frozen=True)
class PropertyView:
    """A property as the API shows it, with its sync definition if it has one."""

    definition: PropertyDefinition
    sync: SyncDefinition | None


@dataclass(frozen=True)
class PropertyInput:
    name: str
    label: str
    type: str | None
    field_type: str | None
    group_name: str
    description: str = ""
    options: tuple[Option, ...] = ()
    display_order: int = -1
    hidden: bool = False
    has_unique_value: bool = False
    access: AccessRule | None = None
    sync_source: sync_svc.SourceRequest | None = None


@dataclass(frozen=True)
class PropertyPatch:
    """Only the members a caller sent (``None`` = unchanged)."""

    label: str | None = None
    description: str | None = None
    group_name: str | None = None
    type: str | None = None
    field_type: str | None = None
    options: tuple[Option, ...] | None = None
    display_order: int | None = None
    hidden: bool | None = None
    access: AccessRule | None = None
    sync_source: sync_svc.SourceRequest | None = None


def list_properties(engine: Engine, principal: Principal, object_type: str) -> list[PropertyView]:
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        return _views(conn, principal.account_id, store.load_properties(
            conn, principal.account_id, ot))


def get_property(engine: Engine, principal: Principal, object_type: str, name: str
                 ) -> PropertyView:
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        return _views(conn, principal.account_id, [_existing(conn, principal, ot, name)])[0]


def _views(conn: Connection, account_id: int, props: Sequence[PropertyDefinition]
           ) -> list[PropertyView]:
    """Views with sync definitions attached; a sync property shows its source's type."""
    syncs = {d.property_id: d for d in sync_store.load_sync_properties(conn, account_id)}
    views = []
    for prop in props:
        d = syncs.get(prop.id)
        if d is not None:
            source = store.find_property(conn, account_id, d.source_type, d.source_property)
            if source is not None:
                prop = replace(prop, type=source.type, field_type=source.field_type,
                               options=source.options)
        views.append(PropertyView(prop, d))
    return views


def _existing(conn: Connection, principal: Principal, ot: str, name: str) -> PropertyDefinition:
    prop = store.find_property(conn, principal.account_id, ot, name)
    if prop is None:
        raise NotFoundError(f"{ot} has no property named {name!r}.",
                            context={"propertyName": [name]})
    return prop


def create_property(engine: Engine, principal: Principal, object_type: str,
                    given: PropertyInput) -> PropertyView:
    """Create an ordinary or a sync property; every check runs before anything is stored."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    _check_name(given.name)
    if given.sync_source is not None:
        return _create_sync(engine, principal, ot, given)
    now = now_ms()
    with write_transaction(engine) as conn:
        _check_new(conn, principal, ot, given.name, given.group_name)
        prop = _validated(PropertyDefinition(
            id=0, object_type=ot, name=given.name, label=given.label,
            type=given.type or "", field_type=given.field_type or "",
            group_name=given.group_name, description=given.description,
            options=given.options, display_order=given.display_order, hidden=given.hidden,
            has_unique_value=given.has_unique_value, access=given.access or AccessRule(),
            created_ms=now, updated_ms=now))
        _check_access(conn, principal.account_id, prop.access)
        prop = replace(prop, id=store.insert_property(conn, principal.account_id, prop))
    return PropertyView(prop, None)


def _create_sync(engine: Engine, principal: Principal, ot: str, given: PropertyInput
                 ) -> PropertyView:
    if given.access is not None and given.access.is_restricted:
        raise ValidationError("A sync property is visible to everyone; it cannot have "
                              "restricted access. Leave 'access' out.")
    with read_transaction(engine) as conn:
        _check_group(conn, principal.account_id, ot, given.group_name)
    assert given.sync_source is not None
    prop = sync_svc.create_sync_property(
        engine, principal, ot, given.name, given.label, given.sync_source, given.group_name,
        given.description, {"type": given.type, "fieldType": given.field_type})
    return get_property(engine, principal, ot, prop.name)


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise _invalid(f"{name!r} is not a valid internal name: use lowercase letters, digits "
                       "and underscores, starting with a letter (e.g. 'company_name_sync').",
                       "INVALID_PROPERTY_NAME")


def _check_new(conn: Connection, principal: Principal, ot: str, name: str, group: str) -> None:
    if store.find_property(conn, principal.account_id, ot, name) is not None:
        raise AlreadyExistsError(f"{ot} already has a property named {name!r}; choose another "
                                 "internal name.", context={"propertyName": [name]})
    _check_group(conn, principal.account_id, ot, group)


def _check_group(conn: Connection, account_id: int, ot: str, group: str) -> None:
    if group not in {g["name"] for g in store.load_groups(conn, account_id, ot)}:
        raise _invalid(f"{ot} has no property group {group!r}. Create it first "
                       f"(POST /crm/v3/properties/{ot}/groups) or use an existing one.",
                       "INVALID_GROUP")


def _validated(prop: PropertyDefinition) -> PropertyDefinition:
    """Type, field type and options fit together (HubSpot's rules)."""
    if prop.type not in TYPES:
        raise _invalid(f"type must be one of {', '.join(TYPES)}, not {prop.type!r}.",
                       "INVALID_PROPERTY_TYPE")
    if prop.field_type not in FIELD_TYPES[prop.type]:
        raise _invalid(f"fieldType {prop.field_type!r} does not fit type {prop.type!r}; use "
                       f"one of {', '.join(FIELD_TYPES[prop.type])}.", "INVALID_FIELD_TYPE")
    if prop.type == "bool" and not prop.options:
        prop = replace(prop, options=BOOL_OPTIONS)
    values = [o.value for o in prop.options]
    if prop.type == "enumeration" and not values:
        raise _invalid("An enumeration property needs at least one option.", "INVALID_OPTIONS")
    if len(set(values)) != len(values) or any(v == "" for v in values):
        raise _invalid("Option values must be unique and not empty.", "INVALID_OPTIONS")
    return prop


def _check_access(conn: Connection, account_id: int, rule: AccessRule) -> None:
    users = set(account_store.user_ids(conn, account_id))
    teams = set(account_store.team_ids(conn, account_id))
    for kind, wanted, known in (("user", rule.view_users, users), ("user", rule.edit_users, users),
                                ("team", rule.view_teams, teams), ("team", rule.edit_teams, teams)):
        unknown = sorted(set(wanted or ()) - known)
        if unknown:
            raise _invalid(f"Access names {kind}(s) {', '.join(map(str, unknown))} that this "
                           "account does not have.", "INVALID_ACCESS")


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, [ErrorDetail(message, code)])


def update_property(engine: Engine, principal: Principal, object_type: str, name: str,
                    patch: PropertyPatch) -> PropertyView:
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    with write_transaction(engine) as conn:
        prop = _existing(conn, principal, ot, name)
        is_sync = sync_svc.find_definition(conn, principal.account_id, prop.id) is not None
    if is_sync:
        return _update_sync(engine, principal, ot, prop, patch)
    with write_transaction(engine) as conn:
        prop = _existing(conn, principal, ot, name)
        updated = _patched(conn, principal, prop, patch)
        store.update_property(conn, principal.account_id, updated)
    return get_property(engine, principal, ot, name)


def _patched(conn: Connection, principal: Principal, prop: PropertyDefinition,
             patch: PropertyPatch) -> PropertyDefinition:
    if patch.group_name is not None:
        _check_group(conn, principal.account_id, prop.object_type, patch.group_name)
    if prop.hubspot_defined and (patch.type or patch.field_type):
        raise _invalid(f"{prop.name} is a default property; its type cannot change.",
                       "READ_ONLY_DEFINITION")
    if patch.type is not None and patch.type != prop.type:
        _refuse_if_valued(conn, principal.account_id, prop, "its type changed")
    if patch.options is not None:
        _refuse_removing_used_options(conn, principal.account_id, prop, patch.options)
    if patch.access is not None and patch.access.is_restricted:
        sync_svc.refuse_if_used(conn, principal.account_id, prop, "restricted")
        _check_access(conn, principal.account_id, patch.access)
    updated = replace(
        prop, label=_pick(patch.label, prop.label), description=_pick(patch.description,
        prop.description), group_name=_pick(patch.group_name, prop.group_name),
        type=_pick(patch.type, prop.type), field_type=_pick(patch.field_type, prop.field_type),
        options=_pick(patch.options, prop.options), display_order=_pick(
            patch.display_order, prop.display_order), hidden=_pick(patch.hidden, prop.hidden),
        access=_pick(patch.access, prop.access), updated_ms=now_ms())
    return _validated(updated)


def _pick(new: _T | None, old: _T) -> _T:
    return old if new is None else new


def _count_values(conn: Connection, account_id: int, property_id: int,
                  values: Sequence[str] | None = None) -> int:
    v = t.property_values
    query = select(func.count()).where(v.c.account_id == account_id,
                                       v.c.property_id == property_id)
    if values is not None:
        query = query.where(v.c.value.in_(list(values)))
    return int(conn.execute(query).scalar_one())


def _refuse_if_valued(conn: Connection, account_id: int, prop: PropertyDefinition,
                      what: str) -> None:
    count = _count_values(conn, account_id, prop.id)
    if count:
        raise _invalid(f"{prop.name} has values on {count} record(s), which would be "
                       f"reinterpreted if {what}. Create a new property instead.",
                       "PROPERTY_HAS_VALUES")


def _refuse_removing_used_options(conn: Connection, account_id: int, prop: PropertyDefinition,
                                  options: Sequence[Option]) -> None:
    removed = sorted({o.value for o in prop.options} - {o.value for o in options})
    used = _count_values(conn, account_id, prop.id, removed) if removed else 0
    if used:
        raise _invalid(f"Options {', '.join(removed)} of {prop.name} are still the value of "
                       f"{used} record(s). Change those records first, or hide the option.",
                       "OPTION_IN_USE")


def _update_sync(engine: Engine, principal: Principal, ot: str, prop: PropertyDefinition,
                 patch: PropertyPatch) -> PropertyView:
    """A sync property may change its label, description, group and source only."""
    if any(x is not None for x in (patch.type, patch.field_type, patch.options)):
        raise _invalid(f"{prop.name} is a sync property: its type, field type and options "
                       "follow its source property. Change the source instead.",
                       "READ_ONLY_DEFINITION")
    if patch.access is not None and patch.access.is_restricted:
        raise _invalid("A sync property is visible to everyone; it cannot be restricted.",
                       "INVALID_ACCESS")
    if patch.sync_source is not None:
        sync_svc.redefine_sync_property(engine, principal, ot, prop.name, patch.sync_source)
    with write_transaction(engine) as conn:
        current = _existing(conn, principal, ot, prop.name)
        if patch.group_name is not None:
            _check_group(conn, principal.account_id, ot, patch.group_name)
        store.update_property(conn, principal.account_id, replace(
            current, label=_pick(patch.label, current.label),
            description=_pick(patch.description, current.description),
            group_name=_pick(patch.group_name, current.group_name),
            display_order=_pick(patch.display_order, current.display_order),
            hidden=_pick(patch.hidden, current.hidden), updated_ms=now_ms()))
    return get_property(engine, principal, ot, prop.name)


def delete_property(engine: Engine, principal: Principal, object_type: str, name: str) -> None:
    """Delete a property and its values (refused for defaults and for sync sources)."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    with write_transaction(engine) as conn:
        prop = _existing(conn, principal, ot, name)
        is_sync = sync_svc.find_definition(conn, principal.account_id, prop.id) is not None
        if not is_sync:
            if prop.hubspot_defined:
                raise _invalid(f"{name} is a default property of {ot} and cannot be deleted.",
                               "READ_ONLY_DEFINITION")
            sync_svc.refuse_if_used(conn, principal.account_id, prop, "deleted")
            store.delete_property(conn, principal.account_id, prop.id)
    if is_sync:
        sync_svc.delete_sync_property(engine, principal, ot, name)


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    display_order: int


def list_groups(engine: Engine, principal: Principal, object_type: str) -> list[Group]:
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        return [Group(g["name"], g["label"], g["display_order"])
                for g in store.load_groups(conn, principal.account_id, ot)]


def create_group(engine: Engine, principal: Principal, object_type: str, name: str,
                 label: str, display_order: int = -1) -> Group:
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    _check_name(name)
    with write_transaction(engine) as conn:
        if name in {g["name"] for g in store.load_groups(conn, principal.account_id, ot)}:
            raise AlreadyExistsError(f"{ot} already has a property group named {name!r}.")
        store.insert_group(conn, principal.account_id, ot, name, label, display_order)
    return Group(name, label, display_order)
