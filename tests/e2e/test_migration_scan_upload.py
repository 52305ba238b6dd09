"""Automation → Migrations → *Scan workflows exported from HubSpot* over HTTP, on both
stores, as a browser without script sends it (``multipart/form-data``): files and pasted
JSON judged, each file by its name; unreadable files named with their reason; bad input
(nothing given, too many files, too large, not multipart, malformed, no CSRF token) a 4xx
page with its reason; and nothing created, ever."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.properties import AccessRule
from propsync.services.properties import PropertyInput, create_property
from tests.conftest import Tenant
from tests.e2e.ui_session import UiSession, sign_in
from tests.integration.flows import fetched, flow, known, set_property, source

SCAN = "/ui/automation/migrations/scan"
FLOWS = "/automation/v4/flows"
UNLABELED = 279


def copy_from(target: str, prop: str, name: str) -> dict[str, Any]:
    """A contact workflow copying its first Unlabeled company's ``prop`` into ``target``,
    as ``GET /automation/v4/flows/{id}`` on a HubSpot portal answers it."""
    body = flow("contacts", [set_property("1", target, fetched("co", prop))],
                sources=[source("co", "companies", UNLABELED)],
                criteria=[known("createdate")], name=name, enabled=True)
    return {**body, "id": "9001", "revisionId": "3", "uuid": "u-9001",
            "createdAt": "2024-03-01T10:00:00Z", "updatedAt": "2024-03-02T10:00:00Z"}


NAME_COPY = json.dumps(copy_from("company", "name", "Company name copy")).encode()
UNKNOWN = json.dumps(copy_from("company", "no_such_property", "Unknown source")).encode()


@pytest.fixture
def ui(tenant: Tenant) -> UiSession:
    return sign_in(tenant, Role.ADMIN)


def upload(ui: UiSession, files: list[tuple[str, bytes]], pasted: str = "",
           field: str = "files", csrf: bool = True) -> httpx.Response:
    return ui.client.post(SCAN, data={"pasted": pasted, **({"csrf": ui.csrf} if csrf else {})},
                          files=[(field, (name, data, "application/json"))
                                 for name, data in files] or [("files", ("", b"", "x"))])


def entries(reply: httpx.Response) -> dict[str, str]:
    """Each listed file's name → the text of its entry."""
    found = re.findall(r'<li id="(?:scanned|unread)-\d+">(.*?)</li>\s*(?=<li id=|</ul>)',
                       reply.text, re.S)
    out = {}
    for html in found:
        name = re.search(r'<span class="scan-file">(.*?)</span>', html)
        assert name, html
        out[name.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
    return out


def alert(reply: httpx.Response) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', reply.text, re.S)
    return found.group(1).strip() if found else ""


def no_flows(tenant: Tenant) -> bool:
    reply = tenant.client.get(FLOWS)
    assert reply.status_code == 200, reply.text
    return reply.json()["results"] == []


def test_files_are_judged_by_name_and_nothing_is_created(tenant: Tenant, ui: UiSession):
    reply = upload(ui, [("name-copy.json", NAME_COPY), ("unknown.json", UNKNOWN)])
    assert reply.status_code == 200, reply.text[:2000]
    found = entries(reply)
    assert "One way copy" in found["name-copy.json"]
    assert "Proposed sync property: on Contacts, the value of name" in found["name-copy.json"]
    assert "Not convertible" in found["unknown.json"]
    assert "no_such_property" in found["unknown.json"]
    assert "Nothing was created" in reply.text and alert(reply) == ""
    assert no_flows(tenant)


def test_pasted_json_is_one_flow_or_a_list_and_a_batch_answer_too(tenant: Tenant,
                                                                   ui: UiSession):
    one = upload(ui, [], pasted=NAME_COPY.decode())
    assert one.status_code == 200 and "One way copy" in entries(one)["Pasted JSON"]
    listed = upload(ui, [("batch.json", json.dumps({"results": [
        json.loads(NAME_COPY), json.loads(UNKNOWN)]}).encode())],
        pasted=f"[{NAME_COPY.decode()}]")
    assert listed.status_code == 200
    assert set(entries(listed)) == {"batch.json#1", "batch.json#2", "Pasted JSON#1"}
    assert no_flows(tenant)


def test_a_file_that_holds_no_workflow_is_named_with_its_reason(ui: UiSession):
    reply = upload(ui, [("good.json", NAME_COPY), ("broken.json", b'{"name": "x",\n  oops}'),
                        ("number.json", b"42"), ("mixed.json", b'[{"name": "y"}, "text"]'),
                        ("latin.json", "{\"name\": \"é\"}".encode("latin-1")),
                        ("nul.json", b'{"name": "a\\u0000b"}')])
    assert reply.status_code == 400
    found = entries(reply)
    assert "One way copy" in found["good.json"]
    assert "is not valid JSON: Expecting property name enclosed in double quotes at line 2, " \
           "column 3" in found["broken.json"]
    assert "holds a number, not a workflow" in found["number.json"]
    assert "Not convertible" in found["mixed.json#1"]  # an object, but no flow
    assert "is a string, not a workflow" in found["mixed.json#2"]
    assert "is not UTF-8 text" in found["latin.json"]
    assert "NUL character" in found["nul.json"]
    assert "5 files or items hold no workflow" in alert(reply)
    assert "The others were scanned" in alert(reply)


def test_bad_input_is_a_4xx_page_with_its_reason(tenant: Tenant, ui: UiSession):
    nothing = upload(ui, [])
    assert nothing.status_code == 400 and "Choose one or more .json files" in alert(nothing)
    broken = upload(ui, [], pasted="{not json")
    assert broken.status_code == 400
    assert alert(broken).startswith("Pasted JSON is not valid JSON: Expecting property name")
    assert "{not json</textarea>" in broken.text  # kept, to be corrected
    many = upload(ui, [(f"f{i}.json", NAME_COPY) for i in range(101)])
    assert many.status_code == 400 and "at most 100 files" in alert(many)
    big = upload(ui, [("big.json", b" " * (10 * 1024 * 1024 + 1))])
    assert big.status_code == 413 and "larger than 10 MiB" in alert(big)
    one_too_many = upload(ui, [], pasted=json.dumps([json.loads(NAME_COPY)] * 101))
    assert one_too_many.status_code == 400 and "at most 100 workflows" in alert(one_too_many)
    refused = upload(ui, [("good.json", NAME_COPY)], csrf=False)
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert no_flows(tenant)


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/plain", b"hello"),
    ("multipart/form-data", b"--x\r\n\r\n--x--"),  # no boundary declared
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=a"),
    ("multipart/form-data; boundary=x", b"\x00\xff" * 50),
    ("multipart/form-data; boundary=x", b"--x\r\n" * 200 + b"--x--\r\n"),
    ("multipart/form-data; boundary=x",
     b'--x\r\nContent-Disposition: form-data; name*=utf-8\'\'%FF; filename="\xff\x00"\r\n'
     b"Content-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n\r\n--y--\r\n--x--\r\n"),
])
def test_a_malformed_body_is_a_4xx_never_a_5xx(ui: UiSession, content_type: str,
                                               body: bytes):
    reply = ui.client.post(SCAN, content=body, headers={"content-type": content_type})
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:500])


