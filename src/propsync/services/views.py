"""Reading records as the API shows them: values, history and associations, access applied."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from propsync.domain.auth import Principal, object_scope
from propsync.domain.history import HistoryEntry, ValueSource
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition, format_ms
from propsync.services.schema import Catalogue
from propsync.storage import associations as assoc_store
from propsync.storage.history import load_history
from propsync.storage.records import RecordRow, load_values


@dataclass
class RecordView:
    """One record, shaped for a caller who may see exactly ``properties``."""

    id: int
    properties: dict[str, str | None]
    created_ms: int
    updated_ms: int
    archived: bool
    archived_ms: int | None = None
    history: dict[str, list[HistoryEntry]] | None = None
    associations: dict[str, list[tuple[int, str]]] | None = field(default=None)


@dataclass(frozen=True)
class ReadSpec:
    """What a read asks for: property names, history names, associated object types."""

    properties: Sequence[str] = ()
    with_history: Sequence[str] = ()
    associations: Sequence[str] = ()


def calculated_value(prop: PropertyDefinition, record: RecordRow) -> str | None:
    if prop.name == "createdate":
        return format_ms(record.created_ms)
    if prop.name in ("lastmodifieddate", "hs_lastmodifieddate"):
        return format_ms(record.updated_ms)
    if prop.name == "hs_object_id":
        return str(record.id)
    return None


def build_views(
    conn: Connection, catalogue: Catalogue, records: Sequence[RecordRow], spec: ReadSpec
) -> list[RecordView]:
    """Views of ``records`` in the given order, with only what the principal may see.

    Asking for associated records of a type whose read scope the token lacks is a 403
    (HubSpot's MISSING_SCOPES), not a quiet omission: the caller learns what to ask for.
    """
    associated = require_associated(catalogue.principal, spec.associations)
    account_id = catalogue.principal.account_id
    names = spec.properties or resolve_object_type(catalogue.object_type).default_properties
    props = catalogue.readable(names)
    history_props = catalogue.readable(spec.with_history)
    ids = [r.id for r in records]
    stored = [p for p in {*props, *history_props} if not p.calculated]
    values = load_values(conn, account_id, ids, [p.id for p in stored]) if stored else {}
    views = []
    for record in records:
        own = values.get(record.id, {})
        shown = {p.name: calculated_value(p, record) if p.calculated else own.get(p.id)
                 for p in props}
        views.append(RecordView(record.id, shown, record.created_ms, record.updated_ms,
                                record.archived, record.archived_ms))
    if history_props:
        _attach_history(conn, catalogue.principal, views, records, history_props)
    if associated:
        _attach_associations(conn, account_id, views, associated)
    return views


def require_associated(principal: Principal, to_types: Sequence[str]) -> list[str]:
    """The object types ``?associations=`` names; 403 unless the token may read each one
    (the associated ids are records of that type)."""
    names = list(dict.fromkeys(resolve_object_type(n).name for n in to_types))
    principal.require(*(object_scope(n) for n in names))
    return names


def shown_source(principal: Principal, source: ValueSource) -> ValueSource:
    """A ``SYNC`` history entry's source as ``principal`` may see it.

    The entry names the sync property and the source record (``name:type:id``); a token
    that may not read the source type sees the sync property's name alone, not the id of
    a record it could not read itself."""
    if source.source_type != "SYNC" or not source.source_id:
        return source
    name, _, rest = source.source_id.partition(":")
    source_type = rest.partition(":")[0]
    if not rest or object_scope(source_type) in principal.scopes:
        return source
    return replace(source, source_id=name)


def _attach_history(
    conn: Connection, principal: Principal, views: list[RecordView],
    records: Sequence[RecordRow], props: Collection[PropertyDefinition],
) -> None:
    stored = [p for p in props if not p.calculated]
    history = load_history(conn, principal.account_id, [v.id for v in views],
                           [p.id for p in stored])
    for view, record in zip(views, records, strict=True):
        view.history = {p.name: [replace(e, source=shown_source(principal, e.source))
                                 for e in history[view.id][p.id]] for p in stored}
        for p in props:
            if p.calculated:
                value = calculated_value(p, record)
                view.history[p.name] = [HistoryEntry(
                    value, record.created_ms, ValueSource("CALCULATED"))]


def _attach_associations(
    conn: Connection, account_id: int, views: list[RecordView], to_types: Sequence[str]
) -> None:
    types = assoc_store.load_types(conn, account_id)
    shown: dict[int, dict[str, list[tuple[int, str]]]] = {v.id: {} for v in views}
    for to_type in to_types:
        links = assoc_store.load_links(conn, account_id, list(shown), to_type)
        for rid, by_target in links.items():
            found = [(to_id, types[tid].name) for to_id, tids in by_target.items()
                     for tid in tids if tid in types]
            if found:
                shown[rid][to_type] = found
    for view in views:
        view.associations = shown[view.id]
