"""The official SDK (hubspot-api-client) against propsync's lists: ``client.crm.lists``
creates DYNAMIC, MANUAL and SNAPSHOT lists, reads them by id and by name, searches,
renames, replaces filters, deletes and restores, and reads and changes memberships; a
DYNAMIC list follows record edits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.lists import (
    ListCreateRequest,
    ListFilterUpdateRequest,
    ListSearchRequest,
    MembershipChangeRequest,
)
from hubspot.crm.lists.exceptions import ApiException

from tests.conftest import Tenant
from tests.patience import wait_until


@pytest.fixture
def sdk(tenant: Tenant) -> HubSpot:
    return HubSpot(access_token=tenant.token, host=tenant.server.base_url)


def contact(sdk: HubSpot, **props: str) -> str:
    return str(sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": f"{uuid.uuid4().hex[:8]}@lists.example", **props})).id)


def branch(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"filterBranchType": "OR", "filterBranchOperator": "OR", "filters": [],
            "filterBranches": [{"filterBranchType": "AND", "filterBranchOperator": "AND",
                                "filterBranches": [], "filters": list(filters)}]}


def string_filter(name: str, operator: str, value: str) -> dict[str, Any]:
    return {"filterType": "PROPERTY", "property": name,
            "operation": {"operationType": "STRING", "operator": operator, "value": value,
                          "includeObjectsWithNoValueSet": False}}


def members(sdk: HubSpot, list_id: str) -> list[str]:
    return [m.record_id for m in sdk.crm.lists.memberships_api.get_page(list_id).results]


def test_sdk_dynamic_list_follows_edits(sdk):
    ada = contact(sdk, firstname="Ada", lastname="Lovelace")
    contact(sdk, firstname="Bo")
    created = sdk.crm.lists.lists_api.create(ListCreateRequest(
        name="Ada fans", object_type_id="0-1", processing_type="DYNAMIC",
        filter_branch=branch(string_filter("firstname", "STARTS_WITH", "ad"))))
    list_id = created.list.list_id
    assert created.list.processing_type == "DYNAMIC"
    wait_until(lambda: members(sdk, list_id) == [ada], "Ada joining the list")
    page = sdk.crm.lists.memberships_api.get_page(list_id)
    assert page.results[0].membership_timestamp is not None
    grace = contact(sdk, firstname="Adeline")
    wait_until(lambda: members(sdk, list_id) == sorted([ada, grace], key=int),
               "a new matching contact joining")
    sdk.crm.contacts.basic_api.update(ada, SimplePublicObjectInput(
        properties={"firstname": "Augusta"}))
    wait_until(lambda: members(sdk, list_id) == [grace], "Ada leaving after her rename")
    got = sdk.crm.lists.lists_api.get_by_id(list_id, include_filters=True)
    assert got.list.size == 1 and got.list.filter_branch is not None
    by_name = sdk.crm.lists.lists_api.get_by_name("Ada fans", "0-1")
    assert by_name.list.list_id == list_id
    found = sdk.crm.lists.lists_api.do_search(ListSearchRequest(
        query="ada", offset=0, additional_properties=[]))
    assert [x.list_id for x in found.lists] == [list_id] and found.total == 1
    sdk.crm.lists.lists_api.update_name(list_id, list_name="Augusta fans")
    assert sdk.crm.lists.lists_api.get_by_id(list_id).list.name == "Augusta fans"
    sdk.crm.lists.lists_api.update_list_filters(list_id, ListFilterUpdateRequest(
        filter_branch=branch(string_filter("firstname", "IS_EQUAL_TO", "Augusta"))))
    wait_until(lambda: members(sdk, list_id) == [ada], "the new filter's members")
    sdk.crm.lists.lists_api.remove(list_id)
    with pytest.raises(ApiException) as gone:
        sdk.crm.lists.lists_api.get_by_id(list_id)
    assert gone.value.status == 404
    sdk.crm.lists.lists_api.restore(list_id)
    wait_until(lambda: members(sdk, list_id) == [ada], "the restored list's members")


def test_sdk_manual_list_memberships(sdk):
    a, b = contact(sdk), contact(sdk)
    created = sdk.crm.lists.lists_api.create(ListCreateRequest(
        name="Hand picked", object_type_id="0-1", processing_type="MANUAL"))
    list_id = created.list.list_id
    added = sdk.crm.lists.memberships_api.add(list_id, [a, b, "999999999"])
    assert sorted(added.records_ids_added, key=int) == sorted([a, b], key=int)
    assert added.record_ids_missing == ["999999999"]
    assert members(sdk, list_id) == sorted([a, b], key=int)
    removed = sdk.crm.lists.memberships_api.remove(list_id, [a])
    assert removed.record_ids_removed == [a]
    both = sdk.crm.lists.memberships_api.add_and_remove(list_id, MembershipChangeRequest(
        record_ids_to_add=[a], record_ids_to_remove=[b]))
    assert both.records_ids_added == [a] and both.record_ids_removed == [b]
    lists = sdk.crm.lists.memberships_api.get_lists("0-1", a)
    assert [x.list_id for x in lists.results] == [list_id]
    sdk.crm.lists.memberships_api.remove_all(list_id)
    assert members(sdk, list_id) == []
    assert sdk.crm.lists.lists_api.get_by_id(list_id).list.size == 0


def test_sdk_snapshot_list_is_evaluated_once_then_manual(sdk):
    a = contact(sdk, lastname="Snap")
    created = sdk.crm.lists.lists_api.create(ListCreateRequest(
        name="Snap", object_type_id="0-1", processing_type="SNAPSHOT",
        filter_branch=branch(string_filter("lastname", "IS_EQUAL_TO", "Snap"))))
    list_id = created.list.list_id
    wait_until(lambda: sdk.crm.lists.lists_api.get_by_id(list_id).list.processing_status
               == "COMPLETE", "the snapshot's evaluation")
    assert members(sdk, list_id) == [a]
    b = contact(sdk, lastname="Snap")  # after the snapshot: not a member
    sdk.crm.lists.memberships_api.add(list_id, [b])
    assert members(sdk, list_id) == sorted([a, b], key=int)
