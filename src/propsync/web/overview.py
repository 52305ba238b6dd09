"""The sync overview: every sync property's state, lag and pending work, and which
property feeds which (chains included), drawn as a tree on the server."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Response

from propsync.services import sync_properties as sync_svc
from propsync.web.core import CtxDep, WebRoute, render
from propsync.web.properties import label_names

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)


@dataclass
class Node:
    """A property in the dependency tree; ``status`` is set when it is a sync property."""

    key: str  # object_type.name
    status: sync_svc.PropertyStatus | None = None
    feeds: list[Node] = field(default_factory=list)


def dependency_tree(statuses: list[sync_svc.PropertyStatus]) -> list[Node]:
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
    status = sync_svc.account_status(ctx.engine, ctx.principal)
    ordered = sorted(status.properties, key=lambda s: (s.definition.target_type,
                                                       s.definition.label.lower()))
    labels = {s.definition.property_id: label_names(ctx, s.definition) for s in ordered}
    return render(ctx.request, "sync.html", account=status, statuses=ordered, labels=labels,
                  tree=dependency_tree(ordered), section="sync")
