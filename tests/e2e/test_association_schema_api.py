"""The association schema over HTTP under HubSpot's newer prefix ``/crm/associations/v4``:
labels (the same as under ``/crm/v4/associations``) and association limits, which every
way of writing an association obeys, also when writers race."""

from __future__ import annotations

import threading

import httpx

from propsync.domain.auth import Role
from tests.conftest import Tenant, new_tenant
from tests.e2e.associations import make, sdk_parse
from tests.e2e.test_roles_api import member

NEW = "/crm/associations/v4"
OLD = "/crm/v4/associations"
CONFIGS = f"{NEW}/definitions/configurations"
UNLABELED = 279  # contacts → companies
BACK = 280  # companies → contacts


def limit(api: httpx.Client, type_id: int, n: int, pair: str = "contacts/companies",
          category: str = "HUBSPOT_DEFINED", op: str = "create") -> httpx.Response:
    return api.post(f"{CONFIGS}/{pair}/batch/{op}", json={"inputs": [
        {"category": category, "typeId": type_id, "maxToObjectIds": n}]})


def associate(api: httpx.Client, contact: str, company: str) -> httpx.Response:
    return api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}")


def companies_of(api: httpx.Client, contact: str) -> list[int]:
    page = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()
    return [r["toObjectId"] for r in page["results"]]


def refused_for_limit(reply: httpx.Response) -> bool:
    body = reply.json()
    return reply.status_code == 400 and body["category"] == "VALIDATION_ERROR" and \
        body["errors"][0]["code"] == "ASSOCIATION_LIMIT_EXCEEDED"


def test_labels_are_the_same_under_both_prefixes(api):
    created = api.post(f"{NEW}/contacts/companies/labels",
                       json={"label": "Billing", "name": "billing"})
    assert created.status_code == 200, created.text
    sdk_parse(created, "CollectionResponseAssociationSpecWithLabelNoPaging", schema=True)
    type_id = created.json()["results"][0]["typeId"]
    old = api.get(f"{OLD}/contacts/companies/labels").json()["results"]
    new = api.get(f"{NEW}/contacts/companies/labels").json()["results"]
    assert old == new and {"category": "USER_DEFINED", "typeId": type_id,
                           "label": "Billing"} in new
    assert api.put(f"{NEW}/contacts/companies/labels",
                   json={"associationTypeId": type_id, "label": "Invoices"}).status_code == 204
    assert api.delete(f"{OLD}/contacts/companies/labels/{type_id}").status_code == 204
    assert api.delete(f"{NEW}/contacts/companies/labels/{type_id}").status_code == 404


def test_every_account_reports_the_built_in_at_most_one_primary(api):
    reply = api.get(f"{CONFIGS}/all")
    assert reply.status_code == 200, reply.text
    sdk_parse(reply, "CollectionResponsePublicAssociationDefinitionUserConfigurationNoPaging",
              schema=True)
    assert {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary",
            "userEnforcedMaxToObjectIds": 1} in reply.json()["results"]
    pair = api.get(f"{CONFIGS}/deals/companies").json()["results"]
    assert pair == [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary",
                     "userEnforcedMaxToObjectIds": 1}]
    assert limit(api, 1, 3).status_code == 400
    purge = api.post(f"{CONFIGS}/contacts/companies/batch/purge",
                     json={"inputs": [{"category": "HUBSPOT_DEFINED", "typeId": 1}]})
    assert purge.status_code == 400


def test_a_limit_is_created_read_updated_and_purged_in_hubspots_shapes(api):
    created = limit(api, UNLABELED, 2)
    assert created.status_code == 201, created.text
    parsed = sdk_parse(created, "BatchResponsePublicAssociationDefinitionUserConfiguration",
                       schema=True)
    assert parsed.status == "COMPLETE" and parsed.results[0].user_enforced_max_to_object_ids == 2
    assert limit(api, UNLABELED, 3).status_code == 409
    listed = api.get(f"{CONFIGS}/contacts/companies").json()["results"]
    assert {"category": "HUBSPOT_DEFINED", "typeId": UNLABELED,
            "userEnforcedMaxToObjectIds": 2} in listed
    updated = limit(api, UNLABELED, 3, op="update")
    assert updated.status_code == 200, updated.text
    sdk_parse(updated, "BatchResponsePublicAssociationDefinitionConfigurationUpdateResult",
              schema=True)
    assert updated.json()["results"] == [{"category": "HUBSPOT_DEFINED", "typeId": UNLABELED,
                                          "userEnforcedMaxToObjectIds": 3}]
    assert limit(api, BACK, 1, pair="companies/contacts", op="update").status_code == 404
    purged = api.post(f"{CONFIGS}/contacts/companies/batch/purge",
                      json={"inputs": [{"category": "HUBSPOT_DEFINED", "typeId": UNLABELED}]})
    assert purged.status_code == 204
    assert UNLABELED not in {r["typeId"] for r in
                             api.get(f"{CONFIGS}/all").json()["results"]}


