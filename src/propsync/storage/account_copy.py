"""Copy one account's content into another (a sandbox), table by table, each table one
``INSERT ... SELECT``; and delete an account's rows, each table one ``DELETE``.

**Ids are kept.** Every id (records, properties, history entries, users, teams, lists,
reports, workflows) comes from one sequence shared by every account (``storage/ids.py``),
and every key starts with ``account_id``: the sandbox's record 42 is a row of its own
beside the source's record 42, and the ids the source holds are never handed out again,
so the sandbox's new records get fresh ids that collide with nothing. Keeping them is also
what makes a sandbox useful: ids stored *inside* values stay right without rewriting
(a sync value's winner in ``property_values.source_id`` and in a ``SYNC`` history entry's
``source_id``, team ids in property access rules, user ids in ``created_by`` and history,
a report's ``listId``), and a migration rehearsed in the sandbox names the same property,
list and report ids as production.

**What a sample keeps whole.** ``sample:N`` copies the N live records of lowest id of each
object type (the *core*), plus every record associated with a core record (either
direction: associations are stored both ways), archived or not. An association is copied
when both its ends are, so a core record keeps every association it has, and its
associated records are there to be opened; a record that came in as an associated one
keeps only its associations with copied records. List memberships, history, unique values
and workflow value versions are copied for the copied records only.

**Derived state is recomputed, not trusted.** A sync value of a record whose associations
a sample cut may differ from the rule, and the source may have had sync or list work
pending when it was copied; so when the copy is a sample, or the source had sync work
pending (feed rows not yet planned, queued targets, fan-outs, a backfill), every sync
property of the sandbox starts a backfill from the first record, and likewise the
sandbox's live DYNAMIC lists are evaluated whole (``PROCESSING``) when the copy is a sample
or the source had list changes unread. Otherwise (a full copy of a settled account) the
values, winners and memberships are copied as they are and already agree with the rules.

**Workflows are copied turned off**, without enrollments, runs or counts: a sandbox should
not start writing on its own (HubSpot copies workflows into sandboxes turned off too);
turn one on in the sandbox to rehearse it.

The whole copy runs in one transaction (on PostgreSQL at ``REPEATABLE READ``, so every
table is read from the same snapshot of the source): an interrupted copy leaves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    String,
    Table,
    and_,
    cast,
    column,
    delete,
    false,
    func,
    insert,
    literal,
    select,
    table,
    text,
    update,
)

from propsync.domain.feed import LISTS_READER
from propsync.storage import feed
from propsync.storage import sync as sync_store
from propsync.storage import tables as t
from propsync.storage.db import is_postgres, mark_sync_work

# The temporary table of the record ids a sample copies (one transaction's).
_SAMPLE = "sandbox_sample"
_sample = table(_SAMPLE, column("record_id"))

# Every table keyed by account, and what a copy does with it (tests/integration/
# test_sandboxes.py fails when a table is in neither map).
COPIED: dict[str, str] = {
    "users": "the same people sign in to the sandbox: e-mails, names, roles, password hashes",
    "teams": "property access rules name them",
    "team_members": "with the teams",
    "property_groups": "schema",
    "properties": "schema, access rules included",
    "property_definition_log": "the schema's history",
    "association_types": "labels",
    "association_limits": "labels' limits",
    "sync_properties": "definitions (a backfill restarted when values may disagree)",
    "records": "all, or the sample",
    "property_values": "of the copied records",
    "unique_values": "of the copied records (the unique values they hold)",
    "property_history": "of the copied records",
    "associations": "both ends copied",
    "workflows": "definitions, turned off",
    "workflow_value_versions": "of the copied records, for 'the last write wins'",
    "lists": "definitions (DYNAMIC ones evaluated again when memberships may disagree)",
    "list_memberships": "of the copied records",
    "reports": "definitions",
    "migrations": "a rehearsal in a sandbox carries its migrations (ids kept, as the "
                  "workflows, properties, lists and reports they name)",
}
SKIPPED: dict[str, str] = {
    "accounts": "the sandbox's own row is made by the copy (sandbox_of names the source)",
    "tokens": "a sandbox has its own tokens (the CLI makes one); the source's never work "
              "there",
    "sessions": "nobody is signed in to a new account",
    "api_usage_daily": "the sandbox's API calls are counted from zero",
    "gdpr_deletions": "the source's audit of its erasures; the sandbox erased nothing",
    "change_log": "the sandbox's change feed starts empty: nothing happened in it yet",
    "change_watches": "recomputed from the sandbox's lists and (turned off) workflows by "
                      "the services that keep them",
    "sync_targets": "queued work of the source; a backfill replaces it when there was any",
    "sync_fanouts": "queued work of the source; a backfill replaces it when there was any",
    "workflow_enrollments": "workflows are copied turned off, with no enrollments",
    "workflow_counts": "no enrollments, nothing to count",
    "workflow_runs": "the source's run log; nothing ran in the sandbox",
}

# The tables whose rows belong to one record (by ``record_id``), copied for copied records.
_PER_RECORD = ("property_values", "unique_values", "property_history",
               "workflow_value_versions", "list_memberships")
# The order of the copy (definitions first, then records and what hangs on them).
ORDER = ("users", "teams", "team_members", "property_groups", "properties",
         "property_definition_log", "association_types", "association_limits", "records",
         "property_values", "unique_values", "property_history", "associations",
         "sync_properties", "workflows", "workflow_value_versions", "lists",
         "list_memberships", "reports", "migrations")

Progress = Callable[[str, int, int], None]  # (table, tables done, tables in all)


@dataclass(frozen=True)
class CopyResult:
    rows: dict[str, int]  # rows copied per table
    records: int
    backfill: bool  # sync properties recompute every value (a backfill)
    lists_again: bool  # DYNAMIC lists are evaluated whole


def account_tables() -> list[Table]:
    """Every table with an ``account_id`` column, in the metadata's order."""
    return [tb for tb in t.metadata.sorted_tables if "account_id" in tb.c]


