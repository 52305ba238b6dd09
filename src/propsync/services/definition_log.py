"""The log of property definition changes: who created, changed or deleted a property,
when, and what changed, in words an administrator reads on the property's History tab.

Entries are written in the transaction of the change itself, so a refused change
leaves none.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal, schema_scope
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.storage import properties as store
from propsync.storage.db import read_transaction

CREATED, UPDATED, DELETED = "CREATED", "UPDATED", "DELETED"


@dataclass(frozen=True)
class DefinitionChange:
    at_ms: int
    user_id: int | None
    action: str
    summary: str


def record(conn: Connection, principal: Principal, prop: PropertyDefinition, action: str,
           summary: str) -> None:
    """Log one change of ``prop`` by ``principal`` (within the caller's transaction)."""
    store.log_definition_change(conn, principal.account_id, prop, now_ms(), principal.user_id,
                                action, summary)


def changes(old: PropertyDefinition, new: PropertyDefinition) -> str:
    """What a definition change did, field by field; empty when nothing visible changed."""
    said = []
    for title, before, after in (
        ("label", old.label, new.label), ("description", old.description, new.description),
        ("group", old.group_name, new.group_name), ("type", old.type, new.type),
        ("field type", old.field_type, new.field_type),
    ):
        if before != after:
            said.append(f"{title} {before!r} → {after!r}")
    if old.options != new.options:
        said.append(f"options {len(old.options)} → {len(new.options)}: "
                    + ", ".join(o.label for o in new.options[:8]))
    if old.hidden != new.hidden:
        said.append("hidden" if new.hidden else "shown")
    if old.access != new.access:
        said.append("access restricted" if new.access.is_restricted else "access: everyone")
    return "; ".join(said)


def definition_log(engine: Engine, principal: Principal, object_type: str, property_id: int
                   ) -> list[DefinitionChange]:
    """The property's definition changes, oldest first."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        rows = store.load_definition_log(conn, principal.account_id, property_id)
    return [DefinitionChange(*row) for row in rows]
