"""Replies in the shapes HubSpot's published spec gives them, where the spec fuzz
(test_hubspot_spec.py) found propsync answering otherwise: batch errors, property history,
and the associations v4 batch read's paging."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.associations import CONTACTS_COMPANIES, make


def nulls_in(value: Any, where: str = "") -> list[str]:
    """Where ``value`` holds a JSON null."""
    if value is None:
        return [where]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in nulls_in(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in nulls_in(v, f"{where}[{i}]")]
    return []


def test_the_errors_of_a_207_batch_reply_say_status_error(api):
    contact = make(api, "contacts", firstname="A")
    replies = [
        api.post("/crm/v3/objects/contacts/batch/read",
                 json={"inputs": [{"id": contact}, {"id": "987654321"}]}),
        api.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
            {"id": "987654321", "properties": {"firstname": "B"}}]}),
        api.post(f"{CONTACTS_COMPANIES}/batch/read", json={"inputs": [{"id": "987654321"}]}),
    ]
    for reply in replies:
        assert reply.status_code == 207, reply.text
        [entry] = reply.json()["errors"]
        assert entry["status"] == "error", reply.text
        assert entry["category"] == "OBJECT_NOT_FOUND" and entry["message"]
        assert entry["context"] == {"ids": ["987654321"]}


def test_property_history_leaves_out_what_it_has_no_value_for(api):
    contact = make(api, "contacts", firstname="Ada")
    cleared = api.patch(f"/crm/v3/objects/contacts/{contact}",
                        json={"properties": {"firstname": ""}})
    assert cleared.status_code == 200, cleared.text
    for reply in (
        api.get(f"/crm/v3/objects/contacts/{contact}",
                params={"propertiesWithHistory": "firstname,email"}),
        api.post("/crm/v3/objects/contacts/batch/read", json={
            "inputs": [{"id": contact}], "propertiesWithHistory": ["firstname"]}),
    ):
        assert reply.status_code == 200, reply.text
        got = reply.json()
        history = (got["results"][0] if "results" in got else got)["propertiesWithHistory"]
        assert nulls_in(history) == [], history
        entries = history["firstname"]
        assert [e["value"] for e in entries] == ["", "Ada"]
        assert all(e["sourceType"] == "API" and "sourceLabel" not in e for e in entries)


def _associate(api: httpx.Client, contact: str, companies: list[str]) -> None:
    for start in range(0, len(companies), 100):
        reply = api.post(f"{CONTACTS_COMPANIES}/batch/associate/default", json={"inputs": [
            {"from": {"id": contact}, "to": {"id": c}} for c in companies[start:start + 100]]})
        assert reply.status_code == 200, reply.text


def _to_ids(result: dict) -> list[str]:
    return [str(t["toObjectId"]) for t in result["to"]]


def test_the_v4_batch_read_pages_each_input_from_its_own_after(api):
    first, second = make(api, "contacts"), make(api, "contacts")
    companies = [make(api, "companies", name=f"C{i}") for i in range(4)]
    _associate(api, first, companies)
    _associate(api, second, companies[:2])
    reply = api.post(f"{CONTACTS_COMPANIES}/batch/read", json={"inputs": [
        {"id": first, "after": companies[1]}, {"id": second}, {"id": first}]})
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r["from"]["id"] for r in results] == [first, second, first]
    assert [_to_ids(r) for r in results] == [companies[2:], companies[:2], companies]
    assert all("paging" not in r for r in results)


def test_the_v4_batch_read_gives_a_cursor_when_an_input_has_more_than_a_page(api):
    contact = make(api, "contacts")
    created = []
    for start in range(0, 501, 100):
        reply = api.post("/crm/v3/objects/companies/batch/create", json={"inputs": [
            {"properties": {"name": f"C{i}"}} for i in range(start, min(start + 100, 501))]})
        assert reply.status_code == 201, reply.text
        created += [r["id"] for r in reply.json()["results"]]
    companies = sorted(created, key=int)
    _associate(api, contact, companies)
    path = f"{CONTACTS_COMPANIES}/batch/read"
    [page] = api.post(path, json={"inputs": [{"id": contact}]}).json()["results"]
    assert _to_ids(page) == companies[:500]
    after = page["paging"]["next"]["after"]
    [rest] = api.post(path, json={"inputs": [{"id": contact, "after": after}]}).json()["results"]
    assert _to_ids(rest) == companies[500:] and "paging" not in rest


def test_the_v4_batch_read_refuses_an_after_that_is_no_cursor(api):
    contact = make(api, "contacts")
    reply = api.post(f"{CONTACTS_COMPANIES}/batch/read",
                     json={"inputs": [{"id": contact, "after": "next please"}]})
    assert reply.status_code == 400, reply.text
    assert reply.json()["category"] == "VALIDATION_ERROR"