def begin_snapshot(conn: Connection) -> None:
    """Make the transaction read one snapshot throughout (PostgreSQL: ``REPEATABLE
    READ``; a SQLite write transaction is one already). Call it before anything else in
    the transaction that copies."""
    if is_postgres(conn):
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def copy_account(conn: Connection, source: int, target: int, sample: int | None,
                 now_ms: int, progress: Progress | None = None) -> CopyResult:
    """Copy ``source``'s content into the (new, empty) account ``target``: every record or
    a sample of ``sample`` records of each object type kept whole (see the module's
    words), in the caller's transaction, which began with ``begin_snapshot``."""
    pending = sync_store.pending(conn, source)
    sync_behind = bool(pending.changes or pending.targets) or bool(conn.execute(
        select(func.count()).select_from(t.sync_properties).where(
            t.sync_properties.c.account_id == source,
            t.sync_properties.c.state != sync_store.LIVE)).scalar_one())
    lists_behind = feed.unread(conn, LISTS_READER, source).count > 0
    backfill = sample is not None or sync_behind
    lists_again = sample is not None or lists_behind
    if sample is not None:
        _choose_sample(conn, source, sample)
    rows: dict[str, int] = {}
    for done, name in enumerate(ORDER):
        if progress:
            progress(name, done, len(ORDER))
        tb = t.metadata.tables[name]
        rows[name] = _copy_table(conn, tb, source, target, sample is not None, backfill,
                                 now_ms)
    if sample is not None:
        _recount_lists(conn, target)
        if is_postgres(conn):
            conn.exec_driver_sql(f"DROP TABLE {_SAMPLE}")
        else:
            conn.exec_driver_sql(f"DELETE FROM {_SAMPLE}")
    if lists_again:
        L = t.lists
        conn.execute(update(L).where(
            L.c.account_id == target, L.c.processing_type == "DYNAMIC",
            L.c.deleted_ms.is_(None)).values(status="PROCESSING"))
    if backfill and rows["sync_properties"]:
        mark_sync_work(conn)
    if progress:
        progress("done", len(ORDER), len(ORDER))
    return CopyResult(rows, rows["records"], backfill and bool(rows["sync_properties"]),
                      lists_again and bool(rows["lists"]))


