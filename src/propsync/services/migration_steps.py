"""The migration's steps (issue 16), each a function of the migration as stored that
makes its effects and returns the migration saved in its new state: ``apply``, ``clone``,
``compare``, ``acknowledge``, ``cut_over``, ``clean_up``, ``fill_history``, ``undo``.
``services/migrations.run_step`` loads the migration, checks access, holds the step lock
and calls one of them; ``domain/migrations.transition`` says whether a step is allowed and
where it leads (``check``), and ``save`` stores the state after the step's last effect.

Every step looks before it makes, so a step interrupted by a crash is finished by asking
for it again (see ``services/migrations``' docstring for each).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal
from propsync.domain.errors import (
    ConflictError,
    ErrorDetail,
    NotFoundError,
    ValidationError,
)
from propsync.domain.migrations import Facts, Refusal, State, Step, settled, transition
from propsync.services import lists as list_svc
from propsync.services import properties as property_svc
from propsync.services import reports as report_svc
from propsync.services import sync_properties as sync_svc
from propsync.services import workflows as flow_svc
from propsync.services.migration_assets import Budget, clone_results, compare_results
from propsync.services.migration_clones import default_name, existing_clone
from propsync.services.migration_history import fill_history as history_fill
from propsync.services.property_usage import uses_in
from propsync.services.sync_properties import SourceRequest
from propsync.storage import migrations as store
from propsync.storage import sync as sync_store
from propsync.storage import workflows as flow_store
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.migrations import StoredMigration
from propsync.storage.properties import find_property, load_properties

MAX_ACKNOWLEDGED = 1_000


@dataclass(frozen=True)
class Progress:
    """The sync property's backfill: records done of total (``live``: finished)."""

    done: int
    total: int
    live: bool


def backfill(engine: Engine, account_id: int, m: StoredMigration) -> Progress | None:
    with read_transaction(engine) as conn:
        prop = find_property(conn, account_id, m.proposal["objectType"], m.sync_property or "")
        d = sync_svc.find_definition(conn, account_id, prop.id) if prop else None
    if d is None:
        return None
    live = d.state == sync_store.LIVE
    return Progress(d.backfill_total if live else d.backfill_done, d.backfill_total, live)


def facts(engine: Engine, principal: Principal, m: StoredMigration) -> Facts:
    progress = backfill(engine, principal.account_id, m) if m.sync_property else None
    compared = m.results.get("compare", {}).get("assets", [])
    differing = {a["key"]: a["fingerprint"] for a in compared if not a["same"]}
    return Facts(bool(progress and progress.live),
                 settled(differing, m.results.get("acknowledged", {})))


def check(state: State, step: Step, facts: Facts = Facts()) -> State:
    got = transition(state, step, facts)
    if isinstance(got, Refusal):
        raise ConflictError(got.reason, [ErrorDetail(got.reason, "INVALID_MIGRATION_STEP",
                                                     {"state": [state.value]})])
    return got


def save(engine: Engine, principal: Principal, m: StoredMigration, state: State,
         results: dict[str, Any], sync_property: str | None = None) -> StoredMigration:
    with write_transaction(engine) as conn:
        store.save(conn, principal.account_id, m.migration_id, state, results, now_ms(),
                   sync_property)
        found = store.load_migration(conn, principal.account_id, m.migration_id)
    assert found is not None
    return found


