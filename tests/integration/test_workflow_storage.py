"""Workflow definitions are stored per account, saved against the revision they replace,
and deleted softly; on both stores."""

from __future__ import annotations

import uuid

import pytest

from propsync.domain.workflows import parse_flow
from propsync.services.accounts import create_account
from propsync.storage import workflows as store
from propsync.storage.db import read_transaction, write_transaction


def definition(name: str, object_type_id: str = "0-2", enabled: bool = False) -> dict:
    return {"type": "PLATFORM_FLOW", "objectTypeId": object_type_id, "name": name,
            "isEnabled": enabled, "flowType": "WORKFLOW",
            "enrollmentCriteria": {"type": "MANUAL", "shouldReEnroll": False},
            "actions": [{"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5",
                         "fields": {"property_name": "description",
                                    "value": {"type": "STATIC_VALUE", "staticValue": "x"}}}]}


def new(body: dict, user_id: int | None = 7) -> store.NewFlow:
    return store.NewFlow(parse_flow(body), body, user_id)


@pytest.fixture
def account(engine) -> int:
    return create_account(engine, f"flows-{uuid.uuid4().hex[:6]}")


def test_a_flow_is_stored_at_revision_one_and_read_back_as_saved(engine, account):
    body = definition("Copy name", enabled=True)
    with write_transaction(engine) as conn:
        saved = store.insert_flow(conn, account, new(body), "u-1", 1_000)
    with read_transaction(engine) as conn:
        found = store.load_flow(conn, account, saved.flow_id)
    assert found == saved
    assert (found.revision, found.enabled, found.name, found.object_type, found.uuid) == (
        1, True, "Copy name", "companies", "u-1")
    assert found.definition == body and found.flow == parse_flow(body)
    assert (found.created_ms, found.updated_ms, found.created_by) == (1_000, 1_000, 7)


def test_ids_come_from_their_own_sequence_and_never_repeat(engine, account):
    with write_transaction(engine) as conn:
        ids = [store.insert_flow(conn, account, new(definition(f"f{i}")), "u", 1).flow_id
               for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_a_save_names_the_revision_it_replaces(engine, account):
    with write_transaction(engine) as conn:
        saved = store.insert_flow(conn, account, new(definition("a")), "u", 1)
        second = store.update_flow(conn, account, saved.flow_id, 1,
                                   new(definition("b", enabled=True), user_id=8), 2)
        stale = store.update_flow(conn, account, saved.flow_id, 1, new(definition("c")), 3)
    assert second is not None and stale is None
    assert (second.revision, second.name, second.enabled, second.updated_ms,
            second.updated_by, second.created_ms) == (2, "b", True, 2, 8, 1)
    with read_transaction(engine) as conn:
        assert store.load_flow(conn, account, saved.flow_id) == second


def test_turning_on_and_off_is_a_save(engine, account):
    with write_transaction(engine) as conn:
        saved = store.insert_flow(conn, account, new(definition("a", "0-3")), "u", 1)
        on = store.set_enabled(conn, account, saved.flow_id, True, 9, 5)
        assert store.load_enabled(conn, account) == [on]
        assert store.load_enabled(conn, account, "deals") == [on]
        assert store.load_enabled(conn, account, "contacts") == []
        off = store.set_enabled(conn, account, saved.flow_id, False, 9, 6)
        assert store.load_enabled(conn, account) == []
    assert on is not None and off is not None
    assert (on.revision, on.enabled, on.flow.enabled, off.revision, off.enabled) == (
        2, True, True, 3, False)


def test_a_deleted_flow_is_gone_from_every_read_but_keeps_its_row(engine, account):
    with write_transaction(engine) as conn:
        saved = store.insert_flow(conn, account, new(definition("a", enabled=True)), "u", 1)
        assert store.delete_flow(conn, account, saved.flow_id, 7, 2)
        assert not store.delete_flow(conn, account, saved.flow_id, 7, 3)
        assert store.load_flow(conn, account, saved.flow_id) is None
        assert store.load_enabled(conn, account) == []
        assert store.load_flows(conn, account, [saved.flow_id]) == {}
        assert store.list_flows(conn, account, 0, 10) == ([], False)
        assert store.update_flow(conn, account, saved.flow_id, 1, new(definition("b")), 4) \
            is None
        assert store.set_enabled(conn, account, saved.flow_id, True, 7, 5) is None


def test_flows_are_listed_by_id_a_page_at_a_time(engine, account):
    with write_transaction(engine) as conn:
        ids = [store.insert_flow(conn, account, new(definition(f"f{i}")), "u", 1).flow_id
               for i in range(5)]
    with read_transaction(engine) as conn:
        first, more = store.list_flows(conn, account, 0, 2)
        rest, last = store.list_flows(conn, account, first[-1].flow_id, 10)
        found = store.load_flows(conn, account, [ids[4], ids[0], 987654321])
    assert [f.flow_id for f in first] == ids[:2] and more
    assert [f.flow_id for f in rest] == ids[2:] and not last
    assert sorted(found) == [ids[0], ids[4]]


def test_an_account_never_sees_another_accounts_flows(engine, account):
    other = create_account(engine, f"other-{uuid.uuid4().hex[:6]}")
    with write_transaction(engine) as conn:
        saved = store.insert_flow(conn, account, new(definition("mine", enabled=True)), "u", 1)
        assert store.load_flow(conn, other, saved.flow_id) is None
        assert store.load_flows(conn, other, [saved.flow_id]) == {}
        assert store.load_enabled(conn, other) == []
        assert store.list_flows(conn, other, 0, 10) == ([], False)
        assert store.update_flow(conn, other, saved.flow_id, 1, new(definition("x")), 2) \
            is None
        assert store.set_enabled(conn, other, saved.flow_id, False, 1, 2) is None
        assert not store.delete_flow(conn, other, saved.flow_id, 1, 2)
        assert store.load_flow(conn, account, saved.flow_id) == saved
