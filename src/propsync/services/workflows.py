"""Workflows: HubSpot's Automation v4 flows, defined, read, changed, turned on and off.

Every call needs the ``automation`` scope, and one that shows or saves a definition also
the schema read scope (``crm.schemas.<type>.read``) of each object type the flow touches
(HubSpot asks for ``automation`` alone; propsync shows no property names of a type to a
token that may not read its schema, as everywhere else). Creating, changing, deleting
and turning a flow on or off also need the role that changes property settings (super
admins, and admins with the property-settings permission). A save reads the definition
(``domain/workflows``: the supported subset, else a 400 naming the part), checks it
against the account (``services/workflow_checks``), and stores it with the next revision;
a change must name the revision it replaces (HubSpot's ``revisionId``), else it is a 409.
In the same transaction, under the account's definitions lock, the feed's watches of the reader
"workflows" are set to what the enabled flows enroll on, so that writers record exactly
the changes the workflow engine needs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import AUTOMATION, Principal
from propsync.domain.changes import Watch
from propsync.domain.errors import ConflictError, ErrorDetail, NotFoundError, ValidationError
from propsync.domain.feed import WORKFLOWS_READER
from propsync.domain.record_ids import parse_record_id
from propsync.domain.workflow_shape import stored_definition
from propsync.domain.workflows import Flow, invalid, parse_flow
from propsync.services.workflow_checks import FlowChecker, require_schemas
from propsync.services.workflow_runs import flow_changed
from propsync.storage import feed
from propsync.storage import workflows as store
from propsync.storage.associations import load_types
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import load_properties
from propsync.storage.workflows import NewFlow, StoredFlow

MAX_FLOWS = 1_000  # live flows per account (HubSpot's largest tier allows 1,000)
MAX_DEFINITION_CHARS = 1_000_000  # a stored definition, as JSON
MAX_PAGE = 100
MAX_BATCH = 100


@dataclass(frozen=True)
class FlowPage:
    flows: list[StoredFlow]
    next_after: str | None  # the cursor of the next page, if there is one


@dataclass(frozen=True)
class BatchRead:
    flows: list[StoredFlow]  # in the order asked, each once
    missing: list[str]  # the ids asked for that name no flow of the account


def create_flow(engine: Engine, principal: Principal, body: Mapping[str, Any]) -> StoredFlow:
    """Save a new flow at revision 1 (``POST /automation/v4/flows``); the server's fields
    of ``body`` (id, revisionId, createdAt, ...) are ignored."""
    require_manager(principal)
    flow, definition = read_definition(body)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        return insert_checked(conn, principal, flow, definition)


def insert_checked(conn: Connection, principal: Principal, flow: Flow,
                   definition: Mapping[str, Any]) -> StoredFlow:
    """Check a new flow against the account and store it at revision 1 (the caller holds
    ``lock_definitions`` and has checked the role)."""
    if store.count_flows(conn, principal.account_id) >= MAX_FLOWS:
        raise invalid("body", f"an account has at most {MAX_FLOWS:,} workflows; delete "
                      "one first.", "TOO_MANY_FLOWS")
    FlowChecker(conn, principal, flow).check()
    saved = store.insert_flow(conn, principal.account_id,
                              NewFlow(flow, definition, principal.user_id),
                              str(uuid.uuid4()), now_ms())
    keep_watches(conn, principal.account_id)
    return saved


def get_flow(engine: Engine, principal: Principal, flow_id: str) -> StoredFlow:
    """The flow (``GET /automation/v4/flows/{flowId}``); 404 if the account has none, 403
    unless the token may read the schema of each object type it touches."""
    principal.require(AUTOMATION)
    with read_transaction(engine) as conn:
        found = existing(conn, principal.account_id, flow_id)
        require_schemas(principal, [found.flow], load_types(conn, principal.account_id))
    return found


def list_flows(engine: Engine, principal: Principal, after: str | None, limit: int
               ) -> FlowPage:
    """A page of the account's flows by id; ``after`` is the cursor a page gave."""
    principal.require(AUTOMATION)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"'limit' is between 1 and {MAX_PAGE}, not {limit}.")
    start = _cursor(after)
    with read_transaction(engine) as conn:
        flows, more = store.list_flows(conn, principal.account_id, start, limit)
    return FlowPage(flows, str(flows[-1].flow_id) if more and flows else None)


