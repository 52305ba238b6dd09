"""Record ids over HTTP, on both stores: one strict reading everywhere.

An id is ASCII digits with no sign, spaces or leading zeros (``domain/record_ids.py``);
any other text names no record. ``"²"`` (which passes ``str.isdigit`` but not ``int``)
was a 500 on 11 API endpoints; `` 1`` and ``00001`` were read as record 1.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.associations import PRIMARY, make
from tests.e2e.replies import codes, error

# Ids no record can have: "²" and "\u0661" pass str.isdigit, " 1" and "00001" pass int.
NO_SUCH_IDS = ["²", "\u0661", "1e3", "-1", "9" * 19]


@pytest.fixture
def contact(api: httpx.Client) -> str:
    return make(api, "contacts", email="bad-id@example.com", firstname="Bad")


@pytest.mark.parametrize("rid", NO_SUCH_IDS)
def test_an_id_of_no_record_is_404_on_every_single_record_endpoint(api, contact, rid):
    body = {"properties": {"firstname": "x"}}
    for reply in (api.get(f"/crm/v3/objects/contacts/{rid}"),
                  api.patch(f"/crm/v3/objects/contacts/{rid}", json=body),
                  api.post(f"/propsync/v1/objects/contacts/{rid}/restore"),
                  api.get(f"/crm/v4/objects/contacts/{rid}/associations/companies"),
                  api.delete(f"/crm/v4/objects/contacts/{rid}/associations/companies/1"),
                  api.post("/crm/v3/objects/contacts/merge", json={
                      "primaryObjectId": contact, "objectIdToMerge": rid})):
        error(reply, 404, "OBJECT_NOT_FOUND")


def test_an_id_written_with_spaces_or_leading_zeros_names_no_record(api, contact):
    for rid in (f" {contact}", f"{contact} ", f"0{contact}", f"000{contact}", f"+{contact}"):
        error(api.get(f"/crm/v3/objects/contacts/{rid}"), 404, "OBJECT_NOT_FOUND")
        error(api.patch(f"/crm/v3/objects/contacts/{rid}",
                        json={"properties": {"firstname": "x"}}), 404)
    assert api.get(f"/crm/v3/objects/contacts/{contact}").status_code == 200


def test_a_batch_reports_ids_of_no_record_as_missing(api, contact):
    wanted = [contact, "²", f"0{contact}", " 1", "\u0661"]
    reply = api.post("/crm/v3/objects/contacts/batch/read",
                     json={"inputs": [{"id": i} for i in wanted]})
    assert reply.status_code == 207, reply.text
    body = reply.json()
    assert [r["id"] for r in body["results"]] == [contact]
    assert body["errors"][0]["context"]["ids"] == wanted[1:]
    update = api.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
        {"id": "²", "properties": {"firstname": "x"}}]})
    assert update.status_code == 207, update.text


def test_association_batches_report_ids_of_no_record_as_missing(api, contact):
    company = make(api, "companies", name="Acme")
    reply = api.post("/crm/v4/associations/contacts/companies/batch/create", json={"inputs": [
        {"from": {"id": "²"}, "to": {"id": company}, "types": [PRIMARY]},
        {"from": {"id": contact}, "to": {"id": f"0{company}"}, "types": [PRIMARY]}]})
    assert reply.status_code == 207, reply.text
    assert reply.json()["errors"][0]["context"]["ids"] == ["²", f"0{company}"]
    read = api.post("/crm/v4/associations/contacts/companies/batch/read",
                    json={"inputs": [{"id": "²"}]})
    assert read.status_code == 207, read.text


def test_a_sync_explanation_for_an_id_of_no_record_is_404(api):
    reply = api.post("/crm/v3/properties/contacts", json={
        "name": "company_name_sync", "label": "Company name", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "name",
                       "associationTypes": [PRIMARY]}})
    assert reply.status_code == 201, reply.text
    for rid in ("²", "00001"):
        error(api.get(f"/propsync/v1/sync-properties/contacts/company_name_sync/explain/{rid}"),
              404, "OBJECT_NOT_FOUND")


@pytest.mark.parametrize("after", ["²", "\u0661", " 1", "01", "-1", "1" * 19])
def test_a_paging_cursor_that_is_not_one_is_400(api, contact, after):
    assert "INVALID_PAGING" in codes(error(api.get("/crm/v3/objects/contacts",
                                                   params={"after": after}), 400))
    error(api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies",
                  params={"after": after}), 400)
    search = api.post("/crm/v3/objects/contacts/search", json={"after": after})
    assert "INVALID_PAGING" in codes(error(search, 400))
