"""The official HubSpot SDK (hubspot-api-client 12.0.0), pointed at propsync by changing its
host, performs the documented calls and deserializes every response."""

from __future__ import annotations

import uuid

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.associations.v4.schema import (
    PublicAssociationDefinitionCreateRequest,
    PublicAssociationDefinitionUpdateRequest,
)
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate, PropertyUpdate

from tests.conftest import RunningServer, Tenant, new_tenant

PRIMARY = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)


@pytest.fixture
def sdk(tenant: Tenant) -> HubSpot:
    return HubSpot(access_token=tenant.token, host=tenant.server.base_url)


def contact(sdk: HubSpot, **props: str) -> str:
    created = sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": f"{uuid.uuid4().hex[:8]}@sdk.example", **props}))
    return str(created.id)


def company(sdk: HubSpot, name: str = "SDK Co") -> str:
    return str(sdk.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": name})).id)


def test_objects_basic_create_get_update_archive(sdk):
    rid = contact(sdk, firstname="Ada")
    got = sdk.crm.contacts.basic_api.get_by_id(rid, properties=["firstname"],
                                               properties_with_history=["firstname"])
    assert got.properties["firstname"] == "Ada"
    assert got.properties_with_history["firstname"][0].source_type == "API"
    updated = sdk.crm.contacts.basic_api.update(rid, SimplePublicObjectInput(
        properties={"firstname": "Grace"}))
    assert updated.properties["firstname"] == "Grace"
    sdk.crm.contacts.basic_api.archive(rid)
    archived = sdk.crm.contacts.basic_api.get_by_id(rid, archived=True)
    assert archived.archived is True and archived.archived_at is not None


def test_objects_get_page_follows_paging(sdk):
    made = [company(sdk, f"P{i}") for i in range(3)]
    page = sdk.crm.companies.basic_api.get_page(limit=2)
    assert [r.id for r in page.results] == made[:2]
    rest = sdk.crm.companies.basic_api.get_page(limit=2, after=page.paging.next.after)
    assert [r.id for r in rest.results] == made[2:] and rest.paging is None


def test_objects_get_with_associations(sdk):
    cid = company(sdk)
    rid = str(sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": "assoc@sdk.example"},
        associations=[{"to": {"id": cid}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}])).id)
    got = sdk.crm.contacts.basic_api.get_by_id(rid, associations=["companies"])
    assert {a.type for a in got.associations["companies"].results} == {
        "contact_to_company", "contact_to_company_unlabeled"}


def test_objects_batch_create_read_update_archive(sdk):
    created = sdk.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[SimplePublicObjectBatchInputForCreate(properties={"firstname": n})
                for n in ("A", "B")]))
    ids = [r.id for r in created.results]
    assert created.status == "COMPLETE" and len(ids) == 2
    read = sdk.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
        inputs=[{"id": i} for i in [*ids, "999999"]], properties=["firstname"],
        properties_with_history=[]))
    assert sorted(r.properties["firstname"] for r in read.results) == ["A", "B"]
    assert read.num_errors == 1
    updated = sdk.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(
        inputs=[{"id": ids[0], "properties": {"firstname": "A2"}}]))
    assert updated.results[0].properties["firstname"] == "A2"
    sdk.crm.contacts.batch_api.archive(BatchInputSimplePublicObjectId(
        inputs=[{"id": i} for i in ids]))
    assert sdk.crm.contacts.basic_api.get_page().results == []


def test_objects_search(sdk):
    contact(sdk, firstname="Findme")
    found = sdk.crm.contacts.search_api.do_search(PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "firstname", "operator": "EQ",
                                     "value": "Findme"}]}],
        sorts=["createdate"], properties=["firstname"], limit=10))
    assert found.total == 1 and found.results[0].properties["firstname"] == "Findme"


def test_objects_merge(sdk):
    keep, drop = contact(sdk, firstname="Keep"), contact(sdk, lastname="Drop")
    merged = sdk.crm.contacts.basic_api.merge(PublicMergeInput(
        primary_object_id=keep, object_id_to_merge=drop))
    assert merged.id == keep


