"""Property definition use cases: list, read, create, update, delete, and property groups.

A property with a ``syncSource`` is a sync property: its creation, redefinition and
deletion go through ``services.sync_properties``, and its type, field type and
options are always those of its source property.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal, check_access_change, schema_scope
from propsync.domain.errors import (
    AlreadyExistsError,
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.domain.history import ValueSource
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import (
    FIELD_TYPES,
    TYPES,
    AccessRule,
    Option,
    PropertyDefinition,
    renormalize,
)
from propsync.domain.sync_rule import SyncDefinition
from propsync.services import definition_log
from propsync.services import property_groups as groups
from propsync.services import sync_properties as sync_svc
from propsync.services.property_usage import refuse_if_used
from propsync.storage import accounts as account_store
from propsync.storage import properties as store
from propsync.storage import records as record_store
from propsync.storage import sync as sync_store
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction

_T = TypeVar("_T")
BOOL_OPTIONS = (Option("true", "Yes", 0), Option("false", "No", 1))


@dataclass(frozen=True)
class PropertyView:
    """A property as the API shows it, with its sync definition if it has one.

    ``source_shown`` is false when the viewer may not read the schema of the sync
    property's source type: it is still shown read-only, but not where it copies from."""

    definition: PropertyDefinition
    sync: SyncDefinition | None
    source_shown: bool = True


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
    """Every property of the type, restricted ones included (access hides values, not
    definitions)."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        return views_of(conn, principal, store.load_properties(conn, principal.account_id, ot))


def get_property(engine: Engine, principal: Principal, object_type: str, name: str
                 ) -> PropertyView:
    """One property of the type; 404 if the account has none of that name."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        return views_of(conn, principal, [_existing(conn, principal, ot, name)])[0]


def views_of(conn: Connection, principal: Principal, props: Sequence[PropertyDefinition]
             ) -> list[PropertyView]:
    """Views with sync definitions attached; a sync property shows its source's type."""
    account_id = principal.account_id
    syncs = {d.property_id: d for d in sync_store.load_sync_properties(conn, account_id)}
    views = []
    for prop in props:
        d = syncs.get(prop.id)
        if d is not None:
            source = store.find_property(conn, account_id, d.source_type, d.source_property)
            if source is not None:
                prop = replace(prop, type=source.type, field_type=source.field_type,
                               options=source.options)
        views.append(PropertyView(prop, d, d is None or sync_svc.may_see_source(principal, d)))
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
    principal.require_property_settings()
    groups.check_name(given.name)
    if given.has_unique_value:
        _check_unique(given)
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
        check_access_change(principal, f"{ot}.{given.name}", AccessRule(), prop.access)
        _check_access(conn, principal.account_id, prop.access)
        prop = replace(prop, id=store.insert_property(conn, principal.account_id, prop))
        definition_log.record(conn, principal, prop, definition_log.CREATED,
                              f"Created: {prop.type} / {prop.field_type} in group "
                              f"{prop.group_name!r}")
    return PropertyView(prop, None)


def _create_sync(engine: Engine, principal: Principal, ot: str, given: PropertyInput
                 ) -> PropertyView:
    if given.access is not None and given.access.is_restricted:
        raise ValidationError("A sync property is visible to everyone; it cannot have "
                              "restricted access. Leave 'access' out.")
    with read_transaction(engine) as conn:
        groups.require_group(conn, principal.account_id, ot, given.group_name)
    assert given.sync_source is not None
    prop = sync_svc.create_sync_property(
        engine, principal, ot, given.name, given.label, given.sync_source, given.group_name,
        given.description, {"type": given.type, "fieldType": given.field_type})
    return get_property(engine, principal, ot, prop.name)


