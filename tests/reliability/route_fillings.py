"""What the access probes put in a call: the object types (``Plan``), the path and query
values (``PATH_FILLERS``, ``QUERY_FILLERS``) and the bodies (``BODIES``), each with the
object types it involves.

A body builder knows the exact shape of the body it fills (every member path); a body
that gained or lost a member is one the generator does not know, and ``body_builder``
raises ``TeachTheGenerator``.
"""

from __future__ import annotations

import itertools
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from propsync.domain.associations import HUBSPOT_DEFINED, USER_DEFINED, default_type
from propsync.domain.objects import OBJECT_TYPES
from tests.reliability.access_world import SOURCE_OF, TYPES, World
from tests.reliability.migration_fillings import migration_id, rehearsal, sandbox_id

# path parameters (lists name the type by its id, ``objectTypeId``: a name fills it too)
TYPE_PARAMS = ("objectType", "fromObjectType", "toObjectType", "objectTypeId")


class TeachTheGenerator(AssertionError):
    """A route the generator cannot fill: teach it, so the access checks cover the route."""

    def __init__(self, route: str, what: str) -> None:
        super().__init__(f"{route}: {what}. Teach tests/reliability/route_fillings.py about it "
                         "(a filler or a body builder, and the object types it involves), "
                         "or list the route in PUBLIC with the reason it needs no token.")


@dataclass(frozen=True)
class Plan:
    """Which object types to fill a route with, for a caller that lacks ``excluded``'s
    scopes (or for one with no such gap). ``breadth``: ``one`` (a single filling per
    route), ``each`` (each type at each place once) or ``all`` (every combination)."""

    excluded: str | None = None
    breadth: str = "each"

    def path_types(self, label: str, names: Sequence[str]) -> list[dict[str, str]]:
        """The object types to put in the path's type parameters, one dict per call."""
        if not names:
            return [{}]
        if tuple(names) in (("objectType",), ("objectTypeId",)):
            return [{names[0]: ot} for ot in (TYPES[:1] if self.breadth == "one" else TYPES)]
        if tuple(names) == ("fromObjectType", "toObjectType"):
            return [{"fromObjectType": a, "toObjectType": b} for a, b in self.pairs()]
        raise TeachTheGenerator(label, f"the object type parameters {list(names)}")

    def pairs(self) -> list[tuple[str, str]]:
        """``(from, to)`` types: all sixteen, or for a caller without X's scopes X at
        either end, and two pairs without X (of two types, and of one)."""
        if self.breadth == "all":
            return list(itertools.product(TYPES, TYPES))
        if self.breadth == "one":
            return [(TYPES[0], TYPES[1])]
        x = self.excluded
        if x is None:
            return [(a, SOURCE_OF[a]) for a in TYPES] + [(TYPES[1], TYPES[1])]
        a = SOURCE_OF[x]
        b = SOURCE_OF[a]
        return [(x, a), (a, x), (a, b), (a, a)]

    def many(self) -> list[tuple[str, ...]]:
        """Fillings of a member that names several types (``?associations=``)."""
        if self.excluded is None:
            return [TYPES]
        return [TYPES, tuple(t for t in TYPES if t != self.excluded)]

    def one(self, beside: str) -> list[str]:
        """Fillings of a member that names one type other than ``beside`` (a source)."""
        if self.excluded is None or self.excluded == beside:
            return [SOURCE_OF[beside]]
        other = next(t for t in TYPES if t not in (beside, self.excluded))
        return [self.excluded, other]


Variant = tuple[Any, frozenset[str]]  # a value, and the object types it involves
NONE: frozenset[str] = frozenset()


@dataclass
class Filling:
    """What one call is being filled with so far."""

    world: World
    label: str  # the route's method and path
    plan: Plan
    types: dict[str, str]
    path: dict[str, str]

    def type(self, name: str) -> str:
        if name not in self.types:
            raise TeachTheGenerator(self.label, f"a member that needs {{{name}}}")
        return self.types[name]

    @property
    def ot(self) -> str:
        return self.type("objectTypeId" if "objectTypeId" in self.types else "objectType")

    def pair(self) -> tuple[str, str]:
        return self.type("fromObjectType"), self.type("toObjectType")

    def ends(self) -> tuple[str, str]:
        """A from and a to record of the pair (two records when both types are the same)."""
        a, b = self.pair()
        return self.world.record(a, spare=a == b), self.world.record(b)


