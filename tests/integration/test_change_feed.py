"""The change log as a feed (issue 14): each reader reads it in commit order from its own
cursor, acknowledges by committing, and rows go only when every reader holding rows has
passed them. Writers record what any reader needs: the sync engine's relevance and the
readers' watches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.domain.changes import Change, ChangeKind, Watch, Watches
from propsync.domain.feed import SYNC_READER, WORKFLOWS_READER, Interests
from propsync.storage import feed
from propsync.storage import sync as sync_store
from propsync.storage import tables as t
from propsync.storage.changes import append_changes
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.properties import find_property
from propsync.sync.worker import SyncWorker
from tests.conftest import BACKENDS, drop_database, make_database
from tests.integration.world import PRIMARY, World
from tests.patience import wait_until

WF = WORKFLOWS_READER


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of the test's own: the feed's cursors are the whole database's."""
    url = make_database(request.param, tmp_path)
    engine = engine_for(Settings(database_url=url))
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def w(engine: Engine) -> World:
    return World.new(engine)


def property_id(w: World, object_type: str, name: str) -> int:
    with read_transaction(w.engine) as conn:
        found = find_property(conn, w.account_id, object_type, name)
        assert found is not None
        return found.id


def watch(w: World, *watches: Watch, reader: str = WF) -> None:
    with write_transaction(w.engine) as conn:
        feed.set_watches(conn, w.account_id, reader, watches)


def consume(engine: Engine, reader: str, limit: int = 1000) -> list[tuple[int, Change]]:
    """Read a batch and acknowledge it (the reader's work, committed)."""
    with write_transaction(engine) as conn:
        batch = feed.read(conn, reader, limit)
        assert batch is not None
        feed.advance(conn, batch)
        return batch.rows


def consume_n(engine: Engine, reader: str, n: int) -> None:
    """Read and acknowledge exactly ``n`` rows, reading again while fewer are visible: on
    PostgreSQL a read stops below the horizon of transactions still running, and one of
    another database's that the horizon cannot tell apart (a backend ending as the
    snapshot is taken) holds it back for a moment."""
    got: list[tuple[int, Change]] = []

    def read() -> bool:
        got.extend(consume(engine, reader, limit=n - len(got)))
        return len(got) == n

    wait_until(read, f"{reader} to read {n} rows", every=0.05)


def log_rows(engine: Engine) -> int:
    with read_transaction(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(t.change_log)).scalar_one())


def prune(engine: Engine, limit: int = 1000) -> int:
    with write_transaction(engine) as conn:
        return feed.prune(conn, limit)


# -- what writers record ------------------------------------------------------------


def test_interests_are_the_union_of_the_sync_relevance_and_the_watches() -> None:
    interests = Interests.of([(7, "contacts", "companies")],
                             [Watch("deals", 9), Watch("tickets")])
    assert interests.matters(Change(ChangeKind.REPLACED, "companies", 1, 7))  # sync's
    assert interests.matters(Change(ChangeKind.VALUE, "deals", 1, 9))  # a watched value
    assert not interests.matters(Change(ChangeKind.VALUE, "deals", 1, 8))
    assert not interests.matters(Change(ChangeKind.VALUE, "tickets", 1, 8))
    for kind in (ChangeKind.CREATED, ChangeKind.ARCHIVED, ChangeKind.RESTORED, ChangeKind.MERGED):
        assert interests.matters(Change(kind, "tickets", 1))  # a watched lifecycle
    assert not interests.matters(Change(ChangeKind.ASSOCIATED, "tickets", 1, None, "deals", 2))
    assert not interests.matters(Change(ChangeKind.CREATED, "deals", 1))  # values only
    assert Interests.of([], []).is_empty and not Interests.of([], [Watch("deals")]).is_empty
    assert Watches.of([Watch("deals", 9)]).watches_value("deals", 9)


def test_writers_record_the_changes_a_reader_watches_and_nothing_else(w: World) -> None:
    amount = property_id(w, "deals", "amount")
    watch(w, Watch("deals", amount), Watch("tickets"))
    deal = w.one("deals", dealname="D", amount=5)
    w.set("deals", deal, dealname="E")  # not watched
    w.set("deals", deal, amount=6)
    ticket = w.one("tickets", subject="T")
    w.archive("tickets", ticket)
    w.one("companies", name="C")  # nobody's
    kinds = [(c.kind, c.object_type, c.record_id) for _, c in consume(w.engine, WF)]
    assert kinds == [("value", "deals", deal), ("replaced", "deals", deal),
                     ("created", "tickets", ticket), ("archived", "tickets", ticket)]