def test_properties_core_and_groups(sdk):
    group = sdk.crm.properties.groups_api.create("deals", PropertyGroupCreate(
        name="sdk_group", label="SDK group"))
    assert group.name == "sdk_group"
    assert "sdk_group" in {g.name for g in sdk.crm.properties.groups_api.get_all("deals").results}
    prop = sdk.crm.properties.core_api.create("deals", PropertyCreate(
        name="sdk_prop", label="SDK prop", type="enumeration", field_type="select",
        group_name="sdk_group", options=[{"label": "One", "value": "one", "hidden": False}]))
    assert prop.options[0].value == "one"
    assert sdk.crm.properties.core_api.get_by_name("deals", "sdk_prop").label == "SDK prop"
    updated = sdk.crm.properties.core_api.update("deals", "sdk_prop",
                                                 PropertyUpdate(label="Renamed"))
    assert updated.label == "Renamed"
    names = {p.name for p in sdk.crm.properties.core_api.get_all("deals").results}
    assert {"sdk_prop", "dealname", "createdate", "hs_object_id"} <= names
    sdk.crm.properties.core_api.archive("deals", "sdk_prop")


def test_associations_v4_basic(sdk):
    rid, cid = contact(sdk), company(sdk)
    default = sdk.crm.associations.v4.basic_api.create_default("contacts", rid, "companies", cid)
    assert default.status == "COMPLETE"
    labelled = sdk.crm.associations.v4.basic_api.create("contacts", rid, "companies", cid,
                                                        [PRIMARY])
    assert labelled.labels == ["Primary"]
    page = sdk.crm.associations.v4.basic_api.get_page("contacts", rid, "companies")
    assert {t.type_id for t in page.results[0].association_types} == {1, 279}
    sdk.crm.associations.v4.basic_api.archive("contacts", rid, "companies", cid)
    assert sdk.crm.associations.v4.basic_api.get_page("contacts", rid, "companies").results == []


def test_associations_v4_batch(sdk):
    rid, cid = contact(sdk), company(sdk)
    created = sdk.crm.associations.v4.batch_api.create("contacts", "companies",
        BatchInputPublicAssociationMultiPost(inputs=[
            {"from": {"id": rid}, "to": {"id": cid}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}]))
    assert created.results[0].labels == ["Primary"]
    read = sdk.crm.associations.v4.batch_api.get_page("contacts", "companies",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": rid}]))
    assert str(read.results[0].to[0].to_object_id) == cid
    sdk.crm.associations.v4.batch_api.archive_labels("contacts", "companies",
        BatchInputPublicAssociationMultiPost(inputs=[
            {"from": {"id": rid}, "to": {"id": cid}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}]))
    sdk.crm.associations.v4.batch_api.archive("contacts", "companies",
        BatchInputPublicAssociationMultiArchive(inputs=[{"from": {"id": rid},
                                                         "to": [{"id": cid}]}]))
    default = sdk.crm.associations.v4.batch_api.create_default("contacts", "companies",
        BatchInputPublicDefaultAssociationMultiPost(inputs=[{"from": {"id": rid},
                                                             "to": {"id": cid}}]))
    assert default.status == "COMPLETE"


def test_association_labels(sdk):
    labels = sdk.crm.associations.v4.schema.definitions_api
    created = labels.create("contacts", "companies", PublicAssociationDefinitionCreateRequest(
        label="SDK label", name="sdk_label"))
    type_id = created.results[0].type_id
    labels.update("contacts", "companies", PublicAssociationDefinitionUpdateRequest(
        association_type_id=type_id, label="SDK label 2"))
    listed = labels.get_all("contacts", "companies").results
    assert "SDK label 2" in {lb.label for lb in listed}
    labels.remove("contacts", "companies", type_id)


def test_errors_arrive_as_api_exceptions_with_hubspots_body(sdk):
    from hubspot.crm.contacts.exceptions import ApiException

    with pytest.raises(ApiException) as raised:
        sdk.crm.contacts.basic_api.get_by_id("999999999")
    assert raised.value.status == 404
    assert '"category":"OBJECT_NOT_FOUND"' in raised.value.body.replace(" ", "")


def test_another_accounts_token_sees_nothing(server: RunningServer, sdk):
    rid = contact(sdk)
    other = HubSpot(access_token=new_tenant(server).token, host=server.base_url)
    from hubspot.crm.contacts.exceptions import NotFoundException

    with pytest.raises(NotFoundException):
        other.crm.contacts.basic_api.get_by_id(rid)
