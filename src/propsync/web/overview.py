"""The sync overview: every sync property's state, lag and waiting work, and which
property feeds which (chains included), drawn as a tree on the server. The page follows
its numbers live by polling ``/ui/sync/status.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from propsync.domain.record_ids import parse_record_id
from propsync.services import sync_overview as overview_svc
from propsync.web.core import CtxDep, WebRoute, duration, render
from propsync.web.properties import label_names

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)


@dataclass
class Node:
    """A property in the dependency tree; ``status`` is set when it is a sync property."""

    key: str  # object_type.name
    status: overview_svc.PropertyWork | None = None
    feeds: list[Node] = field(default_factory=list)


def dependency_tree(statuses: list[overview_svc.PropertyWork]) -> list[Node]:
    """Roots are the ordinary properties copied by sync properties; each node lists the
    sync properties that copy it, so a chain appears as a deeper branch."""
    nodes = {f"{s.definition.target_type}.{s.definition.name}": Node(
        f"{s.definition.target_type}.{s.definition.name}", s) for s in statuses}
    roots: dict[str, Node] = {}
    for s in statuses:
        d = s.definition
        source_key = f"{d.source_type}.{d.source_property}"
        parent = nodes.get(source_key) or roots.setdefault(source_key, Node(source_key))
        parent.feeds.append(nodes[f"{d.target_type}.{d.name}"])
    return sorted(roots.values(), key=lambda n: n.key)


@router.get("/sync")
def sync_overview(ctx: CtxDep) -> Response:
    status = overview_svc.overview(ctx.engine, ctx.principal)
    ordered = sorted(status.properties, key=lambda s: (s.definition.target_type,
                                                       s.definition.label.lower()))
    labels = {s.definition.property_id: label_names(ctx, s.definition) for s in ordered}
    return render(ctx.request, "sync.html", account=status, statuses=ordered, labels=labels,
                  tree=dependency_tree(ordered), section="sync")


@router.get("/sync/status.json")
def sync_overview_json(ctx: CtxDep, counting: str = "") -> Response:
    """The page's numbers, for it to follow live (the same ones it was drawn with); the
    values held are counted for the properties not live, and for those the page still
    shows backfilling (``counting``: their ids), so it sees the count a backfill ends at."""
    asked = {parse_record_id(raw) for raw in counting.split(",")[:100]}
    status = overview_svc.overview(ctx.engine, ctx.principal, count_live_filled=False,
                                   also_count={i for i in asked if i is not None})
    rows: dict[str, Any] = {}
    for s in status.properties:
        d = s.definition
        rows[str(d.property_id)] = {
            "state": d.state, "backfill": backfill_text(s), "queued": s.queued,
            "fanouts": s.fanouts, **({} if s.filled is None else {"filled": s.filled})}
    return JSONResponse({
        "count": len(status.properties), "unplanned": status.unplanned,
        "queued": status.queued, "fanouts": status.fanouts,
        "backfillLeft": status.backfill_left, "lag": duration(status.oldest_pending_age_ms),
        "properties": rows})


def backfill_text(s: overview_svc.PropertyWork) -> str:
    d = s.definition
    return f"{min(d.backfill_done, d.backfill_total)} / {d.backfill_total}"
