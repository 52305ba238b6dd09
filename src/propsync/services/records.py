"""Record use cases: create, read, update, archive, restore, merge (single and batch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal, object_scope
from propsync.domain.errors import (
    ConflictError,
    ErrorDetail,
    NotFoundError,
    PropsyncError,
    ValidationError,
)
from propsync.domain.history import ValueSource
from propsync.domain.objects import resolve_object_type
from propsync.domain.record_ids import parse_record_id
from propsync.services import record_keys as keys
from propsync.services.associations import AssociationInput, links_for_inputs
from propsync.services.schema import Catalogue, PropertyWrites
from propsync.services.views import ReadSpec, RecordView, build_views, require_associated
from propsync.storage import associations as assoc_store
from propsync.storage import records as store
from propsync.storage.db import read_transaction, write_transaction


@dataclass(frozen=True)
class RecordInput:
    """One record to create: property values and inline associations."""

    properties: Mapping[str, object]
    associations: Sequence[AssociationInput] = ()


@dataclass
class BatchResult:
    """What a batch did: the views it produced and the inputs it could not apply."""

    views: list[RecordView]
    errors: list[ErrorDetail] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def parse_id(raw: str | int) -> int:
    """A record id as ``domain/record_ids.py`` reads it; any other text cannot exist: 404."""
    parsed = parse_record_id(raw)
    if parsed is None:
        raise NotFoundError(f"No record has the id {str(raw)[:100]!r}: ids are whole numbers "
                            "written in digits 0-9, with no sign, spaces or leading zeros.")
    return parsed


def create_records(
    engine: Engine, principal: Principal, object_type: str, inputs: Sequence[RecordInput],
    source: ValueSource,
) -> list[RecordView]:
    """Create records with their values and associations; all or nothing."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot, write=True))
    now = now_ms()
    with write_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot)
        writes = validate_all(catalogue, [i.properties for i in inputs])
        ids = store.insert_records(conn, principal.account_id, ot, len(inputs), now)
        links = links_for_inputs(conn, principal, ot, ids, [i.associations for i in inputs])
        store.write_values(conn, principal.account_id, ot, [
            (rid, prop.id, value) for rid, items in zip(ids, writes, strict=True)
            for prop, value in items
        ], source, now)
        if links:
            types = assoc_store.load_types(conn, principal.account_id)
            assoc_store.add_links(conn, principal.account_id, links, types, now)
        names = list(dict.fromkeys(name for i in inputs for name in i.properties))
        return _views(conn, catalogue, ids, ReadSpec(properties=names or ()))


def validate_all(
    catalogue: Catalogue, inputs: Sequence[Mapping[str, object]]
) -> list[PropertyWrites]:
    """Validate every input; if any fails, one error lists every failure by input index."""
    results: list[PropertyWrites] = []
    errors: list[ErrorDetail] = []
    failure: PropsyncError | None = None
    for index, properties in enumerate(inputs):
        try:
            where = f"inputs[{index}].properties" if len(inputs) > 1 else "properties"
            results.append(catalogue.writes(properties, where=where))
        except PropsyncError as exc:
            failure = failure or exc
            errors += exc.details
    if failure is not None:
        if len(inputs) == 1:
            raise failure
        raise type(failure)(
            f"{len(errors)} of the values in this batch are not valid; nothing was changed. "
            + " ".join(e.message for e in errors), errors)
    return results


def _views(
    conn: Connection, catalogue: Catalogue, ids: Sequence[int], spec: ReadSpec
) -> list[RecordView]:
    rows = store.load_records(conn, catalogue.principal.account_id, catalogue.object_type, ids)
    return build_views(conn, catalogue, [rows[i] for i in ids if i in rows], spec)


