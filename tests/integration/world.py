"""A small facade over the services for sync tests: make records, link them, settle, read."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from propsync.domain.associations import BUILT_IN_TYPES, user_defined_pair
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.history import ValueSource
from propsync.services import records as svc
from propsync.services.accounts import create_account, create_user
from propsync.services.sync_properties import SourceRequest, create_sync_property
from propsync.storage import associations as assoc_store
from propsync.storage import sync as sync_store
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import find_property
from propsync.storage.records import load_values
from propsync.sync.worker import SyncWorker, WorkerConfig
from tests.patience import WAIT_GUARD_S

UNLABELED = 279  # contact → company
PRIMARY = 1
SOURCE = ValueSource("API")


@dataclass
class World:
    engine: Engine
    principal: Principal
    worker: WorkerConfig = field(default_factory=WorkerConfig)  # what settle() runs

    @classmethod
    def new(cls, engine: Engine) -> World:
        account_id = create_account(engine, f"sync-{uuid.uuid4().hex[:6]}")
        user_id = create_user(engine, account_id, f"u{uuid.uuid4().hex[:6]}@example.com")
        return cls(engine, Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES),
                                     Role.SUPER_ADMIN))

    @property
    def account_id(self) -> int:
        return self.principal.account_id

    def create(self, object_type: str, count: int = 1, **values: object) -> list[int]:
        """``count`` records in one batch (so in the same millisecond), with ``values``."""
        return self.create_each(object_type, [values] * count)

    def create_each(self, object_type: str, values: Sequence[dict[str, object]]) -> list[int]:
        """One record per entry of ``values``, all in one batch."""
        views = svc.create_records(self.engine, self.principal, object_type,
                                   [svc.RecordInput(v) for v in values], SOURCE)
        return [v.id for v in views]

    def one(self, object_type: str, **values: object) -> int:
        return self.create(object_type, **values)[0]

    def set(self, object_type: str, record_id: int, **values: object) -> None:
        svc.update_records(self.engine, self.principal, object_type,
                           [(str(record_id), values)], SOURCE)

    def link(self, from_type: str, from_id: int, to_type: str, to_id: int,
             type_ids: Sequence[int] = (UNLABELED,)) -> None:
        with write_transaction(self.engine) as conn:
            types = assoc_store.load_types(conn, self.account_id)
            links = [assoc_store.Link(from_type, from_id, to_type, to_id, types[i])
                     for i in type_ids]
            assoc_store.add_links(conn, self.account_id, links, types, _now())

    def unlink(self, from_type: str, from_id: int, to_type: str, to_id: int,
               type_ids: Sequence[int] | None = None) -> None:
        with write_transaction(self.engine) as conn:
            if type_ids is None:
                assoc_store.remove_pairs(conn, self.account_id, from_type, to_type,
                                         [(from_id, to_id)], _now())
                return
            types = assoc_store.load_types(conn, self.account_id)
            assoc_store.remove_links(conn, self.account_id, [
                assoc_store.Link(from_type, from_id, to_type, to_id, types[i])
                for i in type_ids], types, _now())

    def label(self, from_type: str, to_type: str, label: str) -> int:
        """A new user-defined label from ``from_type`` to ``to_type``; returns its type id."""
        with write_transaction(self.engine) as conn:
            first = assoc_store.next_user_type_id(conn, self.account_id)
            pair = user_defined_pair(from_type, to_type, first, label, label + " of",
                                     label.lower().replace(" ", "_"))
            assoc_store.insert_user_types(conn, self.account_id, list(pair))
        return first

    def archive(self, object_type: str, record_id: int) -> None:
        svc.archive_records(self.engine, self.principal, object_type, [str(record_id)])

    def restore(self, object_type: str, record_id: int) -> None:
        svc.restore_record(self.engine, self.principal, object_type, str(record_id))

    def merge(self, object_type: str, keep: int, drop: int) -> None:
        svc.merge_records(self.engine, self.principal, object_type, str(keep), str(drop))

    def define(self, target: str, name: str, source_type: str, source_property: str,
               types: Sequence[int] | None = None, selection: str | None = "FIRST_CREATED"
               ) -> int:
        pairs = None if types is None else [
            ("HUBSPOT_DEFINED" if i in BUILT_IN_TYPES else "USER_DEFINED", i) for i in types]
        prop = create_sync_property(self.engine, self.principal, target, name, name.title(),
                                    SourceRequest(source_type, source_property, pairs, selection))
        return prop.id

    def settle(self, timeout: float = WAIT_GUARD_S) -> None:
        """Run the engine until nothing is pending for this account (other workers may help)."""
        worker = SyncWorker(self.engine, self.worker)
        deadline = time.monotonic() + timeout
        while True:
            worker.drain()
            with read_transaction(self.engine) as conn:
                waiting = sync_store.pending(conn, self.account_id)
                backfilling = [d for d in sync_store.load_sync_properties(conn, self.account_id)
                               if d.state != sync_store.LIVE]
            if not waiting.changes and not waiting.targets and not backfilling:
                return
            assert time.monotonic() < deadline, "the sync engine did not settle"
            time.sleep(0.01)

    def value(self, object_type: str, record_id: int, name: str) -> str | None:
        with read_transaction(self.engine) as conn:
            prop = find_property(conn, self.account_id, object_type, name)
            assert prop is not None
            return load_values(conn, self.account_id, [record_id], [prop.id]).get(
                record_id, {}).get(prop.id)


    def history_length(self, object_type: str, record_id: int, name: str) -> int:
        """How many history entries the record's property has."""
        h = t.property_history
        with read_transaction(self.engine) as conn:
            prop = find_property(conn, self.account_id, object_type, name)
            assert prop is not None
            return int(conn.execute(select(func.count()).where(
                h.c.account_id == self.account_id, h.c.record_id == record_id,
                h.c.property_id == prop.id)).scalar_one())

    def updated_ms(self, record_id: int) -> int:
        r = t.records
        with read_transaction(self.engine) as conn:
            return int(conn.execute(select(r.c.updated_ms).where(
                r.c.account_id == self.account_id, r.c.record_id == record_id)).scalar_one())


