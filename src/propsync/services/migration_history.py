"""Filling a sync property's history from the property it replaces (the migration's
step 7, optional).

A sync property's history starts when it was created; the copy property it replaces has
years of it. ``fill_history`` copies, for every record of the object type, the old
property's history entries dated before the sync property was created into the sync
property's history, so that a report "as of" a past date grouped (or filtered) by the
sync property shows what the same report on the old property shows. Each copied entry
says where it came from: ``sourceType`` ``MIGRATION`` (a value HubSpot itself uses for
migrated data; the CRM objects spec's ``ValueWithTimestamp.sourceType`` is free text),
``sourceId`` the old property's name, and a label in words; its time, value and user are
the original's.

Set-based and bounded: one ``INSERT ... SELECT`` per range of ``batch_size`` record ids,
each range its own short transaction (a million records never hold one transaction).
Idempotent: a record whose sync property already holds entries from this source is
skipped, so running again (or resuming after a crash) adds nothing.

Access: the property-settings role (it changes what the account's history says), the
object type's schema read and record write scopes, and both properties viewable by the
caller; the sync property must be a sync property of the same object type whose values
compare alike with the old property's (``domain/usage.check_replacement``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from propsync.domain.auth import Principal, object_scope, schema_scope
from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.history import ValueSource
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.domain.usage import check_replacement
from propsync.services.schema import Catalogue
from propsync.storage import migration_history as store
from propsync.storage.db import read_transaction, write_transaction

SOURCE_TYPE = "MIGRATION"
DEFAULT_BATCH, MAX_BATCH = 1_000, 10_000  # records a transaction


@dataclass(frozen=True)
class HistoryFill:
    copied: int  # history entries copied by this run
    batches: int  # transactions
    before_ms: int  # entries dated before this moment (the sync property's creation)
    source: ValueSource  # what the copied entries say of where they came from


def source_of(old: PropertyDefinition) -> ValueSource:
    label = f"Copied from the history of {old.label}"[:180] + f" ({old.name})"
    return ValueSource(SOURCE_TYPE, old.name, label[:200])


def fill_history(engine: Engine, principal: Principal, object_type: str, old_property: str,
                 sync_property: str, batch_size: int = DEFAULT_BATCH) -> HistoryFill:
    """Copy ``old_property``'s history from before ``sync_property`` existed into its
    history, for every record of ``object_type`` (see the module's docstring)."""
    principal.require_property_settings()
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot), object_scope(ot, write=True))
    if not 1 <= batch_size <= MAX_BATCH:
        raise _refusal("batchSize", f"a whole number from 1 to {MAX_BATCH:,}.")
    with read_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot)
        old = catalogue.viewable(old_property, "oldProperty")
        sync = catalogue.viewable(sync_property, "syncProperty")
        if sync.id not in catalogue.synced:
            raise _refusal("syncProperty", f"{ot}.{sync.name} is not a sync property; only a "
                           "sync property's history is filled from the property it replaces.")
        if old.calculated:
            raise _refusal("oldProperty", f"{ot}.{old.name} is calculated; it keeps no "
                           "history to copy.")
        check_replacement(old, sync)
    source = source_of(old)
    copied = batches = 0
    low = 0
    while True:
        with write_transaction(engine) as conn:
            high = store.next_bound(conn, principal.account_id, ot, low, batch_size)
            copied += store.copy_history(conn, principal.account_id, old.id, sync.id,
                                         sync.created_ms, low, high, source)
        batches += 1
        if high is None:
            return HistoryFill(copied, batches, sync.created_ms, source)
        low = high


def _refusal(path: str, what: str, code: str = "INVALID_HISTORY_FILL") -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])