def count_copied_records(conn: Connection, source: int, sample: int | None) -> int:
    """How many records a copy would make (a sample's chosen in this transaction; the
    temporary table is left for ``copy_account``'s own choice to replace)."""
    r = t.records
    if sample is None:
        return int(conn.execute(select(func.count()).where(r.c.account_id == source))
                   .scalar_one())
    _choose_sample(conn, source, sample)
    return int(conn.execute(select(func.count()).select_from(_sample)).scalar_one())


def delete_account_rows(conn: Connection, account_id: int,
                        progress: Progress | None = None) -> dict[str, int]:
    """Delete every row of the account, in every table keyed by account (one ``DELETE``
    each), its ``accounts`` row last. Returns the rows deleted per table."""
    deleted: dict[str, int] = {}
    tables = [tb for tb in account_tables() if tb.name != "accounts"]
    for done, tb in enumerate(tables):
        if progress:
            progress(tb.name, done, len(tables) + 1)
        deleted[tb.name] = conn.execute(delete(tb).where(tb.c.account_id == account_id)
                                        ).rowcount
    a = t.accounts
    deleted["accounts"] = conn.execute(delete(a).where(a.c.account_id == account_id)).rowcount
    return deleted


# ---- helpers ----

def _choose_sample(conn: Connection, source: int, n: int) -> None:
    """Fill the temporary table with the sample's record ids: the core (the ``n`` live
    records of lowest id of each object type) and every record associated with one."""
    if is_postgres(conn):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_SAMPLE}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {_SAMPLE} (record_id BIGINT PRIMARY KEY) "
                             "ON COMMIT DROP")
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {_SAMPLE} "
                             "(record_id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(f"DELETE FROM {_SAMPLE}")
    conn.execute(text(
        "WITH ranked AS (SELECT record_id, row_number() OVER (PARTITION BY object_type "
        "ORDER BY record_id) AS n FROM records WHERE account_id = :a AND archived = :f), "
        "core AS (SELECT record_id FROM ranked WHERE n <= :n) "
        f"INSERT INTO {_SAMPLE} (record_id) "
        "SELECT record_id FROM core UNION "
        "SELECT a.to_id FROM associations a JOIN core c ON c.record_id = a.from_id "
        "WHERE a.account_id = :a AND EXISTS (SELECT 1 FROM records r WHERE "
        "r.account_id = :a AND r.record_id = a.to_id)"),
        {"a": source, "n": n, "f": False})


def _copy_table(conn: Connection, tb: Table, source: int, target: int, sampled: bool,
                backfill: bool, now_ms: int) -> int:
    """One ``INSERT ... SELECT`` of ``tb``'s rows of ``source`` as ``target``'s."""
    overrides: dict[str, ColumnElement[Any]] = {}
    where: list[ColumnElement[bool]] = [tb.c.account_id == source]
    in_sample = select(_sample.c.record_id)
    if sampled and tb.name == "records":
        where.append(tb.c.record_id.in_(in_sample))
    if sampled and tb.name in _PER_RECORD:
        where.append(tb.c.record_id.in_(in_sample))
    if sampled and tb.name == "associations":
        where += [tb.c.from_id.in_(in_sample), tb.c.to_id.in_(in_sample)]
    if tb.name == "workflows":
        overrides["enabled"] = cast(false(), Boolean)
    if tb.name == "sync_properties" and backfill:
        r = t.records
        live_targets = select(func.count()).where(
            r.c.account_id == target, r.c.object_type == tb.c.target_type,
            r.c.archived.is_(False)).scalar_subquery()
        overrides.update(state=cast(literal(sync_store.BACKFILLING), String),
                         backfill_cursor=cast(literal(0), BigInteger),
                         backfill_done=cast(literal(0), BigInteger),
                         backfill_total=live_targets,
                         backfill_started_ms=cast(literal(now_ms), BigInteger))
    exprs: list[ColumnElement[Any]] = []
    for c in tb.columns:
        if c.name == "account_id":
            exprs.append(cast(literal(target), BigInteger).label("account_id"))
        elif c.name in overrides:
            exprs.append(overrides[c.name].label(c.name))
        else:
            exprs.append(c)
    names = [c.name for c in tb.columns]
    # (SQLAlchemy keeps an INSERT's row count only when asked to)
    return int(conn.execution_options(preserve_rowcount=True).execute(
        insert(tb).from_select(names, select(*exprs).where(and_(*where)))).rowcount)