def apply(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Create the sync property (or find the one this migration made) and look at its
    backfill: APPLYING while it runs (the workers fill it), APPLIED once it is done."""
    check(m.state, Step.APPLY)
    if m.state is State.APPLIED:
        return m
    p = m.proposal
    ot, name = p["objectType"], p["name"]
    with read_transaction(engine) as conn:
        prop = find_property(conn, principal.account_id, ot, name)
        d = sync_svc.find_definition(conn, principal.account_id, prop.id) if prop else None
    if prop is not None and (d is None or prop.created_ms < m.created_ms or
                             (d.source_type, d.source_property) !=
                             (p["source"]["objectType"], p["source"]["property"])):
        raise ConflictError(f"{ot} already has a property named {name!r} that this "
                            "migration did not make; undo this migration and start again "
                            "(a new plan proposes a free name).")
    results = dict(m.results)
    if prop is None:
        src = p["source"]
        prop = sync_svc.create_sync_property(
            engine, principal, ot, name, p["label"], SourceRequest(
                src["objectType"], src["property"],
                [(c, int(i)) for c, i in src["associationTypes"]] or None, src["selection"]),
            description=f"Replaces the workflow {p['flowName']!r} (migration "
                        f"{m.migration_id}), which copies into {p['oldProperty']}."[:1000])
    results["apply"] = {"propertyId": str(prop.id), "name": prop.name}
    m = save(engine, principal, m, State.APPLYING if m.state is State.PLANNED else m.state,
              results, prop.name)
    state = check(m.state, Step.APPLY, facts(engine, principal, m))
    return m if state is m.state else save(engine, principal, m, state, results)


def clone(engine: Engine, principal: Principal, m: StoredMigration,
          budget: Budget | None = None) -> StoredMigration:
    """Clone every list, report and workflow using the copy property, with the sync
    property in its place (the clones recorded, and any made before a crash, are not made
    again), as many as the request's time allows: the state stays APPLIED while uses are
    left to clone."""
    check(m.state, Step.CLONE)
    results = dict(m.results)
    results["clone"], unfinished = clone_results(engine, principal, m,
                                                 budget or Budget.for_request())
    return save(engine, principal, m, check(m.state, Step.CLONE, Facts(
        unfinished=unfinished)), results)


def compare(engine: Engine, principal: Principal, m: StoredMigration,
            budget: Budget | None = None) -> StoredMigration:
    """Compare every clone with its original; the summary (counts of differing records per
    asset, the first few with why) is stored. As many clones as the request's time allows:
    the state stays CLONED while clones are left to compare (or a list is still being
    evaluated: what was compared is kept, and the answer says so). Acknowledgements of
    differences that have changed since no longer count."""
    check(m.state, Step.COMPARE)
    results = dict(m.results)
    results["compare"], unfinished, stopped = compare_results(
        engine, principal, m, budget or Budget.for_request())
    saved = save(engine, principal, m, check(m.state, Step.COMPARE, Facts(
        unfinished=unfinished)), results)
    if stopped is not None:
        raise stopped
    return saved


def acknowledge(engine: Engine, principal: Principal, m: StoredMigration,
                keys: Any) -> StoredMigration:
    """Record that the caller accepts the differences of the assets named (``keys``, as
    the comparison names them: ``list:<id>``, ``report:<id>``, ``workflow:<id>``), as they
    are now."""
    state = check(m.state, Step.ACKNOWLEDGE)
    if not isinstance(keys, list) or not keys or len(keys) > MAX_ACKNOWLEDGED or \
            not all(isinstance(k, str) for k in keys):
        raise refusal("assets", "a list of the differing assets' keys (as the comparison "
                       f"names them), 1-{MAX_ACKNOWLEDGED}.", "INVALID_ACKNOWLEDGEMENT")
    compared = {a["key"]: a for a in m.results.get("compare", {}).get("assets", [])}
    unknown = [k for k in keys if k not in compared or compared[k]["same"]]
    if unknown:
        raise refusal("assets", f"{unknown[0][:60]!r} is not an asset whose comparison "
                       "differs.", "INVALID_ACKNOWLEDGEMENT")
    results = dict(m.results)
    acknowledged = dict(results.get("acknowledged", {}))
    acknowledged.update({k: compared[k]["fingerprint"] for k in keys})
    results["acknowledged"] = acknowledged
    results["acknowledgedBy"] = principal.user_id or None
    return save(engine, principal, m, state, results)


def cut_over(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Turn the copy workflow off (never deleted here); the old property stays. Whether
    it was on is recorded first, so an undo after an interrupted cut-over turns it on."""
    state = check(m.state, Step.CUT_OVER)
    if m.state is State.CUT_OVER:
        return m
    results = dict(m.results)
    if "cutOver" not in results:
        with read_transaction(engine) as conn:
            flow = flow_store.load_flow(conn, principal.account_id, m.flow_id)
        if flow is None:
            raise ConflictError(f"Workflow {m.flow_id} no longer exists; undo this migration.")
        results["cutOver"] = {"wasEnabled": flow.enabled}
        m = save(engine, principal, m, m.state, results)
    flow_svc.set_enabled(engine, principal, str(m.flow_id), False)
    results["cutOver"] = {**results["cutOver"], "workflowOff": True, "atMs": now_ms()}
    return save(engine, principal, m, state, results)


def clean_up(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Delete the copy workflow; archive the old property only if nothing uses it any
    more (else it stays, and the answer says what uses it). Only once the comparison is
    clean or each difference acknowledged."""
    state = check(m.state, Step.CLEAN_UP, facts(engine, principal, m))
    if m.state is State.CLEANED_UP:
        return m
    with contextlib.suppress(NotFoundError):  # deleted before a crash
        flow_svc.delete_flow(engine, principal, str(m.flow_id))
    p = m.proposal
    with read_transaction(engine) as conn:
        uses = uses_in(conn, principal.account_id, p["objectType"], p["oldProperty"])
        exists = find_property(conn, principal.account_id, p["objectType"],
                               p["oldProperty"]) is not None
    if not exists:
        old = {"archived": True, "why": "no use left"}
    elif uses:
        named = ", ".join(f"{u.kind} {u.name!r}" for u in uses[:5])
        old = {"archived": False, "why": f"still used by {len(uses)}: {named}"
               + (", …" if len(uses) > 5 else "") + "; it stays."}
    else:
        property_svc.delete_property(engine, principal, p["objectType"], p["oldProperty"])
        old = {"archived": True, "why": "nothing uses it any more"}
    results = dict(m.results)
    results["cleanUp"] = {"workflowDeleted": True, "oldProperty": old, "atMs": now_ms()}
    return save(engine, principal, m, state, results)


def fill_history(engine: Engine, principal: Principal, m: StoredMigration
                 ) -> StoredMigration:
    """Copy the old property's history before the sync property's creation into the sync
    property's (idempotent: a second run adds nothing)."""
    state = check(m.state, Step.FILL_HISTORY)
    p = m.proposal
    done = history_fill(engine, principal, p["objectType"], p["oldProperty"],
                        m.sync_property or "")
    results = dict(m.results)
    before = results.get("history", {}).get("copied", 0)
    results["history"] = {"copied": before + done.copied, "batches": done.batches,
                          "beforeMs": done.before_ms}
    return save(engine, principal, m, state, results)


def _clones_by_name(engine: Engine, principal: Principal, m: StoredMigration
                    ) -> dict[tuple[str, str], str]:
    """The clones a clone step made, recorded or not (found by their names)."""
    found = {(a["kind"], a["originalId"]): a["cloneId"]
             for a in m.results.get("clone", {}).get("assets", [])
             if a.get("cloneId") and a["status"] != "NOT_CLONED"}
    p = m.proposal
    with read_transaction(engine) as conn:
        props = {x.name: x for x in load_properties(conn, principal.account_id,
                                                    p["objectType"])}
        old, new = props.get(p["oldProperty"]), props.get(m.sync_property or p["name"])
        if old is None or new is None or new.created_ms < m.created_ms:
            return found
        for u in uses_in(conn, principal.account_id, p["objectType"], old.name):
            if u.kind not in ("list", "report", "workflow") or (u.kind, u.asset_id) in found:
                continue
            made = existing_clone(conn, principal, u, default_name(u, new), old, new)
            if made is not None and not (u.kind == "workflow" and
                                         int(made) == m.flow_id):
                found[(u.kind, u.asset_id)] = made
    return found


def undo(engine: Engine, principal: Principal, m: StoredMigration) -> StoredMigration:
    """Remove what the migration made, in reverse order: the workflow turned on again if a
    cut-over turned it off, the clones deleted (reports first: a report may count from a
    cloned list), then the sync property (the clones used it). Missing pieces are skipped,
    so an interrupted undo (or an undo after an interrupted step) is finished by asking
    again."""
    state = check(m.state, Step.UNDO)
    results = dict(m.results)
    if results.get("cutOver", {}).get("wasEnabled"):
        with contextlib.suppress(NotFoundError):
            flow_svc.set_enabled(engine, principal, str(m.flow_id), True)
    clones = _clones_by_name(engine, principal, m)
    order = {"report": 0, "workflow": 1, "list": 2}
    removed = 0
    for (kind, _), clone_id in sorted(clones.items(), key=lambda kv: order[kv[0][0]]):
        deleter = {"report": report_svc.delete_report, "workflow": flow_svc.delete_flow,
                   "list": list_svc.delete_list}[kind]
        try:
            deleter(engine, principal, clone_id)
            removed += 1
        except NotFoundError:
            pass  # deleted before a crash
    sync_removed = False
    name = m.sync_property or m.proposal["name"]  # made, maybe, before a crash
    with read_transaction(engine) as conn:
        prop = find_property(conn, principal.account_id, m.proposal["objectType"], name)
        ours = prop is not None and prop.created_ms >= m.created_ms and \
            sync_svc.find_definition(conn, principal.account_id, prop.id) is not None
    if ours:
        sync_svc.delete_sync_property(engine, principal, m.proposal["objectType"], name)
        sync_removed = True
    results["undo"] = {"from": m.state.value if m.state is not State.UNDONE else
                       results.get("undo", {}).get("from"),
                       "clonesDeleted": removed + results.get("undo", {}).get(
                           "clonesDeleted", 0),
                       "syncPropertyDeleted": sync_removed or results.get("undo", {}).get(
                           "syncPropertyDeleted", False),
                       "workflowOnAgain": bool(results.get("cutOver", {}).get("wasEnabled")),
                       "atMs": now_ms()}
    return save(engine, principal, m, state, results)


def refusal(path: str, what: str, code: str) -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])
