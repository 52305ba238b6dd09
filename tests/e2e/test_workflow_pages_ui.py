"""The workflow editor and pages driven over HTTP, on both stores: a flow made with the
editor's form reads back through the API as the JSON the editor spelled; saving a flow's
form unchanged changes nothing of its definition; a flow the editor cannot show is never
saved from it; crafted forms are refused in the service's words; a plain user changes
nothing."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from propsync.domain.auth import Role
from propsync.web.flow_fields import read_fields
from propsync.web.flow_form import to_definition
from tests.conftest import Tenant
from tests.e2e.test_sync_api import settle
from tests.e2e.ui_session import UiSession, sign_in
from tests.integration.flows import BRANCHING
from tests.patience import WAIT_GUARD_S

SERVER_FIELDS = ("id", "revisionId", "createdAt", "updatedAt", "uuid", "isEnabled",
                 "crmObjectCreationStatus", "nextAvailableActionId")
CONTACT_TYPES = {"jobtitle": "string", "lifecyclestage": "enumeration", "city": "string",
                 "firstname": "string", "createdate": "datetime"}
# The editor's fields of a contact workflow: conditions in two groups, re-enrollment, and
# one step of each kind (the copy from the Primary company, the copy to every company).
FIELDS = {
    "name": "Everything the editor shows", "object_type": "contacts", "enroll": "conditions",
    "c-0-0-property": "jobtitle", "c-0-0-operator": "CONTAINS", "c-0-0-value": "Engineer",
    "c-0-1-property": "city", "c-0-1-operator": "IS_KNOWN",
    "c-1-0-property": "lifecyclestage", "c-1-0-operator": "IS_NOT_EQUAL_TO",
    "c-1-0-value": "customer", "re_enroll": "jobtitle",
    "s-0-kind": "fetch", "s-0-association": "companies:HUBSPOT_DEFINED:1", "s-0-pick": "last",
    "s-0-source": "city", "s-0-target": "city",
    "s-1-kind": "delay", "s-1-delay": "2", "s-1-unit": "HOURS",
    "s-2-kind": "set", "s-2-target": "lifecyclestage", "s-2-value": "lead",
    "s-3-kind": "copy", "s-3-source": "firstname", "s-3-target": "jobtitle",
    "s-4-kind": "copy_to", "s-4-association": "companies:HUBSPOT_DEFINED:279",
    "s-4-source": "city", "s-4-target": "city",
    "op": "save"}


@pytest.fixture
def admin_ui(tenant: Tenant) -> UiSession:
    return sign_in(tenant, Role.ADMIN)


class FormFields(HTMLParser):
    """The fields a browser would send from a page's form with ``data-flow-editor``, without
    the buttons: inputs (checked ones only, for boxes), selects' chosen options, not
    disabled ones."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.inside = False
        self.select: str | None = None
        self.first_option: str | None = None
        self.chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = "data-flow-editor" in a
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((str(a["name"]), a.get("value") or ""))
        elif tag == "select":
            self.select, self.first_option, self.chosen = a.get("name"), None, False
        elif tag == "option" and self.select is not None:
            if self.first_option is None:
                self.first_option = a.get("value") or ""
            if "selected" in a:
                self.fields.append((self.select, a.get("value") or ""))
                self.chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select is not None:
            if not self.chosen:
                self.fields.append((self.select, self.first_option or ""))
            self.select = None
        if tag == "form":
            self.inside = False


def form_of(page: str) -> list[tuple[str, str]]:
    parser = FormFields()
    parser.feed(page)
    return [(k, v) for k, v in parser.fields if k not in ("csrf", "new_kind")]


def save(ui: UiSession, path: str, fields: list[tuple[str, str]] | dict[str, str]
         ) -> httpx.Response:
    pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
    return ui.client.post(path, content=urlencode([*pairs, ("csrf", ui.csrf), ("op", "save")]),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})


def definition(api: httpx.Client, flow_id: str) -> dict[str, Any]:
    got = api.get(f"/automation/v4/flows/{flow_id}")
    assert got.status_code == 200, got.text
    return {k: v for k, v in got.json().items() if k not in SERVER_FIELDS}


def test_a_flow_made_in_the_editor_reads_back_as_the_editor_spelled_it(
        admin_ui: UiSession, api: httpx.Client) -> None:
    reply = save(admin_ui, "/ui/automation/workflows/new", FIELDS)
    assert reply.status_code == 303, reply.text[-2000:]
    flow_id = reply.headers["location"].split("/")[-1].split("?")[0]
    expected = to_definition(read_fields({k: [v] for k, v in FIELDS.items()}), CONTACT_TYPES)
    assert definition(api, flow_id) == expected
    assert api.get(f"/automation/v4/flows/{flow_id}").json()["isEnabled"] is False

    page = admin_ui.client.get(f"/ui/automation/workflows/{flow_id}/edit")
    assert page.status_code == 200 and "data-flow-editor" in page.text
    again = save(admin_ui, f"/ui/automation/workflows/{flow_id}/edit", form_of(page.text))
    assert again.status_code == 303, again.text[-2000:]
    assert definition(api, flow_id) == expected  # saved unchanged: the same definition
    assert api.get(f"/automation/v4/flows/{flow_id}").json()["revisionId"] == "2"