def _property_names(c: Filling) -> list[Variant]:
    w, ot = c.world, c.ot
    if " /propsync/v1/sync-properties/" in c.label:
        return [(w.name(ot, "sync"), frozenset({SOURCE_OF[ot]}))]
    return [(w.name(ot, kind), NONE) for kind in ("spare", "sync", "plain")]


def _flow_types(c: Filling) -> tuple[str, ...]:
    return TYPES[:1] if c.plan.breadth == "one" else TYPES


def _flow_put(c: Filling) -> list[Variant]:
    """The whole flow named in the path, at its current revision (a call before may have
    changed it: then this one is a 409)."""
    ot, revision = c.world.flow_revision(c.path["flowId"])
    return [({**c.world.flow_body(ot), "name": f"Edited flow {ot}", "revisionId": revision},
             frozenset({ot}))]


def _list_ids(c: Filling) -> list[Variant]:
    """A DYNAMIC and a MANUAL list of each type (as the plan's breadth allows)."""
    return [(str(i), frozenset({t})) for t in _flow_types(c) for i in c.world.lists[t]]


def _list_type(c: Filling) -> str:
    return c.world.list_type(c.path["listId"])


def _list_records(c: Filling) -> list[Variant]:
    """A body of record ids (``memberships/add``, ``/remove``): a record of the list's
    type."""
    ot = _list_type(c)
    return [([c.world.record(ot)], frozenset({ot}))]


PATH_FILLERS: dict[str, Callable[[Filling], list[Variant]]] = {
    "flowId": lambda c: [(str(c.world.flows[t]), frozenset({t})) for t in _flow_types(c)],
    "reportId": lambda c: [(str(c.world.reports[t]), frozenset({t})) for t in _flow_types(c)],
    "listId": _list_ids,
    "listName": lambda c: [(r[2], NONE) for r in c.world.seen.tables["lists"]
                           if r[5] is None and r[1] == c.ot][:1],
    "objectId": lambda c: [(c.world.record(c.ot), NONE)],
    "recordId": lambda c: [(c.world.record(c.ot), NONE)],
    "fromObjectId": lambda c: [(c.ends()[0], NONE)],
    "toObjectId": lambda c: [(c.ends()[1], NONE)],
    "propertyName": _property_names,
    "groupName": lambda c: [(c.world.name(c.ot, "grp"), NONE)],
    "associationTypeId": lambda c: [(str(c.world.labels[c.pair()]), NONE)],
    "userId": lambda c: [(str(c.world.spare_user), NONE)],
    "teamId": lambda c: [(str(c.world.team), NONE)],
    "tokenId": lambda c: [(str(c.world.spare_token), NONE)],
    "sandboxId": lambda c: [(sandbox_id(c.world), NONE)],
    # a migration of each type's workflow (from its type, the sync property's source), and
    # a step of it (``migration_fillings``)
    "migrationId": lambda c: [(migration_id(c.world, t), frozenset({t, SOURCE_OF[t]}))
                              for t in _flow_types(c)],
    "step": lambda c: [("compare", NONE), ("undo", NONE)],
    # a comparison's other list or report (the migration's clone): the DYNAMIC list / the
    # report of each type, so pairs of one type and of two come up
    "otherListId": lambda c: [(str(c.world.lists[t][0]), frozenset({t}))
                              for t in _flow_types(c)],
    "otherReportId": lambda c: [(str(c.world.reports[t]), frozenset({t}))
                                for t in _flow_types(c)],
}


def _all_properties(c: Filling) -> list[Variant]:
    return [(",".join(c.world.seen.property_names(c.ot)), NONE)]


