"""Bodies of the migration's state machine (``/propsync/v1/migrations``,
``services/migrations.py``): a migration with its state, plan, each step's results and the
backfill's progress."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from propsync.api.schemas.common import Model, at_most
from propsync.services.migrations import MAX_ACKNOWLEDGED, Migration, Rehearsal
from propsync.storage.migrations import StoredMigration


class MigrationIn(Model):
    """A migration of one copy workflow (``plan_flow`` must find a one-way copy)."""

    flowId: str = Field(max_length=40)
    acceptDifferences: bool = Field(False, description="Needed for a copy with conditions a "
                                    "sync property does not have (CONDITIONAL_COPY).")


class StepIn(Model):
    """``acknowledge``'s body: the keys of the differing assets whose differences you
    accept, as the comparison names them (``list:<id>``, ``report:<id>``,
    ``workflow:<id>``). The other steps take no body."""

    assets: Annotated[list[Annotated[str, Field(max_length=60)]] | None,
                      Field(max_length=MAX_ACKNOWLEDGED),
                      BeforeValidator(at_most(MAX_ACKNOWLEDGED, "assets"))] = None


class ReplayIn(Model):
    """A migration rehearsed in one of this account's sandboxes, to start here."""

    sandboxId: str = Field(max_length=40, description="The sandbox it was rehearsed in.")
    migrationId: str = Field(max_length=40, description="The rehearsed migration's id, in "
                             "the sandbox.")


class BackfillOut(Model):
    done: int
    total: int
    live: bool = Field(description="The backfill has finished.")


class MigrationOut(Model):
    id: str
    flowId: str
    state: str = Field(description="PLANNED, APPLYING, APPLIED, CLONED, COMPARED, CUT_OVER, "
                       "CLEANED_UP or UNDONE.")
    nextStep: str | None = Field(None, description="The step that moves it on.")
    syncProperty: str | None = None
    plan: dict[str, Any] = Field(description="The sync property proposed and the dry run.")
    results: dict[str, Any] = Field(description="What each step did: clones with ids, the "
                                    "comparison's summary, acknowledgements, history filled.")
    backfill: BackfillOut | None = None
    createdAt: int
    updatedAt: int
    createdBy: str | None = None
    error: str | None = None


class MigrationList(Model):
    results: list[MigrationOut]
    hidden: int = Field(0, description="Migrations on this page naming object types or "
                        "properties you may not see (not listed).")
    paging: dict[str, Any] | None = None


class RehearsalOut(Model):
    sandboxId: str
    sandboxName: str
    migration: MigrationOut = Field(description="The migration as it stands in the sandbox "
                                    "(COMPARED or further).")


class RehearsalList(Model):
    results: list[RehearsalOut]


def stored_out(m: StoredMigration, backfill: BackfillOut | None = None,
               next_step: str | None = None) -> MigrationOut:
    return MigrationOut(
        id=str(m.migration_id), flowId=str(m.flow_id), state=m.state.value,
        nextStep=next_step, syncProperty=m.sync_property, plan=m.proposal,
        results=m.results, backfill=backfill, createdAt=m.created_ms,
        updatedAt=m.updated_ms, createdBy=str(m.created_by) if m.created_by else None,
        error=m.error)


def migration_out(m: Migration) -> MigrationOut:
    b = m.backfill
    return stored_out(m.stored, BackfillOut(done=b.done, total=b.total, live=b.live)
                      if b else None, m.next.value if m.next else None)


def rehearsal_out(r: Rehearsal) -> RehearsalOut:
    return RehearsalOut(sandboxId=str(r.sandbox_id), sandboxName=r.sandbox_name,
                        migration=stored_out(r.migration))
