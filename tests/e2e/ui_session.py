"""A signed-in web UI session over plain HTTP (no browser): the session cookie and the
form token, for tests that drive pages on both stores."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx

from propsync.domain.auth import Role
from propsync.services.accounts import create_user
from tests.conftest import Tenant, client_for

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class UiSession:
    client: httpx.Client
    csrf: str

    def post(self, path: str, **fields: str) -> httpx.Response:
        """POST a form carrying this session's CSRF token."""
        return self.client.post(path, data={**fields, "csrf": self.csrf})


def sign_in(tenant: Tenant, role: Role | None = None) -> UiSession:
    """A new user of ``tenant``'s account (with ``role``; else the role a second user gets,
    a plain user), signed in through the sign-in page."""
    email, password = f"ui-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
    create_user(tenant.server.engine, tenant.account_id, email, password, "UI user", role)
    client = client_for(tenant.server, "")
    client.headers.pop("Authorization")
    page = client.get("/ui/login")
    token = _CSRF.search(page.text)
    assert token, page.text[:500]
    reply = client.post("/ui/login", data={"email": email, "password": password,
                                           "csrf": token.group(1), "next": "/ui/"})
    assert reply.status_code == 303, reply.text[:500]
    form = _CSRF.search(client.get("/ui/records/contacts").text)
    assert form, "no form token on the records page"
    return UiSession(client, form.group(1))
