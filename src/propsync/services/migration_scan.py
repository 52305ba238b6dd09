"""The migration assistant's first two steps, read-only: **scan** an account's workflows
(or workflow JSON exported from a HubSpot portal) for copies a sync property could
replace, and **plan** one: the sync property to create and a dry run of it.

Nothing here writes. The later steps (apply, compare, cut over) call:

- ``scan_account(engine, principal) -> ScanResult``: every stored flow judged
  (``domain/migration_scan``), two-way pairs marked across all of them;
- ``scan_documents(engine, principal, documents) -> ScanResult``: HubSpot flow JSON
  (``(label, body)`` pairs) judged against this account's schema, without storing them;
- ``plan_flow(engine, principal, flow_id) -> Plan``: one stored flow's verdict, its
  ``Proposal`` (internal name, label, and the ``SourceRequest`` that
  ``services/sync_properties.create_sync_property`` takes) and its ``DryRun``.

Access: the ``automation`` scope for all. A flow is named only to a caller with the
schema read scope of every object type it touches who may view every property it names;
the others are counted (``ScanResult.hidden``), never named, and a partner in a two-way
pair that the caller may not see is not named either. Documents the caller sent are
theirs to see, but need the schema read scopes of the types they touch (403 otherwise),
and a property of them the caller may not view is judged as one the account lacks (the
same words: a guessed name tells nothing). A plan
needs, beside those, the object read scopes of the target and source types (it shows
values and record ids); a flow of the account that names a property the caller may not
view is a 403 naming nothing (the scan counts it already); another account's flow, or an
unknown id, is a 404.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine

from propsync.domain.associations import AssociationType
from propsync.domain.auth import (
    ALL_SCOPES,
    AUTOMATION,
    Principal,
    Role,
    object_scope,
    schema_scope,
)
from propsync.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from propsync.domain.migration_scan import (
    Direction,
    Kind,
    SchemaView,
    SyncProposal,
    Verdict,
    classify,
    pair_two_way,
)
from propsync.domain.objects import OBJECT_TYPES
from propsync.domain.properties import PropertyDefinition
from propsync.domain.workflows import (
    FLOW_OBJECT_TYPES,
    EnrolledProperty,
    FetchedProperty,
    Flow,
    SetProperty,
    StaticBranch,
    parse_flow,
)
from propsync.services.names import propose_name
from propsync.services.sync_properties import SourceRequest
from propsync.services.workflow_checks import object_types_of
from propsync.services.workflows import existing
from propsync.storage import migration_scan as dry
from propsync.storage import sync as sync_store
from propsync.storage import workflows as flow_store
from propsync.storage.accounts import account_exists
from propsync.storage.associations import load_types
from propsync.storage.db import read_transaction
from propsync.storage.properties import load_properties
from propsync.workflows.schema import AccountSchema, CriteriaUnavailable

MAX_DOCUMENTS = 100  # flows in one scan of documents
MAX_DOCUMENT_CHARS = 1_000_000  # one document, as JSON (a stored definition's limit)
MAX_TOP_VALUES = 20
MAX_SAMPLE = 100
MAX_COUNTED = 20  # conditional copies a scan counts records for
SYNC_SUFFIX = " (sync)"


@dataclass(frozen=True)
class ScannedFlow:
    """One workflow judged: ``key`` is the flow id (stored flows) or the document's label."""

    key: str
    flow_id: int | None
    verdict: Verdict
    # CONDITIONAL_COPY of the account: records the sync property would give a value that
    # the workflow's conditions leave out (None: not counted — see ``scan_account``)
    excluded: int | None = None


@dataclass(frozen=True)
class ScanResult:
    flows: list[ScannedFlow]
    hidden: int  # stored flows the caller may not be told of

    def of(self, kind: Kind) -> list[ScannedFlow]:
        return [f for f in self.flows if f.verdict.kind is kind]


@dataclass(frozen=True)
class Proposal:
    """The sync property a plan would create (``create_sync_property(engine, principal,
    target_type, name, label, source)``)."""

    target_type: str
    name: str
    label: str
    source: SourceRequest
    sync: SyncProposal


