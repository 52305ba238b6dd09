"""Sync property use cases: define (with every guard rail of SPEC 3.4), status, explain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine, func, select

from propsync.clock import now_ms
from propsync.domain.associations import CATEGORIES, AssociationType
from propsync.domain.auth import Principal, object_scope, schema_scope
from propsync.domain.errors import (
    AlreadyExistsError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from propsync.domain.objects import OBJECT_TYPES, resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.domain.sync_rule import (
    Candidate,
    Selection,
    SyncDefinition,
    SyncSource,
    check_association_types,
    refuse,
    winner,
    would_cycle,
)
from propsync.services import definition_log
from propsync.services.property_usage import refuse_if_used
from propsync.storage import associations as assoc_store
from propsync.storage import sync as store
from propsync.storage import tables as t
from propsync.storage.accounts import account_tier
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import (
    delete_property,
    find_property,
    insert_property,
    update_property,
)
from propsync.storage.records import load_records, load_values

SYNC_PROPERTY_LIMITS = {"professional": 50, "enterprise": 500}


@dataclass(frozen=True)
class SourceRequest:
    """``syncSource`` as the caller sent it."""

    object_type: str
    property_name: str
    association_types: list[tuple[str, int]] | None
    selection: str | None


@dataclass(frozen=True)
class CheckedSource:
    """A validated source: the rule's view of it and the source property itself."""

    source: SyncSource
    source_property: PropertyDefinition


def check_source(
    conn: Connection, principal: Principal, target_type: str, request: SourceRequest
) -> CheckedSource:
    """Validate a sync source against SPEC 3.4; raises a 4xx error that says what to do."""
    source_type = _source_type(request.object_type)
    # A sync property shows the source's values to everyone who reads the target, so
    # whoever defines one must be able to read those values (and the source's schema).
    principal.require(schema_scope(source_type), object_scope(source_type))
    prop = find_property(conn, principal.account_id, source_type, request.property_name)
    _check_source_property(prop, source_type, request.property_name)
    assert prop is not None
    types = assoc_store.load_types(conn, principal.account_id)
    chosen = _chosen_types(types, request.association_types)
    selection = _selection(request.selection)
    check_association_types(target_type, source_type, chosen, selection)
    ids = frozenset(c.type_id for c in chosen) if chosen is not None else None
    return CheckedSource(SyncSource(source_type, prop.name, ids, selection), prop)


def _source_type(raw: str) -> str:
    try:
        return resolve_object_type(raw).name
    except ValidationError:
        raise refuse(f"{raw!r} is not an object type. The source object must be one of: "
                     f"{', '.join(OBJECT_TYPES)}.") from None


def _check_source_property(prop: PropertyDefinition | None, source_type: str, name: str) -> None:
    if prop is None:
        raise refuse(f"{source_type} has no property {name!r}. Choose an existing property of "
                     f"{source_type} as the source (GET /crm/v3/properties/{source_type}).",
                     code="PROPERTY_DOESNT_EXIST", propertyName=[name])
    if prop.access.is_restricted:
        raise refuse(
            f"{source_type}.{name} has restricted view or edit access. A sync property is "
            "visible to everyone, so it cannot copy restricted data. Remove the restriction "
            "from the source property, or choose another one.", code="RESTRICTED_SOURCE",
            propertyName=[name])
    if prop.calculated:
        raise refuse(f"{source_type}.{name} is calculated by propsync; a sync property can "
                     "copy stored properties only.", propertyName=[name])


def _chosen_types(
    types: Mapping[int, AssociationType], raw: list[tuple[str, int]] | None
) -> list[AssociationType] | None:
    if raw is None:
        return None
    chosen = []
    for category, type_id in raw:
        found = types.get(type_id)
        if category not in CATEGORIES or found is None or found.category != category:
            raise refuse(f"There is no association type {category} {type_id}. List the labels "
                         "with GET /crm/v4/associations/{from}/{to}/labels.",
                         code="INVALID_ASSOCIATION_TYPE")
        chosen.append(found)
    return chosen


def _selection(raw: str | None) -> Selection | None:
    if raw is None:
        return None
    try:
        return Selection(raw)
    except ValueError:
        raise refuse(f"selection must be FIRST_CREATED or LAST_CREATED, not {raw!r}.") from None


def check_matches_source(given: Mapping[str, object], source: PropertyDefinition) -> None:
    """``type``/``fieldType``, when given, must be the source property's own."""
    for member, expected in (("type", source.type), ("fieldType", source.field_type)):
        value = given.get(member)
        if value is not None and value != expected:
            raise refuse(
                f"A sync property takes its {member} from its source: {source.object_type}."
                f"{source.name} has {member} {expected!r}, not {value!r}. Leave {member} out.")


