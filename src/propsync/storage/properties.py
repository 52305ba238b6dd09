"""Property definitions and property groups: queries and row conversion."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from propsync.domain.objects import CALCULATED, DEFAULT_PROPERTIES, OBJECT_TYPES
from propsync.domain.properties import AccessRule, Option, PropertyDefinition
from propsync.storage import tables as t
from propsync.storage.ids import allocate_ids

DEFAULT_GROUP_LABELS = {
    "contactinformation": "Contact information",
    "companyinformation": "Company information",
    "dealinformation": "Deal information",
    "ticketinformation": "Ticket information",
}


def seed_defaults(conn: Connection, account_id: int, now_ms: int) -> None:
    """Create the default groups and properties of every standard object type."""
    conn.execute(insert(t.property_groups), [
        {"account_id": account_id, "object_type": ot.name, "name": ot.group,
         "label": DEFAULT_GROUP_LABELS[ot.group], "display_order": 0}
        for ot in OBJECT_TYPES.values()
    ])
    defaults = [(ot, p) for ot in OBJECT_TYPES.values() for p in DEFAULT_PROPERTIES[ot.name]]
    ids = allocate_ids(conn, "properties", len(defaults))
    conn.execute(insert(t.properties), [
        {"account_id": account_id, "property_id": pid, "object_type": ot.name, "name": p.name,
         "label": p.label, "type": p.type, "field_type": p.field_type, "group_name": ot.group,
         "options": _options_json(
             Option(v, label, i) for i, (v, label) in enumerate(p.options)),
         "hubspot_defined": True, "calculated": p.name in CALCULATED,
         "created_ms": now_ms, "updated_ms": now_ms}
        for pid, (ot, p) in zip(ids, defaults, strict=True)
    ])


def load_properties(
    conn: Connection, account_id: int, object_type: str
) -> list[PropertyDefinition]:
    """Every property of ``object_type`` in the account, by name."""
    rows = conn.execute(
        select(t.properties)
        .where(t.properties.c.account_id == account_id,
               t.properties.c.object_type == object_type)
        .order_by(t.properties.c.name)
    ).mappings()
    return [to_definition(r) for r in rows]


def find_property(
    conn: Connection, account_id: int, object_type: str, name: str
) -> PropertyDefinition | None:
    row = conn.execute(
        select(t.properties).where(
            t.properties.c.account_id == account_id,
            t.properties.c.object_type == object_type,
            t.properties.c.name == name,
        )
    ).mappings().first()
    return to_definition(row) if row else None


def insert_property(conn: Connection, account_id: int, prop: PropertyDefinition) -> int:
    """Store a new property; returns its id."""
    pid = allocate_ids(conn, "properties")[0]
    conn.execute(insert(t.properties).values(
        account_id=account_id, property_id=pid, **_to_row(prop)))
    return pid


def update_property(conn: Connection, account_id: int, prop: PropertyDefinition) -> None:
    conn.execute(
        update(t.properties)
        .where(t.properties.c.account_id == account_id,
               t.properties.c.property_id == prop.id)
        .values(**_to_row(prop))
    )


def delete_property(conn: Connection, account_id: int, property_id: int) -> None:
    """Remove the definition, its values, their history and their unique-value claims."""
    for table in (t.property_values, t.property_history, t.unique_values, t.properties):
        conn.execute(delete(table).where(
            table.c.account_id == account_id, table.c.property_id == property_id))


def load_value_texts(conn: Connection, account_id: int, property_id: int) -> list[tuple[int, str]]:
    """Every stored ``(record id, value text)`` of one property."""
    v = t.property_values
    rows = conn.execute(select(v.c.record_id, v.c.value).where(
        v.c.account_id == account_id, v.c.property_id == property_id))
    return [(int(rid), str(text)) for rid, text in rows]


def store_numbers(
    conn: Connection, account_id: int, property_id: int, numbers: Iterable[tuple[int, float | None]]
) -> None:
    """Set the comparable number of values whose text stays the same (a type change)."""
    v = t.property_values
    rows = [{"rid": rid, "new_num": num} for rid, num in numbers]
    if rows:
        conn.execute(update(v).where(
            v.c.account_id == account_id, v.c.property_id == property_id,
            v.c.record_id == bindparam("rid")).values(num=bindparam("new_num")), rows)


def load_groups(conn: Connection, account_id: int, object_type: str) -> list[RowMapping]:
    return list(conn.execute(
        select(t.property_groups)
        .where(t.property_groups.c.account_id == account_id,
               t.property_groups.c.object_type == object_type)
        .order_by(t.property_groups.c.display_order, t.property_groups.c.name)
    ).mappings())


def insert_group(
    conn: Connection, account_id: int, object_type: str, name: str, label: str, order: int
) -> None:
    conn.execute(insert(t.property_groups).values(
        account_id=account_id, object_type=object_type, name=name, label=label,
        display_order=order))


def find_group(
    conn: Connection, account_id: int, object_type: str, name: str
) -> RowMapping | None:
    return conn.execute(select(t.property_groups).where(
        *_group_key(account_id, object_type, name))).mappings().first()


def update_group(
    conn: Connection, account_id: int, object_type: str, name: str, label: str, order: int
) -> None:
    conn.execute(update(t.property_groups).where(*_group_key(account_id, object_type, name))
                 .values(label=label, display_order=order))


def delete_group(conn: Connection, account_id: int, object_type: str, name: str) -> None:
    conn.execute(delete(t.property_groups).where(*_group_key(account_id, object_type, name)))


def _group_key(account_id: int, object_type: str, name: str) -> tuple[ColumnElement[bool], ...]:
    g = t.property_groups
    return (g.c.account_id == account_id, g.c.object_type == object_type, g.c.name == name)


def to_definition(row: RowMapping) -> PropertyDefinition:
    return PropertyDefinition(
        id=row["property_id"], object_type=row["object_type"], name=row["name"],
        label=row["label"], type=row["type"], field_type=row["field_type"],
        group_name=row["group_name"], description=row["description"],
        options=tuple(Option(**o) for o in json.loads(row["options"])),
        display_order=row["display_order"], hidden=bool(row["hidden"]),
        has_unique_value=bool(row["has_unique_value"]),
        hubspot_defined=bool(row["hubspot_defined"]), calculated=bool(row["calculated"]),
        access=_access_from_json(row["access"]),
        created_ms=row["created_ms"], updated_ms=row["updated_ms"],
    )


def _to_row(prop: PropertyDefinition) -> dict[str, Any]:
    return {
        "object_type": prop.object_type, "name": prop.name, "label": prop.label,
        "type": prop.type, "field_type": prop.field_type, "group_name": prop.group_name,
        "description": prop.description, "options": _options_json(prop.options),
        "display_order": prop.display_order, "hidden": prop.hidden,
        "has_unique_value": prop.has_unique_value, "hubspot_defined": prop.hubspot_defined,
        "calculated": prop.calculated, "access": _access_to_json(prop.access),
        "created_ms": prop.created_ms, "updated_ms": prop.updated_ms,
    }


def _options_json(options: Iterable[Option]) -> str:
    return json.dumps([
        {"value": o.value, "label": o.label, "display_order": o.display_order,
         "hidden": o.hidden, "description": o.description}
        for o in options
    ])


_ACCESS_FIELDS = ("view_users", "view_teams", "edit_users", "edit_teams")


def _access_to_json(rule: AccessRule) -> str | None:
    if not rule.is_restricted:
        return None
    return json.dumps({
        f: sorted(getattr(rule, f)) if getattr(rule, f) is not None else None
        for f in _ACCESS_FIELDS
    })


def _access_from_json(raw: str | None) -> AccessRule:
    if raw is None:
        return AccessRule()
    data = json.loads(raw)
    return AccessRule(**{
        f: frozenset(data[f]) if data.get(f) is not None else None for f in _ACCESS_FIELDS
    })


def log_definition_change(
    conn: Connection, account_id: int, prop: PropertyDefinition, at_ms: int,
    user_id: int | None, action: str, summary: str,
) -> None:
    (entry_id,) = allocate_ids(conn, "history", 1)
    conn.execute(insert(t.property_definition_log).values(
        account_id=account_id, entry_id=entry_id, property_id=prop.id,
        object_type=prop.object_type, property_name=prop.name, at_ms=at_ms, user_id=user_id,
        action=action, summary=summary))


def load_definition_log(conn: Connection, account_id: int, property_id: int
                        ) -> list[tuple[int, int | None, str, str]]:
    """``(at_ms, user_id, action, summary)`` of each change of the property, oldest first."""
    log = t.property_definition_log
    return [(r.at_ms, r.user_id, r.action, r.summary) for r in conn.execute(
        select(log.c.at_ms, log.c.user_id, log.c.action, log.c.summary)
        .where(log.c.account_id == account_id, log.c.property_id == property_id)
        .order_by(log.c.entry_id))]


def load_restricted(conn: Connection, account_id: int) -> list[PropertyDefinition]:
    """Every property of the account, of any object type, whose access is restricted."""
    p = t.properties
    rows = conn.execute(select(p).where(p.c.account_id == account_id, p.c.access.is_not(None))
                        .order_by(p.c.object_type, p.c.name)).mappings()
    return [to_definition(r) for r in rows]
