"""One step of a migration at a time, and clone and compare a request's worth at a time
(issue 16), on SQLite and PostgreSQL.

- The step lock (``storage/migration_locks``) excludes a second holder, in this process
  and in another, and dies with a process killed while holding it (a step asked again
  after a crash must not wait for the dead one).
- Two clone steps of one migration at once clone each asset once: one of them is
  refused with MIGRATION_BUSY.
- Clone and compare with room for one asset per call leave the state where it was, say
  how many assets are left, and end where one unbounded call ends: the same clones, the
  same comparison."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from propsync.domain.errors import ConflictError
from propsync.domain.migrations import State, Step
from propsync.services import lists as list_svc
from propsync.services import migrations as svc
from propsync.services.migration_assets import Budget
from propsync.storage.migration_locks import hold
from tests.integration.test_migrations import Migrating, counts, north
from tests.patience import PROCESS_GUARD_S, wait_until

HOLDER = """
import sys, time
from propsync.config import Settings
from propsync.storage.db import build_engine
from propsync.storage.migration_locks import hold
engine = build_engine(Settings(database_url=sys.argv[1]))
with hold(engine, int(sys.argv[2]), int(sys.argv[3])) as held:
    print("held" if held else "refused", flush=True)
    time.sleep(600)
"""


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_the_step_lock_has_one_holder_and_dies_with_it(quiet_engine: Engine) -> None:
    account, migration = 7_000_000 + os.getpid() % 1000, 41
    with hold(quiet_engine, account, migration) as first:
        assert first
        with hold(quiet_engine, account, migration) as second:
            assert not second  # another thread of this process would be refused too
        with hold(quiet_engine, account, migration + 1) as other, \
                hold(quiet_engine, account + 1, migration) as elsewhere:
            assert other and elsewhere  # per migration, per account
    with hold(quiet_engine, account, migration) as again:
        assert again  # let go on leaving

    with subprocess.Popen([sys.executable, "-c", HOLDER, _url(quiet_engine), str(account),
                           str(migration)], stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "held"
            with hold(quiet_engine, account, migration) as while_child_holds:
                assert not while_child_holds
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=PROCESS_GUARD_S)

    def free() -> bool:
        with hold(quiet_engine, account, migration) as held:
            return held

    # PostgreSQL ends the killed session's backend a moment later
    wait_until(free, "the lock of a killed holder to be let go", every=0.05)


def _applied(engine: Engine, extra_lists: int = 0) -> tuple[Migrating, int]:
    a = Migrating(engine)
    for _ in range(extra_lists):
        list_svc.create_list(engine, a.w.principal, {
            "name": f"North again {uuid.uuid4().hex[:6]}", "objectTypeId": "0-1",
            "processingType": "DYNAMIC", "filterBranch": north()})
    a.settle()
    m = svc.start(engine, a.w.principal, str(a.stale))
    a.step(m.migration_id, Step.APPLY)
    assert a.step(m.migration_id, Step.APPLY).state is State.APPLIED
    return a, m.migration_id


def test_two_clone_steps_at_once_clone_each_asset_once(quiet_engine: Engine) -> None:
    a, mid = _applied(quiet_engine)
    w = a.w
    before = counts(w.engine, w.account_id)
    gate = threading.Barrier(2)
    outcomes: list[Any] = []

    def clone() -> None:
        gate.wait()
        try:
            outcomes.append(svc.run_step(w.engine, w.principal, str(mid), Step.CLONE))
        except ConflictError as exc:
            outcomes.append(exc)

    with hold(quiet_engine, w.account_id, mid):  # a step running: both must wait or say so
        busy = [threading.Thread(target=clone) for _ in range(2)]
        for t in busy:
            t.start()
        for t in busy:
            t.join(timeout=120)
    assert len(outcomes) == 2 and all(isinstance(o, ConflictError) for o in outcomes)
    assert all(o.details[0].code == "MIGRATION_BUSY" for o in outcomes)
    assert "running now" in outcomes[0].message
    assert counts(w.engine, w.account_id) == before  # nothing cloned while refused

    outcomes.clear()
    racing = [threading.Thread(target=clone) for _ in range(2)]
    for t in racing:
        t.start()
    for t in racing:
        t.join(timeout=120)
    assert len(outcomes) == 2
    after = counts(w.engine, w.account_id)
    assert after["lists"] == before["lists"] + 1  # once, whichever order they ran in
    assert after["reports"] == before["reports"] + 1
    states = [o.state for o in outcomes if not isinstance(o, ConflictError)]
    assert states and all(s is State.CLONED for s in states)
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert all(o.details[0].code == "MIGRATION_BUSY" for o in refused)


def test_clone_and_compare_go_on_over_several_calls(quiet_engine: Engine) -> None:
    a, mid = _applied(quiet_engine, extra_lists=1)
    w = a.w
    before = counts(w.engine, w.account_id)
    one = svc.run_step(w.engine, w.principal, str(mid), Step.CLONE, budget=Budget(most=1))
    assert one.state is State.APPLIED and one.next is Step.CLONE  # still to do
    clone = one.stored.results["clone"]
    assert clone["pending"] == 2  # two lists and a report use the copy: one cloned
    assert sorted(x["status"] for x in clone["assets"]) == [
        "CLONED", "NOT_CLONED", "PENDING", "PENDING"]
    with pytest.raises(ConflictError, match="comes after clone"):
        svc.run_step(w.engine, w.principal, str(mid), Step.COMPARE)
    two = svc.run_step(w.engine, w.principal, str(mid), Step.CLONE, budget=Budget(most=1))
    assert two.state is State.APPLIED and two.stored.results["clone"]["pending"] == 1
    three = a.step(mid, Step.CLONE)  # the request's budget: room for the last one
    assert three.state is State.CLONED and three.stored.results["clone"]["pending"] == 0
    assert counts(w.engine, w.account_id)["lists"] == before["lists"] + 2
    assert counts(w.engine, w.account_id)["reports"] == before["reports"] + 1
    assert sorted(x["status"] for x in three.stored.results["clone"]["assets"]) == [
        "ALREADY_CLONED", "ALREADY_CLONED", "CLONED", "NOT_CLONED"]

    steps = []
    for _ in range(3):
        got = svc.run_step(w.engine, w.principal, str(mid), Step.COMPARE,
                           budget=Budget(most=1))
        steps.append((got.state, got.stored.results["compare"]["pending"],
                      len(got.stored.results["compare"]["assets"])))
    assert steps == [(State.CLONED, 2, 1), (State.CLONED, 1, 2), (State.COMPARED, 0, 3)]
    bounded = got.stored.results["compare"]
    whole = svc.run_step(w.engine, w.principal, str(mid), Step.COMPARE).stored.results[
        "compare"]  # a finished comparison asked again starts over, in one call here
    assert whole["pending"] == 0
    assert [(x["key"], x["fingerprint"]) for x in whole["assets"]] == \
        [(x["key"], x["fingerprint"]) for x in bounded["assets"]]
    assert whole["differing"] == bounded["differing"] == 3
