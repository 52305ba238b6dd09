"""Associations over HTTP refuse what they must: bad input, missing records, other
accounts, missing scopes."""

from __future__ import annotations

import pytest

from tests.conftest import new_tenant
from tests.e2e.associations import CONTACTS_COMPANIES, PRIMARY, labelled, new_label, types_between


@pytest.mark.parametrize("body", [
    [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 999}],
    [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
    [{"associationCategory": "NOPE", "associationTypeId": 1}],
    [],
    {"not": "a list"},
])
def test_bad_types_are_400_and_change_nothing(api, pair, body):
    contact, company = pair
    reply = api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
                    json=body)
    assert reply.status_code == 400, reply.text
    assert types_between(api, contact, company) == set()


def test_missing_records_are_404_and_other_accounts_records_are_missing(server, api, pair):
    contact, company = pair
    assert api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/99999"
                   ).status_code == 404
    other = new_tenant(server).client
    assert other.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/"
                     f"{company}").status_code == 404
    assert other.get(f"/crm/v4/objects/contacts/{contact}/associations/companies"
                     ).status_code == 404
    assert types_between(api, contact, company) == set()


def test_a_token_without_write_scope_is_403(server):
    reader = new_tenant(server, scopes="crm.objects.contacts.read,crm.objects.companies.read")
    reply = reader.client.put("/crm/v4/objects/contacts/1/associations/default/companies/2")
    assert reply.status_code == 403


def test_another_account_can_neither_read_nor_remove_the_pair(server, api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    other = new_tenant(server).client
    assert other.delete(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}"
                        ).status_code == 404
    read = other.post(f"{CONTACTS_COMPANIES}/batch/read", json={"inputs": [{"id": contact}]})
    assert read.status_code == 207 and read.json()["results"] == []
    for path, body in (
        ("batch/archive", {"inputs": [{"from": {"id": contact}, "to": [{"id": company}]}]}),
        ("batch/labels/archive", {"inputs": [{"from": {"id": contact}, "to": {"id": company},
                                              "types": [PRIMARY]}]}),
    ):
        assert other.post(f"{CONTACTS_COMPANIES}/{path}", json=body).status_code == 204
    assert types_between(api, contact, company) == {1, 279}


@pytest.mark.parametrize(("scopes", "method", "path", "body"), [
    ("crm.objects.contacts.write,crm.objects.contacts.read", "PUT",
     "/crm/v4/objects/contacts/1/associations/default/companies/2", None),
    ("crm.objects.companies.read", "GET", "/crm/v4/objects/contacts/1/associations/companies",
     None),
    ("crm.objects.contacts.read,crm.objects.companies.read", "POST",
     f"{CONTACTS_COMPANIES}/batch/archive", {"inputs": []}),
    ("crm.objects.contacts.read", "POST", f"{CONTACTS_COMPANIES}/batch/read", {"inputs": []}),
    ("crm.objects.contacts.read,crm.objects.companies.read", "GET",
     f"{CONTACTS_COMPANIES}/labels", None),
    ("crm.schemas.contacts.read", "POST", f"{CONTACTS_COMPANIES}/labels",
     {"label": "A", "name": "a"}),
    ("crm.schemas.contacts.read", "DELETE", f"{CONTACTS_COMPANIES}/labels/1000", None),
])
def test_a_missing_scope_is_403(server, scopes, method, path, body):
    client = new_tenant(server, scopes=scopes).client
    reply = client.request(method, path, json=body)
    assert reply.status_code == 403, reply.text
    assert reply.json()["category"] == "MISSING_SCOPES"


def test_read_scopes_are_enough_to_read(server, api, pair):
    contact, company = pair
    labelled(api, contact, company, 1)
    reader = new_tenant(server, scopes="crm.objects.contacts.read,crm.objects.companies.read,"
                                       "crm.schemas.contacts.read,crm.schemas.companies.read")
    assert reader.client.get("/crm/v4/objects/contacts/1/associations/companies"
                             ).status_code == 404
    assert reader.client.get(f"{CONTACTS_COMPANIES}/labels").status_code == 200


LONG = "x" * 300


BAD_BODIES = [
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": "abc"}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 2 ** 70}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}",
     [{"associationTypeId": 1}]),
    ("PUT", "/crm/v4/objects/contacts/{c}/associations/companies/{o}", None),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create", {"inputs": "no"}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create", {}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create",
     {"inputs": [{"from": {"id": "{c}"}, "to": {"id": "{o}"}}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create",
     {"inputs": [{"from": {"id": "{c}"}, "to": {"id": "{o}"}, "types": [PRIMARY]},
                 {"from": {"id": "{c}"}, "to": {"id": "{o}"}, "types": [
                     {"associationCategory": "USER_DEFINED", "associationTypeId": 1}]}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/create", {"inputs": [{"to": {"id": "{o}"}}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/labels/archive",
     {"inputs": [{"from": {"id": "{c}"}, "to": {"id": "{o}"}, "types": [
         {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/archive", {"inputs": [{"from": {"id": "{c}"}}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/read", {"inputs": [{"nope": 1}]}),
    ("POST", f"{CONTACTS_COMPANIES}/batch/associate/default", {"inputs": [{}]}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": "", "name": "empty"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": "Bad", "name": "Bad Name"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": LONG, "name": "long"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"label": "Nul\u0000", "name": "nul"}),
    ("POST", f"{CONTACTS_COMPANIES}/labels",
     {"label": "Ok", "name": "ok", "inverseLabel": LONG}),
    ("POST", f"{CONTACTS_COMPANIES}/labels", {"name": "nolabel"}),
    ("PUT", f"{CONTACTS_COMPANIES}/labels", {"label": "No id"}),
    ("PUT", f"{CONTACTS_COMPANIES}/labels", {"associationTypeId": 1000, "label": LONG}),
    ("GET", "/crm/v4/objects/contacts/{c}/associations/companies?limit=0", None),
    ("GET", "/crm/v4/objects/contacts/{c}/associations/companies?limit=501", None),
    ("GET", "/crm/v4/objects/contacts/{c}/associations/companies?after=abc", None),
]


def _fill(value: object, contact: str, company: str) -> object:
    if isinstance(value, str):
        return value.replace("{c}", contact).replace("{o}", company)
    if isinstance(value, list):
        return [_fill(v, contact, company) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, contact, company) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
def test_bad_input_is_400_in_the_hubspot_shape_and_changes_nothing(api, pair, method, path,
                                                                   body):
    contact, company = pair
    new_label(api, "existing")
    labels_before = api.get(f"{CONTACTS_COMPANIES}/labels").json()
    reply = api.request(method, str(_fill(path, contact, company)),
                        json=_fill(body, contact, company))
    assert reply.status_code == 400, reply.text
    error = reply.json()
    assert error["status"] == "error" and error["category"] == "VALIDATION_ERROR"
    assert error["message"] and error["correlationId"]
    assert types_between(api, contact, company) == set()
    assert api.get(f"{CONTACTS_COMPANIES}/labels").json() == labels_before


def test_unknown_object_types_are_refused(api, pair):
    contact, company = pair
    reply = api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/widgets/{company}")
    assert reply.status_code == 400
    assert reply.json()["status"] == "error"