def read_flows(engine: Engine, principal: Principal, flow_ids: Sequence[str]) -> BatchRead:
    """The flows named (``POST /automation/v4/flows/batch/read``), and those not found."""
    principal.require(AUTOMATION)
    if len(flow_ids) > MAX_BATCH:
        raise ValidationError(f"A batch reads at most {MAX_BATCH} flows, not {len(flow_ids)}.")
    asked = list(dict.fromkeys(flow_ids))
    ids = {raw: parse_record_id(raw) for raw in asked}
    with read_transaction(engine) as conn:
        found = store.load_flows(conn, principal.account_id,
                                 [i for i in ids.values() if i is not None])
        require_schemas(principal, [f.flow for f in found.values()],
                        load_types(conn, principal.account_id))
    flows = [found[i] for i in dict.fromkeys(ids.values()) if i is not None and i in found]
    return BatchRead(flows, [raw for raw, i in ids.items() if i is None or i not in found])


def update_flow(engine: Engine, principal: Principal, flow_id: str, body: Mapping[str, Any]
                ) -> StoredFlow:
    """Replace the flow's definition (``PUT``): ``body`` is the whole flow with the
    ``revisionId`` it replaces (a stale one is a 409). The object type cannot change; a
    body without ``objectTypeId`` or ``dataSources`` keeps the stored ones (HubSpot's PUT
    schema has neither)."""
    require_manager(principal)
    revision = _revision(body.get("revisionId"))
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = existing(conn, principal.account_id, flow_id)
        require_schemas(principal, [stored.flow], load_types(conn, principal.account_id))
        flow, definition = read_definition(_over(stored, body))
        if stored.revision != revision:
            raise _stale(stored, revision)
        FlowChecker(conn, principal, flow).check()
        saved = store.update_flow(conn, principal.account_id, stored.flow_id, revision,
                                  NewFlow(flow, definition, principal.user_id), now_ms())
        if saved is None:  # another save came first (the lock makes this rare)
            raise _stale(stored, revision)
        flow_changed(conn, principal.account_id, stored, saved)
        keep_watches(conn, principal.account_id)
    return saved


def set_enabled(engine: Engine, principal: Principal, flow_id: str, enabled: bool
                ) -> StoredFlow:
    """Turn the flow on or off (a save: the revision grows). Turning it on checks it
    against the account again (a property it uses may have changed since it was saved);
    asking for the state it is in changes nothing."""
    require_manager(principal)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = existing(conn, principal.account_id, flow_id)
        require_schemas(principal, [stored.flow], load_types(conn, principal.account_id))
        if stored.enabled == enabled:
            return stored
        if enabled:
            FlowChecker(conn, principal, stored.flow).check()
        saved = store.set_enabled(conn, principal.account_id, stored.flow_id, enabled,
                                  principal.user_id, now_ms())
        assert saved is not None  # held under the definitions lock
        flow_changed(conn, principal.account_id, stored, saved)
        keep_watches(conn, principal.account_id)
    return saved


def delete_flow(engine: Engine, principal: Principal, flow_id: str) -> None:
    """Delete the flow (``DELETE``); 404 if the account has no such flow."""
    require_manager(principal)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = existing(conn, principal.account_id, flow_id)
        require_schemas(principal, [stored.flow], load_types(conn, principal.account_id))
        store.delete_flow(conn, principal.account_id, stored.flow_id, principal.user_id,
                          now_ms())
        flow_changed(conn, principal.account_id, stored, None)
        keep_watches(conn, principal.account_id)


