"""The enroller: reads the change feed as reader ``workflows`` and enrolls the records
that the changes make meet a flow's criteria (``domain/workflow_rules.py`` says which
changes may).

One step reads a batch of the feed, and for each account's enabled flows finds the
records a change could enroll, asks the criteria of them all in one query (search's, so
one semantics), enrolls them (or remembers a re-enrollment on an active enrollment), and
moves the feed's cursor: all in one transaction, so a batch is enrolled exactly once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import Connection

from propsync.domain.changes import Change
from propsync.domain.workflow_rules import Trigger, trigger_of
from propsync.storage import enrollments as store
from propsync.storage.enrollments import NewEnrollments
from propsync.storage.search import matching_ids, matching_select
from propsync.storage.workflows import StoredFlow, load_enabled
from propsync.workflows.schema import AccountSchema, CriteriaUnavailable

log = logging.getLogger("propsync.workflows")


def enroll_changes(conn: Connection, rows: Sequence[tuple[int, Change]],
                   recorded_ms: Sequence[int], now_ms: int) -> int:
    """Enroll what ``rows`` (``(account_id, change)``, as the feed gives them, recorded at
    ``recorded_ms``) trigger in the accounts' enabled flows; returns how many enrollments
    started. A flow counts only the changes recorded since it was last saved (turned on):
    one turned on enrolls nobody for what happened before, even if the feed is read late."""
    by_account: dict[int, list[tuple[Change, int]]] = defaultdict(list)
    for (account_id, change), at in zip(rows, recorded_ms, strict=True):
        by_account[account_id].append((change, at))
    started = 0
    for account_id, changes in sorted(by_account.items()):  # flows' counts in id order
        schema = AccountSchema(conn, account_id)
        flows = [f for ot in {c.object_type for c, _ in changes}
                 for f in load_enabled(conn, account_id, ot)]
        for stored in sorted(flows, key=lambda f: f.flow_id):
            if stored.flow.enrollment.kind == "LIST_BASED":
                mine = [c for c, at in changes if c.object_type == stored.object_type
                        and at >= stored.updated_ms]
                started += _enroll_flow(schema, stored, mine, now_ms)
    return started


def _enroll_flow(schema: AccountSchema, stored: StoredFlow, changes: list[Change],
                 now_ms: int) -> int:
    triggers = _triggers(schema, stored, changes)
    if not triggers:
        return 0
    try:
        meeting = meeting_criteria(schema, stored, triggers)
    except CriteriaUnavailable as exc:
        log.warning("workflow %s of account %s enrolls nobody: %s", stored.flow_id,
                    schema.account_id, exc)
        return 0
    conn, flow = schema.conn, stored.flow
    if flow.enrollment.unenroll_not_meeting:
        store.cancel_records(conn, schema.account_id, stored.flow_id,
                             set(triggers) - meeting, now_ms, "no longer meets the criteria")
    again = [rid for rid in meeting if triggers[rid] is Trigger.AGAIN]
    first = [rid for rid in meeting if triggers[rid] is Trigger.FIRST]
    store.mark_pending(conn, schema.account_id, stored.flow_id, again)
    new = NewEnrollments(schema.account_id, stored.flow_id, stored.revision,
                         flow.start_action_id, "TRIGGER", now_ms)
    enrolled = store.enroll(conn, new, again, only_new=False)
    enrolled += store.enroll(conn, new, first, only_new=True)
    return len(enrolled)


def _triggers(schema: AccountSchema, stored: StoredFlow, changes: list[Change]
              ) -> dict[int, Trigger]:
    """``{record: the strongest trigger of its changes}``."""
    names = schema.names(stored.object_type)
    triggers: dict[int, Trigger] = {}
    for c in changes:
        name = names.get(c.property_id) if c.property_id is not None else None
        found = trigger_of(stored.flow.enrollment, c.kind, name)
        if found is not None:
            triggers[c.record_id] = max(found, triggers.get(c.record_id, found))
    return triggers


def meeting_criteria(schema: AccountSchema, stored: StoredFlow, record_ids: Collection[int]
                     ) -> set[int]:
    """The live records among ``record_ids`` that meet the flow's criteria now."""
    groups = schema.criteria(stored.object_type, stored.flow.enrollment.groups)
    return matching_ids(schema.conn, schema.account_id, stored.object_type, groups,
                        record_ids)


def enroll_existing(conn: Connection, stored: StoredFlow, account_id: int, now_ms: int,
                    count_only: bool = False) -> int:
    """Enroll every record that meets the flow's criteria now and is not enrolled (in a
    flow that does not re-enroll: never was), as one ``INSERT ... SELECT``; with
    ``count_only``, how many that would be."""
    schema = AccountSchema(conn, account_id)
    groups = schema.criteria(stored.object_type, stored.flow.enrollment.groups)
    records = matching_select(account_id, stored.object_type, groups)
    new = NewEnrollments(account_id, stored.flow_id, stored.revision,
                         stored.flow.start_action_id, "EXISTING", now_ms)
    only_new = not stored.flow.enrollment.should_re_enroll
    if count_only:
        return store.count_selected(conn, new, records, only_new)
    return store.enroll_selected(conn, new, records, only_new)
