"""Sandboxes (Enterprise): a new account holding a copy of another's content, to rehearse
in (a migration, a workflow turned on) without touching production.

Create copies the source's schema, labels, sync properties, workflows (turned off), lists,
reports and records (all, or a sample kept whole: ``storage/account_copy.py``) and its
users (same e-mails, names, roles and password hashes), in one transaction; the sandbox
is Enterprise, named "<source name> (sandbox)" unless named, and gets no token but the one
its creator is given (the CLI's super-admin token, or through the API a token for the
caller's user with the caller's scopes). Delete removes every row of a sandbox, table by
table, and refuses any account that is not a sandbox.

Who: the source must be Enterprise (a Professional account is refused, 403), the caller
its super admin; a sandbox has no sandboxes. Through the API (and the web UI) a copy runs
within the request, so it is bounded: at most ``API_MAX_RECORDS`` records copied (a
larger account is refused, 400, naming the CLI and a sample) and the request's time
budget (out of time: 400, nothing copied). ``propsync sandbox create`` has no bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import USERS_READ, USERS_WRITE, Principal
from propsync.domain.errors import (
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.domain.record_ids import parse_record_id
from propsync.domain.sandboxes import SANDBOX_TIER, parse_records, sandbox_name
from propsync.services import lists as list_service
from propsync.services import workflows as workflow_service
from propsync.services.accounts import NewToken, create_token
from propsync.storage import account_copy as store
from propsync.storage import account_export
from propsync.storage.db import again_if_transient, read_transaction, write_transaction

API_MAX_RECORDS = 20_000  # records one API (or web UI) request copies at most
MAX_SANDBOXES = 10  # sandboxes of one account
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Sandbox:
    account_id: int
    name: str
    source_id: int
    created_ms: int
    records: str  # "all" or "sample:N" (as asked; only known at creation)
    copied_records: int | None = None
    backfill: bool = False  # sync values are being recomputed by the engine
    token: NewToken | None = None  # shown once, at creation


def create_sandbox(engine: Engine, principal: Principal, records: str | None = None,
                   name: str | None = None, progress: Progress | None = None) -> Sandbox:
    """The caller's account copied into a new sandbox, with a token for the caller's user
    in it (the caller's scopes); bounded for a request (``API_MAX_RECORDS``)."""
    principal.require(USERS_WRITE)
    principal.require_super_admin("create a sandbox")
    made = _create(engine, principal.account_id, records, name, API_MAX_RECORDS, progress)
    token = create_token(engine, made.account_id, " ".join(sorted(principal.scopes)),
                         principal.user_id, "sandbox creator")
    return replace(made, token=token)


def create_sandbox_from(engine: Engine, source_id: int, records: str | None = None,
                        name: str | None = None, progress: Progress | None = None
                        ) -> Sandbox:
    """The operator's ``propsync sandbox create``: no caller, no bound; a super-admin token
    of all scopes (for the sandbox's first super admin) is returned, to be shown once."""
    made = _create(engine, source_id, records, name, None, progress)
    token = create_token(engine, made.account_id, "all", _first_super_admin(engine, made),
                         "sandbox")
    return replace(made, token=token)


def list_sandboxes(engine: Engine, principal: Principal) -> list[Sandbox]:
    """The caller's account's sandboxes, newest first (at most ``MAX_SANDBOXES``)."""
    principal.require(USERS_READ)
    return list_sandboxes_of(engine, principal.account_id)


def list_sandboxes_of(engine: Engine, account_id: int) -> list[Sandbox]:
    with read_transaction(engine) as conn:
        if store.load_account(conn, account_id) is None:
            raise NotFoundError(f"There is no account {account_id}.")
        rows = store.sandboxes_of(conn, account_id, MAX_SANDBOXES)
    return [Sandbox(r.account_id, r.name, account_id, r.created_ms, "") for r in rows]


def delete_sandbox(engine: Engine, principal: Principal, sandbox_id: str) -> None:
    """Delete a sandbox of the caller's account (its super admin only)."""
    principal.require(USERS_WRITE)
    principal.require_super_admin("delete a sandbox")
    parsed = parse_record_id(sandbox_id)

    def delete() -> None:  # again after a deadlock with a worker busy in the sandbox
        with write_transaction(engine) as conn:
            found = store.load_account(conn, parsed, lock=True) if parsed is not None \
                else None
            if found is None or found.sandbox_of != principal.account_id:
                raise NotFoundError(f"This account has no sandbox {sandbox_id}.")
            store.delete_account_rows(conn, found.account_id)
    again_if_transient(delete)


def delete_sandbox_by_id(engine: Engine, sandbox_id: int, progress: Progress | None = None
                         ) -> Sandbox:
    """The operator's ``propsync sandbox delete``: any sandbox; an account that is not a
    sandbox is refused (it may be somebody's production)."""
    def delete() -> store.SandboxRow:  # again after a deadlock with a busy worker
        with write_transaction(engine) as conn:
            found = store.load_account(conn, sandbox_id, lock=True)
            if found is None:
                raise NotFoundError(f"There is no account {sandbox_id}.")
            if found.sandbox_of is None:
                raise ValidationError(f"Account {sandbox_id} is not a sandbox; only "
                                      "sandboxes are deleted this way.", [ErrorDetail(
                                          "Not a sandbox.", "NOT_A_SANDBOX")])
            store.delete_account_rows(conn, sandbox_id, progress)
            return found
    found = again_if_transient(delete)
    assert found.sandbox_of is not None  # checked above
    return Sandbox(found.account_id, found.name, found.sandbox_of, found.created_ms, "")


# ---- helpers ----

def _create(engine: Engine, source_id: int, records: str | None, name: str | None,
            max_records: int | None, progress: Progress | None) -> Sandbox:
    choice = parse_records(records)
    now = now_ms()
    with write_transaction(engine) as conn:
        store.begin_snapshot(conn)
        source = store.load_account(conn, source_id)
        if source is None:
            raise NotFoundError(f"There is no account {source_id}.")
        if source.tier != SANDBOX_TIER:
            raise PermissionDeniedError(
                f"Sandboxes are an Enterprise feature; account {source_id} is on the "
                f"{source.tier.capitalize()} tier. Upgrade it to Enterprise to create "
                "sandboxes.", [ErrorDetail("Sandboxes need Enterprise.",
                                           "SANDBOXES_NEED_ENTERPRISE")])
        if source.sandbox_of is not None:
            raise ValidationError(
                f"Account {source_id} is itself a sandbox (of account {source.sandbox_of}); "
                "create sandboxes from the production account.",
                [ErrorDetail("A sandbox has no sandboxes.", "SANDBOX_OF_SANDBOX")])
        if store.count_sandboxes(conn, source_id) >= MAX_SANDBOXES:
            raise ValidationError(
                f"Account {source_id} has {MAX_SANDBOXES} sandboxes, the most it may have. "
                "Delete one it no longer needs first.",
                [ErrorDetail("Too many sandboxes.", "TOO_MANY_SANDBOXES")])
        chosen = sandbox_name(source.name, name)
        if max_records is not None:
            count = store.count_copied_records(conn, source_id, choice.sample)
            if count > max_records:
                raise ValidationError(
                    f"This sandbox would copy {count:,} records; a request copies at most "
                    f"{max_records:,}. Ask for a sample (records 'sample:N') or run "
                    f"`propsync sandbox create --from {source_id}` on the server.",
                    [ErrorDetail("Too many records for one request.", "SANDBOX_TOO_LARGE")])
        target = store.insert_sandbox(conn, source_id, chosen, SANDBOX_TIER, now)
        result = store.copy_account(conn, source_id, target, choice.sample, now, progress)
        # The feed's readers record what the sandbox's lists (and its workflows, all off)
        # watch, as the services keep them after every save.
        list_service.keep_watches(conn, target)
        workflow_service.keep_watches(conn, target)
    return Sandbox(target, chosen, source_id, now, choice.words, result.records,
                   result.backfill)


def _first_super_admin(engine: Engine, sandbox: Sandbox) -> int | None:
    from propsync.storage import accounts as account_store

    with read_transaction(engine) as conn:
        users = account_store.load_users(conn, sandbox.account_id)
    admins = [u["user_id"] for u in users if u["role"] == "super_admin"]
    return admins[0] if admins else None


def export_account(engine: Engine, account_id: int, out: IO[str]) -> int:
    """``propsync export``: the account's canonical JSON to ``out`` (one read snapshot);
    returns the rows written."""
    with read_transaction(engine) as conn:
        if store.load_account(conn, account_id) is None:
            raise NotFoundError(f"There is no account {account_id}.")
        return account_export.export_account(conn, account_id, out)


@dataclass(frozen=True)
class Overview:
    """What Settings → Sandboxes shows: the account's tier, whether it is itself a sandbox
    (of which account), and its sandboxes."""

    tier: str
    sandbox_of: int | None
    sandboxes: list[Sandbox]

    @property
    def may_have_sandboxes(self) -> bool:
        return self.tier == SANDBOX_TIER and self.sandbox_of is None


def overview(engine: Engine, principal: Principal) -> Overview:
    principal.require(USERS_READ)
    with read_transaction(engine) as conn:
        account = store.load_account(conn, principal.account_id)
        if account is None:
            raise NotFoundError(f"There is no account {principal.account_id}.")
        rows = store.sandboxes_of(conn, principal.account_id, MAX_SANDBOXES)
    return Overview(account.tier, account.sandbox_of,
                    [Sandbox(r.account_id, r.name, principal.account_id, r.created_ms, "")
                     for r in rows])


@dataclass(frozen=True)
class SourceOf:
    """The account a sandbox was copied from, as every page of the sandbox names it."""

    account_id: int
    name: str


def source_of(engine: Engine, account_id: int) -> SourceOf | None:
    """The account ``account_id`` is a sandbox of (``None``: it is no sandbox). The page
    banner: nobody should take a sandbox for the account it copies."""
    with read_transaction(engine) as conn:
        here = store.load_account(conn, account_id)
        if here is None or here.sandbox_of is None:
            return None
        there = store.load_account(conn, here.sandbox_of)
    return SourceOf(here.sandbox_of, there.name if there else f"account {here.sandbox_of}")


def switch_target(engine: Engine, principal: Principal, account_id: str) -> int:
    """The account the signed-in person may switch to from this one: a sandbox of it, or
    the account it is a sandbox of, where they are the same user (a sandbox keeps its
    source's user ids: the same id with the same e-mail address). Anything else is a 404
    (another account's sandbox) or a 403 (a user added after the copy)."""
    parsed = parse_record_id(account_id)
    with read_transaction(engine) as conn:
        here = store.load_account(conn, principal.account_id)
        there = store.load_account(conn, parsed) if parsed is not None else None
        if here is None or there is None or not (
                there.sandbox_of == here.account_id or here.sandbox_of == there.account_id):
            raise NotFoundError(f"This account has no sandbox {account_id}.")
        mine = store.user_email(conn, here.account_id, principal.user_id)
        theirs = store.user_email(conn, there.account_id, principal.user_id)
    if mine is None or mine != theirs:
        raise PermissionDeniedError(
            f"You are not a user of account {there.account_id}: it was copied before you "
            "joined this one, or your user was deleted there. Ask one of its super admins.",
            [ErrorDetail("Not a user there.", "NOT_A_USER_THERE")])
    return there.account_id
