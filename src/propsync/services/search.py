"""Search records: HubSpot's filterGroups, sorts and query, over what the caller may see.

A property the caller may not view is treated exactly like one that does not exist:
filtering or sorting by it is refused, and ``query`` never looks in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from propsync.domain.auth import Principal, object_scope
from propsync.domain.filters import (
    MAX_RESULTS,
    Filter,
    check_limits,
    check_search,
    invalid,
    parse_offset,
)
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.services.records import load_ordered
from propsync.services.schema import Catalogue
from propsync.services.views import ReadSpec, RecordView
from propsync.storage.db import read_transaction
from propsync.storage.search import COLUMNS, Condition, SortKey, condition_for, search_ids


@dataclass(frozen=True)
class SearchRequest:
    groups: Sequence[Sequence[Filter]] = ()
    sorts: Sequence[tuple[str, bool]] = ()  # (property name, descending)
    query: str | None = None
    properties: Sequence[str] = ()
    limit: int = 10
    after: str | None = None
    # ``query`` looks in the sync properties' text values too (the web UI's search; the
    # API's ``query`` keeps to HubSpot's searchable properties)
    query_synced: bool = False


@dataclass(frozen=True)
class SearchResult:
    total: int
    views: list[RecordView]
    next_after: str | None


def search(engine: Engine, principal: Principal, object_type: str, request: SearchRequest
           ) -> SearchResult:
    """One page of the records matching ``request``, within HubSpot's limits (a 400
    beyond them: ``domain/filters.py``); pages end at the 10,000th result."""
    ot = resolve_object_type(object_type)
    principal.require(object_scope(ot.name))
    check_limits([list(g) for g in request.groups])
    check_search(len(request.sorts), request.query, request.limit)
    offset = parse_offset(request.after)
    limit = min(request.limit, MAX_RESULTS - offset)
    with read_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot.name)
        groups = [[_condition(catalogue, f) for f in g] for g in request.groups]
        sorts = [_sort(catalogue, name, desc) for name, desc in request.sorts]
        query = _query(catalogue, ot.searchable, request.query, request.query_synced)
        total, ids = search_ids(conn, principal.account_id, ot.name, groups, sorts, query,
                                offset, limit)
        views = load_ordered(conn, catalogue, ids, ReadSpec(properties=request.properties))
    end = offset + len(ids)
    more = end < min(total, MAX_RESULTS)
    return SearchResult(total, views, str(end) if more and ids else None)


def _visible(catalogue: Catalogue, name: str) -> PropertyDefinition:
    prop = catalogue.visible.get(name)
    if prop is None:
        raise invalid(f"Property {name!r} does not exist on {catalogue.object_type}.",
                      "PROPERTY_DOESNT_EXIST")
    return prop


def _condition(catalogue: Catalogue, f: Filter) -> Condition:
    prop = _visible(catalogue, f.property_name)
    return condition_for(prop, prop.id in catalogue.synced, f)


def _sort(catalogue: Catalogue, name: str, descending: bool) -> SortKey:
    prop = _visible(catalogue, name)
    if prop.calculated:
        return SortKey(None, COLUMNS[prop.name], True, descending)
    return SortKey(prop.id, None, prop.is_numeric, descending)


def _query(catalogue: Catalogue, searchable: Sequence[str], text: str | None,
           synced: bool) -> tuple[list[int], str] | None:
    if not text:
        return None
    ids = [catalogue.visible[n].id for n in searchable if n in catalogue.visible]
    if synced:
        ids += [p.id for p in catalogue.visible.values()
                if p.id in catalogue.synced and not p.is_numeric and p.id not in ids]
    return ids, text.replace("%", "").replace("_", "")
