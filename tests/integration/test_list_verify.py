"""``propsync verify`` checks lists: a DYNAMIC list's members against its filter, every
size against its members, no archived member; ``--repair`` mends them."""

from __future__ import annotations

import os
import sys

from sqlalchemy import text

from propsync.lists.runner import ListWorker
from propsync.lists.verify import repair_lists, verify_lists
from propsync.services import lists as svc
from propsync.storage.db import write_transaction
from tests.integration.world import World
from tests.patience import run_command

LEADS = {"filterBranchType": "OR", "filterBranches": [{"filterBranchType": "AND", "filters": [
    {"filterType": "PROPERTY", "property": "lifecyclestage", "operation": {
        "operationType": "ENUMERATION", "operator": "IS_ANY_OF", "values": ["lead"]}}]}]}


def setup(engine) -> tuple[World, int, list[int]]:
    w = World.new(engine)
    leads = [w.one("contacts", lifecyclestage="lead") for _ in range(2)]
    w.one("contacts", lifecyclestage="customer")
    list_id = svc.create_list(engine, w.principal, {
        "name": "Leads", "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterBranch": LEADS}).list_id
    ListWorker(engine).drain()
    assert svc.get_list(engine, w.principal, str(list_id)).status == "COMPLETE"
    return w, list_id, leads


def test_verify_finds_tampered_members_and_sizes_and_repair_mends_them(quiet_engine):
    """(A database no server's worker follows: it would mend the tampering first.)"""
    engine = quiet_engine
    w, list_id, leads = setup(engine)
    assert verify_lists(engine, w.account_id) == []
    with write_transaction(engine) as conn:
        conn.execute(text("DELETE FROM list_memberships WHERE account_id = :a AND list_id = :l "
                          "AND record_id = :r"), {"a": w.account_id, "l": list_id, "r": leads[0]})
    found = verify_lists(engine, w.account_id)
    assert [d.what for d in found] == [
        "size 2, 1 members", f"1 records meet the filter but are not members (e.g. {leads[0]})"]
    assert repair_lists(engine, found) == 1
    assert verify_lists(engine, w.account_id) == []


def test_the_command_reports_lists_and_repairs_them(quiet_engine):
    engine = quiet_engine
    w, list_id, _ = setup(engine)
    with write_transaction(engine) as conn:
        conn.execute(text("UPDATE lists SET size = 7 WHERE account_id = :a AND list_id = :l"),
                     {"a": w.account_id, "l": list_id})
    env = {**os.environ, "PROPSYNC_DATABASE_URL": engine.url.render_as_string(
        hide_password=False).replace("postgresql+psycopg://", "postgresql://")}
    args = [sys.executable, "-m", "propsync", "verify", "--account", str(w.account_id)]
    found = run_command(args, env=env)
    assert found.returncode == 1, found.stdout
    assert f"list {list_id}: size 7, 2 members" in found.stdout
    fixed = run_command([*args, "--repair"], env=env)
    assert fixed.returncode == 0 and "repaired 1 list(s)" in fixed.stdout
    assert run_command(args, env=env).stdout.strip().endswith("0 difference(s)")
