"""A workflow saved while its property is deleted, in two threads at once: one of the two
wins and the other is refused, so no flow is ever left naming a property that is gone;
on both stores."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from propsync.domain.errors import PropsyncError
from propsync.services import properties as prop_svc
from propsync.services import workflows as flow_svc
from propsync.services.property_usage import uses_in
from propsync.storage import workflows as flow_store
from propsync.storage.db import read_transaction
from propsync.storage.properties import find_property
from tests.integration.world import World

ROUNDS = 6


@pytest.fixture
def w(engine) -> World:
    return World.new(engine)


def _writes(name: str) -> dict[str, Any]:
    return {"type": "PLATFORM_FLOW", "objectTypeId": "0-2", "name": f"Writes {name}",
            "isEnabled": False, "enrollmentCriteria": {"type": "MANUAL"},
            "actions": [{"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5",
                         "fields": {"property_name": name, "value": {
                             "type": "STATIC_VALUE", "staticValue": "x"}}}]}


def test_a_flow_saved_while_its_property_is_deleted_never_names_a_missing_property(w):
    for i in range(ROUNDS):
        name = f"race_{i}"
        prop_svc.create_property(w.engine, w.principal, "companies", prop_svc.PropertyInput(
            name=name, label=name, type="string", field_type="text",
            group_name="companyinformation"))
        outcomes: dict[str, str] = {}
        start = threading.Barrier(2)

        def save(name: str = name, outcomes: dict[str, str] = outcomes,
                 start: threading.Barrier = start) -> None:
            start.wait()
            try:
                flow_svc.create_flow(w.engine, w.principal, _writes(name))
                outcomes["save"] = "done"
            except PropsyncError as exc:
                outcomes["save"] = exc.message

        def delete(name: str = name, outcomes: dict[str, str] = outcomes,
                   start: threading.Barrier = start) -> None:
            start.wait()
            try:
                prop_svc.delete_property(w.engine, w.principal, "companies", name)
                outcomes["delete"] = "done"
            except PropsyncError as exc:
                outcomes["delete"] = exc.message

        threads = [threading.Thread(target=save), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert list(outcomes.values()).count("done") == 1, outcomes
        with read_transaction(w.engine) as conn:
            exists = find_property(conn, w.account_id, "companies", name) is not None
            named = flow_store.flows_naming(conn, w.account_id, name)
            used = uses_in(conn, w.account_id, "companies", name)
        assert exists == (outcomes["save"] == "done") == bool(named) == bool(used), outcomes
        if not exists:
            assert "does not exist" in outcomes["save"]
        else:
            assert "cannot be deleted" in outcomes["delete"]