@dataclass(frozen=True)
class Plan:
    flow_id: int
    verdict: Verdict
    proposal: Proposal
    dry_run: dry.DryRun
    excluded: int | None  # CONDITIONAL_COPY: values the workflow's conditions exclude


# --- scanning --------------------------------------------------------------------------------

def operator(engine: Engine, account_id: int) -> Principal:
    """The principal of the command line (``propsync migrate``): the account's operator,
    every scope, a super admin's role, and no user (id 0) — so a property restricted to named
    users or teams is counted, not named, as for anyone it does not name. 404 for an
    account that does not exist."""
    with read_transaction(engine) as conn:
        if not account_exists(conn, account_id):
            raise NotFoundError(f"There is no account {account_id}.")
    return Principal(account_id, 0, frozenset(), frozenset(ALL_SCOPES), Role.SUPER_ADMIN)


def account_schema(conn: Connection, account_id: int) -> SchemaView:
    """The scan's view of an account: its properties, association types, sync properties."""
    props = {ot: {p.name: p for p in load_properties(conn, account_id, ot)}
             for ot in OBJECT_TYPES}
    synced = frozenset((d.target_type, d.name)
                       for d in sync_store.load_sync_properties(conn, account_id))
    return SchemaView(props, load_types(conn, account_id), synced)


def named_properties(flow: Flow, types: Mapping[int, AssociationType]
                     ) -> set[tuple[str, str]]:
    """Every (object type, property) the flow names: its filters, triggers, branches,
    copied values and written properties."""
    out = {(flow.object_type, name) for name in flow.enrollment.properties}
    for a in flow.actions.values():
        if isinstance(a, StaticBranch):
            out.add((flow.object_type, a.property_name))
        if not isinstance(a, SetProperty):
            continue
        if isinstance(a.value, EnrolledProperty):
            out.add((flow.object_type, a.value.name))
        elif isinstance(a.value, FetchedProperty):
            src = flow.sources[a.value.source]
            out.add((FLOW_OBJECT_TYPES[src.object_type_id], a.value.name))
        if a.target is None:
            out.add((flow.object_type, a.property_name))
        elif a.target.type_id in types:
            out.add((types[a.target.type_id].to_type, a.property_name))
    return out


def all_flows(conn: Connection, account_id: int) -> list[flow_store.StoredFlow]:
    """Every live flow of the account, by id (at most ``services/workflows.MAX_FLOWS``)."""
    out: list[flow_store.StoredFlow] = []
    more = True
    while more:
        page, more = flow_store.list_flows(conn, account_id,
                                           out[-1].flow_id if out else 0, 500)
        out += page
    return out


def _may_see(principal: Principal, flow: Flow, schema: SchemaView) -> bool:
    """May ``principal`` be told of ``flow``: every schema it touches readable, every
    property it names viewable (a property it names that does not exist hides nothing)."""
    types = schema.association_types
    if any(schema_scope(t) not in principal.scopes for t in object_types_of(flow, types)):
        return False
    return all(_viewable(principal, schema.prop(ot, name))
               for ot, name in named_properties(flow, types))


def _viewable(principal: Principal, prop: PropertyDefinition | None) -> bool:
    return prop is None or prop.access.can_view(principal.user_id, principal.team_ids)


def scan_account(engine: Engine, principal: Principal) -> ScanResult:
    """Every stored flow of the account judged, as ``principal`` may see them. The first
    ``MAX_COUNTED`` conditional copies get the count of records their conditions leave
    out, when the caller may read the records of both types (the others: ``None``; a
    plan counts each)."""
    principal.require(AUTOMATION)
    with read_transaction(engine) as conn:
        schema = account_schema(conn, principal.account_id)
        stored = all_flows(conn, principal.account_id)
        judged = pair_two_way([(str(s.flow_id), classify(s.flow, schema)) for s in stored])
        seen = {str(s.flow_id) for s in stored if _may_see(principal, s.flow, schema)}
        flows = [ScannedFlow(key, int(key), _redacted(v, seen)) for key, v in judged
                 if key in seen]
        counted = 0
        for i, f in enumerate(flows):
            if f.verdict.kind is Kind.CONDITIONAL_COPY and counted < MAX_COUNTED:
                excluded = _count_excluded(conn, principal, schema, f)
                counted += excluded is not None
                flows[i] = replace(f, excluded=excluded)
    return ScanResult(flows, len(stored) - len(flows))


