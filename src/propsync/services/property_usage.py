"""Where a property is used ("Used in"), and the refusal to delete, restrict or retype a
property that something uses.

Each kind of asset that names properties answers with ``Use`` rows through a
``property_uses(conn, account_id, object_type, name)`` of its own, registered once in
``SOURCES`` (with the scopes, beside the schema read scope of the asset's object type,
that a caller needs to be told the asset's name). ``uses_in`` asks them all;
``property_usage`` is what the API and the property page show; ``refuse_if_used`` is the
one refusal every path that deletes, archives, restricts or retypes a property calls, in
the transaction of the change and under ``lock_definitions`` (which every save of an
asset that names properties also takes, so a use cannot appear unseen between the check
and the change). Uses the caller may not be told of are counted, never named.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.domain.auth import (
    AUTOMATION,
    BUSINESS_INTELLIGENCE,
    LISTS_READ,
    Principal,
    schema_scope,
)
from propsync.domain.errors import ErrorDetail, NotFoundError, ValidationError
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.domain.sync_rule import SyncDefinition
from propsync.domain.usage import KINDS, Use
from propsync.services import list_usage, report_usage, workflow_usage
from propsync.storage import sync as sync_store
from propsync.storage.db import read_transaction
from propsync.storage.properties import find_property, load_properties

Finder = Callable[[Connection, int, str, str], list[Use]]
IN_USE = "CANNOT_DELETE_PROPERTY_IN_USE"


def sync_property_uses(conn: Connection, account_id: int, object_type: str, name: str
                       ) -> list[Use]:
    """The sync properties that copy ``object_type``.``name``: directly (its "source"), or
    through a chain of sync properties (a deal's copy of a contact's copy of it)."""
    defs = sync_store.load_sync_properties(conn, account_id)
    by_source: dict[tuple[str, str], list[SyncDefinition]] = {}
    for d in defs:
        by_source.setdefault((d.source_type, d.source_property), []).append(d)
    uses: list[Use] = []
    seen: set[int] = set()
    reached = [(d, "source") for d in by_source.get((object_type, name), [])]
    while reached:  # breadth first: each sync property once, by its shortest chain
        d, part = reached.pop(0)
        if d.property_id in seen:
            continue
        seen.add(d.property_id)
        uses.append(Use("sync property", f"{d.target_type}.{d.name}", d.label, d.target_type,
                        (part,), f"/ui/settings/properties/{d.target_type}/{d.name}"))
        through = f"copies it through {d.target_type}.{d.name}"
        reached += [(n, through) for n in by_source.get((d.target_type, d.name), [])]
    return uses


@dataclass(frozen=True)
class Source:
    """One kind of asset's ``property_uses``, and the scopes a caller needs (beside the
    schema read scope of the asset's object type) to be told an asset's name."""

    kind: str  # one of domain.usage.KINDS
    find: Finder
    scopes: tuple[str, ...] = ()


# One line per kind of asset.
SOURCES: tuple[Source, ...] = (
    Source("sync property", sync_property_uses),
    Source(workflow_usage.KIND, workflow_usage.property_uses, (AUTOMATION,)),
    Source(list_usage.KIND, list_usage.property_uses, (LISTS_READ,)),
    Source(report_usage.KIND, report_usage.property_uses, (BUSINESS_INTELLIGENCE,)),
)


def uses_in(conn: Connection, account_id: int, object_type: str, name: str) -> list[Use]:
    """Every use of ``object_type``.``name``, by kind (in ``KINDS`` order), then name."""
    found = [u for s in SOURCES for u in s.find(conn, account_id, object_type, name)]
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(found, key=lambda u: (order.get(u.kind, len(order)), u.name.lower(),
                                        u.asset_id))


@dataclass(frozen=True)
class Usage:
    """The uses of one property as one caller may see them."""

    prop: PropertyDefinition
    shown: list[Use]  # named: the caller may read each asset
    hidden: dict[str, int]  # kind → how many more, on object types the caller may not read

    @property
    def total(self) -> int:
        return len(self.shown) + sum(self.hidden.values())


def visible(conn: Connection, principal: Principal, uses: list[Use]
            ) -> tuple[list[Use], dict[str, int]]:
    """The uses ``principal`` may be told the names of, and how many others of each kind:
    a use is named when the caller has the scopes to read the asset and may view every
    property that decides what the asset shows (``Use.reads``: a list or report on a
    property restricted from them is one they may not see, so it is only counted)."""
    extra = {s.kind: s.scopes for s in SOURCES}
    kept_from: dict[str, set[str]] = {}  # object type → properties the caller may not view

    def may_view(u: Use) -> bool:
        if not u.reads:
            return True
        if u.object_type not in kept_from:
            kept_from[u.object_type] = {
                p.name for p in load_properties(conn, principal.account_id, u.object_type)
                if not p.access.can_view(principal.user_id, principal.team_ids)}
        return not set(u.reads) & kept_from[u.object_type]

    shown: list[Use] = []
    hidden: dict[str, int] = {}
    for u in uses:
        needed = (schema_scope(u.object_type), *extra.get(u.kind, ()))
        if all(s in principal.scopes for s in needed) and may_view(u):
            shown.append(u)
        else:
            hidden[u.kind] = hidden.get(u.kind, 0) + 1
    return shown, hidden


def property_usage(engine: Engine, principal: Principal, object_type: str, name: str
                   ) -> Usage:
    """Where ``object_type``.``name`` is used, as ``principal`` may see it (the schema read
    scope of its object type needed); 404 if it does not exist."""
    ot = resolve_object_type(object_type).name
    principal.require(schema_scope(ot))
    with read_transaction(engine) as conn:
        prop = find_property(conn, principal.account_id, ot, name)
        if prop is None:
            raise NotFoundError(f"{ot} has no property named {name[:100]!r}.")
        shown, hidden = visible(conn, principal,
                                uses_in(conn, principal.account_id, ot, name))
    return Usage(prop, shown, hidden)


def refuse_if_used(conn: Connection, principal: Principal, prop: PropertyDefinition,
                   action: str, leaving: Collection[tuple[str, str]] = ()) -> None:
    """400 (HubSpot's error shape) if something uses ``prop``: the message names each use
    the caller may read and counts the others; one detail per named use. ``leaving``:
    (kind, asset id) of assets going in the same change (a batch deleting a property
    with the sync property that copies it)."""
    uses = [u for u in uses_in(conn, principal.account_id, prop.object_type, prop.name)
            if (u.kind, u.asset_id) not in leaving]
    if not uses:
        return
    shown, hidden = visible(conn, principal, uses)
    names = [f"{u.kind} {_title(u)} ({'; '.join(u.parts)})" for u in shown]
    names += [f"{n} {_plural(kind, n)} on object types this token may not read"
              for kind, n in hidden.items()]
    one = len(uses) == 1
    message = (f"{prop.object_type}.{prop.name} cannot be {action}: it is used in "
               f"{len(uses)} place{'' if one else 's'} ({', '.join(names)}). Change or delete "
               f"{'it' if one else 'them'} first.")
    raise ValidationError(message, [_detail(u) for u in shown]
                          or [ErrorDetail(message, IN_USE)])


def _title(u: Use) -> str:
    return u.asset_id if u.kind == "sync property" else f"{u.name!r} ({u.asset_id})"


def _plural(kind: str, n: int) -> str:
    if n == 1:
        return kind
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


def _detail(u: Use) -> ErrorDetail:
    context = {"kind": [u.kind], "id": [u.asset_id], "name": [u.name], "parts": list(u.parts)}
    if u.kind == "sync property":
        context.update(syncProperty=[u.asset_id], label=[u.name])
    return ErrorDetail(f"Used by {u.kind} {_title(u)}: {'; '.join(u.parts)}.", IN_USE, context)