def test_a_flow_the_editor_cannot_show_is_never_saved_from_it(
        admin_ui: UiSession, api: httpx.Client) -> None:
    made = api.post("/automation/v4/flows", json=BRANCHING)
    assert made.status_code == 201, made.text
    flow_id = made.json()["id"]
    before = api.get(f"/automation/v4/flows/{flow_id}").json()
    page = admin_ui.client.get(f"/ui/automation/workflows/{flow_id}/edit")
    assert page.status_code == 200 and "STATIC_BRANCH" in page.text
    assert "data-flow-editor" not in page.text
    crafted = {**FIELDS, "name": "Overwritten", "revision": before["revisionId"]}
    reply = save(admin_ui, f"/ui/automation/workflows/{flow_id}/edit", crafted)
    assert reply.status_code == 400 and "cannot show" in reply.text
    assert api.get(f"/automation/v4/flows/{flow_id}").json() == before


def test_crafted_forms_are_refused_in_the_services_words(
        admin_ui: UiSession, api: httpx.Client, tenant: Tenant) -> None:
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "company_city", "label": "Company city", "groupName": "contactinformation",
        "syncSource": {"objectType": "companies", "propertyName": "city", "associationTypes": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}}
                    ).status_code == 201
    assert api.post("/crm/v3/properties/contacts", json={
        "name": "salary", "label": "Salary", "type": "number", "fieldType": "number",
        "groupName": "contactinformation", "access": {
            "view": {"everyone": False, "userIds": [tenant.user_id]},
            "edit": {"everyone": False, "userIds": [tenant.user_id]}}}).status_code == 201
    settle(api)
    base = {"name": "Crafted", "object_type": "contacts", "enroll": "manual",
            "s-0-kind": "set", "s-0-target": "jobtitle", "s-0-value": "x"}
    for changed, words in (({"s-0-target": "company_city"}, "choose the property to set"),
                           ({"s-0-kind": "copy", "s-0-source": "salary"},
                            "choose the property to copy"),
                           ({"enroll": "conditions", "c-0-0-property": "salary",
                             "c-0-0-operator": "IS_KNOWN"}, "choose a property"),
                           ({"s-0-kind": "delay", "s-0-delay": "-1"}, "whole number"),
                           ({"name": ""}, "Give the workflow a name")):
        reply = save(admin_ui, "/ui/automation/workflows/new", {**base, **changed})
        assert reply.status_code == 400, (changed, reply.status_code)
        assert words in reply.text, changed
    # the service refuses a sync property as a target too, whatever the editor offers
    body = to_definition(read_fields({k: [v] for k, v in base.items()}), CONTACT_TYPES)
    body["actions"][0]["fields"]["property_name"] = "company_city"
    refused = api.post("/automation/v4/flows", json={**body, "isEnabled": False})
    assert refused.status_code == 400 and "company_city" in refused.json()["message"]
    assert api.get("/automation/v4/flows").json()["results"] == []


def test_a_plain_user_changes_no_workflow(tenant: Tenant, api: httpx.Client) -> None:
    made = api.post("/automation/v4/flows", json={**BRANCHING, "isEnabled": True})
    flow_id = made.json()["id"]
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"firstname": "A"}})
    before = api.get(f"/automation/v4/flows/{flow_id}").json()
    user = sign_in(tenant)  # a plain user
    assert user.client.get(f"/ui/automation/workflows/{flow_id}").status_code == 200
    for path, fields in ((f"/ui/automation/workflows/{flow_id}/turn-off", {}),
                         (f"/ui/automation/workflows/{flow_id}/turn-on", {"existing": "enroll"}),
                         (f"/ui/automation/workflows/{flow_id}/delete", {}),
                         (f"/ui/automation/workflows/{flow_id}/enroll",
                          {"record_id": contact.json()["id"]}),
                         (f"/ui/automation/workflows/{flow_id}/edit", FIELDS),
                         ("/ui/automation/workflows/new", FIELDS)):
        reply = user.post(path, **fields)
        assert reply.status_code == 403, (path, reply.status_code)
    assert api.get(f"/automation/v4/flows/{flow_id}").json() == before
    assert len(api.get("/automation/v4/flows").json()["results"]) == 1


