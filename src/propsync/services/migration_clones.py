"""Cloning what uses the old property, with the sync property in its place (the
migration's step 4).

``clone_uses`` reads the old property's "Used in" (``services/property_usage.uses_in``)
and clones each list, report and workflow through its own clone service
(``services/lists.clone_list``, ``services/reports.clone_report``,
``services/workflow_clones.clone_flow``): one transaction each, so each clone is checked
and saved exactly as a clone made by hand is (a cloned workflow is saved turned off).

Not cloned, and said so in the answer:

- sync properties that copy the old property: a sync property is a property, not a view
  of one; a clone would be a second property with values and history of its own. They go
  on copying the old property, which stays (cut-over only turns the copy workflow off).
- workflows that write the old property: the copy workflow the sync property replaces
  (or another writer of the copy); a clone writing the sync property would be refused
  (sync values are read-only). Cut-over turns the copy workflow off.

All or nothing about access: a use the caller may not view (an asset on a property or
type they may not read) refuses the whole call (403), never skipped silently; so do a
missing scope or role for any kind to clone, checked before anything is cloned.

Resumable: ``done`` maps (kind, original id) to the clone already made; those are not
cloned again. A clone made before a crash that ``done`` does not know of is found by its
name (``naming`` is deterministic) and a definition equal to the original's with the
replacement, and reported ALREADY_CLONED.

Bounded: ``room`` is asked before each clone is made (a request's budget, so a property
used by hundreds of assets is cloned over several requests); the uses it refuses are
reported PENDING, to clone when asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.domain.auth import (
    AUTOMATION,
    BUSINESS_INTELLIGENCE,
    LISTS_WRITE,
    Principal,
    schema_scope,
)
from propsync.domain.errors import ErrorDetail, PermissionDeniedError
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.domain.reports import MAX_NAME as MAX_REPORT_NAME
from propsync.domain.reports import replaced
from propsync.domain.usage import Replacement, Use, check_replacement
from propsync.domain.workflow_usage import replaced_definition
from propsync.domain.workflows import MAX_NAME_LENGTH as MAX_FLOW_NAME
from propsync.services import lists as list_svc
from propsync.services import reports as report_svc
from propsync.services.migration_compare import renamed_branch
from propsync.services.property_usage import uses_in, visible
from propsync.services.schema import Catalogue
from propsync.services.workflow_clones import CloneRequest, clone_flow
from propsync.services.workflow_usage import association_ends
from propsync.storage import lists as list_store
from propsync.storage import reports as report_store
from propsync.storage import workflows as flow_store
from propsync.storage.db import read_transaction

CLONED, ALREADY_CLONED, NOT_CLONED, PENDING = ("CLONED", "ALREADY_CLONED", "NOT_CLONED",
                                               "PENDING")
MAX_LIST_NAME = 200
Naming = Callable[[Use, PropertyDefinition], str]


def default_name(use: Use, new: PropertyDefinition) -> str:
    """"<asset name> (sync: <new property's name>)": the same every time, so a re-run
    finds the clone it made before a crash."""
    suffix = f" (sync: {new.name})"[:80]
    longest = {"list": MAX_LIST_NAME, "report": MAX_REPORT_NAME}.get(use.kind, MAX_FLOW_NAME)
    return use.name[:longest - len(suffix)] + suffix


@dataclass(frozen=True)
class ClonedAsset:
    """One use of the old property and what became of it."""

    kind: str  # list / report / workflow / sync property
    original_id: str
    original_name: str
    status: str  # CLONED / ALREADY_CLONED / NOT_CLONED / PENDING
    clone_id: str | None
    clone_name: str | None
    note: str


def clone_uses(engine: Engine, principal: Principal, object_type: str, old_property: str,
               new_property: str, naming: Naming = default_name,
               done: Mapping[tuple[str, str], str] | None = None,
               room: Callable[[], bool] = lambda: True) -> list[ClonedAsset]:
    """Clone every list, report and workflow that uses ``object_type``.``old_property``
    with ``new_property`` in its place (see the module's docstring); one entry per use,
    in "Used in"'s order."""
    done = done or {}
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot)
        old = catalogue.viewable(old_property, "oldProperty")
        new = catalogue.viewable(new_property, "newProperty")
        check_replacement(old, new)
        uses = uses_in(conn, principal.account_id, ot, old.name)
        shown, hidden = visible(conn, principal, uses)
        if hidden:  # not counted either: what they are is not this caller's to know
            raise _hidden_uses(old)
        _require_cloners(principal, shown)
        plans = [(u, _skip_reason(u), naming(u, new)) for u in shown]
        found = {(u.kind, u.asset_id): existing_clone(conn, principal, u, name, old, new)
                 for u, reason, name in plans if reason is None
                 and (u.kind, u.asset_id) not in done}
    out: list[ClonedAsset] = []
    for use, reason, name in plans:
        key = (use.kind, use.asset_id)
        if reason is not None:
            out.append(ClonedAsset(use.kind, use.asset_id, use.name, NOT_CLONED, None, None,
                                   reason))
        elif key in done or found.get(key) is not None:
            clone_id = done.get(key) or found[key]
            out.append(ClonedAsset(use.kind, use.asset_id, use.name, ALREADY_CLONED,
                                   clone_id, name, "cloned before"))
        elif not room():
            out.append(ClonedAsset(use.kind, use.asset_id, use.name, PENDING, None, name,
                                   "not cloned yet"))
        else:
            clone_id = _clone(engine, principal, use, name, ot, old, new)
            note = "cloned turned off" if use.kind == "workflow" else "cloned"
            out.append(ClonedAsset(use.kind, use.asset_id, use.name, CLONED, clone_id, name,
                                   note))
    return out


