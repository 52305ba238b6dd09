"""Lists: HubSpot's Lists v3, created, read, searched, renamed, re-filtered, deleted and
restored (their members: ``services/list_members.py``).

Scopes are HubSpot's: ``crm.lists.read`` to read, ``crm.lists.write`` to change. Anything
that names a list's properties or records (its filter, its members, a record's lists, a
save) also needs the schema read scope of its object type, as workflows do. A list
whose filter names a property the caller may not view is refused to them whole (403
``PROPERTY_VIEW_RESTRICTED``: its filter, members and size would tell them its values),
and left out of their searches and a record's lists; a save naming such a property is
refused before anything about it is looked at.

A save runs under the account's definitions lock and, in the same transaction, sets the
feed's watches of the reader ``lists`` (``keep_watches``): the lifecycle of every list's
object type, and the value changes of every property a DYNAMIC list filters on. A list
with a filter starts PROCESSING; the list worker evaluates it whole and is woken by the
commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import (
    BUSINESS_INTELLIGENCE,
    LISTS_READ,
    LISTS_WRITE,
    Principal,
    schema_scope,
)
from propsync.domain.changes import Watch
from propsync.domain.errors import (
    ConflictError,
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.domain.feed import LISTS_READER
from propsync.domain.filter_branches import is_time, resolve_times
from propsync.domain.filters import Filter
from propsync.domain.lists import (
    FOLLOWED_CALCULATED,
    OBJECT_TYPE_IDS,
    PROCESSING_TYPES,
    ListFilter,
    invalid,
    list_name,
    object_type_of,
    read_create,
    read_filter,
)
from propsync.domain.properties import PropertyDefinition
from propsync.domain.record_ids import parse_record_id
from propsync.domain.usage import Replacement, check_replacement
from propsync.services.schema import Catalogue
from propsync.storage import feed
from propsync.storage import lists as store
from propsync.storage import reports as report_store
from propsync.storage.changes import lock_definitions
from propsync.storage.db import mark_sync_work, read_transaction, write_transaction
from propsync.storage.lists import StoredList as StoredList  # the adapters' type
from propsync.storage.properties import load_properties
from propsync.storage.search import condition_for

MAX_LISTS = 1_500  # live lists per account (HubSpot's largest tier allows 1,500)
MAX_PAGE = 250  # members a page (HubSpot's memberships pages take up to 250)
MAX_SEARCH = 500  # lists a search page (HubSpot's ``count`` is at most 500)
MAX_CHANGE = 100_000  # records one membership change names (HubSpot's limit)
MAX_IDS = 500  # lists one GET /crm/v3/lists names


def _refuse_restricted(name: str, object_type: str) -> PermissionDeniedError:
    message = (f"You may not view property {name!r} of {object_type}: its access is "
               "restricted to other users, so you cannot use or see a list that filters "
               "on it.")
    return PermissionDeniedError(message, [ErrorDetail(
        message, "PROPERTY_VIEW_RESTRICTED", {"propertyName": [name]})])


class Viewer:
    """What one caller may see of the account's lists, in one transaction."""

    def __init__(self, conn: Connection, principal: Principal) -> None:
        self.conn, self.principal = conn, principal
        self._catalogues: dict[str, Catalogue] = {}

    def catalogue(self, object_type: str) -> Catalogue:
        if object_type not in self._catalogues:
            self._catalogues[object_type] = Catalogue.load(self.conn, self.principal,
                                                           object_type)
        return self._catalogues[object_type]

    def hidden_property(self, stored: StoredList) -> str | None:
        """A property the list filters on that the caller may not view, if any."""
        if stored.filter is None:
            return None
        visible = self.catalogue(stored.object_type).visible
        by_name = self.catalogue(stored.object_type).by_name
        return next((n for n in stored.filter.property_names
                     if n not in visible and n in by_name), None)

    def may_see(self, stored: StoredList) -> bool:
        return self.hidden_property(stored) is None

    def require(self, stored: StoredList) -> None:
        """403 unless the caller may see the whole list (its schema, every property it
        filters on)."""
        self.principal.require(schema_scope(stored.object_type))
        hidden = self.hidden_property(stored)
        if hidden is not None:
            raise _refuse_restricted(hidden, stored.object_type)

    def check_filter(self, object_type: str, list_filter: ListFilter) -> None:
        """Every property the filter names exists, the caller may view it, a list can
        follow it, and the operands fit it (a restricted property is refused before
        anything about it is looked at)."""
        catalogue = self.catalogue(object_type)
        for g, group in enumerate(list_filter.groups):
            for f in group:
                where = f"filterBranch (branch {g + 1}, {f.property_name})"
                prop = self._readable(catalogue, f.property_name, where)
                if prop.calculated and prop.name not in FOLLOWED_CALCULATED:
                    raise invalid(where, f"{prop.name} changes with every write, which "
                                  "lists do not follow; filter on createdate or another "
                                  "property.", "UNSUPPORTED_LIST_PART")
                self._operands(prop, f, where)

    def _readable(self, catalogue: Catalogue, name: str, where: str) -> PropertyDefinition:
        prop = catalogue.visible.get(name)
        if prop is None and name in catalogue.by_name:
            raise _refuse_restricted(name, catalogue.object_type)
        if prop is None:
            message = f"{where}: property {name!r} does not exist on {catalogue.object_type}."
            raise ValidationError(message, [ErrorDetail(
                message, "PROPERTY_DOESNT_EXIST", {"propertyName": [name]})])
        return prop

    def _operands(self, prop: PropertyDefinition, f: Filter, where: str) -> None:
        if f.operator in ("STARTS_WITH", "ENDS_WITH", "CONTAINS_TOKEN",
                          "NOT_CONTAINS_TOKEN") and prop.is_numeric:
            raise invalid(where, f"{f.operator} compares text; {prop.name} holds "
                          f"{prop.type} values.", "INVALID_FILTER")
        if is_time(f.value) or is_time(f.high_value):
            if prop.type not in ("date", "datetime"):
                raise invalid(where, f"a point in time compares with a date or date-time "
                              f"property; {prop.name} holds {prop.type} values.",
                              "INVALID_FILTER")
            f = resolve_times(((f,),), 0)[0][0]
        try:
            condition_for(prop, False, f)
        except ValidationError as exc:
            raise invalid(where, exc.message, "INVALID_FILTER_VALUE") from None


