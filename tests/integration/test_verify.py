"""``propsync verify`` finds a sync value that differs from the rule, and ``--repair`` fixes it."""

from __future__ import annotations

import os
import sys

from sqlalchemy import text

from propsync.storage.db import write_transaction
from propsync.sync.verify import repair, verify
from tests.integration.world import PRIMARY, World
from tests.patience import run_command


def test_verify_reports_a_tampered_value_and_repair_restores_it(engine):
    w = World.new(engine)
    company = w.one("companies", name="Acme")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    prop = w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.settle()
    assert verify(engine, w.account_id) == []
    with write_transaction(engine) as conn:  # what a bug, or a hand-made UPDATE, could do
        conn.execute(text("UPDATE property_values SET value = 'Tampered' WHERE account_id = :a "
                          "AND record_id = :r AND property_id = :p"),
                     {"a": w.account_id, "r": contact, "p": prop})
    found = verify(engine, w.account_id)
    assert [(d.record_id, d.expected, d.actual) for d in found] == [(contact, "Acme", "Tampered")]
    assert repair(engine, found) == 1
    assert verify(engine, w.account_id) == []
    assert w.value("contacts", contact, "company_name_sync") == "Acme"


def test_the_command_exits_non_zero_on_differences_and_repairs_with_the_flag(engine):
    w = World.new(engine)
    company = w.one("companies", name="Acme")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    prop = w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.settle()
    with write_transaction(engine) as conn:
        conn.execute(text("DELETE FROM property_values WHERE account_id = :a AND record_id = :r "
                          "AND property_id = :p"), {"a": w.account_id, "r": contact, "p": prop})
    env = {**os.environ, "PROPSYNC_DATABASE_URL": engine.url.render_as_string(
        hide_password=False).replace("postgresql+psycopg://", "postgresql://")}
    args = [sys.executable, "-m", "propsync", "verify", "--account", str(w.account_id)]
    found = run_command(args, env=env)
    assert found.returncode == 1 and found.stdout.strip().endswith("1 difference(s)")
    fixed = run_command([*args, "--repair"], env=env)
    assert fixed.returncode == 0 and "repaired 1 value(s)" in fixed.stdout
    clean = run_command(args, env=env)
    assert clean.returncode == 0 and clean.stdout.strip().endswith("0 difference(s)")