def test_a_folder_keeps_its_json_files_and_odd_names_are_shown_cleanly(ui: UiSession):
    reply = upload(ui, [("exports/a.json", NAME_COPY), ("exports/readme.txt", b"notes"),
                        ("exports/a.json", UNKNOWN)], field="folder")
    assert reply.status_code == 200
    assert set(entries(reply)) == {"exports/a.json", "exports/a.json (2)"}
    assert "1 file(s) of the folder are not .json and were left out" in reply.text
    odd = ui.client.post(SCAN, content=(
        b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + ui.csrf.encode() +
        b'\r\n--b\r\nContent-Disposition: form-data; name="files"; filename="r\xc3\xa9gion'
        b'\x01<b>.json"\r\n\r\n' + NAME_COPY + b"\r\n--b--\r\n"),
        headers={"content-type": "multipart/form-data; boundary=b"})
    assert odd.status_code == 200, odd.text[:1000]
    assert list(entries(odd)) == ["région&lt;b&gt;.json"]


def test_a_plain_user_scans_and_a_property_they_may_not_view_is_not_described(
        tenant: Tenant):
    admin = Principal(tenant.account_id, tenant.user_id, frozenset(), frozenset(ALL_SCOPES),
                      Role.SUPER_ADMIN)
    create_property(tenant.server.engine, admin,
                    "companies", PropertyInput(
                        "secret_rating", "Secret rating", "string", "text",
                        "companyinformation", access=AccessRule(
                            view_users=frozenset({tenant.user_id}))))
    plain = sign_in(tenant)
    page = plain.client.get("/ui/automation/migrations")
    assert page.status_code == 200 and 'action="/ui/automation/migrations/scan"' in page.text
    reply = upload(plain, [("a.json", NAME_COPY), ("secret.json", json.dumps(
        copy_from("company", "secret_rating", "Secret copy")).encode()), (
        "missing.json", json.dumps(copy_from("company", "absent_rating", "Secret copy")
                                   ).encode())])
    assert reply.status_code == 200
    found = entries(reply)
    assert "One way copy" in found["a.json"]
    assert "Not convertible" in found["secret.json"]
    # judged as a property the account lacks, in the same words: nothing tells it exists
    assert found["secret.json"].replace("secret_rating", "absent_rating").replace(
        "secret.json", "missing.json") == found["missing.json"]
    assert "Secret rating" not in reply.text