QUERY_FILLERS: dict[str, Callable[[Filling], list[Variant]]] = {
    "limit": lambda c: [("100", NONE)],
    "after": lambda c: [(None, NONE)],
    "archived": lambda c: [("false", NONE), ("true", NONE)],
    "properties": _all_properties,
    "propertiesWithHistory": _all_properties,
    "associations": lambda c: [(",".join(ts), frozenset(ts)) for ts in c.plan.many()],
    "idProperty": lambda c: [(None, NONE), ("hs_object_id", NONE)],
    "state": lambda c: [(None, NONE), ("ACTIVE", NONE)],  # a workflow's enrollments
    "asOf": lambda c: [(None, NONE), ("2020-01-01", NONE)],  # a report's figures then
    "listIds": lambda c: [(",".join(str(i) for t in ts for i in c.world.lists[t]),
                           frozenset(ts)) for ts in c.plan.many()],
    "includeFilters": lambda c: [("true", NONE)],
    "listName": lambda c: [(c.world.fresh("list"), NONE)],
    "before": lambda c: [(None, NONE)],
    "enrollObjectsInWorkflows": lambda c: [(None, NONE)],
    "top": lambda c: [(None, NONE), ("3", NONE)],  # a migration plan's values shown
    # a comparison: the replaced property read off the definitions, first pages
    "oldProperty": lambda c: [(None, NONE)],
    "newProperty": lambda c: [(None, NONE)],
    "originalAfter": lambda c: [(None, NONE)],
    "cloneAfter": lambda c: [(None, NONE)],
    # records shown: a migration plan's differing ones, a comparison's per group
    "sample": lambda c: [(None, NONE), ("20", NONE)],
}


def shape(annotation: Any, prefix: str = "") -> frozenset[str]:
    """Every member path of a body annotation: ``inputs[].from.id``, ``properties``..."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, set, tuple):
        return frozenset().union(*(shape(a, prefix + "[]") for a in args))
    if origin in (typing.Union, types.UnionType):
        return frozenset().union(*(shape(a, prefix) for a in args))
    if origin is typing.Annotated:
        return shape(args[0], prefix)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found: set[str] = set()
        for name, member in annotation.model_fields.items():
            path = f"{prefix}.{member.alias or name}" if prefix else member.alias or name
            found |= shape(member.annotation, path) or {path}
        return frozenset(found)
    return frozenset()


def _paths(*groups: str) -> frozenset[str]:
    """``"a.{b,c}"`` → ``{"a.b", "a.c"}``: a compact spelling of a shape."""
    out = set()
    for g in groups:
        head, _, rest = g.partition("{")
        out |= {head + m for m in rest.rstrip("}").split(",")} if rest else {g}
    return frozenset(out)


def _spec(category: str, type_id: int) -> dict[str, Any]:
    return {"associationCategory": category, "associationTypeId": type_id}


def _create_input(c: Filling, targets: Sequence[str]) -> dict[str, Any]:
    ot = c.ot
    links = []
    for to in targets:
        base = default_type(ot, to)
        assert base is not None
        links.append({"to": {"id": c.world.record(to)}, "types": [_spec(HUBSPOT_DEFINED,
                                                                       base.type_id)]})
    return {"properties": {c.world.name(ot, "spare"): "created"}, "associations": links}


def _creates(c: Filling) -> list[Variant]:
    return [({"inputs": [_create_input(c, ts)]}, frozenset(ts)) for ts in c.plan.many()]


def _property_create(c: Filling) -> list[Variant]:
    ot, w = c.ot, c.world
    plain = {"name": w.fresh("new"), "label": "New", "type": "string", "fieldType": "text",
             "groupName": OBJECT_TYPES[ot].group}
    synced = [({"name": w.fresh("newsync"), "label": "New sync",
                "groupName": OBJECT_TYPES[ot].group,
                "syncSource": {"objectType": s, "propertyName": w.name(s, "plain"),
                               "selection": "FIRST_CREATED"}}, frozenset({s}))
              for s in c.plan.one(ot)]
    return [(plain, NONE), *synced]


def _property_update(c: Filling) -> list[Variant]:
    relabel: Variant = ({"label": f"Edited {c.world.fresh('label')}"}, NONE)
    if c.path.get("propertyName") != c.world.name(c.ot, "sync"):
        return [relabel]
    return [relabel, *(({"syncSource": {"objectType": s, "propertyName": c.world.name(
        s, "plain"), "selection": "FIRST_CREATED"}}, frozenset({s})) for s in c.plan.one(c.ot))]


def _pairs(c: Filling) -> list[Variant]:
    f, t = c.ends()
    return [({"inputs": [{"from": {"id": f}, "to": {"id": t}, "types": [
        _spec(USER_DEFINED, c.world.labels[c.pair()])]}]}, NONE)]


def _label(c: Filling, key: str) -> dict[str, Any]:
    a, b = c.pair()
    text = c.world.fresh("label")
    extra = {"inverseLabel": f"{text} back"} if a != b else {}
    return {key: text, **extra}


def _clone(c: Filling) -> list[Variant]:
    """A clone of the asset named in the path: a report as it is; a flow as it is, and
    with the property its action writes replaced by another of its type
    (``POST /propsync/v1/workflows/{id}/clone``)."""
    if "reportId" in c.path:
        return [({"name": c.world.fresh("report")}, frozenset({_report_type(c)}))]
    if "flowId" not in c.path:
        raise TeachTheGenerator(c.label, "a clone of an asset other than a flow or report")
    ot = c.world.flow_revision(c.path["flowId"])[0]
    replace = {"property": c.world.name(ot, "plain"), "with": c.world.name(ot, "spare")}
    return [({"name": c.world.fresh("clone")}, frozenset({ot})),
            ({"name": c.world.fresh("clone"), "replace": replace}, frozenset({ot}))]


# HubSpot's ApiFlowCreateRequest (its contact and platform flows' members together).
FLOW_MEMBERS = _paths("{actions,blockedDates,canEnrollFromSalesforce,customProperties}",
                      "{dataSources,description,enrollmentCriteria,enrollmentSchedule}",
                      "{eventAnchor,flowType,goalFilterBranch,isEnabled,name,objectTypeId}",
                      "{startActionId,suppressionFilterBranch,suppressionListIds}",
                      "{timeWindows,type,unEnrollmentSetting,uuid}")
REPORT_MEMBERS = _paths("{chartType,dateBucket,filterBranch,groupBy,listId,maxGroups}",
                        "{measure,measureProperty,name,objectType}")


def _report_type(c: Filling) -> str:
    return next(t for t, rid in c.world.reports.items() if str(rid) == c.path["reportId"])


def _report_body(c: Filling) -> list[Variant]:
    """A report of each type; a PUT's keeps the type of the report it replaces."""
    types = [_report_type(c)] if "reportId" in c.path else list(_flow_types(c))
    return [(c.world.report_body(t), frozenset({t})) for t in types]