def _count_excluded(conn: Connection, principal: Principal, schema: SchemaView,
                    f: ScannedFlow) -> int | None:
    p = f.verdict.proposal
    if p is None or f.flow_id is None or not {object_scope(p.target_type),
                                              object_scope(p.source_type)} <= principal.scopes:
        return None
    exclusion = _exclusion(conn, principal.account_id, f.flow_id, f.verdict)
    if exclusion is None:
        return None
    return dry.dry_run(conn, principal.account_id, _definition(schema, p), 1, 1,
                       exclusion).excluded


def _redacted(v: Verdict, seen: set[str]) -> Verdict:
    """A two-way verdict whose partner the caller may not see names it no more."""
    if v.kind is not Kind.TWO_WAY or v.partner is None or v.partner in seen:
        return v
    return replace(v, partner=None, reasons=(
        "Another workflow, which you may not see, copies these two properties the other way: "
        "a two-way sync. A sync property copies one way only, so both are left alone.",))


def scan_documents(engine: Engine, principal: Principal,
                   documents: Sequence[tuple[str, Any]]) -> ScanResult:
    """Workflow JSON (``GET /automation/v4/flows/{id}`` output from a HubSpot portal)
    judged against this account's schema, without storing anything. Each document is
    ``(label, body)``; at most ``MAX_DOCUMENTS``, each at most ``MAX_DOCUMENT_CHARS`` of
    JSON. A document naming a property the caller may not view is judged as one naming a
    property the account lacks (``_as_seen_by``)."""
    principal.require(AUTOMATION)
    check_documents(documents)
    with read_transaction(engine) as conn:
        schema = account_schema(conn, principal.account_id)
    parsed: list[tuple[str, Any]] = []
    needed: set[str] = set()
    for label, body in documents:
        try:
            flow: Any = parse_flow(body)
        except (ValidationError, TypeError, ValueError, AttributeError, RecursionError):
            flow = body  # classify says why
        if isinstance(flow, Flow):
            needed |= object_types_of(flow, schema.association_types)
        elif isinstance(flow, Mapping) and isinstance(flow.get("objectTypeId"), str) and \
                flow["objectTypeId"] in FLOW_OBJECT_TYPES:
            needed.add(FLOW_OBJECT_TYPES[flow["objectTypeId"]])
        parsed.append((label, flow))
    principal.require(*(schema_scope(t) for t in sorted(needed)))
    seen = _as_seen_by(principal, schema)
    judged = pair_two_way([(label, classify(flow, seen)) for label, flow in parsed])
    return ScanResult([ScannedFlow(k, None, v) for k, v in judged], 0)


def _as_seen_by(principal: Principal, schema: SchemaView) -> SchemaView:
    """The account's schema without the properties ``principal`` may not view: a document
    naming one is judged as if it named no property of the account (the same words), so
    the scan of a guessed name tells nothing of a property kept from them."""
    return replace(schema, properties={
        ot: {name: p for name, p in props.items() if _viewable(principal, p)}
        for ot, props in schema.properties.items()})


def check_documents(documents: Sequence[tuple[str, Any]]) -> None:
    """At most ``MAX_DOCUMENTS``, each at most ``MAX_DOCUMENT_CHARS`` of JSON (400)."""
    if not documents:
        raise ValidationError("Give at least one workflow to scan.")
    if len(documents) > MAX_DOCUMENTS:
        raise ValidationError(f"A scan takes at most {MAX_DOCUMENTS} workflows, not "
                              f"{len(documents):,}.")
    for label, body in documents:
        try:
            size = len(json.dumps(body, ensure_ascii=False))
        except (TypeError, ValueError, RecursionError):
            raise ValidationError(f"{label[:200]} is not JSON.") from None
        if size > MAX_DOCUMENT_CHARS:
            raise ValidationError(f"{label[:200]} has {size:,} characters of JSON; a "
                                  f"workflow has at most {MAX_DOCUMENT_CHARS:,}.")


# --- planning --------------------------------------------------------------------------------

