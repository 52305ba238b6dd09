"""``/docs`` (Swagger UI) and ``/redoc`` on a machine without internet: every script,
stylesheet and icon they load comes from propsync itself, under a policy that admits
nothing else."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import RunningServer

PAGES = ("/docs", "/redoc")
ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.I)


@pytest.mark.parametrize("path", PAGES)
def test_every_asset_of_the_docs_is_served_by_propsync(server: RunningServer, path: str):
    page = httpx.get(server.base_url + path)
    assert page.status_code == 200
    assets = [urljoin(server.base_url + path, a) for a in ASSET.findall(page.text)]
    assert assets, page.text
    for asset in assets:
        assert urlsplit(asset).netloc == urlsplit(server.base_url).netloc, asset
        assert httpx.get(asset).status_code == 200, asset


@pytest.mark.parametrize("path", PAGES)
def test_the_docs_policy_admits_propsync_only(server: RunningServer, path: str):
    policy = httpx.get(server.base_url + path).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, no other host
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy and "*" not in policy