def get_record(
    engine: Engine, principal: Principal, object_type: str, record_id: str, spec: ReadSpec,
    archived: bool = False, id_property: str | None = None,
) -> RecordView:
    """One record, by its id or (``id_property``) by its value of a unique property."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot))
    require_associated(principal, spec.associations)
    if keys.key_property_name(id_property) is None:
        parse_id(record_id)
    with read_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot)
        rid = keys.resolve_one(conn, catalogue, id_property, record_id)
        row = store.load_records(conn, principal.account_id, ot, [rid]).get(rid)
        if row is None or row.archived != archived:
            state = "archived " if archived else ""
            raise NotFoundError(f"No {state}{ot} record has the id {record_id[:100]!r}.",
                                context={"id": [record_id[:100]]})
        return build_views(conn, catalogue, [row], spec)[0]


def list_records(
    engine: Engine, principal: Principal, object_type: str, spec: ReadSpec, after: str | None,
    limit: int, archived: bool = False,
) -> tuple[list[RecordView], str | None]:
    """One page of records in id order, and the cursor of the next page (or ``None``)."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot))
    require_associated(principal, spec.associations)
    start = _cursor(after)
    with read_transaction(engine) as conn:
        rows = store.list_record_ids(conn, principal.account_id, ot, start, limit + 1, archived)
        page = rows[:limit]
        views = build_views(conn, Catalogue.load(conn, principal, ot), page, spec)
    return views, (str(page[-1].id) if len(rows) > limit else None)


def _cursor(after: str | None) -> int:
    """The id a page starts after: a cursor is the last id of the previous page."""
    if after in (None, ""):
        return 0
    assert after is not None
    start = parse_record_id(after)
    if start is None:
        message = f"'after' must be a paging cursor from a previous page, not {after[:100]!r}."
        raise ValidationError(message, [ErrorDetail(message, "INVALID_PAGING")])
    return start