def test_bad_limits_are_refused_whole_and_change_nothing(api):
    assert limit(api, UNLABELED, 0).status_code == 400
    assert limit(api, BACK, 1).status_code == 400  # goes the other way
    assert limit(api, 99999, 1).status_code == 400
    assert limit(api, UNLABELED, 1, category="USER_DEFINED").status_code == 400
    twice = api.post(f"{CONFIGS}/contacts/companies/batch/create", json={"inputs": [
        {"category": "HUBSPOT_DEFINED", "typeId": UNLABELED, "maxToObjectIds": 1},
        {"category": "HUBSPOT_DEFINED", "typeId": UNLABELED, "maxToObjectIds": 2}]})
    assert twice.status_code == 400
    assert api.post(f"{CONFIGS}/contacts/companies/batch/create",
                    json={"inputs": [{"typeId": UNLABELED}] * 101}).status_code == 400
    assert api.get(f"{CONFIGS}/contacts/companies").json()["results"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary",
         "userEnforcedMaxToObjectIds": 1}]


def test_a_label_limit_stays_within_the_unlabeled_limit(api):
    label = api.post(f"{NEW}/contacts/companies/labels",
                     json={"label": "Billing", "name": "billing"}).json()["results"][0]["typeId"]
    assert limit(api, UNLABELED, 2).status_code == 201
    too_many = limit(api, label, 3, category="USER_DEFINED")
    assert too_many.status_code == 400 and "at most 2" in too_many.json()["message"]
    assert limit(api, label, 2, category="USER_DEFINED").status_code == 201
    lowered = limit(api, UNLABELED, 1, op="update")
    assert lowered.status_code == 400 and "at least 2" in lowered.json()["message"]
    assert api.delete(f"{NEW}/contacts/companies/labels/{label}").status_code == 204
    assert label not in {r["typeId"] for r in
                         api.get(f"{CONFIGS}/contacts/companies").json()["results"]}


def test_every_way_of_associating_obeys_the_limit_and_changes_nothing_when_over(api):
    contact = make(api, "contacts", email="lim@x.com")
    first, second, third = (make(api, "companies", name=n) for n in "ABC")
    limit(api, UNLABELED, 1)
    assert associate(api, contact, first).status_code == 200
    assert associate(api, contact, first).status_code == 200  # the same one again
    assert refused_for_limit(associate(api, contact, second))
    labelled = api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{second}",
                       json=[{"associationCategory": "HUBSPOT_DEFINED",
                              "associationTypeId": UNLABELED}])
    assert refused_for_limit(labelled)
    pairs = {"inputs": [{"from": {"id": contact}, "to": {"id": second}},
                        {"from": {"id": contact}, "to": {"id": third}}]}
    assert refused_for_limit(api.post(
        f"{OLD}/contacts/companies/batch/associate/default", json=pairs))
    typed = {"inputs": [{**p, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                         "associationTypeId": UNLABELED}]}
                        for p in pairs["inputs"]]}
    assert refused_for_limit(api.post(f"{OLD}/contacts/companies/batch/create", json=typed))
    assert companies_of(api, contact) == [int(first)]
    born = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "born@x.com"}, "associations": [
            {"to": {"id": c}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                         "associationTypeId": UNLABELED}]}
            for c in (second, third)]})
    assert refused_for_limit(born)
    found = api.post("/crm/v3/objects/contacts/search", json={"filterGroups": [{"filters": [
        {"propertyName": "email", "operator": "EQ", "value": "born@x.com"}]}]}).json()
    assert found["total"] == 0