def read_definition(body: Mapping[str, Any]) -> tuple[Flow, dict[str, Any]]:
    """What propsync runs of ``body`` and the definition it stores (400 if outside the
    supported subset, or too large)."""
    flow = parse_flow(body)
    definition = stored_definition(body)
    if len(json.dumps(definition, ensure_ascii=False)) > MAX_DEFINITION_CHARS:
        raise invalid("body", f"a flow's definition has at most {MAX_DEFINITION_CHARS:,} "
                      "characters of JSON.", "FLOW_TOO_LARGE")
    return flow, definition


def watches_of(flows: Sequence[StoredFlow], property_ids: Mapping[tuple[str, str], int]
               ) -> set[Watch]:
    """What the enabled ``flows`` enroll on: the value changes of every property named in
    their enrollment (``property_ids``: (object type, name) → id), and the lifecycle of
    their object type for LIST_BASED flows."""
    watches: set[Watch] = set()
    for stored in flows:
        enrollment = stored.flow.enrollment
        if enrollment.kind == "LIST_BASED":
            watches.add(Watch(stored.object_type, None))
        watches.update(Watch(stored.object_type, property_ids[(stored.object_type, name)])
                       for name in enrollment.properties
                       if (stored.object_type, name) in property_ids)
    return watches


def keep_watches(conn: Connection, account_id: int) -> None:
    """Set the feed's watches of the reader "workflows" to what the account's enabled
    flows enroll on (the caller holds ``lock_definitions``)."""
    flows = store.load_enabled(conn, account_id)
    ids = {(p.object_type, p.name): p.id
           for object_type in sorted({f.object_type for f in flows})
           for p in load_properties(conn, account_id, object_type)}
    feed.set_watches(conn, account_id, WORKFLOWS_READER, watches_of(flows, ids))


def require_manager(principal: Principal) -> None:
    principal.require(AUTOMATION)
    principal.require_property_settings()


def existing(conn: Connection, account_id: int, flow_id: str) -> StoredFlow:
    fid = parse_record_id(flow_id)
    found = store.load_flow(conn, account_id, fid) if fid is not None else None
    if found is None:
        raise NotFoundError(f"No workflow {flow_id[:40]!r} exists in this account.")
    return found


def _cursor(after: str | None) -> int:
    if after in (None, ""):
        return 0
    assert after is not None
    found = parse_record_id(after)
    if found is None:
        raise ValidationError(f"'after' must be a paging cursor from a previous page, not "
                              f"{after[:40]!r}.", [ErrorDetail(
                                  "'after' is not a paging cursor.", "INVALID_PAGING")])
    return found


def _revision(raw: Any) -> int:
    """The ``revisionId`` a PUT names: a revision number (HubSpot writes it as a string)."""
    found = parse_record_id(raw) if isinstance(raw, (str, int)) else None
    if found is None:
        raise invalid("revisionId", "a PUT names the revisionId it replaces (the flow's "
                      "current revisionId, from GET).", "MISSING_REVISION")
    return found


def _over(stored: StoredFlow, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` on top of what a PUT cannot change or may leave out."""
    merged = dict(body)
    for key in ("objectTypeId", "type"):
        if merged.get(key, stored.definition[key]) != stored.definition[key]:
            raise invalid(key, f"a flow's {key} cannot change (it is "
                          f"{stored.definition[key]!r}); create a new flow instead.")
        merged[key] = stored.definition[key]
    if "dataSources" not in merged:
        merged["dataSources"] = stored.definition.get("dataSources", [])
    merged.setdefault("isEnabled", stored.enabled)
    return merged


def _stale(stored: StoredFlow, revision: int) -> ConflictError:
    message = (f"Workflow {stored.flow_id} was changed since revision {revision}: its "
               f"revisionId is now {stored.revision}. Read it again and send your change "
               "with that revisionId.")
    return ConflictError(message, [ErrorDetail(message, "REVISION_CONFLICT",
                                               {"revisionId": [str(stored.revision)]})])