# ---- definitions ----

def create_list(engine: Engine, principal: Principal, body: Mapping[str, Any]) -> StoredList:
    """``POST /crm/v3/lists``."""
    principal.require(LISTS_WRITE)
    new = read_create(body)
    principal.require(schema_scope(new.object_type))
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        if store.count_lists(conn, principal.account_id) >= MAX_LISTS:
            raise invalid("body", f"an account has at most {MAX_LISTS:,} lists; delete one "
                          "first.", "TOO_MANY_LISTS")
        if new.filter is not None:
            Viewer(conn, principal).check_filter(new.object_type, new.filter)
        _unique_name(conn, principal.account_id, new.name, None)
        saved = store.insert_list(conn, principal.account_id, new.name, new.object_type,
                                  new.processing_type,
                                  new.filter.branch if new.filter else None,
                                  principal.user_id, now_ms())
        keep_watches(conn, principal.account_id)
        if new.filter is not None:
            mark_sync_work(conn)
    return saved


def get_list(engine: Engine, principal: Principal, list_id: str) -> StoredList:
    """``GET /crm/v3/lists/{listId}``."""
    principal.require(LISTS_READ)
    with read_transaction(engine) as conn:
        stored = existing_list(conn, principal.account_id, list_id)
        Viewer(conn, principal).require(stored)
    return stored


def get_by_name(engine: Engine, principal: Principal, object_type_id: str, name: str
                ) -> StoredList:
    """``GET /crm/v3/lists/object-type-id/{objectTypeId}/name/{listName}``."""
    principal.require(LISTS_READ)
    object_type = object_type_of(object_type_id)
    principal.require(schema_scope(object_type))
    with read_transaction(engine) as conn:
        stored = store.load_by_name(conn, principal.account_id, object_type, name)
        if stored is None:
            raise NotFoundError(f"No {object_type} list is named {name[:200]!r}.")
        Viewer(conn, principal).require(stored)
    return stored


