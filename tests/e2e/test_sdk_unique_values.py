"""The official SDK (hubspot-api-client) against unique properties: batch upsert, reads by
``idProperty``, a conflict it raises as HubSpot's 409, and the GDPR delete."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    PublicGdprDeleteInput,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException
from hubspot.crm.properties import PropertyCreate

from tests.conftest import Tenant


@pytest.fixture
def sdk(tenant: Tenant) -> HubSpot:
    client = HubSpot(access_token=tenant.token, host=tenant.server.base_url)
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="member_no", label="Member number", type="string", field_type="text",
        group_name="contactinformation", has_unique_value=True))
    return client


def upsert(sdk: HubSpot, *pairs: tuple[str, str]) -> list:
    inputs = [SimplePublicObjectBatchInputUpsert(id=key, id_property="member_no",
                                                 properties={"firstname": name})
              for key, name in pairs]
    return sdk.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)).results


def test_sdk_upsert_creates_then_updates(sdk):
    created = upsert(sdk, ("M-1", "Ada"), ("M-2", "Bo"))
    assert {(r.properties["member_no"], r.new) for r in created} == {("M-1", True),
                                                                     ("M-2", True)}
    again = upsert(sdk, ("M-1", "Grace"))
    assert again[0].new is False and again[0].properties["firstname"] == "Grace"
    assert again[0].id in {r.id for r in created}


def test_sdk_reads_by_id_property(sdk):
    (made,) = upsert(sdk, ("M-7", "Ida"))
    got = sdk.crm.contacts.basic_api.get_by_id("M-7", id_property="member_no",
                                               properties=["firstname"])
    assert got.id == made.id and got.properties["firstname"] == "Ida"
    batch = sdk.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
        id_property="member_no", inputs=[SimplePublicObjectId(id="M-7")],
        properties=["firstname"], properties_with_history=[]))
    assert [r.id for r in batch.results] == [made.id]
    with pytest.raises(NotFoundException):
        sdk.crm.contacts.basic_api.get_by_id("M-8", id_property="member_no")


def test_sdk_sees_a_conflict_as_409(sdk):
    upsert(sdk, ("M-1", "Ada"))
    with pytest.raises(ApiException) as raised:
        sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"member_no": "M-1"}))
    assert raised.value.status == 409


def test_sdk_gdpr_delete(sdk):
    (made,) = upsert(sdk, ("G-1", "Gone"))
    sdk.crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id="G-1",
                                                           id_property="member_no"))
    with pytest.raises(NotFoundException):
        sdk.crm.contacts.basic_api.get_by_id(made.id)
