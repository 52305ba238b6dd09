"""The web UI as a browser without JavaScript sees it: httpx with cookies, forms with CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from tests.conftest import RunningServer

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class WebClient:
    """A cookie-keeping HTTP client of the UI, calling from ``address`` when the server trusts
    127.0.0.1 as a proxy (``X-Forwarded-For``)."""

    client: httpx.Client

    @classmethod
    def open(cls, server: RunningServer, address: str | None = None,
             https: bool = False) -> WebClient:
        headers = {}
        if address:
            headers["X-Forwarded-For"] = address
        if https:
            headers["X-Forwarded-Proto"] = "https"
        return cls(httpx.Client(base_url=server.base_url, headers=headers, timeout=30,
                                follow_redirects=False))

    def close(self) -> None:
        self.client.close()

    def csrf(self, path: str = "/ui/login") -> str:
        """The CSRF token of the forms on ``path``."""
        page = self.client.get(path)
        found = _CSRF.search(page.text)
        assert found, f"no form token on {path}: {page.status_code} {page.text[:300]}"
        return found.group(1)

    def sign_in(self, email: str, password: str) -> httpx.Response:
        """POST the sign-in form; 303 when it let the user in."""
        token = self.csrf("/ui/login")
        return self.client.post("/ui/login", data={
            "csrf": token, "next": "/ui/records/contacts", "email": email,
            "password": password})

    def sign_out(self) -> httpx.Response:
        return self.client.post("/ui/logout", data={"csrf": self.csrf("/ui/records/contacts")})

    @property
    def cookie(self) -> str | None:
        return self.client.cookies.get("propsync_session")


def alert_text(reply: httpx.Response) -> str:
    """The text of the page's alert (what the person is told)."""
    found = re.search(r'role="alert">([^<]*)<', reply.text)
    return found.group(1).strip() if found else ""