Builder = Callable[[Filling], list[Variant]]
BODIES: list[tuple[frozenset[str], Builder]] = [  # the shape each builder knows, and it
    (_paths("after", "limit", "properties", "query", "sorts[].{direction,propertyName}",
            "filterGroups[].filters[].{highValue,operator,propertyName,value,values}"),
     lambda c: [({"properties": list(c.world.seen.property_names(c.ot)), "limit": 100,
                  "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
                  "filterGroups": [{"filters": [{"propertyName": "hs_object_id",
                                                 "operator": "HAS_PROPERTY"}]}]}, NONE)]),
    (_paths("properties", "associations[].to.id",
            "associations[].types[].{associationCategory,associationTypeId}"),
     lambda c: [(_create_input(c, ts), frozenset(ts)) for ts in c.plan.many()]),
    (_paths("inputs[].properties", "inputs[].associations[].to.id",
            "inputs[].associations[].types[].{associationCategory,associationTypeId}"),
     _creates),
    (_paths("properties"),
     lambda c: [({"properties": {c.world.name(c.ot, "spare"): "edited"}}, NONE)]),
    (_paths("inputs[].{id,idProperty,properties}"),
     lambda c: [({"inputs": [{"id": c.world.record(c.ot), "properties": {
         c.world.name(c.ot, "spare"): "edited"}}]}, NONE)]),
    (_paths("inputs[].{id,idProperty,objectWriteTraceId,properties}"),
     lambda c: [({"inputs": [{"id": c.world.record(c.ot), "objectWriteTraceId": "t1",
                              "properties": {c.world.name(c.ot, "spare"): "upserted"}}]},
                 NONE)]),
    (_paths("{idProperty,objectId}"),  # gdpr-delete: the spare contact (the world remakes it)
     lambda c: [({"objectId": c.world.record("contacts", spare=True)},
                 frozenset({"contacts"}))]),
    (_paths("{primaryObjectId,objectIdToMerge}"),
     lambda c: [({"primaryObjectId": c.world.record(c.ot),
                  "objectIdToMerge": c.world.record(c.ot, spare=True)}, NONE)]),
    (_paths("idProperty", "inputs[].id", "properties", "propertiesWithHistory"),
     lambda c: [({"inputs": [{"id": c.world.record(c.ot)}, {"id": c.world.record(
         c.ot, spare=True)}], "properties": list(c.world.seen.property_names(c.ot)),
         "propertiesWithHistory": list(c.world.seen.property_names(c.ot))}, NONE)]),
    (_paths("inputs[].id"),
     lambda c: [({"inputs": [{"id": c.world.record(c.ot, spare=True)}]}, NONE)]),
    (_paths("{description,displayOrder,fieldType,formField,groupName,hasUniqueValue,hidden}",
            "{label,name,type}", "options[].{description,displayOrder,hidden,label,value}",
            "access.edit.{everyone,teamIds,userIds}", "access.view.{everyone,teamIds,userIds}",
            "syncSource.{objectType,propertyName,selection}",
            "syncSource.associationTypes[].{associationCategory,associationTypeId}"),
     _property_create),
    (_paths("inputs[].{description,displayOrder,fieldType,formField,groupName}",
            "inputs[].{hasUniqueValue,hidden,label,name,type}",
            "inputs[].options[].{description,displayOrder,hidden,label,value}",
            "inputs[].access.edit.{everyone,teamIds,userIds}",
            "inputs[].access.view.{everyone,teamIds,userIds}",
            "inputs[].syncSource.{objectType,propertyName,selection}",
            "inputs[].syncSource.associationTypes[].{associationCategory,associationTypeId}"),
     lambda c: [({"inputs": [body]}, types) for body, types in _property_create(c)]),
    (_paths("inputs[].name"),
     lambda c: [({"inputs": [{"name": name}]}, types) for name, types in _property_names(c)]),
    (_paths("archived", "dataSensitivity", "inputs[].name"),
     lambda c: [({"archived": False, "inputs": [{"name": name}]}, types)
                for name, types in _property_names(c)]),
    (_paths("{description,displayOrder,fieldType,formField,groupName,hidden,label,type}",
            "options[].{description,displayOrder,hidden,label,value}",
            "access.edit.{everyone,teamIds,userIds}", "access.view.{everyone,teamIds,userIds}",
            "syncSource.{objectType,propertyName,selection}",
            "syncSource.associationTypes[].{associationCategory,associationTypeId}"),
     _property_update),
    (_paths("{displayOrder,label,name}"),
     lambda c: [({"name": c.world.fresh("grp"), "label": "New group"}, NONE)]),
    (_paths("{displayOrder,label}"),
     lambda c: [({"label": f"Edited {c.world.fresh('group')}"}, NONE)]),
    (_paths("[].{associationCategory,associationTypeId}"),
     lambda c: [([_spec(USER_DEFINED, c.world.labels[c.pair()])], NONE)]),
    (_paths("inputs[].from.id", "inputs[].to.id",
            "inputs[].types[].{associationCategory,associationTypeId}"), _pairs),
    (_paths("inputs[].{after,id}"),
     lambda c: [({"inputs": [{"id": c.ends()[0]}]}, NONE)]),
    (_paths("inputs[].from.id", "inputs[].to[].id"),
     lambda c: [({"inputs": [{"from": {"id": c.ends()[0]}, "to": [{"id": c.ends()[1]}]}]},
                 NONE)]),
    (_paths("{inverseLabel,label,name}"),
     lambda c: [({**_label(c, "label"), "name": c.world.fresh("lbl")}, NONE)]),
    (_paths("{associationTypeId,inverseLabel,label}"),
     lambda c: [({**_label(c, "label"), "associationTypeId": c.world.labels[c.pair()]},
                 NONE)]),
    # association limits: high enough never to refuse the probes' own associations
    (_paths("inputs[].{category,maxToObjectIds,typeId}"),
     lambda c: [({"inputs": [{"category": USER_DEFINED, "typeId": c.world.labels[c.pair()],
                              "maxToObjectIds": 10_000}]}, NONE)]),
    (_paths("inputs[].{category,typeId}"),
     lambda c: [({"inputs": [{"category": USER_DEFINED, "typeId": c.world.labels[c.pair()]}]},
                 NONE)]),
    (_paths("{email,name,password,role}"),
     lambda c: [({"email": f"{c.world.fresh('user')}@example.com", "name": "New user",
                  "role": "user", "password": "correct horse"}, NONE)]),
    (_paths("role"), lambda c: [({"role": "admin"}, NONE), ({"role": "user"}, NONE)]),
    (FLOW_MEMBERS,  # a new workflow of each type
     lambda c: [(c.world.flow_body(t), frozenset({t})) for t in _flow_types(c)]),
    (FLOW_MEMBERS | {"revisionId"}, _flow_put),
    (_paths("recordId"),  # a workflow enrollment: a record of the flow's type
     lambda c: [({"recordId": c.world.record(ot)}, frozenset({ot})) for ot in [
         c.world.flow_revision(c.path["flowId"])[0]]]),
    (_paths("inputs[].{flowId,type}"),
     lambda c: [({"inputs": [{"flowId": str(c.world.flows[t]), "type": "FLOW_ID"}]},
                 frozenset({t})) for t in _flow_types(c)]),
    (REPORT_MEMBERS, _report_body),  # a new report of each type, or the one in the path
    (_paths("name", "replace.{property,with}"), _clone),
    (_paths("{name,objectTypeId,processingType,filterBranch,listFolderId,customProperties,"
            "membershipSettings,listPermissions}"),  # a new list of each type
     lambda c: [(c.world.list_body(t), frozenset({t})) for t in _flow_types(c)]),
    (_paths("{query,offset,count,processingTypes,objectTypeId,listIds,additionalProperties,"
            "sort}"),
     lambda c: [({"query": "", "offset": 0, "additionalProperties": []}, NONE)]),
    (_paths("filterBranch"),  # the list's new filter
     lambda c: [({"filterBranch": c.world.list_filter(_list_type(c))},
                 frozenset({_list_type(c)}))]),
    (_paths("{recordIdsToAdd,recordIdsToRemove}"),
     lambda c: [({"recordIdsToAdd": [c.world.record(_list_type(c))], "recordIdsToRemove": []},
                 frozenset({_list_type(c)}))]),
    (_paths("{name,replace}"), lambda c: [({"name": c.world.fresh("list")}, NONE)]),
    (_paths("{name,records}"),  # a sandbox: a sample of one record a type, kept whole
     lambda c: [({"records": "sample:1"}, NONE)]),
    (frozenset(), _list_records),  # a list of record ids (memberships/add, /remove)
    (_paths("flows"),  # workflows exported from HubSpot, scanned (one of each type)
     lambda c: [({"flows": [c.world.flow_body(t)]}, frozenset({t})) for t in _flow_types(c)]),
    (_paths("{acceptDifferences,flowId}"),  # a migration of a workflow of each type
     lambda c: [({"flowId": str(c.world.flows[t]), "acceptDifferences": True},
                 frozenset({t})) for t in _flow_types(c)]),
    # a replay: a migration of each type's workflow rehearsed in the world's sandbox (its
    # type and the sync property's source, as a migration in the path)
    (_paths("{migrationId,sandboxId}"),
     lambda c: [(rehearsal(c.world, t), frozenset({t, SOURCE_OF[t]})) for t in _flow_types(c)]),
    (_paths("assets"),  # a migration step's body (acknowledge's assets)
     lambda c: [({"assets": ["list:1"]}, NONE)]),
    (_paths("{memberIds,name}"),
     lambda c: [({"name": c.world.fresh("team"), "memberIds": [c.world.spare_user]}, NONE)]),
]


def body_builder(label: str, body: Any) -> Builder | None:
    """The builder that knows the body annotation ``body`` exactly (``None``: no body);
    a body it does not know fails."""
    if body is None:
        return None
    found = shape(body)
    for known, builder in BODIES:
        if known == found:
            return builder
    closest = min(BODIES, key=lambda b: len(b[0] ^ found))[0]
    raise TeachTheGenerator(label, "a body the generator does not know: members "
                            f"{sorted(found - closest)} are new, {sorted(closest - found)} gone, "
                            "against the closest body it knows")
