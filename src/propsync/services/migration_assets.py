"""The migration's two steps over many assets, clone and compare, a request's worth at a
time: what each asset became, kept in the migration's results, and whether assets are
left for the next request (``domain/migrations.Facts.unfinished``).

A property may be used by hundreds of lists, reports and workflows, and comparing a list
of a million contacts takes a while: a request starts a new asset only while ``Budget``
allows (at least one, then until half of the request's time is gone), and the results say
how many are left. Asked again, the step goes on where it stopped: a clone passes the
clones recorded, a comparison the assets it has compared in this round.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal
from propsync.domain.errors import ConflictError, ErrorDetail
from propsync.services import migration_compare as compare_svc
from propsync.services import report_compare
from propsync.services.migration_clones import PENDING, clone_uses
from propsync.storage import deadline
from propsync.storage.migrations import StoredMigration

SAMPLE = 5  # records shown per side / group / asset in a comparison summary


@dataclass
class Budget:
    """How many assets one call may clone or compare: always one, then more while
    ``until`` (a ``time.monotonic()`` instant) has not passed and fewer than ``most`` were
    taken. ``for_request`` spends half of the current request's time (none: no limit, as
    on the command line)."""

    until: float | None = None
    most: int | None = None
    taken: int = field(default=0, init=False)

    @classmethod
    def for_request(cls) -> Budget:
        scope = deadline.current()
        return cls(None if scope is None else scope.deadline - scope.budget_s / 2)

    def take(self) -> bool:
        if self.taken and ((self.most is not None and self.taken >= self.most) or
                           (self.until is not None and time.monotonic() >= self.until)):
            return False
        self.taken += 1
        return True


def clone_results(engine: Engine, principal: Principal, m: StoredMigration, budget: Budget
                  ) -> tuple[dict[str, Any], bool]:
    """The clone step's results (every use of the old property and its clone), and
    whether uses are left to clone."""
    p = m.proposal
    done = {(a["kind"], a["originalId"]): a["cloneId"]
            for a in m.results.get("clone", {}).get("assets", []) if a.get("cloneId")}
    made = clone_uses(engine, principal, p["objectType"], p["oldProperty"],
                      m.sync_property or "", done=done, room=budget.take)
    pending = sum(1 for a in made if a.status == PENDING)
    return {"assets": [
        {"kind": a.kind, "originalId": a.original_id, "originalName": a.original_name,
         "status": a.status, "cloneId": a.clone_id, "cloneName": a.clone_name,
         "note": a.note} for a in made], "pending": pending}, pending > 0


def compare_results(engine: Engine, principal: Principal, m: StoredMigration, budget: Budget
                    ) -> tuple[dict[str, Any], bool, ConflictError | None]:
    """The comparison's results (per clone: same or not, and the differences with the
    records explaining them), whether clones are left to compare, and the refusal that
    stopped it early (a list still being evaluated), if any. A comparison left unfinished
    by the last request goes on; a finished one starts over."""
    p = m.proposal
    old, new = p["oldProperty"], m.sync_property or ""
    before = m.results.get("compare", {})
    kept = {a["key"]: a for a in before.get("assets", [])} if before.get("pending") else {}
    assets, pending, stopped = [], 0, None
    for a in m.results.get("clone", {}).get("assets", []):
        if not a.get("cloneId"):
            continue
        key = f"{a['kind']}:{a['originalId']}"
        if key in kept and kept[key]["cloneId"] == a["cloneId"]:
            assets.append(kept[key])
            continue
        if stopped is not None or not budget.take():
            pending += 1
            continue
        try:
            summary = compare_one(engine, principal, a, old, new)
        except ConflictError as exc:  # keep what was compared; this one waits
            stopped, pending = exc, pending + 1
            continue
        assets.append({"key": key, "kind": a["kind"], "originalId": a["originalId"],
                       "originalName": a["originalName"], "cloneId": a["cloneId"],
                       **summary, "fingerprint": fingerprint(summary)})
    return {"assets": assets, "comparedMs": now_ms(), "pending": pending,
            "differing": sum(1 for a in assets if not a["same"])}, pending > 0, stopped


def fingerprint(summary: dict[str, Any]) -> str:
    text = json.dumps(summary, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compare_one(engine: Engine, principal: Principal, a: dict[str, Any], old: str,
                new: str) -> dict[str, Any]:
    """One clone beside its original: a list's members, a report's figures, a workflow's
    definition."""
    if a["kind"] == "list":
        lc = compare_svc.compare_lists(engine, principal, a["originalId"], a["cloneId"], old,
                                       new, SAMPLE)
        if lc.original.status != "COMPLETE" or lc.clone.status != "COMPLETE":
            raise ConflictError(f"List {a['cloneId']} is still being evaluated; compare "
                                "again in a moment.", [ErrorDetail(
                                    "A list is still being evaluated.", "LIST_PROCESSING")])

        def side(s: Any) -> dict[str, Any]:
            return {"total": s.total, "stale": s.stale, "records": [
                {"recordId": str(r.record_id), "oldValue": r.old_value,
                 "newValue": r.new_value, "reason": r.explanation.reason,
                 "text": r.explanation.text} for r in s.records]}
        return {"same": lc.same, "definitionsMatch": lc.definitions_match,
                "onlyInOriginal": side(lc.only_in_original),
                "onlyInClone": side(lc.only_in_clone), "notes": lc.notes}
    if a["kind"] == "report":
        rc = report_compare.compare_reports(engine, principal, a["originalId"], a["cloneId"],
                                            old, new, None, SAMPLE)
        return {"same": rc.same, "definitionsMatch": rc.definitions_match,
                "moved": rc.moved, "notes": rc.notes, "groups": [
                    {"label": g.label, "original": g.original.value if g.original else None,
                     "clone": g.clone.value if g.clone else None, "left": g.left,
                     "joined": g.joined, "records": [
                         {"recordId": str(r.record_id), "oldValue": r.old_value,
                          "newValue": r.new_value, "reason": r.explanation.reason,
                          "text": r.explanation.text} for r in g.records]}
                    for g in rc.differences]}
    fc = compare_svc.compare_flows(engine, principal, a["originalId"], a["cloneId"], old, new)
    return {"same": fc.equal, "differences": fc.differences}
