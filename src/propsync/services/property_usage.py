"""Where a property is used: the sync properties that copy it ("Used in")."""

from __future__ import annotations

from sqlalchemy import Engine

from propsync.domain.auth import Principal, schema_scope
from propsync.domain.errors import NotFoundError
from propsync.domain.objects import resolve_object_type
from propsync.domain.sync_rule import SyncDefinition
from propsync.services.sync_properties import uses_of
from propsync.storage.db import read_transaction
from propsync.storage.properties import find_property


def used_in(engine: Engine, principal: Principal, object_type: str, name: str
            ) -> list[SyncDefinition]:
    """The sync properties that copy ``object_type``.``name``; 404 if it does not exist."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        prop = find_property(conn, principal.account_id, ot, name)
        if prop is None:
            raise NotFoundError(f"{ot} has no property named {name!r}.")
        return uses_of(conn, principal.account_id, prop.id)