def plan_flow(engine: Engine, principal: Principal, flow_id: str, top: int = 10,
              sample: int = 20) -> Plan:
    """The plan for one stored flow that a sync property could replace: the proposal and
    its dry run. 404 for a flow the account does not have; 403 (naming nothing) for one
    the caller may not see; 400 with the scan's reasons for one that is no candidate."""
    principal.require(AUTOMATION)
    if not (1 <= top <= MAX_TOP_VALUES and 1 <= sample <= MAX_SAMPLE):
        raise ValidationError(f"'top' is 1-{MAX_TOP_VALUES} and 'sample' 1-{MAX_SAMPLE}.")
    with read_transaction(engine) as conn:
        stored = existing(conn, principal.account_id, flow_id)
        schema = account_schema(conn, principal.account_id)
        types = object_types_of(stored.flow, schema.association_types)
        principal.require(*(schema_scope(t) for t in sorted(types)))
        if not _may_see(principal, stored.flow, schema):
            raise PermissionDeniedError("This workflow names a property you may not view, so it is "
                                 "not planned for you.")
        verdict = _in_account(conn, principal.account_id, stored.flow_id, stored.flow, schema)
        if not verdict.candidate or verdict.proposal is None or verdict.copy is None:
            raise ValidationError(_not_candidate(verdict), context={
                "kind": [verdict.kind.value]})
        p = verdict.proposal
        principal.require(object_scope(p.target_type), object_scope(p.source_type))
        exclusion = None
        if verdict.kind is Kind.CONDITIONAL_COPY:
            exclusion = _exclusion(conn, principal.account_id, stored.flow_id, verdict)
        figures = dry.dry_run(conn, principal.account_id, _definition(schema, p), top,
                              sample, exclusion)
        proposal = _proposal(schema, p)
    return Plan(stored.flow_id, verdict, proposal, figures, figures.excluded)


def _in_account(conn: Connection, account_id: int, flow_id: int, flow: Flow,
                schema: SchemaView) -> Verdict:
    """The flow's verdict among the account's flows (a two-way pair needs them all)."""
    others = [(str(s.flow_id), classify(s.flow, schema))
              for s in all_flows(conn, account_id)]
    return dict(pair_two_way(others)).get(str(flow_id)) or classify(flow, schema)


def _not_candidate(v: Verdict) -> str:
    what = {Kind.TWO_WAY: "is a two-way sync, left alone",
            Kind.NOT_A_COPY: "copies no value across an association",
            Kind.NOT_CONVERTIBLE: "cannot become a sync property"}.get(v.kind, "has no plan")
    return f"This workflow {what}: {' '.join(v.reasons)}"


def _definition(schema: SchemaView, p: SyncProposal) -> dry.Definition:
    copy = schema.prop(p.target_type, p.target_property)
    source = schema.prop(p.source_type, p.source_property)
    assert copy is not None and source is not None  # a candidate's properties exist
    return dry.Definition(p.target_type, copy.id, p.source_type, source.id,
                          frozenset(tid for _, tid in p.association_types), p.selection)


def _exclusion(conn: Connection, account_id: int, flow_id: int, v: Verdict
               ) -> dry.Exclusion | None:
    """Who the conditional copy's workflow copies for, as the dry run counts it (``None``:
    not countable)."""
    assert v.copy is not None
    enrolled = v.copy.enrolled_type
    by_source = v.copy.direction is Direction.TO
    if v.manual:
        return dry.Exclusion(by_source, enrolled, manual_flow_id=flow_id)
    if v.reach is None:
        return None
    try:
        reach = AccountSchema(conn, account_id).criteria(enrolled, v.reach)
    except CriteriaUnavailable:
        return None
    return dry.Exclusion(by_source, enrolled, reach)


def _proposal(schema: SchemaView, p: SyncProposal) -> Proposal:
    copy = schema.prop(p.target_type, p.target_property)
    label = f"{copy.label if copy is not None and copy.label else p.target_property}"
    label = label[:200 - len(SYNC_SUFFIX)] + SYNC_SUFFIX
    taken = set(schema.properties.get(p.target_type, {}))
    base = (propose_name(label) or "sync_property")[:90]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    source = SourceRequest(p.source_type, p.source_property, list(p.association_types),
                           p.selection.value)
    return Proposal(p.target_type, name, label, source, p)
