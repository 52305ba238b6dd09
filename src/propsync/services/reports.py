"""Reports: create, read, list, change, delete, clone, and run (the figures).

Every call needs HubSpot's reports scope, ``business-intelligence``, and one that shows a
definition the schema read scope of the report's object type (a definition names its
properties); running it also needs the type's record read scope (``crm.objects.<type>.read``:
the figures are made of its records' values). Creating, changing, cloning and deleting
need the property-settings role (SPEC 2: admins manage reports).

A report reads only properties the caller may view: saving one that names a property the
caller may not view is refused (403, naming only the part of the definition), and a
report someone else saved that reads such a property is not run for this caller (403,
without naming the property, so no group, count or value of it is shown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import (
    BUSINESS_INTELLIGENCE,
    LISTS_READ,
    Principal,
    object_scope,
    schema_scope,
)
from propsync.domain.errors import (
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.domain.properties import PropertyDefinition
from propsync.domain.record_ids import parse_record_id
from propsync.domain.reports import (
    MAX_NAME,
    REPORT_OBJECT_TYPES,
    Figures,
    ReportSpec,
    check_properties,
    figures,
    parse_as_of,
    parse_report,
    parts_using,
    refusal,
    replaced,
)
from propsync.domain.usage import check_replacement
from propsync.services.schema import Catalogue
from propsync.storage import lists as list_store
from propsync.storage import reports as store
from propsync.storage.changes import lock_definitions
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.reports import FigureQuery, Grouping
from propsync.storage.reports import StoredReport as StoredReport  # the adapters' type
from propsync.storage.search import condition_for

MAX_REPORTS = 1_000  # per account
MAX_PAGE = 100


@dataclass(frozen=True)
class ReportPage:
    reports: list[StoredReport]
    next_after: str | None


@dataclass(frozen=True)
class ReportRun:
    report: StoredReport
    figures: Figures


def create_report(engine: Engine, principal: Principal, body: Mapping[str, Any]
                  ) -> StoredReport:
    """Save a new report (``POST /propsync/v1/reports``)."""
    _require_manager(principal)
    spec = parse_report(body)
    principal.require(schema_scope(spec.object_type))
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)  # Used in: no delete slips past it
        if store.count_reports(conn, principal.account_id) >= MAX_REPORTS:
            raise refusal("body", f"an account has at most {MAX_REPORTS:,} reports; delete "
                          "one first.", "TOO_MANY_REPORTS")
        spec = ReportChecker(conn, principal, spec).check()
        return store.insert_report(conn, principal.account_id, spec, principal.user_id,
                                   now_ms())


def get_report(engine: Engine, principal: Principal, report_id: str) -> StoredReport:
    principal.require(BUSINESS_INTELLIGENCE)
    with read_transaction(engine) as conn:
        return _readable(conn, principal, report_id)


def list_reports(engine: Engine, principal: Principal, after: str | None, limit: int
                 ) -> ReportPage:
    """A page of the reports whose object type's schema the token may read, by id."""
    principal.require(BUSINESS_INTELLIGENCE)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"'limit' is between 1 and {MAX_PAGE}, not {limit}.")
    start = 0 if after is None else parse_record_id(after)
    if start is None:
        raise ValidationError(f"'after' is a cursor a page gave, not {str(after)[:40]!r}.")
    types = [ot for ot in REPORT_OBJECT_TYPES if schema_scope(ot) in principal.scopes]
    with read_transaction(engine) as conn:
        found, more = store.list_reports(conn, principal.account_id, types, start, limit)
    return ReportPage(found, str(found[-1].report_id) if more and found else None)


def update_report(engine: Engine, principal: Principal, report_id: str,
                  body: Mapping[str, Any]) -> StoredReport:
    """Replace the report's definition (``PUT``); its object type cannot change."""
    _require_manager(principal)
    spec = parse_report(body)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = _readable(conn, principal, report_id)
        if spec.object_type != stored.object_type:
            raise refusal("objectType", f"a report of {stored.object_type} stays one; clone "
                          "it to report on another object type.", "OBJECT_TYPE_CHANGED")
        spec = ReportChecker(conn, principal, spec).check()
        saved = store.update_report(conn, principal.account_id, stored.report_id, spec,
                                    principal.user_id, now_ms())
    if saved is None:
        raise _not_found(report_id)
    return saved


def delete_report(engine: Engine, principal: Principal, report_id: str) -> None:
    _require_manager(principal)
    with write_transaction(engine) as conn:
        stored = _readable(conn, principal, report_id)
        store.delete_report(conn, principal.account_id, stored.report_id)