def get_lists(engine: Engine, principal: Principal, list_ids: Sequence[str]
              ) -> list[StoredList]:
    """``GET /crm/v3/lists?listIds=...``: the lists named that exist, by id (403 unless the
    token may read the schema of each one's type; those filtering on a property the
    caller may not view left out)."""
    principal.require(LISTS_READ)
    if len(list_ids) > MAX_IDS:
        raise ValidationError(f"At most {MAX_IDS} listIds at once, not {len(list_ids)}.")
    ids = [i for i in (parse_record_id(x) for x in list_ids) if i is not None]
    with read_transaction(engine) as conn:
        viewer = Viewer(conn, principal)
        found = store.load_lists(conn, principal.account_id, ids)
        principal.require(*sorted({schema_scope(s.object_type) for s in found}))
        return [s for s in found if viewer.may_see(s)]


@dataclass(frozen=True)
class SearchPage:
    lists: list[StoredList]
    total: int
    offset: int  # of the next page
    has_more: bool


def search_lists(engine: Engine, principal: Principal, body: Mapping[str, Any]) -> SearchPage:
    """``POST /crm/v3/lists/search``: the lists the caller may see whose name contains
    ``query``, by id, ``count`` at a time from ``offset``."""
    principal.require(LISTS_READ)
    query = body.get("query")
    if query is not None and (not isinstance(query, str) or len(query) > 200):
        raise invalid("query", "a list name to look for: text of at most 200 characters.")
    offset, count = body.get("offset") or 0, body.get("count") or 20
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise invalid("offset", "a whole number of at least 0.")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SEARCH:
        raise invalid("count", f"a whole number from 1 to {MAX_SEARCH}.")
    kinds = body.get("processingTypes") or []
    if not isinstance(kinds, list) or any(k not in PROCESSING_TYPES for k in kinds):
        raise invalid("processingTypes", "a list of DYNAMIC, MANUAL and SNAPSHOT.")
    object_type = None
    if body.get("objectTypeId") is not None:
        object_type = object_type_of(body.get("objectTypeId"))
    raw_ids = body.get("listIds")
    list_ids: list[int] | None = None
    if raw_ids is not None:
        if not isinstance(raw_ids, list) or len(raw_ids) > MAX_IDS or \
                not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in raw_ids):
            raise invalid("listIds", f"a list of at most {MAX_IDS} list ids.")
        list_ids = [i for i in (parse_record_id(x) for x in raw_ids) if i is not None]
    extra = body.get("additionalProperties") or []
    if not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
        raise invalid("additionalProperties", "a list of property names.")
    with read_transaction(engine) as conn:
        viewer = Viewer(conn, principal)
        _, every = store.search_lists(conn, principal.account_id, query, object_type,
                                      kinds, list_ids, 0, MAX_LISTS)
        shown = [s for s in every if schema_scope(s.object_type) in principal.scopes
                 and viewer.may_see(s)]
    page = shown[offset:offset + count]
    return SearchPage(page, len(shown), offset + len(page), offset + len(page) < len(shown))


def rename_list(engine: Engine, principal: Principal, list_id: str, name: Any) -> StoredList:
    """``PUT /crm/v3/lists/{listId}/update-list-name?listName=...``."""
    principal.require(LISTS_WRITE)
    new_name = list_name(name, "listName")
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = existing_list(conn, principal.account_id, list_id)
        Viewer(conn, principal).require(stored)
        _unique_name(conn, principal.account_id, new_name, stored.list_id)
        store.rename(conn, principal.account_id, stored.list_id, new_name, principal.user_id,
                     now_ms())
        return _reload(conn, principal.account_id, stored.list_id)


def update_filters(engine: Engine, principal: Principal, list_id: str, raw: Any
                   ) -> StoredList:
    """``PUT /crm/v3/lists/{listId}/update-list-filters``: a DYNAMIC list's new filter,
    evaluated whole again by the worker."""
    principal.require(LISTS_WRITE)
    list_filter = read_filter(raw)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = existing_list(conn, principal.account_id, list_id)
        viewer = Viewer(conn, principal)
        viewer.require(stored)
        if stored.processing_type != "DYNAMIC":
            raise invalid("filterBranch", f"list {stored.list_id} is a "
                          f"{stored.processing_type} list; only a DYNAMIC list's filters "
                          "can change.", "LIST_NOT_DYNAMIC")
        viewer.check_filter(stored.object_type, list_filter)
        store.set_filter(conn, principal.account_id, stored.list_id, list_filter.branch,
                         principal.user_id, now_ms())
        keep_watches(conn, principal.account_id)
        mark_sync_work(conn)
        return _reload(conn, principal.account_id, stored.list_id)


