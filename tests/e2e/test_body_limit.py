"""No request body is larger than propsync reads: a 413 in HubSpot's shape, nothing stored,
and the server goes on serving."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from propsync.api.body_limit import MAX_BODY_BYTES

CHUNK = b"x" * (1024 * 1024)


def oversized() -> Iterator[bytes]:
    """A JSON body sent in pieces, without a Content-Length, past the limit."""
    yield b'{"properties": {"firstname": "'
    for _ in range(MAX_BODY_BYTES // len(CHUNK) + 1):
        yield CHUNK
    yield b'"}}'


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(api):
    before = api.get("/crm/v3/objects/contacts").json()["results"]
    reply = api.post("/crm/v3/objects/contacts", content=b"{" + b" " * MAX_BODY_BYTES + b"}",
                     headers={"content-type": "application/json"})
    assert reply.status_code == 413
    body = reply.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["code"] == "REQUEST_TOO_LARGE"
    assert api.get("/crm/v3/objects/contacts").json()["results"] == before


def test_a_body_without_a_length_is_counted_as_it_arrives(api):
    reply = api.post("/crm/v3/objects/contacts", content=oversized(),
                     headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert reply.json()["errors"][0]["code"] == "REQUEST_TOO_LARGE"
    assert api.get("/crm/v3/objects/contacts").json()["results"] == []


def test_a_large_body_within_the_limit_is_read(api):
    inputs = [{"properties": {"firstname": "a" * 60_000}} for _ in range(100)]
    reply = api.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
    assert reply.status_code == 201, reply.text[:300]
    assert len(reply.json()["results"]) == 100


def test_the_server_serves_the_next_request_after_a_refusal(server, api):
    api.post("/crm/v3/objects/contacts", content=oversized(),
             headers={"content-type": "application/json"})
    with httpx.Client(base_url=server.base_url) as fresh:
        assert fresh.get("/crm/v3/objects/contacts").status_code == 401
    assert api.get("/crm/v3/objects/contacts").status_code == 200