def clone_report(engine: Engine, principal: Principal, report_id: str,
                 name: str | None = None, replace: tuple[str, str] | None = None
                 ) -> StoredReport:
    """A copy of the report, optionally named, with property ``replace[0]`` replaced by
    ``replace[1]`` throughout (``domain/usage.check_replacement``: values that compare
    alike)."""
    _require_manager(principal)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = _readable(conn, principal, report_id)
        definition = dict(stored.spec.definition)
        definition["name"] = name if name is not None else f"Copy of {stored.name}"[:MAX_NAME]
        if replace is not None:
            definition = _replacing(conn, principal, stored, *replace, definition)
        spec = ReportChecker(conn, principal, parse_report(definition)).check()
        if store.count_reports(conn, principal.account_id) >= MAX_REPORTS:
            raise refusal("body", f"an account has at most {MAX_REPORTS:,} reports.",
                          "TOO_MANY_REPORTS")
        return store.insert_report(conn, principal.account_id, spec, principal.user_id,
                                   now_ms())


def _replacing(conn: Connection, principal: Principal, stored: StoredReport, old: str,
               new: str, definition: dict[str, Any]) -> dict[str, Any]:
    checker = ReportChecker(conn, principal, stored.spec)
    old_prop = checker.readable(old, "replace.property")
    new_prop = checker.readable(new, "replace.with")
    if not parts_using(stored.spec, old):
        raise refusal("replace.property", f"the report does not use {old}.", "NOT_USED")
    check_replacement(old_prop, new_prop)
    return replaced(definition, old, new)


def run_report(engine: Engine, principal: Principal, report_id: str,
               as_of: str | None = None) -> ReportRun:
    """The report's figures now, or as of a past moment (``asOf``)."""
    principal.require(BUSINESS_INTELLIGENCE)
    as_of_ms = None if as_of is None else parse_as_of(as_of, now_ms())
    with read_transaction(engine) as conn:
        stored = _readable(conn, principal, report_id)
        principal.require(object_scope(stored.object_type))
        found = report_figures(conn, principal, stored.spec, as_of_ms)
    return ReportRun(stored, found)


def figure_query(conn: Connection, principal: Principal, spec: ReportSpec,
                 as_of_ms: int | None) -> tuple[FigureQuery, PropertyDefinition]:
    """The statement's terms for ``spec`` (its records, groups and measure) as
    ``principal`` may run it, and the property it groups by; the migration's report
    comparison asks the same terms of two reports."""
    checker = ReportChecker(conn, principal, spec)
    props = checker.viewable_for_run()
    group_by = props[spec.group_by]
    measured = props.get(spec.measure_property) if spec.measure_property else None
    synced = set(checker.catalogue.synced) if as_of_ms is None else set()
    groups = [[condition_for(props[f.property_name], props[f.property_name].id in synced, f)
               for f in g] for g in spec.groups]
    return FigureQuery(
        spec.object_type,
        Grouping(None if group_by.calculated else group_by.id,
                 group_by.name if group_by.calculated else None, spec.date_bucket),
        spec.measure, None if measured is None else measured.id, groups, spec.max_groups,
        as_of_ms, {p.id: p.type for p in props.values() if not p.calculated},
        spec.list_id), group_by


def report_figures(conn: Connection, principal: Principal, spec: ReportSpec,
                   as_of_ms: int | None) -> Figures:
    """``spec``'s figures for ``principal`` (who may view every property it reads)."""
    query, group_by = figure_query(conn, principal, spec, as_of_ms)
    rows = store.group_rows(conn, principal.account_id, query)
    # Asked again after the read (on PostgreSQL each statement sees what committed before
    # it): a property restricted while the figures were read refuses them too.
    ReportChecker(conn, principal, spec).viewable_for_run()
    return figures(spec, group_by, rows, as_of_ms)