def define(
    conn: Connection, principal: Principal, property_id: int, target_type: str,
    checked: CheckedSource, tier: str = "professional", redefining: bool = False,
) -> None:
    """Store the definition and start its backfill; refuses cycles and the tier's limit."""
    lock_definitions(conn, principal.account_id)
    defs = store.load_sync_properties(conn, principal.account_id)
    _refuse_cycle(conn, principal, defs, property_id, checked)
    limit = SYNC_PROPERTY_LIMITS.get(tier, SYNC_PROPERTY_LIMITS["professional"])
    if not redefining and len(defs) >= limit:
        raise refuse(f"This account has {len(defs)} sync properties, the limit of its "
                     f"{tier} subscription. Delete one you no longer need first.",
                     code="SYNC_PROPERTY_LIMIT")
    store.save_definition(conn, principal.account_id, property_id, target_type,
                          checked.source_property.id, checked.source, now_ms())


def _refuse_cycle(conn: Connection, principal: Principal, defs: list[SyncDefinition],
                  property_id: int, checked: CheckedSource) -> None:
    edges = {d.property_id: d.source_property_id for d in defs if d.property_id != property_id}
    cycle = would_cycle(edges, property_id, checked.source_property.id)
    if cycle is not None:
        raise refuse("This sync property would copy, through a chain, its own value: "
                     f"{_describe_cycle(conn, principal.account_id, cycle)}. Choose a source "
                     "that does not depend on this property.", code="SYNC_CYCLE")


def _describe_cycle(conn: Connection, account_id: int, ids: list[int]) -> str:
    p = t.properties
    names = dict(conn.execute(select(p.c.property_id, p.c.object_type + "." + p.c.name).where(
        p.c.account_id == account_id, p.c.property_id.in_(ids))).all())
    return " ← ".join(names.get(i, "this property") for i in ids)


def find_definition(conn: Connection, account_id: int, property_id: int) -> SyncDefinition | None:
    return next((d for d in store.load_sync_properties(conn, account_id)
                 if d.property_id == property_id), None)


@dataclass(frozen=True)
class Explanation:
    definition: SyncDefinition
    candidates: list[tuple[Candidate, bool, str]]  # candidate, admitted, why
    winner: Candidate | None
    value: str | None
    stored: str | None


def explain(
    engine: Engine, principal: Principal, target_type: str, name: str, record_id: int
) -> Explanation:
    """Why one target's sync value is what it is: candidates, winner, value."""
    target = resolve_object_type(target_type).name
    principal.require(object_scope(target))
    with read_transaction(engine) as conn:
        prop = find_property(conn, principal.account_id, target, name)
        definition = find_definition(conn, principal.account_id, prop.id) if prop else None
        if prop is None or definition is None:
            raise NotFoundError(f"{target} has no sync property {name!r}.")
        require_source(principal, definition)
        principal.require(object_scope(definition.source_type))
        record = load_records(conn, principal.account_id, target, [record_id]).get(record_id)
        if record is None:
            raise NotFoundError(f"No {target} record has the id {record_id}.")
        candidates = _candidates(conn, principal.account_id, definition, record_id)
        chosen = winner(definition.source, candidates)
        ids = [c.record_id for c in candidates] + [record_id]
        values = load_values(conn, principal.account_id, ids,
                             [definition.source_property_id, definition.property_id])
    source_values = {i: v.get(definition.source_property_id) for i, v in values.items()}
    judged = [(c, *_judge(definition.source, c)) for c in candidates]
    value = source_values.get(chosen.record_id) if chosen else None
    stored = values.get(record_id, {}).get(definition.property_id)
    return Explanation(definition, judged, chosen, value, stored)


def _candidates(
    conn: Connection, account_id: int, d: SyncDefinition, record_id: int
) -> list[Candidate]:
    links = store.linked_records(conn, account_id, record_id, d.source_type)
    rows = load_records(conn, account_id, d.source_type, list(links))
    return [Candidate(i, rows[i].created_ms, rows[i].archived, frozenset(tids))
            for i, tids in sorted(links.items()) if i in rows]


def _judge(source: SyncSource, candidate: Candidate) -> tuple[bool, str]:
    if candidate.archived:
        return False, "the record is archived"
    if not source.admits(candidate.type_ids):
        return False, "none of its association labels is selected"
    return True, "associated through a selected label"