def test_replacing_a_readers_watches_stops_what_it_no_longer_watches(w: World) -> None:
    watch(w, Watch("tickets"))
    watch(w, Watch("deals"))  # replaces
    w.one("tickets", subject="T")
    deal = w.one("deals", dealname="D")
    assert [(c.kind, c.record_id) for _, c in consume(w.engine, WF)] == [("created", deal)]
    watch(w)  # none
    w.one("deals", dealname="E")
    assert consume(w.engine, WF) == []
    with write_transaction(w.engine) as conn, pytest.raises(ValueError):
        feed.set_watches(conn, w.account_id, SYNC_READER, [Watch("deals")])


def test_watches_are_per_account(engine: Engine) -> None:
    a, b = World.new(engine), World.new(engine)
    watch(a, Watch("tickets"))
    b.one("tickets", subject="B")
    ticket = a.one("tickets", subject="A")
    assert consume(engine, WF) == [(a.account_id, Change(ChangeKind.CREATED, "tickets",
                                                           ticket))]


# -- reading, acknowledging, resuming ---------------------------------------------------


def test_each_reader_reads_every_row_once_in_order_from_its_own_cursor(w: World) -> None:
    watch(w, Watch("tickets"))
    tickets = [w.one("tickets", subject=f"T{n}") for n in range(5)]
    first = consume(w.engine, WF, limit=2)
    rest = consume(w.engine, WF)
    assert [c.record_id for _, c in first + rest] == tickets
    assert consume(w.engine, WF) == []
    # the sync engine's cursor did not move: it reads the same rows on its own
    with read_transaction(w.engine) as conn:
        assert feed.has_unread(conn, SYNC_READER) and not feed.has_unread(conn, WF)
        assert feed.unread_count(conn, SYNC_READER, w.account_id) == 5
        assert feed.unread_count(conn, WF, w.account_id) == 0
    assert [c.record_id for _, c in consume(w.engine, SYNC_READER)] == tickets


def test_a_reader_that_rolls_back_reads_the_same_rows_again(w: World) -> None:
    watch(w, Watch("tickets"))
    tickets = [w.one("tickets", subject=f"T{n}") for n in range(3)]
    with pytest.raises(RuntimeError), write_transaction(w.engine) as conn:
        batch = feed.read(conn, WF, 10)
        assert batch is not None and len(batch.rows) == 3
        feed.advance(conn, batch)
        raise RuntimeError("the reader failed before it committed")
    assert [c.record_id for _, c in consume(w.engine, WF)] == tickets


def test_take_reads_and_advances_at_once_and_rolls_back_with_the_transaction(
        w: World) -> None:
    watch(w, Watch("tickets"))
    tickets = [w.one("tickets", subject=f"T{n}") for n in range(3)]
    with pytest.raises(RuntimeError), write_transaction(w.engine) as conn:
        batch = feed.take(conn, WF, 2)
        assert batch is not None and [c.record_id for _, c in batch.rows] == tickets[:2]
        after = feed.read(conn, WF, 10)  # the cursor has moved, in this transaction
        assert after is not None and [c.record_id for _, c in after.rows] == tickets[2:]
        raise RuntimeError("the reader failed before it committed")
    with write_transaction(w.engine) as conn:
        taken = feed.take(conn, WF, 2)
    assert taken is not None and [c.record_id for _, c in taken.rows] == tickets[:2]
    assert [c.record_id for _, c in consume(w.engine, WF)] == tickets[2:]


def test_the_sync_engine_passes_rows_it_has_no_use_for(w: World) -> None:
    """Rows recorded for another reader are read by the sync worker and planned as
    nothing: no target is queued, and its cursor moves past them."""
    company = w.one("companies", name="Acme")
    contact = w.one("contacts", firstname="A")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.settle()
    watch(w, Watch("tickets"), Watch("contacts", property_id(w, "contacts", "firstname")))
    w.one("tickets", subject="T")
    w.set("contacts", contact, firstname="B")
    with read_transaction(w.engine) as conn:
        assert sync_store.pending(conn, w.account_id).changes == 2
    assert SyncWorker(w.engine).plan_changes()
    with read_transaction(w.engine) as conn:
        assert not feed.has_unread(conn, SYNC_READER)
        assert sync_store.pending(conn, w.account_id).targets == 0
        assert sync_store.waiting_work(conn) == (False, False, False, False)