def _recount_lists(conn: Connection, target: int) -> None:
    """A sample's lists lose the members it left out: count every size again (one
    ``UPDATE``)."""
    L, M = t.lists, t.list_memberships
    size = select(func.count()).where(M.c.account_id == L.c.account_id,
                                      M.c.list_id == L.c.list_id).scalar_subquery()
    conn.execute(update(L).where(L.c.account_id == target).values(size=size))



# ---- the sandboxes' own rows ----

@dataclass(frozen=True)
class SandboxRow:
    account_id: int
    name: str
    tier: str
    created_ms: int
    sandbox_of: int | None


def insert_sandbox(conn: Connection, source: int, name: str, tier: str, now_ms: int) -> int:
    """The sandbox's ``accounts`` row, marked as ``source``'s sandbox, and nothing else (its
    schema comes from the copy, not from the defaults a new account gets)."""
    from propsync.storage.ids import allocate_id

    account_id = allocate_id(conn, "accounts")
    conn.execute(insert(t.accounts).values(account_id=account_id, name=name, tier=tier,
                                           created_ms=now_ms, sandbox_of=source))
    return account_id


def load_account(conn: Connection, account_id: int, lock: bool = False) -> SandboxRow | None:
    a = t.accounts
    query = select(a.c.account_id, a.c.name, a.c.tier, a.c.created_ms, a.c.sandbox_of).where(
        a.c.account_id == account_id)
    if lock and is_postgres(conn):
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else SandboxRow(row.account_id, row.name, row.tier,
                                               row.created_ms, row.sandbox_of)


def sandboxes_of(conn: Connection, source: int, limit: int) -> list[SandboxRow]:
    """The account's sandboxes, newest first (at most ``limit``)."""
    a = t.accounts
    rows = conn.execute(select(a.c.account_id, a.c.name, a.c.tier, a.c.created_ms,
                               a.c.sandbox_of).where(a.c.sandbox_of == source)
                        .order_by(a.c.account_id.desc()).limit(limit))
    return [SandboxRow(r.account_id, r.name, r.tier, r.created_ms, r.sandbox_of)
            for r in rows]


def count_sandboxes(conn: Connection, source: int) -> int:
    a = t.accounts
    return int(conn.execute(select(func.count()).where(a.c.sandbox_of == source)).scalar_one())


def unsettled(conn: Connection, account_id: int) -> int:
    """How much derived state of the account the workers have still to compute: sync
    properties backfilling, sync work pending (feed rows, queued targets and fan-outs) and
    lists waiting for a whole evaluation. 0 when ``propsync verify`` may be run."""
    sp, L = t.sync_properties, t.lists
    backfilling = conn.execute(select(func.count()).where(
        sp.c.account_id == account_id, sp.c.state != sync_store.LIVE)).scalar_one()
    processing = conn.execute(select(func.count()).where(
        L.c.account_id == account_id, L.c.status == "PROCESSING",
        L.c.deleted_ms.is_(None))).scalar_one()
    pending = sync_store.pending(conn, account_id)
    lists_unread = feed.unread(conn, LISTS_READER, account_id).count
    return int(backfilling) + int(processing) + pending.changes + pending.targets + lists_unread


def user_email(conn: Connection, account_id: int, user_id: int) -> str | None:
    u = t.users
    return conn.execute(select(u.c.email).where(u.c.account_id == account_id,
                                                u.c.user_id == user_id)).scalar()