class ReportChecker:
    """A definition against the account, as one principal may use it."""

    def __init__(self, conn: Connection, principal: Principal, spec: ReportSpec) -> None:
        self.conn, self.principal, self.spec = conn, principal, spec
        self.catalogue = Catalogue.load(conn, principal, spec.object_type)

    def check(self) -> ReportSpec:
        """The definition with its defaults filled (a date bucket), or the first refusal
        naming the part it is about; a property the caller may not view is refused before
        anything about it is looked at."""
        spec = self.spec
        group_by = self.readable(spec.group_by, "groupBy")
        measured = None
        if spec.measure_property is not None:
            measured = self.readable(spec.measure_property, "measureProperty")
        for i, group in enumerate(spec.groups):
            for f in group:
                where = f"filterBranch.filterBranches[{i}] ({f.property_name})"
                prop = self.readable(f.property_name, where)
                try:
                    condition_for(prop, False, f)
                except ValidationError as exc:
                    raise refusal(where, exc.message, "INVALID_FILTER_VALUE") from None
        if spec.list_id is not None:
            self.check_list(spec.list_id)
        return check_properties(spec, group_by, measured)

    def check_list(self, list_id: int) -> None:
        """The list a report counts from: a live list of the report's object type that the
        caller may read whole (``crm.lists.read``, every property its filter names)."""
        self.principal.require(LISTS_READ)
        found = list_store.load_list(self.conn, self.principal.account_id, list_id)
        if found is None:
            raise refusal("listId", f"no list {list_id} exists in this account.",
                          "LIST_DOESNT_EXIST")
        if found.object_type != self.spec.object_type:
            raise refusal("listId", f"list {list_id} is a list of {found.object_type}; a "
                          f"report of {self.spec.object_type} counts from a list of "
                          f"{self.spec.object_type}.", "LIST_OF_ANOTHER_TYPE")
        for name in sorted(found.filter.property_names if found.filter else ()):
            self.readable(name, "listId")

    def readable(self, name: str, path: str) -> PropertyDefinition:
        """The property ``name`` of the report's type, if the caller may view it."""
        prop = self.catalogue.visible.get(name)
        if prop is None and name in self.catalogue.by_name:
            message = (f"{path}: you may not view this property's values (its access is "
                       "restricted to other users), so a report cannot use it for you.")
            raise PermissionDeniedError(message, [ErrorDetail(
                message, "PROPERTY_VIEW_RESTRICTED", {"path": [path]})])
        if prop is None:
            message = f"{path}: property {name!r} does not exist on {self.spec.object_type}."
            raise ValidationError(message, [ErrorDetail(
                message, "PROPERTY_DOESNT_EXIST", {"path": [path]})])
        return prop

    def viewable_for_run(self) -> dict[str, PropertyDefinition]:
        """Every property the report reads, if the caller may view them all; else a
        refusal that names none of them."""
        found: dict[str, PropertyDefinition] = {}
        for name in self.spec.property_names():
            prop = self.catalogue.visible.get(name)
            if prop is None and name in self.catalogue.by_name:
                message = ("This report reads a property whose values you may not view, "
                           "so its figures are not shown to you.")
                raise PermissionDeniedError(message, [ErrorDetail(
                    message, "PROPERTY_VIEW_RESTRICTED")])
            if prop is None:
                message = (f"This report reads property {name!r}, which no longer exists on "
                           f"{self.spec.object_type}: edit the report.")
                raise ValidationError(message, [ErrorDetail(message, "PROPERTY_DOESNT_EXIST")])
            found[name] = prop
        if self.spec.list_id is not None:
            self.list_viewable()
        return found

    def list_viewable(self) -> None:
        """The report's list is still there and shows the caller nothing it may not see
        (its members are chosen by the properties its filter names)."""
        assert self.spec.list_id is not None
        self.principal.require(LISTS_READ)
        found = list_store.load_list(self.conn, self.principal.account_id, self.spec.list_id)
        if found is None:
            message = (f"This report counts the members of list {self.spec.list_id}, which "
                       "no longer exists: edit the report.")
            raise ValidationError(message, [ErrorDetail(message, "LIST_DOESNT_EXIST")])
        names = found.filter.property_names if found.filter else ()
        if any(n not in self.catalogue.visible for n in names):
            message = ("This report counts the members of a list that filters on a property "
                       "whose values you may not view, so its figures are not shown to you.")
            raise PermissionDeniedError(message, [ErrorDetail(
                message, "PROPERTY_VIEW_RESTRICTED")])


def _readable(conn: Connection, principal: Principal, report_id: str) -> StoredReport:
    """The report, if the account has it (404) and the token may read its schema (403)."""
    rid = parse_record_id(report_id)
    found = None if rid is None else store.load_report(conn, principal.account_id, rid)
    if found is None:
        raise _not_found(report_id)
    principal.require(BUSINESS_INTELLIGENCE, schema_scope(found.object_type))
    return found


def _require_manager(principal: Principal) -> None:
    principal.require(BUSINESS_INTELLIGENCE)
    principal.require_property_settings()


def _not_found(report_id: str) -> NotFoundError:
    return NotFoundError(f"No report {report_id[:40]!r} exists in this account.")