def create_sync_property(
    engine: Engine, principal: Principal, target_type: str, name: str, label: str,
    request: SourceRequest, group_name: str | None = None, description: str = "",
    given: Mapping[str, object] | None = None,
) -> PropertyDefinition:
    """Create a sync property and start its backfill (all checks first; nothing on refusal)."""
    target = resolve_object_type(target_type).name
    principal.require(schema_scope(target, write=True))
    principal.require_property_settings()
    now = now_ms()
    with write_transaction(engine) as conn:
        # The lock comes before the source is read: restricting or deleting the source takes
        # it too, so either that committed first (and the source is seen restricted or gone)
        # or it waits for this definition (and is refused because the source is in use).
        lock_definitions(conn, principal.account_id)
        if find_property(conn, principal.account_id, target, name) is not None:
            raise AlreadyExistsError(f"{target} already has a property named {name!r}. "
                                     "Choose another internal name.")
        checked = check_source(conn, principal, target, request)
        check_matches_source(given or {}, checked.source_property)
        source = checked.source_property
        prop = PropertyDefinition(
            id=0, object_type=target, name=name, label=label, type=source.type,
            field_type=source.field_type, group_name=group_name or OBJECT_TYPES[target].group,
            description=description, options=source.options, created_ms=now, updated_ms=now)
        pid = insert_property(conn, principal.account_id, prop)
        define(conn, principal, pid, target, checked, account_tier(conn, principal.account_id))
        definition_log.record(conn, principal, replace(prop, id=pid), definition_log.CREATED,
                              "Created as a sync property: " + describe_source(conn, principal,
                                                                               checked))
    return replace(prop, id=pid)


def describe_source(conn: Connection, principal: Principal, checked: CheckedSource) -> str:
    """``copies companies · name over Primary, first created`` — for the definition log."""
    s = checked.source
    if s.association_type_ids is None:
        labels = "all association labels"
    else:
        types = assoc_store.load_types(conn, principal.account_id)
        labels = ", ".join(types[i].label or "Unlabeled" if i in types else str(i)
                           for i in sorted(s.association_type_ids))
    chosen = f", {s.selection.value.replace('_', ' ').lower()}" if s.selection else ""
    return f"copies {s.source_type} · {checked.source_property.label} over {labels}{chosen}"


def redefine_sync_property(
    engine: Engine, principal: Principal, target_type: str, name: str, request: SourceRequest
) -> PropertyDefinition:
    """Point a sync property at a new source; every value is recomputed (a backfill)."""
    target = resolve_object_type(target_type).name
    principal.require(schema_scope(target, write=True))
    principal.require_property_settings()
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)  # before the source is read: see create
        prop, _ = _existing(conn, principal.account_id, target, name)
        checked = check_source(conn, principal, target, request)
        _refuse_retype_if_used(conn, principal, prop, checked.source_property)
        define(conn, principal, prop.id, target, checked, redefining=True)
        source = checked.source_property
        updated = replace(prop, type=source.type, field_type=source.field_type,
                          options=source.options, updated_ms=now_ms())
        update_property(conn, principal.account_id, updated)
        definition_log.record(conn, principal, updated, definition_log.UPDATED,
                              "Source changed: " + describe_source(conn, principal, checked))
    return updated


def _refuse_retype_if_used(conn: Connection, principal: Principal, prop: PropertyDefinition,
                           source: PropertyDefinition) -> None:
    """A new source of another type retypes the sync property: refused while something
    (a sync property copying it, a workflow reading it) uses it."""
    if (source.type, source.field_type) != (prop.type, prop.field_type):
        refuse_if_used(conn, principal, prop, "changed to another type (its new source's)")


@dataclass(frozen=True)
class RedefinitionPreview:
    """What ``redefine_sync_property`` with the same request would do, before it does it."""

    current: str  # the source now, as the definition log words it
    proposed: str  # the source after the change
    recomputed: int  # target records whose value the change recomputes (its backfill)
    type_before: str
    type_after: str


def preview_redefinition(
    engine: Engine, principal: Principal, target_type: str, name: str, request: SourceRequest
) -> RedefinitionPreview:
    """Check a redefinition as ``redefine_sync_property`` does (roles, scopes, the source's
    guard rails, cycles) and say what it would change, without changing anything. The
    count is the one the redefinition's backfill starts from (``store.count_targets``)."""
    target = resolve_object_type(target_type).name
    principal.require(schema_scope(target, write=True))
    principal.require_property_settings()
    with read_transaction(engine) as conn:
        prop, definition = _existing(conn, principal.account_id, target, name)
        require_source(principal, definition)
        checked = check_source(conn, principal, target, request)
        _refuse_cycle(conn, principal, store.load_sync_properties(conn, principal.account_id),
                      prop.id, checked)
        _refuse_retype_if_used(conn, principal, prop, checked.source_property)
        before = find_property(conn, principal.account_id, definition.source_type,
                               definition.source_property)
        current = (describe_source(conn, principal, CheckedSource(definition.source, before))
                   if before is not None else "a source property that no longer exists")
        return RedefinitionPreview(
            current, describe_source(conn, principal, checked),
            store.count_targets(conn, principal.account_id, target), prop.type,
            checked.source_property.type)


