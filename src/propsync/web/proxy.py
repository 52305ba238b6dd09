"""Who is calling, and over what: the client address and scheme of a request.

The socket peer is the client unless it is a proxy listed in ``PROPSYNC_TRUSTED_PROXIES``;
only then are ``X-Forwarded-For`` and ``X-Forwarded-Proto`` believed. ``X-Forwarded-For``
is read from the nearest hop back, skipping trusted proxies: the first address that is
not one is the client (the hops further left are whatever the client chose to send).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import FastAPI, Request

from propsync.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def install(app: FastAPI, settings: Settings) -> None:
    """Keep the trusted proxies of ``settings``, parsed once."""
    app.state.trusted_proxies = [ipaddress.ip_network(p) for p in settings.trusted_proxies]
    app.state.secure_cookies = settings.secure_cookies


def client_address(request: Request) -> str:
    """The client's IP address (``"unknown"`` when the server cannot tell)."""
    peer = request.client.host if request.client else "unknown"
    trusted: Sequence[Network] = request.app.state.trusted_proxies
    if not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _is_ip(hop):
            return peer  # a malformed header: fall back to the proxy itself
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def is_https(request: Request) -> bool:
    """Did the client reach us over HTTPS (directly, or through a trusted proxy)?"""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else "unknown"
    if not _is_trusted(peer, request.app.state.trusted_proxies):
        return False
    forwarded = request.headers.get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def wants_secure_cookies(request: Request) -> bool:
    return bool(request.app.state.secure_cookies) or is_https(request)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(host: str, trusted: Sequence[Network]) -> bool:
    if not trusted:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
