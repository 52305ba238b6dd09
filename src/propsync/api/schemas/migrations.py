"""Bodies of the migration assistant's read-only endpoints: a scan's verdicts and a plan
with its dry run (``services/migration_scan.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from propsync.api.schemas.common import Model, at_most
from propsync.domain.migration_scan import Verdict
from propsync.services.migration_scan import MAX_DOCUMENTS, Plan, ScannedFlow, ScanResult


class ScanIn(Model):
    """Workflows exported from a HubSpot portal (``GET /automation/v4/flows/{id}`` output),
    each as it is; judged against this account, stored nowhere."""

    flows: Annotated[list[dict[str, Any]], Field(max_length=MAX_DOCUMENTS),
                     BeforeValidator(at_most(MAX_DOCUMENTS, "workflows in one scan"))]


class AssociationTypeOut(Model):
    associationCategory: str
    associationTypeId: int
    label: str


class SyncPropertyOut(Model):
    """The sync property that would replace the copy (none is created)."""

    objectType: str = Field(description="The sync property's object type (the copy's).")
    replacesProperty: str = Field(description="The property the workflow writes; it stays.")
    sourceObjectType: str
    sourceProperty: str
    associationTypes: list[AssociationTypeOut]
    selection: str = Field(description="FIRST_CREATED or LAST_CREATED.")
    direction: str = Field(description='FROM: the workflow copies from an associated record; '
                           'TO: it copies into its associated records.')
    name: str | None = Field(None, description="A plan's proposed internal name.")
    label: str | None = Field(None, description="A plan's proposed label.")


class DifferenceOut(Model):
    code: str
    text: str


class VerdictOut(Model):
    key: str = Field(description="The flow id, or ``flows[i]`` for the i-th posted flow.")
    flowId: str | None = None
    name: str
    objectType: str | None = None
    enabled: bool
    kind: str = Field(description="ONE_WAY_COPY, CONDITIONAL_COPY, TWO_WAY, NOT_A_COPY or "
                      "NOT_CONVERTIBLE.")
    syncProperty: SyncPropertyOut | None = None
    reasons: list[str]
    differences: list[DifferenceOut]
    notes: list[str]
    partner: str | None = Field(None, description="TWO_WAY: the key of the other workflow.")
    excludedRecords: int | None = Field(None, description=(
        "CONDITIONAL_COPY of the account: records the sync property would give a value "
        "that the workflow's conditions leave out (absent: not counted; the plan counts)."))


class ScanOut(Model):
    results: list[VerdictOut]
    hidden: int = Field(description="Workflows not listed: they name object types or "
                        "properties this caller may not see.")


class ValueCountOut(Model):
    value: str
    count: int


class DryRunOut(Model):
    targets: int = Field(description="Live records of the sync property's object type.")
    withValue: int = Field(description="Records that would get a value.")
    topValues: list[ValueCountOut]
    differing: int = Field(description="Records whose copy differs from the sync value.")
    stale: int = Field(description="Copies holding another value than the source's.")
    missing: int = Field(description="Records without a copy that would get a value.")
    orphaned: int = Field(description="Copies the sync property would leave empty.")
    sampleRecordIds: list[str] = Field(description="The first differing records, by id.")


class PlanOut(Model):
    flowId: str
    name: str
    kind: str
    syncProperty: SyncPropertyOut
    differences: list[DifferenceOut]
    notes: list[str]
    dryRun: DryRunOut
    excludedByConditions: int | None = Field(None, description=(
        "CONDITIONAL_COPY: records the sync property would give a value that the "
        "workflow's conditions leave out (null: not countable)."))


def sync_property_out(v: Verdict, name: str | None = None, label: str | None = None
                      ) -> SyncPropertyOut | None:
    p = v.proposal
    if p is None:
        return None
    return SyncPropertyOut(
        objectType=p.target_type, replacesProperty=p.target_property,
        sourceObjectType=p.source_type, sourceProperty=p.source_property,
        associationTypes=[AssociationTypeOut(associationCategory=c, associationTypeId=i,
                                             label=lbl)
                          for (c, i), lbl in zip(p.association_types, p.labels, strict=True)],
        selection=p.selection.value, direction=p.direction.value, name=name, label=label)


def verdict_out(f: ScannedFlow) -> VerdictOut:
    v = f.verdict
    return VerdictOut(
        key=f.key, flowId=str(f.flow_id) if f.flow_id is not None else None, name=v.name,
        objectType=v.object_type, enabled=v.enabled, kind=v.kind.value,
        syncProperty=sync_property_out(v), reasons=list(v.reasons),
        differences=[DifferenceOut(code=d.code, text=d.text) for d in v.differences],
        notes=list(v.notes), partner=v.partner, excludedRecords=f.excluded)


def scan_out(result: ScanResult) -> ScanOut:
    return ScanOut(results=[verdict_out(f) for f in result.flows], hidden=result.hidden)


def plan_out(p: Plan) -> PlanOut:
    v, d = p.verdict, p.dry_run
    prop = sync_property_out(v, p.proposal.name, p.proposal.label)
    assert prop is not None
    return PlanOut(
        flowId=str(p.flow_id), name=v.name, kind=v.kind.value, syncProperty=prop,
        differences=[DifferenceOut(code=x.code, text=x.text) for x in v.differences],
        notes=list(v.notes),
        dryRun=DryRunOut(targets=d.targets, withValue=d.with_value,
                         topValues=[ValueCountOut(value=val, count=n)
                                    for val, n in d.top_values],
                         differing=d.differing, stale=d.stale, missing=d.missing,
                         orphaned=d.orphaned, sampleRecordIds=[str(i) for i in d.sample]),
        excludedByConditions=p.excluded)
