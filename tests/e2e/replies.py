"""Helpers for tests of refusals over HTTP: an error reply in HubSpot's shape."""

from __future__ import annotations

import httpx


def error(reply: httpx.Response, status: int, category: str | None = None) -> dict:
    """The body of an error reply in HubSpot's shape, after checking its status."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["status"] == "error" and body["message"] and body["correlationId"]
    if category:
        assert body["category"] == category
    return body


def codes(body: dict) -> list[str]:
    """The ``code`` of each entry of an error's ``errors[]``."""
    return [e.get("code") for e in body.get("errors", [])]
