"""Throttling sign-in: failed attempts per e-mail address and per client address.

After ``free`` failures a key must wait before its next attempt: 1 s, then 2 s, 4 s, ...
up to 15 minutes. An attempt while a key waits is refused at once with the time left
(the server never sleeps), whatever the password, so guessing on through a wait gains
nothing. An attempt is counted as a failure *before* its password is checked, so that
parallel attempts cannot all pass one check; a success takes its count back (and forgets
the e-mail address's failures). Counts live in the database, so every ``propsync serve``
process sharing it sees them; a key quiet for a day starts afresh.

A client address allows more failures than an e-mail address, as many people may share
one (an office behind one NAT); IPv6 addresses count per /64, the block one client holds.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.errors import PropsyncError
from propsync.storage import signin_throttle as store
from propsync.storage.db import write_transaction
from propsync.storage.signin_throttle import Count

FIRST_WAIT_MS = 1000
MAX_WAIT_MS = 15 * 60 * 1000
FORGET_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Policy:
    kind: str
    free: int  # failures allowed before the first wait


EMAIL = Policy("email", 5)
ADDRESS = Policy("address", 20)


class SignInThrottled(PropsyncError):
    """Too many failed sign-ins: try again in ``retry_after_s`` seconds."""

    category = "RATE_LIMITS"
    status = 429

    def __init__(self, wait_ms: int) -> None:
        self.retry_after_s = max(1, math.ceil(wait_ms / 1000))
        super().__init__("Too many failed sign-ins with this e-mail address or from your "
                         f"network. Try again in {_spoken(self.retry_after_s)}.")


def _spoken(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def wait_ms(failures: int, policy: Policy) -> int:
    """How long a key with ``failures`` must wait before its next attempt."""
    if failures < policy.free:
        return 0
    return min(FIRST_WAIT_MS << min(failures - policy.free, 20), MAX_WAIT_MS)


def admit(engine: Engine, email: str, address: str) -> None:
    """Count an attempt to sign in as ``email`` from ``address`` as failed, or refuse it
    (``SignInThrottled``, nothing counted) while either must wait."""
    now = now_ms()
    keys = _keys(email, address)
    with write_transaction(engine) as conn:
        counts = [(key, policy, _fresh(store.locked_count(conn, key, now), now))
                  for key, policy in keys]
        left = max(c.blocked_until_ms - now for _, _, c in counts)
        if left > 0:
            raise SignInThrottled(left)
        for key, policy, count in counts:
            failures = count.failures + 1
            store.save(conn, key, Count(failures, now + wait_ms(failures, policy), now))


def succeeded(engine: Engine, email: str, address: str) -> None:
    """The attempt ``admit`` counted signed in: forget the e-mail address's failures and
    take the attempt back from the client address's."""
    now = now_ms()
    (email_key, _), (address_key, policy) = _keys(email, address)
    with write_transaction(engine) as conn:
        store.forget(conn, email_key)
        count = store.locked_count(conn, address_key, now)
        failures = max(count.failures - 1, 0)
        blocked = count.blocked_until_ms if failures >= policy.free else 0
        store.save(conn, address_key, Count(failures, blocked, now))
        store.forget_older_than(conn, now - FORGET_MS)


def _fresh(count: Count, now: int) -> Count:
    return Count(0, 0, now) if now - count.updated_ms > FORGET_MS else count


def _keys(email: str, address: str) -> list[tuple[str, Policy]]:
    return [(_hash(f"email:{email}"), EMAIL), (_hash(f"address:{_client(address)}"), ADDRESS)]


def _client(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