def _hidden_uses(old: PropertyDefinition) -> PermissionDeniedError:
    message = (f"{old.object_type}.{old.name} is used in assets you may not view; the "
               "migration clones every use or none, so someone who may view them all must "
               "clone them.")
    return PermissionDeniedError(message, [ErrorDetail(message, "USES_NOT_VISIBLE")])


def _require_cloners(principal: Principal, uses: list[Use]) -> None:
    """Every scope and role the clones need, before any is made."""
    kinds = {u.kind for u in uses if _skip_reason(u) is None}
    if "list" in kinds:
        principal.require(LISTS_WRITE)
    if "report" in kinds:
        principal.require(BUSINESS_INTELLIGENCE)
    if "workflow" in kinds:
        principal.require(AUTOMATION)
    if kinds & {"report", "workflow"}:
        principal.require_property_settings()
    principal.require(*sorted({schema_scope(u.object_type) for u in uses}))


def _skip_reason(use: Use) -> str | None:
    if use.kind == "sync property":
        return ("a sync property is a property, not a view of one: a clone would be a "
                "second property with values of its own. It goes on copying the old "
                "property, which stays.")
    if use.kind == "workflow" and any(p.endswith("writes it") or "writes it on" in p
                                      for p in use.parts):
        return ("it writes the old property (the copy the sync property replaces, or "
                "another writer of it); a clone could not write a sync property. Cut-over "
                "turns the copy workflow off.")
    if use.kind not in ("list", "report", "workflow"):
        return f"a {use.kind} is not cloned by the migration."
    return None


def existing_clone(conn: Connection, principal: Principal, use: Use, name: str,
                    old: PropertyDefinition, new: PropertyDefinition) -> str | None:
    """The clone a run before a crash made of ``use``'s asset: named ``name``, and defined
    as the original with the replacement (the id), or None."""
    account_id = principal.account_id
    if use.kind == "list":
        original = list_store.load_list(conn, account_id, int(use.asset_id))
        found = list_store.load_by_name(conn, account_id, None, name)
        if original is None or found is None or original.filter is None or \
                found.filter is None or found.object_type != original.object_type:
            return None
        expected = renamed_branch(original.filter.branch, old.name, new.name)
        return str(found.list_id) if found.filter.branch == expected else None
    if use.kind == "report":
        report = report_store.load_report(conn, account_id, int(use.asset_id))
        if report is None:
            return None
        expected_def = replaced(report.spec.definition, old.name, new.name)
        expected_def["name"] = name
        for candidate in report_store.reports_of_type(conn, account_id, report.object_type):
            if candidate.name == name and candidate.spec.definition == expected_def:
                return str(candidate.report_id)
        return None
    flow = flow_store.load_flows(conn, account_id, [int(use.asset_id)]).get(int(use.asset_id))
    if flow is None:
        return None
    ends = association_ends(conn, account_id)
    expected_flow = replaced_definition(flow.definition, flow.flow, ends,
                                        Replacement(old.object_type, old.name, new.name))
    for other in flow_store.flows_naming(conn, account_id, name):
        if other.name == name and other.flow_id != flow.flow_id and all(
                other.definition.get(k) == v for k, v in expected_flow.items()
                if k not in ("name", "isEnabled")):
            return str(other.flow_id)
    return None


def _clone(engine: Engine, principal: Principal, use: Use, name: str, object_type: str,
           old: PropertyDefinition, new: PropertyDefinition) -> str:
    if use.kind == "list":
        saved_list = list_svc.clone_list(engine, principal, use.asset_id, {
            "name": name, "replace": {"property": old.name, "with": new.name}})
        return str(saved_list.list_id)
    if use.kind == "report":
        saved_report = report_svc.clone_report(engine, principal, use.asset_id, name,
                                               (old.name, new.name))
        return str(saved_report.report_id)
    saved_flow = clone_flow(engine, principal, use.asset_id, CloneRequest(
        name, f"{object_type}.{old.name}", f"{object_type}.{new.name}"))
    return str(saved_flow.flow_id)
