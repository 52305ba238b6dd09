"""The feed's reader ``lists``: keeps every DYNAMIC list's members equal to the records
that meet its filter, and takes records that were archived or merged away out of them
(out of MANUAL and SNAPSHOT lists they go in the transaction that archives or merges them,
``storage/records.set_archived``, where a record merged away also hands its places in them
to the record it was merged into, as the CRM this copies does).

A step reads a batch of the feed (the value changes of the properties lists filter on,
and the lifecycle of the records of their object types: ``services/lists.keep_watches``)
and, per account, locks the account's lists of the types concerned, takes the records
archived or merged away out of every DYNAMIC list, then for each DYNAMIC list asks its filter of
the records the batch touched that it could move, in one query (``storage/search``'s
matching, search's semantics), and inserts or deletes their memberships; the cursor moves
in the same transaction, so a batch is applied exactly once. Evaluating a list whole
(``evaluate_due``) is the other step: a list still PROCESSING (new, filter changed,
restored), or one whose filter relative to today has moved since it was last evaluated.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection

from propsync.domain.changes import Change, ChangeKind
from propsync.domain.filter_branches import next_time_change, resolve_times
from propsync.storage import lists as store
from propsync.storage.lists import StoredList
from propsync.storage.search import Condition
from propsync.workflows.schema import AccountSchema, CriteriaUnavailable

log = logging.getLogger("propsync.lists")

_LEAVING = (ChangeKind.ARCHIVED, ChangeKind.MERGED)


def conditions(schema: AccountSchema, stored: StoredList, now_ms: int
               ) -> list[list[Condition]]:
    """The list's filter as search conditions at ``now_ms`` (times relative to today
    resolved)."""
    assert stored.filter is not None
    return schema.criteria(stored.object_type, resolve_times(stored.filter.groups, now_ms))


def evaluate_changes(conn: Connection, rows: Sequence[tuple[int, Change]], now_ms: int
                     ) -> int:
    """Apply what ``rows`` (``(account_id, change)``) do to the accounts' lists; returns
    how many memberships began or ended."""
    by_account: dict[int, list[Change]] = defaultdict(list)
    for account_id, change in rows:
        by_account[account_id].append(change)
    moved = 0
    for account_id, changes in sorted(by_account.items()):
        moved += _account_changes(conn, account_id, changes, now_ms)
    return moved


def _account_changes(conn: Connection, account_id: int, changes: list[Change], now_ms: int
                     ) -> int:
    types = {c.object_type for c in changes}
    lists = store.live_lists(conn, account_id, types, lock=True)
    leaving = {c.record_id for c in changes if c.kind in _LEAVING}
    # (they left MANUAL and SNAPSHOT lists in the transaction that archived or merged them)
    moved = store.leave_every_list(conn, account_id, leaving, "dynamic") if leaving else 0
    schema = AccountSchema(conn, account_id)
    for stored in lists:
        if stored.processing_type != "DYNAMIC" or stored.status != "COMPLETE" or \
                stored.filter is None:
            continue  # one still PROCESSING is evaluated whole next
        # A record that left every list above may be back in the same batch (archived,
        # then restored): the candidates are asked as they are now, and only live ones
        # can meet a filter.
        candidates = _candidates(schema, stored, changes)
        if not candidates:
            continue
        try:
            groups = conditions(schema, stored, now_ms)
        except CriteriaUnavailable as exc:
            log.warning("list %s of account %s is not followed: %s", stored.list_id,
                        account_id, exc)
            continue
        joined, left = store.evaluate_records(conn, account_id, stored, groups, candidates,
                                              now_ms)
        moved += joined + left
    return moved


def _candidates(schema: AccountSchema, stored: StoredList, changes: list[Change]) -> set[int]:
    """The records of the list's type whose changes could move them in or out: a
    lifecycle change (created, restored, merged into), or a change of a value it filters
    on."""
    assert stored.filter is not None
    names = set(stored.filter.property_names)
    ids = {pid for pid, name in schema.names(stored.object_type).items() if name in names}
    found: set[int] = set()
    for c in changes:
        if c.object_type != stored.object_type:
            continue
        if c.property_id is None or c.property_id in ids:
            found.add(c.record_id)
        if c.kind is ChangeKind.MERGED and c.related_id is not None:
            found.add(c.related_id)  # the record merged into gained values
    return found


def evaluate_due(conn: Connection, now_ms: int) -> bool:
    """Evaluate whole the next list that needs it; ``False`` when none does."""
    due = store.due_whole(conn, now_ms)
    if due is None:
        return False
    account_id, list_id = due
    stored = store.load_list(conn, account_id, list_id, lock=True)
    if stored is None:
        return True
    evaluate_list(conn, account_id, stored, now_ms)
    return True


def evaluate_list(conn: Connection, account_id: int, stored: StoredList, now_ms: int) -> None:
    """Evaluate one list whole and mark it COMPLETE (a list whose filter names a property
    that no longer exists keeps its members and is marked COMPLETE, with a warning)."""
    if stored.filter is None:
        store.set_evaluated(conn, account_id, stored.list_id, None)
        return
    schema = AccountSchema(conn, account_id)
    try:
        groups = conditions(schema, stored, now_ms)
    except CriteriaUnavailable as exc:
        log.warning("list %s of account %s cannot be evaluated: %s", stored.list_id,
                    account_id, exc)
        store.set_evaluated(conn, account_id, stored.list_id, None)
        return
    store.evaluate_whole(conn, account_id, stored, groups, now_ms)
    following = stored.processing_type == "DYNAMIC"
    store.set_evaluated(conn, account_id, stored.list_id,
                        next_time_change(stored.filter.groups, now_ms) if following else None)