def _now() -> int:
    return time.time_ns() // 1_000_000


def grow(account_id: int, synced_only: bool = False) -> tuple[str, ...]:
    """``explain``'s ``grow`` for one account: its records and values 2,000 times over
    (ids moved out of the way, each value and number made one of its own; with
    ``synced_only``, only its sync values), and fresh statistics. Only this
    account's rows: the test database is shared by the tests a worker runs, and growing
    every account's rows 2,000 times (each ordinary value into the trigram index, too) took
    minutes."""
    which = " AND v.source_id IS NOT NULL" if synced_only else ""
    return (
        "INSERT INTO records (account_id, record_id, object_type, created_ms, updated_ms, "
        "archived) SELECT r.account_id, r.record_id + 1000000 * g, r.object_type, "
        "r.created_ms, r.updated_ms, r.archived FROM records r "
        f"CROSS JOIN generate_series(1, 2000) g WHERE r.account_id = {int(account_id)}",
        "INSERT INTO property_values (account_id, record_id, property_id, value, num, "
        "source_id) SELECT v.account_id, v.record_id + 1000000 * g, v.property_id, "
        "v.value || '-' || g, v.num + g, v.source_id FROM property_values v "
        f"CROSS JOIN generate_series(1, 2000) g WHERE v.account_id = {int(account_id)}{which}",
        "ANALYZE records, property_values")


def explain(engine: Engine, statement: str, params: object, grow: Sequence[str] = ()) -> str:
    """The plan of ``statement`` as the database makes it (PostgreSQL told not to prefer a
    sequential scan, which it would on tables this small), as one string. On PostgreSQL,
    ``grow`` (SQL statements) runs first in the same transaction, rolled back after: rows that make
    the tables as large as a real account's, so that the planner's choice between two
    indexes is not a tie decided by a page more or less."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            for sql in grow:
                cursor.execute(sql)
            cursor.execute("SET LOCAL enable_seqscan = off")  # rolled back below
            cursor.execute("EXPLAIN " + statement, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
        raw.rollback()
    finally:
        raw.close()
    return plan
