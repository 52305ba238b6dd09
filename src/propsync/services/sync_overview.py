"""The sync overview: how much work waits, counted in the units the worker uses.

The work of a change goes through two stages, and the overview shows each one under its
own name so that its numbers add up:

- a change (a value set, a record archived, an association added...) is first a row of
  the change feed after the sync engine's cursor (storage/feed.py), which belongs to no
  sync property until the worker *plans* it: the account's ``unplanned`` changes (rows
  recorded for another reader only, a workflow's, count too until the worker passes them);
- planned, it becomes work of one sync property: target records ``queued`` to recompute,
  or a ``fanouts`` job copying a source's new value to the targets it wins; and a new or
  redefined sync property has records ``backfill_left`` to compute.

The account's totals of the last three are the sums of its rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal
from propsync.domain.sync_rule import SyncDefinition
from propsync.services.sync_properties import may_read_status, require_status_scope
from propsync.storage import sync as store
from propsync.storage.db import read_transaction


@dataclass(frozen=True)
class PropertyWork:
    """One sync property, the values it holds and its planned work."""

    definition: SyncDefinition
    filled: int | None  # None: not counted (a live property's, when the page follows)
    queued: int  # target records waiting to be recomputed
    fanouts: int  # source values being copied out to the targets they win

    @property
    def backfill_left(self) -> int:
        """Records the backfill (or the recompute after a redefinition) has yet to do."""
        d = self.definition
        return 0 if d.state == store.LIVE else max(d.backfill_total - d.backfill_done, 0)


@dataclass(frozen=True)
class Overview:
    unplanned: int  # feed rows after the sync cursor: no sync property's work yet
    oldest_pending_age_ms: int | None  # the lag: age of the oldest work not yet done
    properties: list[PropertyWork]

    @property
    def queued(self) -> int:
        return sum(p.queued for p in self.properties)

    @property
    def fanouts(self) -> int:
        return sum(p.fanouts for p in self.properties)

    @property
    def backfill_left(self) -> int:
        return sum(p.backfill_left for p in self.properties)


def overview(engine: Engine, principal: Principal, count_live_filled: bool = True,
             also_count: Collection[int] = ()) -> Overview:
    """The sync properties ``principal`` may read (target and source schemas), each with
    its work, and the account's unplanned changes; read in one snapshot. Counting the
    values a live property holds reads all of them: a page that follows the numbers every
    few seconds leaves them out (``count_live_filled=False``) but for ``also_count`` (the
    properties it still shows backfilling), as only backfills move them fast."""
    require_status_scope(principal)
    with read_transaction(engine) as conn:
        pending = store.pending(conn, principal.account_id)
        shown = [d for d in store.load_sync_properties(conn, principal.account_id)
                 if may_read_status(principal, d)]
        work = store.waiting_by_property(
            conn, principal.account_id, [d.property_id for d in shown],
            None if count_live_filled else [d.property_id for d in shown
                                            if d.state != store.LIVE
                                            or d.property_id in also_count])
    properties = [PropertyWork(d, work[d.property_id].filled, work[d.property_id].queued,
                               work[d.property_id].fanouts) for d in shown]
    stamps = [pending.oldest_ms] if pending.oldest_ms is not None else []
    stamps += [d.backfill_started_ms for d in shown if d.state != store.LIVE]
    return Overview(pending.changes, now_ms() - min(stamps) if stamps else None, properties)
