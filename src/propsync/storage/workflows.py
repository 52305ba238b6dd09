"""Workflow definitions (``workflows``): one row per flow of an account.

A row keeps the flow's JSON as HubSpot shows it, without the server's fields
(``definition``); what propsync runs is that JSON read by ``domain.workflows.parse_flow``
(``StoredFlow.flow``). ``revision`` grows by one with each save, and a save names the
revision it replaces, so two editors cannot overwrite each other unseen. A deleted flow
keeps its row (``deleted_ms``) for the runs that name it; every read here leaves it out.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from propsync.domain.workflows import Flow, parse_flow
from propsync.storage import tables as t
from propsync.storage.ids import allocate_id


@dataclass(frozen=True)
class StoredFlow:
    """A saved flow: its server fields, what propsync runs (``flow``) and the definition
    as saved (``definition``, HubSpot's JSON without the server's fields)."""

    flow_id: int
    revision: int
    enabled: bool
    name: str
    object_type: str
    flow: Flow
    definition: dict[str, Any]
    created_ms: int
    updated_ms: int
    uuid: str = ""
    created_by: int | None = None
    updated_by: int | None = None


@dataclass(frozen=True)
class NewFlow:
    """What a save writes: the definition and its reading."""

    flow: Flow
    definition: Mapping[str, Any]
    user_id: int | None


def load_flow(conn: Connection, account_id: int, flow_id: int) -> StoredFlow | None:
    """The flow, or None if the account has no such flow (or it was deleted)."""
    w = t.workflows
    row = conn.execute(select(w).where(w.c.account_id == account_id, w.c.flow_id == flow_id,
                                       w.c.deleted_ms.is_(None))).mappings().first()
    return None if row is None else _stored(row)


def load_flows(conn: Connection, account_id: int, flow_ids: Collection[int]
               ) -> dict[int, StoredFlow]:
    """The live flows among ``flow_ids``, by id (missing and deleted ones left out)."""
    w = t.workflows
    wanted = sorted(set(flow_ids))
    found: dict[int, StoredFlow] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(select(w).where(
            w.c.account_id == account_id, w.c.flow_id.in_(wanted[start:start + 500]),
            w.c.deleted_ms.is_(None))).mappings()
        found.update((r["flow_id"], _stored(r)) for r in rows)
    return found


def load_enabled(conn: Connection, account_id: int, object_type: str | None = None
                 ) -> list[StoredFlow]:
    """The account's enabled flows (of ``object_type`` if given), by id."""
    w = t.workflows
    query = select(w).where(w.c.account_id == account_id, w.c.enabled.is_(True),
                            w.c.deleted_ms.is_(None))
    if object_type is not None:
        query = query.where(w.c.object_type == object_type)
    return [_stored(r) for r in conn.execute(query.order_by(w.c.flow_id)).mappings()]


def list_flows(conn: Connection, account_id: int, after: int, limit: int
               ) -> tuple[list[StoredFlow], bool]:
    """Up to ``limit`` live flows with ids above ``after``, by id, and whether more follow."""
    w = t.workflows
    rows = conn.execute(select(w).where(
        w.c.account_id == account_id, w.c.flow_id > after, w.c.deleted_ms.is_(None))
        .order_by(w.c.flow_id).limit(limit + 1)).mappings().all()
    return [_stored(r) for r in rows[:limit]], len(rows) > limit


def flows_naming(conn: Connection, account_id: int, name: str) -> list[StoredFlow]:
    """The live flows whose stored definition may name the property ``name`` (as a JSON
    string, ``"name"``, or in a property token, ``{{ source.name }}``), by id: a superset
    the caller reads each of to know."""
    w = t.workflows
    text = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(select(w).where(
        w.c.account_id == account_id, w.c.deleted_ms.is_(None),
        w.c.definition.like(f'%"{text}"%', escape="\\")
        | w.c.definition.like(f"%.{text}%", escape="\\")).order_by(w.c.flow_id)).mappings()
    return [_stored(r) for r in rows]


def count_flows(conn: Connection, account_id: int) -> int:
    """How many live flows the account has."""
    w = t.workflows
    return int(conn.execute(select(func.count()).where(
        w.c.account_id == account_id, w.c.deleted_ms.is_(None))).scalar_one())


def insert_flow(conn: Connection, account_id: int, new: NewFlow, uuid: str, now_ms: int
                ) -> StoredFlow:
    """Store a new flow at revision 1 with a fresh id (sequence ``workflows``)."""
    flow_id = allocate_id(conn, "workflows")
    conn.execute(insert(t.workflows), [{
        "account_id": account_id, "flow_id": flow_id, "uuid": uuid, "revision": 1,
        "created_ms": now_ms, "created_by": new.user_id, **_saved(new, now_ms)}])
    found = load_flow(conn, account_id, flow_id)
    assert found is not None
    return found


def update_flow(conn: Connection, account_id: int, flow_id: int, revision: int, new: NewFlow,
                now_ms: int) -> StoredFlow | None:
    """Replace the flow's definition if it is still at ``revision`` (the revision grows by
    one); None if it is not (another save came first) or is gone."""
    w = t.workflows
    changed = conn.execute(update(w).where(
        w.c.account_id == account_id, w.c.flow_id == flow_id, w.c.revision == revision,
        w.c.deleted_ms.is_(None)).values(revision=w.c.revision + 1, **_saved(new, now_ms)))
    return load_flow(conn, account_id, flow_id) if changed.rowcount == 1 else None


def set_enabled(conn: Connection, account_id: int, flow_id: int, enabled: bool,
                user_id: int | None, now_ms: int) -> StoredFlow | None:
    """Turn the flow on or off (a save: the revision grows); None if it is gone."""
    w = t.workflows
    changed = conn.execute(update(w).where(
        w.c.account_id == account_id, w.c.flow_id == flow_id, w.c.deleted_ms.is_(None))
        .values(enabled=enabled, revision=w.c.revision + 1, updated_ms=now_ms,
                updated_by=user_id))
    return load_flow(conn, account_id, flow_id) if changed.rowcount == 1 else None


def delete_flow(conn: Connection, account_id: int, flow_id: int, user_id: int | None,
                now_ms: int) -> bool:
    """Mark the flow deleted (and off); False if there was no such live flow."""
    w = t.workflows
    changed = conn.execute(update(w).where(
        w.c.account_id == account_id, w.c.flow_id == flow_id, w.c.deleted_ms.is_(None))
        .values(deleted_ms=now_ms, enabled=False, updated_ms=now_ms, updated_by=user_id))
    return changed.rowcount == 1


def _saved(new: NewFlow, now_ms: int) -> dict[str, Any]:
    return {"object_type": new.flow.object_type, "name": new.flow.name,
            "enabled": new.flow.enabled, "updated_ms": now_ms, "updated_by": new.user_id,
            "definition": json.dumps(new.definition, separators=(",", ":"),
                                     ensure_ascii=False)}


def _stored(row: RowMapping) -> StoredFlow:
    definition = json.loads(row["definition"])
    flow = parse_flow({**definition, "isEnabled": bool(row["enabled"])})
    return StoredFlow(row["flow_id"], row["revision"], bool(row["enabled"]), row["name"],
                      row["object_type"], flow, definition, row["created_ms"],
                      row["updated_ms"], row["uuid"], row["created_by"], row["updated_by"])