def _check_unique(given: PropertyInput) -> None:
    """As in HubSpot, single-line text and number properties may have unique values; a sync
    property may not (its values are copies that many records share)."""
    if given.sync_source is not None:
        raise _invalid("A sync property cannot have unique values: its values are copies of "
                       "another record's, which many records share. Leave hasUniqueValue "
                       "out.", "INVALID_UNIQUE_VALUE")
    if (given.type, given.field_type) not in (("string", "text"), ("number", "number")):
        raise _invalid("hasUniqueValue is for single-line text (type string, fieldType text) "
                       "and number properties.", "INVALID_UNIQUE_VALUE")


def _check_new(conn: Connection, principal: Principal, ot: str, name: str, group: str) -> None:
    if store.find_property(conn, principal.account_id, ot, name) is not None:
        raise AlreadyExistsError(f"{ot} already has a property named {name!r}; choose another "
                                 "internal name.", context={"propertyName": [name]})
    groups.require_group(conn, principal.account_id, ot, group)


def _validated(prop: PropertyDefinition) -> PropertyDefinition:
    """Type, field type and options fit together (HubSpot's rules); bool gets Yes/No."""
    _check_type(prop)
    if prop.type == "bool" and not prop.options:
        prop = replace(prop, options=BOOL_OPTIONS)
    values = [o.value for o in prop.options]
    if prop.type == "enumeration" and not values:
        raise _invalid(f"{prop.name} is an enumeration: give it at least one option "
                       "({'label': ..., 'value': ...}).", "INVALID_OPTIONS")
    if values and prop.type not in ("enumeration", "bool"):
        raise _invalid(f"Options are for enumeration and bool properties; {prop.name} is of "
                       f"type {prop.type!r}. Leave 'options' out.", "INVALID_OPTIONS")
    if prop.type == "bool" and sorted(values) != ["false", "true"]:
        raise _invalid("A bool property has exactly the options 'true' and 'false'; change "
                       "their labels, not their values.", "INVALID_OPTIONS")
    duplicates = sorted(v for v, n in Counter(values).items() if n > 1)
    if duplicates or "" in values:
        raise _invalid("Option values must be unique and not empty; repeated: "
                       f"{', '.join(map(repr, duplicates)) or 'none'}.", "INVALID_OPTIONS")
    return prop


def _check_type(prop: PropertyDefinition) -> None:
    if not prop.label.strip():
        raise _invalid("label must not be empty: it is what users see.", "INVALID_LABEL")
    if prop.type not in TYPES:
        given = f"not {prop.type!r}" if prop.type else "and is required without syncSource"
        raise _invalid(f"type must be one of {', '.join(TYPES)}, {given}.",
                       "INVALID_PROPERTY_TYPE")
    if prop.field_type not in FIELD_TYPES[prop.type]:
        raise _invalid(f"fieldType {prop.field_type!r} does not fit type {prop.type!r}; use "
                       f"one of {', '.join(FIELD_TYPES[prop.type])}.", "INVALID_FIELD_TYPE")


def _check_access(conn: Connection, account_id: int, rule: AccessRule) -> None:
    """Every user and team the rule names belongs to the account, and someone is admitted."""
    if rule.admits_nobody:
        raise _invalid("An access side with 'everyone': false must name at least one user "
                       "(userIds) or team (teamIds); otherwise nobody could use the values.",
                       "INVALID_ACCESS")
    for kind, named, known in (
            ("user", rule.user_ids, account_store.user_ids(conn, account_id)),
            ("team", rule.team_ids, account_store.team_ids(conn, account_id))):
        unknown = sorted(named - set(known))
        if unknown:
            raise _invalid(f"Access names {kind} id(s) {', '.join(map(str, unknown))}, which "
                           f"this account does not have. Use ids of this account's {kind}s.",
                           "INVALID_ACCESS")


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, [ErrorDetail(message, code)])


