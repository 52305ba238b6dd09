"""Association labels: the HubSpot-defined ones, and USER_DEFINED labels an account makes."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.associations import (
    USER_DEFINED,
    AssociationType,
    check_label,
    user_defined_pair,
)
from propsync.domain.auth import Principal, schema_scope
from propsync.domain.errors import AlreadyExistsError, NotFoundError, ValidationError
from propsync.domain.objects import resolve_object_type
from propsync.services.workflows import MAX_FLOWS
from propsync.storage import associations as assoc_store
from propsync.storage import workflows as flow_store
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.sync import load_sync_properties

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def require_pair(principal: Principal, from_type: str, to_type: str, write: bool
                 ) -> tuple[str, str]:
    """The two object types; 403 unless the token has the schema scope of both (a label
    belongs to the schemas of both ends, and deleting one removes associations of both)."""
    ft, tt = resolve_object_type(from_type).name, resolve_object_type(to_type).name
    principal.require(*dict.fromkeys((schema_scope(ft, write=write),
                                      schema_scope(tt, write=write))))
    if write:
        principal.require_property_settings()
    return ft, tt


def list_labels(engine: Engine, principal: Principal, from_type: str, to_type: str
                ) -> list[AssociationType]:
    """Every association type from ``from_type`` to ``to_type``, built-in ones included."""
    ft, tt = require_pair(principal, from_type, to_type, write=False)
    with read_transaction(engine) as conn:
        types = assoc_store.load_types(conn, principal.account_id)
    return sorted((t for t in types.values() if (t.from_type, t.to_type) == (ft, tt)),
                  key=lambda t: (t.category, t.type_id))


def create_label(engine: Engine, principal: Principal, from_type: str, to_type: str,
                 label: str, name: str, inverse_label: str | None) -> list[AssociationType]:
    """A new USER_DEFINED label (and its inverse); returns the new types.

    A name or label already used in either direction is a 409.
    """
    ft, tt = require_pair(principal, from_type, to_type, write=True)
    _check(label, name)
    inverse_label = check_label(inverse_label, "inverseLabel") if inverse_label else None
    with write_transaction(engine) as conn:
        assoc_store.lock_user_types(conn, principal.account_id)
        first = assoc_store.next_user_type_id(conn, principal.account_id)
        pair = list(dict.fromkeys(user_defined_pair(ft, tt, first, label, inverse_label, name)))
        for ty in pair:
            _refuse_clash(conn, principal.account_id, ty)
        assoc_store.insert_user_types(conn, principal.account_id, pair)
    return pair


def _check(label: str, name: str) -> None:
    check_label(label)
    if not _NAME.match(name):
        raise ValidationError(f"{name!r} is not a valid label name: use lowercase letters, "
                              "digits and underscores.")


def _refuse_clash(
    conn: Connection, account_id: int, wanted: AssociationType, by_name: bool = True
) -> None:
    """409 if another type of the same direction has ``wanted``'s label (or name)."""
    same_way = [t for t in assoc_store.load_types(conn, account_id).values()
                if (t.from_type, t.to_type) == (wanted.from_type, wanted.to_type)
                and t.type_id != wanted.type_id]
    if any((by_name and t.name == wanted.name) or (t.label and t.label == wanted.label)
           for t in same_way):
        raise AlreadyExistsError(
            f"A label named {wanted.name!r} or labelled {wanted.label!r} already exists from "
            f"{wanted.from_type} to {wanted.to_type}.")


def _user_types(conn: Connection, account_id: int, ft: str, tt: str) -> list[AssociationType]:
    return [t for t in assoc_store.load_types(conn, account_id).values()
            if t.category == USER_DEFINED and (t.from_type, t.to_type) == (ft, tt)]


def _find(conn: Connection, account_id: int, ft: str, tt: str, type_id: int) -> AssociationType:
    found = next((t for t in _user_types(conn, account_id, ft, tt) if t.type_id == type_id), None)
    if found is None:
        raise NotFoundError(f"There is no USER_DEFINED label {type_id} from {ft} to {tt}.")
    return found


def update_label(engine: Engine, principal: Principal, from_type: str, to_type: str,
                 type_id: int, label: str, inverse_label: str | None) -> None:
    """Rename a USER_DEFINED label (and its inverse); a label already used is a 409."""
    ft, tt = require_pair(principal, from_type, to_type, write=True)
    check_label(label)
    inverse_label = check_label(inverse_label, "inverseLabel") if inverse_label else None
    with write_transaction(engine) as conn:
        assoc_store.lock_user_types(conn, principal.account_id)
        found = _find(conn, principal.account_id, ft, tt, type_id)
        renames = {type_id: label}
        if inverse_label and found.inverse_id != found.type_id:
            renames[found.inverse_id] = inverse_label
        types = assoc_store.load_types(conn, principal.account_id)
        for tid, text in renames.items():
            _refuse_clash(conn, principal.account_id, replace(types[tid], label=text),
                          by_name=False)
            assoc_store.relabel_user_type(conn, principal.account_id, tid, text)


def delete_label(engine: Engine, principal: Principal, from_type: str, to_type: str,
                 type_id: int) -> None:
    """Remove a label, its inverse, and every association of them (refused while a sync
    property filters on it, or a workflow reads or writes through it)."""
    ft, tt = require_pair(principal, from_type, to_type, write=True)
    with write_transaction(engine) as conn:
        # Label and limit writers take turns: a limit never outlives its label, whose id a
        # later label could take.
        assoc_store.lock_user_types(conn, principal.account_id)
        found = _find(conn, principal.account_id, ft, tt, type_id)
        ids = {found.type_id, found.inverse_id}
        users = [d for d in load_sync_properties(conn, principal.account_id)
                 if d.association_type_ids and d.association_type_ids & ids]
        if users:
            raise ValidationError(
                f"The label {found.label!r} is used by sync propert(ies) "
                f"{', '.join(f'{d.target_type}.{d.name}' for d in users)}; redefine or delete "
                "them first.")
        flows = [f for f in flow_store.list_flows(conn, principal.account_id, 0, MAX_FLOWS)[0]
                 if f.flow.association_type_ids() & ids]
        if flows:
            raise ValidationError(
                f"The label {found.label!r} is used by workflow(s) "
                f"{', '.join(repr(f.name or str(f.flow_id)) for f in flows)}; change or "
                "delete them first.")
        assoc_store.delete_user_types(conn, principal.account_id, ids, now_ms())
