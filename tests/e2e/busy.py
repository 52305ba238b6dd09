"""Requests that keep a server busy: a slow search, and a way to send one and hang up."""

from __future__ import annotations

import socket

from tests.conftest import RunningServer

SEARCH = "/crm/v3/objects/contacts/search"
_GROUP = [{"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN", "value": f"q{i}*x"}
          for i in range(5)] + [{"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN",
                                 "value": "*@*"}]
# Three groups that each test every filter (five are true, the last is false: every e-mail
# holds an @), sorted: every contact is read eighteen times, seconds of work over 50,000
# contacts on either store. Only negative filters, which no index answers: a positive one
# that finds nothing (CONTAINS_TOKEN through the trigram index) ends the search at once.
BUSY_SEARCH = {"filterGroups": [{"filters": _GROUP}] * 3, "sorts": ["email"]}
QUICK_SEARCH = {"filterGroups": [{"filters": [
    {"propertyName": "hs_object_id", "operator": "LT", "value": "0"}]}]}


def raw_search(server: RunningServer, token: str, body: bytes) -> socket.socket:
    """A search sent over a socket of its own, whose answer nobody reads."""
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"POST {SEARCH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}"
                 f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                 .encode() + body)
    return sock