def delete_list(engine: Engine, principal: Principal, list_id: str) -> None:
    """``DELETE /crm/v3/lists/{listId}``: the list can be restored (it keeps its members)."""
    principal.require(LISTS_WRITE)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = existing_list(conn, principal.account_id, list_id)
        Viewer(conn, principal).require(stored)
        _refuse_if_counted(conn, principal, stored)
        store.set_deleted(conn, principal.account_id, stored, now_ms(), now_ms())
        keep_watches(conn, principal.account_id)


def _refuse_if_counted(conn: Connection, principal: Principal, stored: StoredList) -> None:
    """A list that reports count from is not deleted under them: the refusal names the
    reports the caller may read (``business-intelligence``) and counts the others."""
    users = report_store.reports_counting_list(conn, principal.account_id, stored.list_id)
    if not users:
        return
    named = [f"'{r.name}' ({r.report_id})" for r in users
             if BUSINESS_INTELLIGENCE in principal.scopes]
    shown = ", ".join(named) if named else f"{len(users)} report(s)"
    message = (f"List {stored.list_id} cannot be deleted: {shown} count its members. Edit "
               "or delete them first.")
    raise ValidationError(message, [ErrorDetail(message, "LIST_IN_USE", {
        "id": [str(r.report_id) for r in users] if named else []})])


def restore_list(engine: Engine, principal: Principal, list_id: str) -> None:
    """``PUT /crm/v3/lists/{listId}/restore``: a deleted list back (a DYNAMIC one
    re-evaluated whole). 404 unless it is deleted; 409 if a live list took its name."""
    principal.require(LISTS_WRITE)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        lid = parse_record_id(list_id)
        stored = store.load_list(conn, principal.account_id, lid, deleted=True) \
            if lid is not None else None
        if stored is not None:
            Viewer(conn, principal).require(stored)
        if stored is None or stored.deleted_ms is None:
            raise NotFoundError(f"No deleted list {list_id[:40]!r} exists in this account.")
        if store.count_lists(conn, principal.account_id) >= MAX_LISTS:
            raise invalid("listId", f"an account has at most {MAX_LISTS:,} lists.",
                          "TOO_MANY_LISTS")
        if stored.filter is not None:  # its properties may have gone while it was deleted
            Viewer(conn, principal).check_filter(stored.object_type, stored.filter)
        _unique_name(conn, principal.account_id, stored.name, stored.list_id)
        store.set_deleted(conn, principal.account_id, stored, None, now_ms())
        keep_watches(conn, principal.account_id)
        mark_sync_work(conn)


def clone_list(engine: Engine, principal: Principal, list_id: str, body: Mapping[str, Any]
               ) -> StoredList:
    """``POST /propsync/v1/lists/{listId}/clone``: a new list like this one (a MANUAL
    one's members copied), optionally named ``name`` and with ``replace: {property,
    with}`` putting another property in the old one's place in its filter (a copy
    property's list pointed at the sync property)."""
    principal.require(LISTS_WRITE)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = existing_list(conn, principal.account_id, list_id)
        viewer = Viewer(conn, principal)
        viewer.require(stored)
        name = list_name(body.get("name"), "name") if body.get("name") is not None \
            else _copy_name(conn, principal.account_id, stored.name)
        branch = stored.filter.branch if stored.filter is not None else None
        raw_replace = body.get("replace")
        if raw_replace is not None:
            if stored.filter is None:
                raise invalid("replace", "a MANUAL list has no filter to replace a "
                              "property in.")
            branch = _replaced(viewer, stored, raw_replace)
        list_filter = read_filter(branch) if branch is not None else None
        if list_filter is not None:
            viewer.check_filter(stored.object_type, list_filter)
        if store.count_lists(conn, principal.account_id) >= MAX_LISTS:
            raise invalid("body", f"an account has at most {MAX_LISTS:,} lists.",
                          "TOO_MANY_LISTS")
        _unique_name(conn, principal.account_id, name, None)
        at = now_ms()
        saved = store.insert_list(conn, principal.account_id, name, stored.object_type,
                                  stored.processing_type,
                                  list_filter.branch if list_filter else None,
                                  principal.user_id, at)
        if stored.processing_type == "MANUAL":
            store.add_members(conn, principal.account_id, saved.list_id,
                              store.all_members(conn, principal.account_id, stored.list_id),
                              at)
        keep_watches(conn, principal.account_id)
        if list_filter is not None:
            mark_sync_work(conn)
        return _reload(conn, principal.account_id, saved.list_id)