def batch_read(
    engine: Engine, principal: Principal, object_type: str, ids: Sequence[str], spec: ReadSpec,
    archived: bool = False, id_property: str | None = None,
) -> BatchResult:
    """Records by id (or by value of the unique property ``id_property``); the ids that
    name none are reported."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot))
    require_associated(principal, spec.associations)
    with read_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot)
        wanted = keys.resolve(conn, catalogue, id_property, ids)
        rows = store.load_records(conn, principal.account_id, ot, [i for i in wanted if i])
        found = [rows[i] for i in dict.fromkeys(wanted)
                 if i in rows and rows[i].archived == archived]
        views = build_views(conn, catalogue, found, spec)
    present = {v.id for v in views}
    missing = [raw for raw, i in zip(ids, wanted, strict=True) if i not in present]
    return BatchResult(views, missing=list(dict.fromkeys(missing)))


def _parse_ids(ids: Sequence[str]) -> list[int]:
    """Each id as a number; 0 (no record's id) where the text names no record."""
    return [parse_record_id(raw) or 0 for raw in ids]


def update_records(
    engine: Engine, principal: Principal, object_type: str,
    updates: Sequence[tuple[str, Mapping[str, object]]], source: ValueSource,
) -> BatchResult:
    """Update existing records; ids that do not exist are reported, the rest applied."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot, write=True))
    now = now_ms()
    wanted = _parse_ids([u[0] for u in updates])
    with write_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot)
        writes = validate_all(catalogue, [u[1] for u in updates])
        rows = store.load_records(conn, principal.account_id, ot, [i for i in wanted if i])
        live = {i for i, r in rows.items() if not r.archived}
        store.write_values(conn, principal.account_id, ot, [
            (rid, prop.id, value) for rid, items in zip(wanted, writes, strict=True)
            if rid in live for prop, value in items
        ], source, now)
        names = list(dict.fromkeys(n for _, props in updates for n in props))
        ordered = list(dict.fromkeys(i for i in wanted if i in live))
        views = _views(conn, catalogue, ordered, ReadSpec(properties=names))
    missing = [raw for (raw, _), i in zip(updates, wanted, strict=True) if i not in live]
    return BatchResult(views, missing=list(dict.fromkeys(missing)))


def archive_records(
    engine: Engine, principal: Principal, object_type: str, ids: Sequence[str]
) -> list[str]:
    """Archive the records; returns the ids that did not exist (already archived is fine)."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot, write=True))
    wanted = _parse_ids(ids)
    with write_transaction(engine) as conn:
        rows = store.load_records(conn, principal.account_id, ot, [i for i in wanted if i])
        store.set_archived(conn, principal.account_id, ot, list(rows), True, now_ms())
    return [raw for raw, i in zip(ids, wanted, strict=True) if i not in rows]


def restore_record(
    engine: Engine, principal: Principal, object_type: str, record_id: str
) -> RecordView:
    """Bring an archived record back (a merged-away record cannot come back)."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot, write=True))
    rid = parse_id(record_id)
    with write_transaction(engine) as conn:
        row = store.load_records(conn, principal.account_id, ot, [rid]).get(rid)
        if row is None:
            raise NotFoundError(f"No {ot} record has the id {rid}.")
        if row.merged_into is not None:
            raise ValidationError(
                f"Record {rid} was merged into {row.merged_into} and cannot be restored; "
                f"use record {row.merged_into} instead.")
        catalogue = Catalogue.load(conn, principal, ot)
        try:
            store.set_archived(conn, principal.account_id, ot, [rid], False, now_ms())
        except ConflictError as exc:
            name = str((exc.context or {}).get("propertyName", [""])[0])
            if name in catalogue.visible:
                raise
            # the value is one the caller may not view: which record holds it is not said
            raise ConflictError(f"Record {rid} cannot come back: another record now holds "
                                f"one of its values of {name}, whose values are unique.",
                                context={"propertyName": [name]}) from None
        return _views(conn, catalogue, [rid], ReadSpec())[0]


def merge_records(
    engine: Engine, principal: Principal, object_type: str, primary_id: str, merged_id: str
) -> RecordView:
    """Merge ``merged_id`` into ``primary_id``: associations move, empty values are filled."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot, write=True))
    keep, drop = parse_id(primary_id), parse_id(merged_id)
    if keep == drop:
        raise ValidationError("A record cannot be merged into itself: choose two different ids.")
    now = now_ms()
    with write_transaction(engine) as conn:
        rows = store.load_records(conn, principal.account_id, ot, [keep, drop])
        for rid in (keep, drop):
            if rid not in rows or rows[rid].archived:
                raise NotFoundError(f"No {ot} record has the id {rid}.",
                                    context={"id": [str(rid)]})
        # Archived first: the merged record's unique values are free for the survivor.
        store.set_archived(conn, principal.account_id, ot, [drop], True, now, merged_into=keep)
        _fill_from(conn, principal.account_id, ot, keep, drop, now)
        types = assoc_store.load_types(conn, principal.account_id)
        assoc_store.move_links(conn, principal.account_id, drop, keep, types, now)
        store.touch_records(conn, principal.account_id, [keep], now)
        return _views(conn, Catalogue.load(conn, principal, ot), [keep], ReadSpec())[0]


def _fill_from(conn: Connection, account_id: int, ot: str, keep: int, drop: int, now: int) -> None:
    """The survivor keeps its own values; where it has none, it takes the merged record's."""
    stored = store.load_stored_values(conn, account_id, [keep, drop])
    own, theirs = stored.get(keep, {}), stored.get(drop, {})
    fills = [(keep, pid, value) for pid, value in theirs.items() if pid not in own]
    store.write_values(conn, account_id, ot, fills, ValueSource("MERGE", str(drop)), now)


def load_ordered(
    conn: Connection, catalogue: Catalogue, ids: Sequence[int], spec: ReadSpec
) -> list[RecordView]:
    """Views of the records ``ids``, in that order."""
    return _views(conn, catalogue, ids, spec)