def test_a_limit_counts_from_its_own_end_whichever_end_writes(api):
    company = make(api, "companies", name="Solo")
    one, two = make(api, "contacts", email="a@x.com"), make(api, "contacts", email="b@x.com")
    assert limit(api, BACK, 1, pair="companies/contacts").status_code == 201
    assert associate(api, one, company).status_code == 200
    assert refused_for_limit(associate(api, two, company))
    assert companies_of(api, two) == []
    other = make(api, "companies", name="Other")
    assert associate(api, two, other).status_code == 200  # a contact may have many


def test_archived_records_do_not_count_toward_a_limit(api):
    contact = make(api, "contacts", email="arch@x.com")
    gone, kept = make(api, "companies", name="Gone"), make(api, "companies", name="Kept")
    limit(api, UNLABELED, 1)
    associate(api, contact, gone)
    assert api.delete(f"/crm/v3/objects/companies/{gone}").status_code == 204
    assert associate(api, contact, kept).status_code == 200


def test_racing_writers_never_pass_a_limit(api):
    contact = make(api, "contacts", email="race@x.com")
    companies = [make(api, "companies", name=f"R{i}") for i in range(8)]
    limit(api, UNLABELED, 2)
    barrier, replies = threading.Barrier(len(companies)), []

    def write(company: str) -> None:
        barrier.wait()
        replies.append(associate(api, contact, company).status_code)

    threads = [threading.Thread(target=write, args=(c,)) for c in companies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(replies).count(200) == 2, replies
    assert set(replies) <= {200, 400, 429}
    assert len(companies_of(api, contact)) == 2


def test_only_admins_change_limits_and_schema_scopes_are_needed(tenant: Tenant):
    _, user = member(tenant, Role.USER)
    assert limit(user, UNLABELED, 1).status_code == 403
    assert user.get(f"{CONFIGS}/all").status_code == 200
    narrow = new_tenant(tenant.server, "crm.schemas.deals.read,crm.schemas.companies.read")
    assert narrow.client.get(f"{CONFIGS}/contacts/companies").status_code == 403
    seen = {r["typeId"] for r in narrow.client.get(f"{CONFIGS}/all").json()["results"]}
    assert seen == {5}  # deals → companies' Primary only
    nothing = new_tenant(tenant.server, "crm.objects.contacts.read")
    assert nothing.client.get(f"{CONFIGS}/all").status_code == 403
    assert limit(narrow.client, 5, 1, pair="deals/companies").status_code == 403


def test_the_sdk_manages_limits(tenant: Tenant):
    from hubspot import HubSpot
    from hubspot.crm.associations.v4.schema import (
        BatchInputPublicAssociationDefinitionConfigurationCreateRequest,
        BatchInputPublicAssociationDefinitionConfigurationUpdateRequest,
        BatchInputPublicAssociationSpec,
        PublicAssociationDefinitionConfigurationCreateRequest,
        PublicAssociationDefinitionConfigurationUpdateRequest,
        PublicAssociationSpec,
    )

    sdk = HubSpot(access_token=tenant.token, host=tenant.server.base_url)
    configs = sdk.crm.associations.v4.schema.definition_configurations_api
    made = configs.batch_create("deals", "contacts",
                                BatchInputPublicAssociationDefinitionConfigurationCreateRequest(
                                    inputs=[PublicAssociationDefinitionConfigurationCreateRequest(
                                        category="HUBSPOT_DEFINED", type_id=3,
                                        max_to_object_ids=5)]))
    assert made.results[0].user_enforced_max_to_object_ids == 5
    changed = configs.batch_update("deals", "contacts",
                                   BatchInputPublicAssociationDefinitionConfigurationUpdateRequest(
                                       inputs=[PublicAssociationDefinitionConfigurationUpdateRequest(
                                           category="HUBSPOT_DEFINED", type_id=3,
                                           max_to_object_ids=4)]))
    assert changed.results[0].user_enforced_max_to_object_ids == 4
    listed = configs.get_all_between_two_object_types("deals", "contacts")
    assert [(r.type_id, r.user_enforced_max_to_object_ids) for r in listed.results] == [(3, 4)]
    configs.batch_remove("deals", "contacts", BatchInputPublicAssociationSpec(
        inputs=[PublicAssociationSpec(category="HUBSPOT_DEFINED", type_id=3)]))
    assert 3 not in {r.type_id for r in configs.get_all().results}
