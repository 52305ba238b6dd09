"""A list's members: read a page at a time (by record id or by join time), added and
removed by hand (MANUAL lists, and SNAPSHOT lists once evaluated), and a record's lists.
The same scopes and restrictions as ``services/lists.py``: a list whose filter names a
property the caller may not view is refused whole, and left out of a record's lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import LISTS_READ, LISTS_WRITE, Principal, schema_scope
from propsync.domain.errors import ConflictError, ErrorDetail, NotFoundError, ValidationError
from propsync.domain.lists import invalid, object_type_of
from propsync.domain.record_ids import parse_record_id
from propsync.services.lists import MAX_CHANGE, MAX_PAGE, StoredList, Viewer, existing_list
from propsync.storage import lists as store
from propsync.storage.db import read_transaction, write_transaction


@dataclass(frozen=True)
class MemberPage:
    members: list[tuple[int, int]]  # (record id, joined ms)
    total: int
    next_after: str | None
    prev_before: str | None


def member_page(engine: Engine, principal: Principal, list_id: str, after: str | None,
                before: str | None, limit: int, by_join: bool = False) -> MemberPage:
    """``GET /crm/v3/lists/{listId}/memberships`` (by record id; ``after`` / ``before``
    a record id from a previous page) and ``.../join-order`` (by join time)."""
    principal.require(LISTS_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"'limit' is between 1 and {MAX_PAGE}, not {limit}.")
    with read_transaction(engine) as conn:
        stored = existing_list(conn, principal.account_id, list_id)
        Viewer(conn, principal).require(stored)
        if by_join:
            cursor = _join_cursor(after)
            rows, more = store.member_page_by_join(conn, principal.account_id,
                                                   stored.list_id, cursor, limit)
            nxt = f"{rows[-1][1]}-{rows[-1][0]}" if more and rows else None
            return MemberPage(rows, stored.size, nxt, None)
        start, end = _cursor(after, "after"), _cursor(before, "before")
        rows, more = store.member_page(conn, principal.account_id, stored.list_id, start,
                                       end, limit)
    if not rows:
        return MemberPage(rows, stored.size, None, None)
    if end is None:  # forwards: more after the last; some before the first if we started late
        return MemberPage(rows, stored.size, str(rows[-1][0]) if more else None,
                          str(rows[0][0]) if start is not None else None)
    return MemberPage(rows, stored.size, str(rows[-1][0]), str(rows[0][0]) if more else None)


def _cursor(raw: str | None, name: str) -> int | None:
    if raw in (None, ""):
        return None
    assert raw is not None
    found = parse_record_id(raw)
    if found is None:
        raise ValidationError(f"'{name}' must be a paging cursor from a previous page, not "
                              f"{raw[:40]!r}.", [ErrorDetail(
                                  f"'{name}' is not a paging cursor.", "INVALID_PAGING")])
    return found


def _join_cursor(raw: str | None) -> tuple[int, int] | None:
    if raw in (None, ""):
        return None
    assert raw is not None
    at, _, rid = raw.partition("-")
    a, r = parse_record_id(at), parse_record_id(rid)
    if a is None or r is None:
        raise ValidationError(f"'after' must be a paging cursor from a previous page, not "
                              f"{raw[:40]!r}.", [ErrorDetail(
                                  "'after' is not a paging cursor.", "INVALID_PAGING")])
    return a, r


@dataclass(frozen=True)
class MembershipChange:
    added: list[int]
    removed: list[int]
    missing: list[str]


def change_members(engine: Engine, principal: Principal, list_id: str,
                   add: Sequence[Any], remove: Sequence[Any]) -> MembershipChange:
    """``PUT .../memberships/add``, ``/remove``, ``/add-and-remove``: records of the list's
    type added or removed by hand (a MANUAL list, or a SNAPSHOT once evaluated). Ids that
    name no live record of the type come back as missing."""
    principal.require(LISTS_WRITE)
    if len(add) + len(remove) > MAX_CHANGE:
        raise ValidationError(f"One change names at most {MAX_CHANGE:,} records.")
    for raw in (*add, *remove):
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise invalid("recordIds", "record ids are strings of digits.")
    with write_transaction(engine) as conn:
        stored = existing_list(conn, principal.account_id, list_id, lock=True)
        Viewer(conn, principal).require(stored)
        _changeable(stored)
        at = now_ms()
        wanted = {str(x): parse_record_id(x) for x in (*add, *remove)}
        ids = {i for i in wanted.values() if i is not None}
        live = store.live_records(conn, principal.account_id, stored.object_type, ids)
        missing = [raw for raw, i in wanted.items() if i is None or i not in live]
        to_add = {parse_record_id(x) for x in add} & live
        to_remove = {parse_record_id(x) for x in remove} & live
        removed = store.remove_members(conn, principal.account_id, stored.list_id,
                                       {i for i in to_remove if i is not None}, at)
        added = store.add_members(conn, principal.account_id, stored.list_id,
                                  {i for i in to_add if i is not None}, at)
    return MembershipChange(added, removed, missing)


def remove_all_members(engine: Engine, principal: Principal, list_id: str) -> None:
    """``DELETE /crm/v3/lists/{listId}/memberships``."""
    principal.require(LISTS_WRITE)
    with write_transaction(engine) as conn:
        stored = existing_list(conn, principal.account_id, list_id, lock=True)
        Viewer(conn, principal).require(stored)
        _changeable(stored)
        store.remove_all(conn, principal.account_id, stored.list_id)


def _changeable(stored: StoredList) -> None:
    if stored.processing_type == "DYNAMIC":
        message = (f"List {stored.list_id} is DYNAMIC: its members are the records that "
                   "meet its filter, so they cannot be added or removed by hand.")
        raise ValidationError(message, [ErrorDetail(message, "LIST_IS_DYNAMIC")])
    if stored.status != "COMPLETE":
        message = (f"Snapshot list {stored.list_id} is still being evaluated; add or remove "
                   "members once its processingStatus is COMPLETE.")
        raise ConflictError(message, [ErrorDetail(message, "LIST_PROCESSING")])


def record_memberships(engine: Engine, principal: Principal, object_type_id: str,
                       record_id: str) -> list[tuple[StoredList, int]]:
    """``GET /crm/v3/lists/records/{objectTypeId}/{recordId}/memberships``: the lists the
    caller may see that the record is a member of."""
    principal.require(LISTS_READ)
    object_type = object_type_of(object_type_id)
    principal.require(schema_scope(object_type))
    rid = parse_record_id(record_id)
    with read_transaction(engine) as conn:
        if rid is None or not store.live_records(conn, principal.account_id, object_type,
                                                 [rid]):
            raise NotFoundError(f"No {object_type} record {record_id[:40]!r} exists.")
        viewer = Viewer(conn, principal)
        return [(s, at) for s, at in store.record_lists(conn, principal.account_id, rid)
                if s.object_type == object_type and viewer.may_see(s)]
