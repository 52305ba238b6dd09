"""A wrong password for a known e-mail address takes as long as one for an unknown address,
so that sign-in does not tell which addresses have users (issue 12.9)."""

from __future__ import annotations

import statistics
import time
import uuid

import pytest

from propsync.domain.errors import AuthenticationError
from propsync.services.accounts import create_account, create_user
from propsync.services.users import sign_in

TRIES = 9


def _seconds_to_refuse(engine, email: str) -> float:
    address = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::1"  # a fresh /64
    # the CPU time of this thread: the work sign-in does here (scrypt), which other work on
    # a busy machine does not inflate as it does the time on the clock
    started = time.thread_time()
    with pytest.raises(AuthenticationError):
        sign_in(engine, email, "not the password", address)
    return time.thread_time() - started


def test_known_and_unknown_addresses_take_about_as_long_to_refuse(engine):
    account = create_account(engine, "Timing")
    known, unknown = [], []
    for _ in range(TRIES):  # interleaved, so a slow moment of the machine hits both sides
        email = f"known-{uuid.uuid4().hex[:8]}@example.com"
        create_user(engine, account, email, "the password")
        known.append(_seconds_to_refuse(engine, email))
        unknown.append(_seconds_to_refuse(engine, f"nobody-{uuid.uuid4().hex[:8]}@example.com"))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2, f"known {statistics.median(known):.4f} s vs unknown " \
                            f"{statistics.median(unknown):.4f} s (ratio {ratio:.1f})"
