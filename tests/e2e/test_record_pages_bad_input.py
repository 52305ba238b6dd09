"""Record pages of the web UI given bad input, on both stores: the not-found page for an
id of no record, an inline refusal for a value no store can take, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tenant
from tests.e2e.associations import make
from tests.e2e.ui_session import UiSession, sign_in

PAGES = ["/ui/records/contacts/{id}", "/ui/records/contacts/{id}/values.json",
         "/ui/records/contacts/{id}/explain/firstname",
         "/ui/records/contacts/{id}/history/firstname"]
FORMS = ["/ui/records/contacts/{id}/values", "/ui/records/contacts/{id}/associations/add",
         "/ui/records/contacts/{id}/associations/relabel",
         "/ui/records/contacts/{id}/associations/remove"]


@pytest.fixture
def ui(tenant: Tenant) -> UiSession:
    return sign_in(tenant)


@pytest.fixture
def contact(api: httpx.Client) -> str:
    return make(api, "contacts", email="page@example.com", firstname="Page")


@pytest.mark.parametrize("rid", ["²", "\u0661", "00001", " 1", "0"])
def test_a_page_for_an_id_of_no_record_is_the_not_found_page(ui, contact, rid):
    for page in PAGES:
        reply = ui.client.get(page.format(id=rid))
        assert reply.status_code == 404, (page, reply.text[:300])
    for form in FORMS:
        reply = ui.post(form.format(id=rid), property="firstname", value="x",
                        to_type="companies", to_id=contact)
        assert reply.status_code == 404, (form, reply.text[:300])


def test_a_page_for_an_id_written_with_a_leading_zero_is_not_the_records_page(ui, contact):
    assert ui.client.get(f"/ui/records/contacts/{contact}").status_code == 200
    assert ui.client.get(f"/ui/records/contacts/0{contact}").status_code == 404


@pytest.mark.parametrize(("name", "value", "says"), [
    ("met_at", "9999-12-31T23:59:59-01:00", "between 0001-01-01 and 9999-12-31"),
    ("met_at", "0001-01-01T00:00:00+01:00", "between 0001-01-01 and 9999-12-31"),
    ("firstname", "a\x00b", "NUL character"),
])
def test_a_value_no_store_can_take_is_refused_on_its_row_and_not_saved(
        api, ui, contact, name, value, says):
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "met_at", "label": "Met at", "type": "datetime", "fieldType": "date",
        "groupName": "contactinformation"}).status_code == 201
    reply = ui.post(f"/ui/records/contacts/{contact}/values", property=name, value=value)
    assert reply.status_code == 400, reply.text[:300]
    assert says in reply.text
    got = api.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": "firstname"})
    assert got.json()["properties"]["firstname"] == "Page"


@pytest.mark.parametrize("params", [{"after": "²"}, {"after": "01"}, {"q": "a\x00"},
                                    {"q": "q" * 3001}])
def test_the_record_list_refuses_a_bad_cursor_or_query_with_a_page(ui, params):
    reply = ui.client.get("/ui/records/contacts", params=params)
    assert reply.status_code == 400, reply.text[:300]


@pytest.mark.parametrize("path", [
    "/ui/settings/properties/contacts/first%00name/status.json",
    "/ui/settings/properties/contacts/first%00name",
    "/ui/settings/properties?q=%00",
    "/ui/records/contacts?q=%00",
])
def test_a_nul_character_in_any_page_request_is_a_400_page(ui, path):
    reply = ui.client.get(path)
    assert reply.status_code == 400, reply.text[:300]
    assert "NUL character" in reply.text


def test_a_nul_character_in_a_form_field_is_a_400_page(ui, contact):
    reply = ui.post(f"/ui/records/contacts/{contact}/associations/add", to_type="companies",
                    to_id="1", label_ids="\x00")
    assert reply.status_code == 400, reply.text[:300]
    assert "NUL character" in reply.text