def _replaced(viewer: Viewer, stored: StoredList, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("property"), str) or \
            not isinstance(raw.get("with"), str):
        raise invalid("replace", 'replace is {"property": old name, "with": new name}.')
    assert stored.filter is not None
    catalogue = viewer.catalogue(stored.object_type)
    old = viewer._readable(catalogue, raw["property"], "replace.property")
    new = viewer._readable(catalogue, raw["with"], "replace.with")
    if old.name not in stored.filter.property_names:
        raise invalid("replace.property", f"list {stored.list_id} does not filter on "
                      f"{old.name}.")
    check_replacement(old, new)
    return _rename_in(stored.filter.branch, Replacement(stored.object_type, old.name,
                                                        new.name))


def _rename_in(branch: Mapping[str, Any], r: Replacement) -> dict[str, Any]:
    out = dict(branch)
    out["filterBranches"] = [_rename_in(b, r) for b in branch.get("filterBranches") or []]
    out["filters"] = [{**f, "property": r.new} if f.get("property") == r.old else dict(f)
                      for f in branch.get("filters") or []]
    return out


def _copy_name(conn: Connection, account_id: int, name: str) -> str:
    for n in range(1, 1000):
        candidate = f"{name[:180]} (copy{'' if n == 1 else f' {n}'})"
        if store.load_by_name(conn, account_id, None, candidate) is None:
            return candidate
    raise invalid("name", "name the clone.")


# ---- the feed's watches, "Used in" ----

def watches_of(lists: Iterable[StoredList], property_ids: Mapping[tuple[str, str], int]
               ) -> set[Watch]:
    """The lifecycle of every list's object type (archived records leave every list);
    the value changes of every property a DYNAMIC list filters on."""
    watches: set[Watch] = set()
    for stored in lists:
        watches.add(Watch(stored.object_type, None))
        if stored.processing_type == "DYNAMIC" and stored.filter is not None:
            watches.update(Watch(stored.object_type, property_ids[(stored.object_type, n)])
                           for n in stored.filter.property_names
                           if (stored.object_type, n) in property_ids)
    return watches


def keep_watches(conn: Connection, account_id: int) -> None:
    """Set the feed's watches of the reader "lists" (the caller holds
    ``lock_definitions``)."""
    lists = store.live_lists(conn, account_id)
    ids = {(p.object_type, p.name): p.id
           for object_type in sorted({s.object_type for s in lists})
           for p in load_properties(conn, account_id, object_type) if not p.calculated}
    feed.set_watches(conn, account_id, LISTS_READER, watches_of(lists, ids))


# ---- helpers ----

def existing_list(conn: Connection, account_id: int, list_id: str, lock: bool = False
              ) -> StoredList:
    lid = parse_record_id(list_id)
    found = store.load_list(conn, account_id, lid, lock=lock) if lid is not None else None
    if found is None:
        raise NotFoundError(f"No list {list_id[:40]!r} exists in this account.")
    return found


def _reload(conn: Connection, account_id: int, list_id: int) -> StoredList:
    found = store.load_list(conn, account_id, list_id)
    assert found is not None
    return found


def _unique_name(conn: Connection, account_id: int, name: str, except_id: int | None) -> None:
    found = store.load_by_name(conn, account_id, None, name)
    if found is not None and found.list_id != except_id:
        message = f"A list named {name!r} exists already (list {found.list_id}); list names " \
                  "are unique in an account."
        raise ConflictError(message, [ErrorDetail(message, "DUPLICATE_LIST_NAME")])


def object_type_id(object_type: str) -> str:
    return OBJECT_TYPE_IDS[object_type]


def filterable_properties(engine: Engine, principal: Principal, object_type: str
                          ) -> list[PropertyDefinition]:
    """The properties a list of ``object_type`` may filter on for this caller (those they
    may view and a list can follow), by label."""
    principal.require(LISTS_READ, schema_scope(object_type))
    with read_transaction(engine) as conn:
        visible = Catalogue.load(conn, principal, object_type).visible.values()
    return sorted((p for p in visible if not p.calculated or p.name in FOLLOWED_CALCULATED),
                  key=lambda p: p.label.lower())
