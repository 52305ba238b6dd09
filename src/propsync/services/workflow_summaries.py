"""The counts the workflow list shows: each listed flow's enrollments by state and its last
run, read in one transaction (``workflow_runs.summary_of`` per flow, on their indexes)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine

from propsync.domain.auth import AUTOMATION, Principal
from propsync.services.workflow_runs import FlowSummary, summary_of
from propsync.storage.db import read_transaction


def flow_summaries(engine: Engine, principal: Principal, flow_ids: Collection[int]
                   ) -> dict[int, FlowSummary]:
    """``{flow id: its summary}`` for flows of the principal's account (a page of the
    list, at most 100); an id of no flow counts nothing."""
    principal.require(AUTOMATION)
    with read_transaction(engine) as conn:
        return {i: summary_of(conn, principal.account_id, i) for i in sorted(set(flow_ids))}
