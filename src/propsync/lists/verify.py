"""``propsync verify`` for lists: every DYNAMIC list's members against its filter
evaluated from scratch (search's semantics, the whole account at once), every list's size
against its members' count, and no list holding a record that is archived or gone.

Run it when the workers are idle: a list the worker has not caught up with differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from propsync.clock import now_ms
from propsync.lists.evaluator import conditions, evaluate_list
from propsync.storage import lists as store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.search import matching_select
from propsync.workflows.schema import AccountSchema, CriteriaUnavailable


@dataclass(frozen=True)
class ListDifference:
    account_id: int
    list_id: int
    what: str  # in words: "3 members do not meet the filter (e.g. 12)"


def verify_lists(engine: Engine, account_id: int | None = None) -> list[ListDifference]:
    found: list[ListDifference] = []
    L = t.lists
    with read_transaction(engine) as conn:
        accounts = [account_id] if account_id is not None else list(conn.execute(
            select(L.c.account_id).distinct().order_by(L.c.account_id)).scalars())
        for a in accounts:
            schema = AccountSchema(conn, a)
            for stored in store.live_lists(conn, a):
                members = store.all_members(conn, a, stored.list_id)
                if stored.size != len(members):
                    found.append(ListDifference(a, stored.list_id, f"size {stored.size}, "
                                                f"{len(members)} members"))
                live = store.live_records(conn, a, stored.object_type, members)
                if members - live:
                    found.append(ListDifference(
                        a, stored.list_id, f"{len(members - live)} members are archived or "
                        f"gone (e.g. {min(members - live)})"))
                if stored.processing_type != "DYNAMIC" or stored.status != "COMPLETE":
                    continue
                try:
                    groups = conditions(schema, stored, now_ms())
                except CriteriaUnavailable as exc:
                    found.append(ListDifference(a, stored.list_id, f"its filter cannot be "
                                                f"evaluated: {exc}"))
                    continue
                rows: Any = conn.execute(matching_select(a, stored.object_type, groups))
                expected = {int(row[0]) for row in rows}
                extra, missing = members - expected, expected - members
                if extra:
                    found.append(ListDifference(a, stored.list_id, f"{len(extra)} members do "
                                                f"not meet the filter (e.g. {min(extra)})"))
                if missing:
                    found.append(ListDifference(a, stored.list_id, f"{len(missing)} records "
                                                f"meet the filter but are not members (e.g. "
                                                f"{min(missing)})"))
    return found


def repair_lists(engine: Engine, differences: list[ListDifference]) -> int:
    """Take archived or gone records out of the lists that differ, evaluate the DYNAMIC
    ones whole, and count every size again; returns how many lists were repaired."""
    lists = sorted({(d.account_id, d.list_id) for d in differences})
    m = t.list_memberships
    for account_id, list_id in lists:
        with write_transaction(engine) as conn:
            stored = store.load_list(conn, account_id, list_id, lock=True)
            if stored is None:
                continue
            members = store.all_members(conn, account_id, list_id)
            gone = members - store.live_records(conn, account_id, stored.object_type, members)
            store.remove_members(conn, account_id, list_id, gone, now_ms())
            size = conn.execute(select(func.count()).select_from(m).where(
                m.c.account_id == account_id, m.c.list_id == list_id)).scalar_one()
            conn.execute(t.lists.update().where(t.lists.c.account_id == account_id,
                                                t.lists.c.list_id == list_id)
                         .values(size=size))
            if stored.processing_type == "DYNAMIC":
                evaluate_list(conn, account_id, stored, now_ms())
    return len(lists)
