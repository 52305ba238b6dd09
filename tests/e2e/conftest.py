"""Fixtures of the end-to-end tests (the server and clients are in tests/conftest.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.associations import make


@pytest.fixture
def pair(api: httpx.Client) -> tuple[str, str]:
    """A new contact and a new company, not yet associated."""
    return make(api, "contacts", email="p@x.com"), make(api, "companies", name="X")