def update_property(engine: Engine, principal: Principal, object_type: str, name: str,
                    patch: PropertyPatch) -> PropertyView:
    """Change a property's definition; all or nothing.

    A new ``type``, ``fieldType`` or ``options`` re-reads every stored value under the
    new definition: values whose text changes are rewritten (with history, source
    ``API``), and if any value does not fit (for instance an option still in use is
    removed) the change is refused with 400 naming how many records hold such values.
    """
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    principal.require_property_settings()
    with write_transaction(engine) as conn:
        prop = _existing(conn, principal, ot, name)
        is_sync = sync_svc.find_definition(conn, principal.account_id, prop.id) is not None
    if is_sync:
        return _update_sync(engine, principal, ot, prop, patch)
    if patch.sync_source is not None:
        raise _invalid(f"{ot}.{name} is an ordinary property: its values were set by people "
                       "and integrations, and a sync property would replace them all. Create a "
                       "new sync property with this syncSource instead (POST "
                       f"/crm/v3/properties/{ot}), and keep {name} until nothing uses it.",
                       "CANNOT_CONVERT_TO_SYNC")
    with write_transaction(engine) as conn:
        if _may_affect_sync(patch):
            lock_definitions(conn, principal.account_id)
        prop = _existing(conn, principal, ot, name)
        updated = _patched(conn, principal, prop, patch)
        _convert_values(conn, principal, prop, updated)
        store.update_property(conn, principal.account_id, updated)
        _log_update(conn, principal, prop, updated)
    return get_property(engine, principal, ot, name)


def _may_affect_sync(patch: PropertyPatch) -> bool:
    """A new type or access rule can conflict with a sync property copying the property, so
    the change checks for one under the lock that defining a sync property takes."""
    return patch.type is not None or patch.access is not None


def _log_update(conn: Connection, principal: Principal, old: PropertyDefinition,
                new: PropertyDefinition) -> None:
    said = definition_log.changes(old, new)
    if said:
        definition_log.record(conn, principal, new, definition_log.UPDATED,
                              said[0].upper() + said[1:])


def _patched(conn: Connection, principal: Principal, prop: PropertyDefinition,
             patch: PropertyPatch) -> PropertyDefinition:
    """``prop`` with ``patch`` applied and validated (nothing is stored here)."""
    if patch.group_name is not None:
        groups.require_group(conn, principal.account_id, prop.object_type, patch.group_name)
    retyped = patch.type not in (None, prop.type)
    if prop.hubspot_defined and (retyped or patch.field_type not in (None, prop.field_type)):
        raise _invalid(f"{prop.name} is a default property; its type and field type cannot "
                       "change.", "READ_ONLY_DEFINITION")
    if prop.has_unique_value and (retyped or patch.field_type not in (None, prop.field_type)):
        raise _invalid(f"{prop.name} has unique values; its type and field type cannot change "
                       "(under another type two of its values could become one).",
                       "INVALID_UNIQUE_VALUE")
    if retyped:
        refuse_if_used(conn, principal, prop, "changed to another type")
    if patch.access is not None:
        check_access_change(principal, f"{prop.object_type}.{prop.name}", prop.access,
                            patch.access)
    if patch.access is not None and patch.access.is_restricted:
        refuse_if_used(conn, principal, prop, "restricted")
        _check_access(conn, principal.account_id, patch.access)
    updated = replace(
        prop, label=_pick(patch.label, prop.label), description=_pick(patch.description,
        prop.description), group_name=_pick(patch.group_name, prop.group_name),
        type=_pick(patch.type, prop.type), field_type=_pick(patch.field_type, prop.field_type),
        options=_pick(patch.options, prop.options), display_order=_pick(
            patch.display_order, prop.display_order), hidden=_pick(patch.hidden, prop.hidden),
        access=_pick(patch.access, prop.access), updated_ms=now_ms())
    if retyped and patch.options is None and updated.type != "enumeration":
        updated = replace(updated, options=())
    return _validated(updated)


def _pick(new: _T | None, old: _T) -> _T:
    return old if new is None else new