def test_a_watched_sync_property_records_the_values_the_engine_writes(w: World) -> None:
    """A workflow triggered by a sync value: the engine's own writes are recorded when
    (and only when) a reader watches the sync property."""
    company = w.one("companies", name="Acme")
    contacts = w.create("contacts", 3)
    for contact in contacts:
        w.link("contacts", contact, "companies", company, [PRIMARY])
    synced = w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.settle()
    consume(w.engine, WF)  # whatever came before
    w.set("companies", company, name="Unwatched")
    w.settle()
    assert [c for _, c in consume(w.engine, WF) if c.property_id == synced] == []
    watch(w, Watch("contacts", synced))
    w.set("companies", company, name="Watched")
    w.settle()
    assert w.value("contacts", contacts[0], "company_name_sync") == "Watched"
    seen = [(c.kind, c.record_id) for _, c in consume(w.engine, WF) if c.property_id == synced]
    assert sorted(r for _, r in seen) == contacts  # recomputed: kind "value"
    with read_transaction(w.engine) as conn:
        assert feed.watched(conn, w.account_id, "contacts", synced)
        assert not feed.watched(conn, w.account_id, "companies", synced)


# -- pruning ---------------------------------------------------------------------------


def test_rows_go_only_when_every_reader_holding_rows_has_passed_them(w: World) -> None:
    watch(w, Watch("tickets"))
    for n in range(4):
        w.one("tickets", subject=f"T{n}")
    consume_n(w.engine, SYNC_READER, 4)
    assert prune(w.engine) == 0  # the workflows reader is behind: it keeps them alive
    assert log_rows(w.engine) == 4
    consume_n(w.engine, WF, 3)
    assert prune(w.engine) == 3 and log_rows(w.engine) == 1
    consume_n(w.engine, WF, 1)
    assert prune(w.engine, limit=1) == 1 and log_rows(w.engine) == 0
    with read_transaction(w.engine) as conn:
        assert not feed.has_unread(conn, SYNC_READER) and not feed.has_unread(conn, WF)


def test_pruning_takes_bounded_batches_and_the_worker_prunes_between_passes(w: World
                                                                            ) -> None:
    watch(w, Watch("tickets"))
    w.create("tickets", 7, subject="T")
    consume(w.engine, WF)
    worker = SyncWorker(w.engine)
    worker.drain()
    assert prune(w.engine, limit=3) == 3 and log_rows(w.engine) == 4
    assert worker.keep_feed() == 4 and log_rows(w.engine) == 0
    assert worker.keep_feed() == 0  # not again before prune_s


def test_a_reader_that_watches_nothing_holds_no_rows(w: World) -> None:
    """Until a workflow watches something, its reader keeps nothing alive: the sync
    engine's rows go once it has passed them, and the reader's next read skips to what
    is left."""
    company = w.one("companies", name="Acme")
    w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.settle()
    w.set("companies", company, name="Renamed")
    w.settle()
    assert prune(w.engine) >= 1 and log_rows(w.engine) == 0
    watch(w, Watch("tickets"))
    ticket = w.one("tickets", subject="T")
    assert [c.record_id for _, c in consume(w.engine, WF)] == [ticket]


# -- commit order on PostgreSQL --------------------------------------------------------


def test_a_change_that_commits_after_a_later_one_is_not_skipped(engine: Engine) -> None:
    """Two writers: the one holding the smaller change id commits last. A cursor on change
    ids would read the other row, move past both ids and never see this one; the feed
    reads in commit order and waits for the first writer to end."""
    w = World.new(engine)
    watch(w, Watch("tickets"))
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: ids are allocated in commit order")
    first, second = engine.connect(), engine.connect()
    try:
        t1, t2 = first.begin(), second.begin()
        append_changes(first, w.account_id, [Change(ChangeKind.CREATED, "tickets", 1)], 0)
        append_changes(second, w.account_id, [Change(ChangeKind.CREATED, "tickets", 2)], 0)
        ids = {conn: conn.execute(text("SELECT change_id FROM change_log WHERE record_id = :r "
                                       "AND account_id = :a"),
                                  {"r": r, "a": w.account_id}).scalar_one()
               for conn, r in ((first, 1), (second, 2))}
        assert ids[first] < ids[second]
        t2.commit()
        early = consume(engine, WF)  # the first writer is still running
        t1.commit()
        late = consume(engine, WF)
    finally:
        first.close()
        second.close()
    assert sorted(c.record_id for _, c in early + late) == [1, 2]
    assert early == []  # the row of the second writer waits for the first one's end
    assert [c.record_id for _, c in late] == [1, 2]  # in the writers' transaction order


def test_a_reader_held_by_another_transaction_is_skipped_not_waited_for(
        engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns")
    w = World.new(engine)
    watch(w, Watch("tickets"))
    w.one("tickets", subject="T")
    with engine.connect() as holder, holder.begin():
        assert feed.read(holder, WF, 10) is not None
        with write_transaction(engine) as conn:
            assert feed.read(conn, WF, 10) is None
            other = feed.read(conn, SYNC_READER, 10)  # another reader's cursor is free
            assert other is not None and len(other.rows) == 1
