"""Batches of property definitions (HubSpot's properties v3 batch create, read, archive),
each input under the rules of the single call.

- **create** is per input, as HubSpot's 207 says: each input is created (all of it) or
  reported with the error the single create would give; the others are kept.
- **read** reports names the account has no property of as errors (a 207).
- **archive** is all or nothing (HubSpot answers it with a bodyless 204): unknown names
  are ignored, and one refused name (a default property, or one a sync property outside
  the batch copies) refuses the whole batch before anything is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.domain.auth import Principal, object_scope, schema_scope
from propsync.domain.errors import (
    ErrorDetail,
    NotFoundError,
    PropsyncError,
    RequestStoppedError,
    ServerBusyError,
    ValidationError,
)
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.services import definition_log
from propsync.services import properties as svc
from propsync.services.property_usage import refuse_if_used
from propsync.storage import properties as store
from propsync.storage import sync as sync_store
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction

# The request as a whole failed: no input's outcome would be true of it.
_WHOLE_REQUEST = (RequestStoppedError, ServerBusyError)


@dataclass(frozen=True)
class BatchOutcome:
    """The properties a batch produced, and one error per input that failed."""

    views: list[svc.PropertyView]
    errors: list[PropsyncError]


def create_properties(engine: Engine, principal: Principal, object_type: str,
                      inputs: Sequence[svc.PropertyInput]) -> BatchOutcome:
    """Create each input as ``properties.create_property`` would; failures are reported."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    principal.require_property_settings()
    _require_source_scopes(principal, inputs)
    views, errors = [], []
    for given in inputs:
        try:
            views.append(svc.create_property(engine, principal, ot, given))
        except _WHOLE_REQUEST:
            raise
        except PropsyncError as exc:
            errors.append(exc)
    return BatchOutcome(views, errors)


def _require_source_scopes(principal: Principal, inputs: Sequence[svc.PropertyInput]) -> None:
    """A scope missing is the token's, not one input's: it refuses the whole batch (403)
    before anything is created, as the single create refuses before it stores anything."""
    for given in inputs:
        if given.sync_source is None:
            continue
        try:
            source = resolve_object_type(given.sync_source.object_type).name
        except PropsyncError:
            continue  # an unknown source type is that input's own error
        principal.require(schema_scope(source), object_scope(source))


def read_properties(engine: Engine, principal: Principal, object_type: str,
                    names: Sequence[str], archived: bool = False) -> BatchOutcome:
    """The named properties, shown as ``get_property`` shows them; a name the account has
    no property of is an error. Deleted properties are not kept, so ``archived`` finds none."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    wanted = list(dict.fromkeys(names))
    with read_transaction(engine) as conn:
        by_name = {} if archived else {
            p.name: p for p in store.load_properties(conn, principal.account_id, ot)}
        views = svc.views_of(conn, principal, [by_name[n] for n in wanted if n in by_name])
    return BatchOutcome(views, [_not_found(ot, n) for n in wanted if n not in by_name])


def _not_found(ot: str, name: str) -> NotFoundError:
    return NotFoundError(f"{ot} has no property named {name!r}.",
                         context={"propertyName": [name]})


def archive_properties(engine: Engine, principal: Principal, object_type: str,
                       names: Sequence[str]) -> None:
    """Delete the named properties (ordinary and sync) and their values, all or nothing."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot, write=True))
    principal.require_property_settings()
    with write_transaction(engine) as conn:
        # The lock single deletes and sync definitions take (see properties.delete_property).
        lock_definitions(conn, principal.account_id)
        wanted = set(names)
        props = [p for p in store.load_properties(conn, principal.account_id, ot)
                 if p.name in wanted]
        syncs = {d.property_id for d in sync_store.load_sync_properties(
            conn, principal.account_id)}
        _refuse_undeletable(conn, principal, props, syncs)
        for prop in props:
            if prop.id in syncs:
                sync_store.delete_definition(conn, principal.account_id, prop.id)
            store.delete_property(conn, principal.account_id, prop.id)
            definition_log.record(conn, principal, prop, definition_log.DELETED, "Deleted")


def _refuse_undeletable(conn: Connection, principal: Principal,
                        props: Sequence[PropertyDefinition], syncs: set[int]) -> None:
    """400 for a default property, or one that something outside this batch uses (a sync
    property the batch deletes too may copy it)."""
    leaving = {("sync property", f"{p.object_type}.{p.name}") for p in props if p.id in syncs}
    for prop in props:
        if prop.hubspot_defined and prop.id not in syncs:
            message = f"{prop.name} is a default property of {prop.object_type} and cannot be " \
                      "deleted; nothing in this batch was deleted."
            raise ValidationError(message, [ErrorDetail(message, "READ_ONLY_DEFINITION")])
        refuse_if_used(conn, principal, prop, "deleted", leaving)