def _convert_values(conn: Connection, principal: Principal, old: PropertyDefinition,
                    new: PropertyDefinition) -> None:
    """Re-read the stored values under ``new``; refuse if any does not fit, else rewrite."""
    if _keeps_every_value(old, new):
        return
    if not old.access.can_edit(principal.user_id, principal.team_ids):
        # Refused before any value is read: whether the values would convert, how many
        # would not and what they are would all tell the caller about values they may not see.
        message = (f"Changing the type or removing options of {old.object_type}.{old.name} "
                   "rewrites its values, and you may not edit them (the property's access is "
                   "restricted). Ask a user who can view and edit its values to make this "
                   "change.")
        raise PermissionDeniedError(message, [ErrorDetail(message, "PROPERTY_EDIT_RESTRICTED")])
    account_id = principal.account_id
    stored = store.load_value_texts(conn, account_id, old.id)
    converted, misfits = renormalize(new, stored)
    if misfits:
        raise _misfit_error(old, new, misfits)
    texts = dict(stored)
    rewritten = [(rid, old.id, v) for rid, v in converted if v.text != texts[rid]]
    if rewritten:
        record_store.write_values(conn, account_id, old.object_type, rewritten, ValueSource(
            "API", f"userId:{principal.user_id}", "property definition change",
            principal.user_id), now_ms())
    store.store_numbers(conn, account_id, old.id,
                        [(rid, v.number) for rid, v in converted if v.text == texts[rid]])


def _keeps_every_value(old: PropertyDefinition, new: PropertyDefinition) -> bool:
    """Same type and field type, and no option value removed: every value still fits."""
    return (old.type, old.field_type) == (new.type, new.field_type) and (
        {o.value for o in old.options} <= {o.value for o in new.options})


def _misfit_error(old: PropertyDefinition, new: PropertyDefinition,
                  misfits: Sequence[tuple[int, str]]) -> ValidationError:
    removed = sorted({o.value for o in old.options} - {o.value for o in new.options})
    sample = ", ".join(f"record {rid}: {text[:40]!r}" for rid, text in misfits[:3])
    if removed and (old.type, old.field_type) == (new.type, new.field_type):
        return _invalid(f"{len(misfits)} record(s) still use option(s) {', '.join(removed)} of "
                        f"{old.name} ({sample}). Change those records first, or keep the "
                        "option and mark it hidden.", "OPTION_IN_USE")
    return _invalid(f"{len(misfits)} record(s) have values of {old.name} that are not valid "
                    f"as type {new.type!r} / fieldType {new.field_type!r} ({sample}). Change "
                    "or clear those values first, or create a new property.",
                    "PROPERTY_VALUES_DONT_CONVERT")


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
            groups.require_group(conn, principal.account_id, ot, patch.group_name)
        updated = replace(
            current, label=_pick(patch.label, current.label),
            description=_pick(patch.description, current.description),
            group_name=_pick(patch.group_name, current.group_name),
            display_order=_pick(patch.display_order, current.display_order),
            hidden=_pick(patch.hidden, current.hidden), updated_ms=now_ms())
        store.update_property(conn, principal.account_id, updated)
        _log_update(conn, principal, current, updated)
    return get_property(engine, principal, ot, prop.name)


def delete_property(engine: Engine, principal: Principal, object_type: str, name: str) -> None:
    """Delete a property and its values (refused for defaults and for sync sources)."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    principal.require_property_settings()
    with write_transaction(engine) as conn:
        # Under the lock that defining a sync property takes: a definition that names this
        # property either committed first (and refuses this) or waits and finds it gone.
        lock_definitions(conn, principal.account_id)
        prop = _existing(conn, principal, ot, name)
        is_sync = sync_svc.find_definition(conn, principal.account_id, prop.id) is not None
        if not is_sync:
            if prop.hubspot_defined:
                raise _invalid(f"{name} is a default property of {ot} and cannot be deleted.",
                               "READ_ONLY_DEFINITION")
            refuse_if_used(conn, principal, prop, "deleted")
            store.delete_property(conn, principal.account_id, prop.id)
            definition_log.record(conn, principal, prop, definition_log.DELETED, "Deleted")
    if is_sync:
        sync_svc.delete_sync_property(engine, principal, ot, name)