def wait_for_runs(api: httpx.Client, flow_id: str, count: int) -> list[dict[str, Any]]:
    """The flow's runs once there are ``count`` (the workflow worker runs them)."""
    deadline = time.monotonic() + WAIT_GUARD_S
    while True:
        runs = api.get(f"/propsync/v1/workflows/{flow_id}/runs").json()["results"]
        if len(runs) >= count:
            return list(runs)
        assert time.monotonic() < deadline, runs
        time.sleep(0.05)


def test_turning_on_enrolls_the_records_that_meet_the_trigger_when_asked(
        admin_ui: UiSession, api: httpx.Client) -> None:
    for name in ("Ada", "Grace", ""):
        api.post("/crm/v3/objects/contacts", json={"properties": {"firstname": name}})
    fields = {"name": "Title by name", "object_type": "contacts", "enroll": "conditions",
              "c-0-0-property": "firstname", "c-0-0-operator": "IS_KNOWN",
              "s-0-kind": "set", "s-0-target": "jobtitle", "s-0-value": "Named"}
    flow_id = save(admin_ui, "/ui/automation/workflows/new", fields).headers[
        "location"].split("/")[-1].split("?")[0]
    page = admin_ui.client.get(f"/ui/automation/workflows/{flow_id}/turn-on")
    assert 'data-existing-count="2"' in page.text  # the two with a first name
    reply = admin_ui.post(f"/ui/automation/workflows/{flow_id}/turn-on", existing="enroll")
    assert reply.status_code == 303 and reply.headers["location"].endswith("done=on-existing")
    runs = wait_for_runs(api, flow_id, 2)
    assert {r["outcome"] for r in runs} == {"DONE"}
    off = admin_ui.client.get(f"/ui/automation/workflows/{flow_id}/turn-off")
    assert 'data-active-count="0"' in off.text


def test_a_record_is_found_and_enrolled_by_hand(admin_ui: UiSession, api: httpx.Client
                                               ) -> None:
    nora = api.post("/crm/v3/objects/contacts", json={"properties": {
        "firstname": "Nora", "lastname": "Berg"}}).json()["id"]
    fields = {"name": "By hand", "object_type": "contacts", "enroll": "manual",
              "s-0-kind": "set", "s-0-target": "jobtitle", "s-0-value": "Picked"}
    flow_id = save(admin_ui, "/ui/automation/workflows/new", fields).headers[
        "location"].split("/")[-1].split("?")[0]
    off = admin_ui.post(f"/ui/automation/workflows/{flow_id}/enroll", record_id=nora)
    assert off.status_code == 400 and "turn it on" in off.text  # the service's words
    assert admin_ui.post(f"/ui/automation/workflows/{flow_id}/turn-on",
                         existing="future").status_code == 303
    for text in ("nora", nora):
        found = admin_ui.client.get(f"/ui/automation/workflows/{flow_id}", params={"find": text})
        assert found.status_code == 200 and f'name="record_id" value="{nora}"' in found.text
    nobody = admin_ui.client.get(f"/ui/automation/workflows/{flow_id}", params={"find": "zed"})
    assert "No contact matches" in nobody.text
    reply = admin_ui.post(f"/ui/automation/workflows/{flow_id}/enroll", record_id=nora)
    assert reply.status_code == 303 and reply.headers["location"].endswith("done=enrolled")
    assert wait_for_runs(api, flow_id, 1)[0]["recordId"] == nora
    page = admin_ui.client.get(f"/ui/automation/workflows/{flow_id}")
    assert "Nora Berg" in page.text and "outcome-done" in page.text
    missing = admin_ui.post(f"/ui/automation/workflows/{flow_id}/enroll", record_id="999999")
    assert missing.status_code == 404


def test_choosing_another_object_starts_its_conditions_and_steps_afresh(
        admin_ui: UiSession) -> None:
    typed = {"name": "Kept", "object_type": "companies", "shown_type": "contacts",
             "enroll": "conditions", "c-0-0-property": "jobtitle", "c-0-0-operator": "IS_KNOWN",
             "s-0-kind": "set", "s-0-target": "jobtitle", "s-0-value": "x"}
    page = admin_ui.post("/ui/automation/workflows/new", **typed, op="refresh:object_type")
    assert page.status_code == 200
    fields = dict(form_of(page.text))
    assert fields["name"] == "Kept" and fields["object_type"] == "companies"
    assert fields["c-0-0-property"] == "" and "s-0-kind" not in fields
    assert 'id="object_type" autofocus' in page.text
    same = admin_ui.post("/ui/automation/workflows/new", **{**typed, "shown_type": "companies"},
                         op="add-group")
    assert dict(form_of(same.text))["c-0-0-property"] == "jobtitle"  # kept (not offered)
