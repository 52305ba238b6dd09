"""Saving workflows keeps the feed's watches of the reader "workflows" in step with the
enabled flows, in the save's transaction; on both stores."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from propsync.domain.changes import Watch
from propsync.domain.errors import ConflictError, NotFoundError
from propsync.services import workflows as svc
from propsync.storage import tables as t
from propsync.storage.db import read_transaction
from propsync.storage.properties import find_property
from tests.integration.world import World


@pytest.fixture
def w(engine) -> World:
    return World.new(engine)


def watches(w: World) -> set[Watch]:
    c = t.change_watches
    with read_transaction(w.engine) as conn:
        return {Watch(r.object_type, r.property_id) for r in conn.execute(
            select(c).where(c.c.account_id == w.account_id, c.c.reader == "workflows"))}


def pid(w: World, object_type: str, name: str) -> int:
    with read_transaction(w.engine) as conn:
        found = find_property(conn, w.account_id, object_type, name)
    assert found is not None
    return found.id


def list_based(enabled: bool, *names: str, trigger: str | None = None) -> dict[str, Any]:
    criteria: dict[str, Any] = {
        "type": "LIST_BASED", "shouldReEnroll": trigger is not None,
        "listFilterBranch": {"filterBranchType": "OR", "filterBranches": [
            {"filterBranchType": "AND", "filters": [
                {"filterType": "PROPERTY", "property": n, "operation": {
                    "operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}
            for n in names]}}
    if trigger:
        criteria["reEnrollmentTriggersFilterBranches"] = [
            {"filterBranchType": "UNIFIED_EVENTS", "eventTypeId": "4-655002", "filters": [
                {"filterType": "PROPERTY", "property": "hs_name", "operation": {
                    "operationType": "ENUMERATION", "operator": "IS_ANY_OF",
                    "values": [trigger]}}]}]
    return {"type": "PLATFORM_FLOW", "objectTypeId": "0-2", "name": "Companies",
            "isEnabled": enabled, "enrollmentCriteria": criteria,
            "actions": [{"type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5",
                         "fields": {"property_name": "website", "value": {
                             "type": "STATIC_VALUE", "staticValue": "seen"}}}]}


def test_an_enabled_flow_watches_what_it_enrolls_on_and_its_types_lifecycle(w):
    flow = svc.create_flow(w.engine, w.principal, list_based(True, "name", "domain",
                                                             trigger="phone"))
    assert watches(w) == {Watch("companies", None), Watch("companies", pid(w, "companies",
                                                                            "name")),
                          Watch("companies", pid(w, "companies", "domain")),
                          Watch("companies", pid(w, "companies", "phone"))}
    svc.set_enabled(w.engine, w.principal, str(flow.flow_id), False)
    assert watches(w) == set()
    svc.set_enabled(w.engine, w.principal, str(flow.flow_id), True)
    assert len(watches(w)) == 4
    svc.delete_flow(w.engine, w.principal, str(flow.flow_id))
    assert watches(w) == set()


def test_watches_are_the_union_over_enabled_flows_only(w):
    svc.create_flow(w.engine, w.principal, list_based(True, "name"))
    off = svc.create_flow(w.engine, w.principal, list_based(False, "domain"))
    manual = list_based(True, "name")
    manual["enrollmentCriteria"] = {"type": "MANUAL", "shouldReEnroll": False}
    svc.create_flow(w.engine, w.principal, manual)
    assert watches(w) == {Watch("companies", None),
                          Watch("companies", pid(w, "companies", "name"))}
    body = dict(off.definition, isEnabled=True, revisionId=str(off.revision))
    changed = svc.update_flow(w.engine, w.principal, str(off.flow_id), body)
    assert (changed.revision, changed.enabled) == (2, True)
    assert Watch("companies", pid(w, "companies", "domain")) in watches(w)


def test_turning_a_flow_on_again_changes_nothing(w):
    flow = svc.create_flow(w.engine, w.principal, list_based(True, "name"))
    same = svc.set_enabled(w.engine, w.principal, str(flow.flow_id), True)
    assert same.revision == flow.revision


def test_a_stale_save_or_a_missing_flow_writes_nothing(w):
    flow = svc.create_flow(w.engine, w.principal, list_based(False, "name"))
    body = dict(flow.definition, isEnabled=True, revisionId="7")
    with pytest.raises(ConflictError):
        svc.update_flow(w.engine, w.principal, str(flow.flow_id), body)
    assert watches(w) == set()
    assert svc.get_flow(w.engine, w.principal, str(flow.flow_id)).revision == 1
    for bad in ("999999", "0", "x", "-1"):
        with pytest.raises(NotFoundError):
            svc.get_flow(w.engine, w.principal, bad)
