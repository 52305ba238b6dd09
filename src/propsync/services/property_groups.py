"""Property groups: list, read, create, relabel and delete the groups properties sit in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, RowMapping

from propsync.domain.auth import Principal, schema_scope
from propsync.domain.errors import AlreadyExistsError, ErrorDetail, NotFoundError, ValidationError
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import NAME_PATTERN
from propsync.storage import properties as store
from propsync.storage.db import read_transaction, write_transaction


def check_name(name: str) -> None:
    """Internal names of properties and groups are lowercase snake case (400 otherwise)."""
    if not NAME_PATTERN.match(name):
        raise _invalid(f"{name!r} is not a valid internal name: use lowercase letters, digits "
                       "and underscores, starting with a letter (e.g. 'company_name_sync').",
                       "INVALID_PROPERTY_NAME")


def require_group(conn: Connection, account_id: int, ot: str, group: str) -> None:
    """400 unless ``ot`` has the group ``group`` (properties name an existing group)."""
    if store.find_group(conn, account_id, ot, group) is None:
        raise _invalid(f"{ot} has no property group {group!r}. Create it first "
                       f"(POST /crm/v3/properties/{ot}/groups) or use an existing one.",
                       "INVALID_GROUP")


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, [ErrorDetail(message, code)])


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    display_order: int


def list_groups(engine: Engine, principal: Principal, object_type: str) -> list[Group]:
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        return [_group(g) for g in store.load_groups(conn, principal.account_id, ot)]


def get_group(engine: Engine, principal: Principal, object_type: str, name: str) -> Group:
    """One property group of the account; 404 if it has none of that name."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        return _existing_group(conn, principal.account_id, ot, name)


def create_group(engine: Engine, principal: Principal, object_type: str, name: str,
                 label: str, display_order: int = -1) -> Group:
    """Create a property group; a taken name is 409 ``OBJECT_ALREADY_EXISTS``."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    principal.require_property_settings()
    check_name(name)
    with write_transaction(engine) as conn:
        if store.find_group(conn, principal.account_id, ot, name) is not None:
            raise AlreadyExistsError(f"{ot} already has a property group named {name!r}; "
                                     "choose another name.", context={"groupName": [name]})
        store.insert_group(conn, principal.account_id, ot, name, label, display_order)
    return Group(name, label, display_order)


def update_group(engine: Engine, principal: Principal, object_type: str, name: str,
                 label: str | None, display_order: int | None) -> Group:
    """Change a group's label and/or display order (its name is its identity)."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    principal.require_property_settings()
    with write_transaction(engine) as conn:
        group = _existing_group(conn, principal.account_id, ot, name)
        group = Group(name, group.label if label is None else label,
                      group.display_order if display_order is None else display_order)
        store.update_group(conn, principal.account_id, ot, name, group.label,
                           group.display_order)
    return group


def delete_group(engine: Engine, principal: Principal, object_type: str, name: str) -> None:
    """Delete a group. The object's default group, and a group that still holds
    properties, are refused with 400 (move or delete those properties first)."""
    ot = resolve_object_type(object_type)
    principal.require(schema_scope(ot.name, write=True))
    principal.require_property_settings()
    with write_transaction(engine) as conn:
        _existing_group(conn, principal.account_id, ot.name, name)
        if name == ot.group:
            raise _invalid(f"{name} is the default property group of {ot.name} and cannot be "
                           "deleted.", "READ_ONLY_DEFINITION")
        members = [p.name for p in store.load_properties(conn, principal.account_id, ot.name)
                   if p.group_name == name]
        if members:
            raise _invalid(f"Property group {name} still holds {len(members)} propert"
                           f"{'y' if len(members) == 1 else 'ies'} ({', '.join(members[:10])}). "
                           "Move them to another group or delete them first.", "GROUP_NOT_EMPTY")
        store.delete_group(conn, principal.account_id, ot.name, name)


def _existing_group(conn: Connection, account_id: int, ot: str, name: str) -> Group:
    row = store.find_group(conn, account_id, ot, name)
    if row is None:
        raise NotFoundError(f"{ot} has no property group named {name!r}.",
                            context={"groupName": [name]})
    return _group(row)


def _group(row: RowMapping) -> Group:
    return Group(row["name"], row["label"], row["display_order"])