def delete_sync_property(engine: Engine, principal: Principal, target_type: str, name: str) -> None:
    """Remove a sync property and its values (refused while another sync property copies it)."""
    target = resolve_object_type(target_type).name
    principal.require(schema_scope(target, write=True))
    principal.require_property_settings()
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        prop, _ = _existing(conn, principal.account_id, target, name)
        refuse_if_used(conn, principal, prop, "deleted")
        store.delete_definition(conn, principal.account_id, prop.id)
        delete_property(conn, principal.account_id, prop.id)
        definition_log.record(conn, principal, prop, definition_log.DELETED, "Deleted")


def _existing(
    conn: Connection, account_id: int, target: str, name: str
) -> tuple[PropertyDefinition, SyncDefinition]:
    prop = find_property(conn, account_id, target, name)
    definition = find_definition(conn, account_id, prop.id) if prop else None
    if prop is None or definition is None:
        raise NotFoundError(f"{target} has no sync property {name!r}.")
    return prop, definition


@dataclass(frozen=True)
class PropertyStatus:
    definition: SyncDefinition
    filled: int
    queued: int


@dataclass(frozen=True)
class AccountStatus:
    pending: int
    oldest_pending_age_ms: int | None
    properties: list[PropertyStatus]


def account_status(engine: Engine, principal: Principal) -> AccountStatus:
    """How far behind the account's sync values are: zero pending means all up to date.

    Needs the schema read scope of at least one object type; lists the sync properties
    whose target and source schemas the token may read."""
    require_status_scope(principal)
    with read_transaction(engine) as conn:
        waiting = store.pending(conn, principal.account_id)
        statuses = [_status(conn, d) for d in store.load_sync_properties(conn, principal.account_id)
                    if may_read_status(principal, d)]
    backfill_left = sum(max(s.definition.backfill_total - s.definition.backfill_done, 1)
                        for s in statuses if s.definition.state != store.LIVE)
    stamps = [waiting.oldest_ms] if waiting.oldest_ms is not None else []
    stamps += [s.definition.backfill_started_ms for s in statuses
               if s.definition.state != store.LIVE]
    age = now_ms() - min(stamps) if stamps else None
    return AccountStatus(waiting.changes + waiting.targets + backfill_left, age, statuses)


def property_status(
    engine: Engine, principal: Principal, target_type: str, name: str
) -> PropertyStatus:
    target = resolve_object_type(target_type).name
    principal.require(schema_scope(target))
    with read_transaction(engine) as conn:
        _, definition = _existing(conn, principal.account_id, target, name)
        require_source(principal, definition)
        return _status(conn, definition)


def may_see_source(principal: Principal, d: SyncDefinition) -> bool:
    """May ``principal`` learn where ``d`` copies from (the source's object type and
    property)? Only with the read scope of the source type's schema."""
    return schema_scope(d.source_type) in principal.scopes


def require_source(principal: Principal, d: SyncDefinition) -> None:
    """403 unless ``may_see_source``; the refusal does not name the source type either."""
    if not may_see_source(principal, d):
        raise ForbiddenError(
            f"{d.target_type}.{d.name} copies its value from an object type whose schema "
            "this token may not read, so its source, status and explanations are not shown. "
            "Use a token with the schema read scope of the source object.")


def may_read_status(principal: Principal, d: SyncDefinition) -> bool:
    """Whether a status or overview lists ``d``: its target and source schemas readable."""
    return schema_scope(d.target_type) in principal.scopes and may_see_source(principal, d)


def require_status_scope(principal: Principal) -> None:
    """403 unless the caller may read the schema of at least one object type."""
    readable = [schema_scope(ot) for ot in OBJECT_TYPES]
    if not set(readable) & principal.scopes:
        raise ForbiddenError(
            "The sync status needs one of these scopes: " + ", ".join(readable) + ".",
            context={"requiredGranularScopes": readable})


def _status(conn: Connection, d: SyncDefinition) -> PropertyStatus:
    v = t.property_values
    filled = conn.execute(select(func.count()).where(
        v.c.account_id == d.account_id, v.c.property_id == d.property_id)).scalar_one()
    return PropertyStatus(d, int(filled), len(store.queued_ids(conn, d.account_id,
                                                               d.property_id)))


def type_categories(engine: Engine, principal: Principal) -> dict[int, str]:
    """``{type id: category}`` of the account's association types."""
    with read_transaction(engine) as conn:
        return {i: ty.category for i, ty in assoc_store.load_types(conn, principal.account_id)
                .items()}
