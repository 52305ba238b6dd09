"""Where a workflow uses a property, and a copy of its definition with one property put in
another's place (pure).

Each occurrence of a property in a flow belongs to one object type: enrollment filters,
re-enrollment triggers, a branch and a copied ``OBJECT_PROPERTY`` are the enrolled
record's; a ``FETCHED_OBJECT_PROPERTY`` is of its data source's object type; a written
property is the enrolled record's, or, written on associated records, the type the
association leads to (``to_types``: association type id → the object type it leads to).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from propsync.domain.usage import Replacement
from propsync.domain.workflows import (
    FLOW_OBJECT_TYPES,
    PROPERTY_CHANGED_EVENT,
    EnrolledProperty,
    FetchedProperty,
    Flow,
    SetProperty,
    StaticBranch,
)


def flow_parts(flow: Flow, to_types: Mapping[int, str], object_type: str, name: str
               ) -> tuple[str, ...]:
    """Where ``flow`` uses ``object_type``.``name``, in words ("enrollment filter",
    "action 2 writes", ...); empty when it does not."""
    return tuple(dict.fromkeys(part for ot, prop, part in occurrences(flow, to_types)
                               if (ot, prop) == (object_type, name)))


def occurrences(flow: Flow, to_types: Mapping[int, str]) -> Iterator[tuple[str, str, str]]:
    """Every (object type, property, where) the flow names."""
    own = flow.object_type
    for g, group in enumerate(flow.enrollment.groups):
        for f in group:
            yield own, f.property_name, _numbered("enrollment filter", g, flow)
    for prop in sorted(flow.enrollment.re_enroll_on):
        yield own, prop, "re-enrollment trigger"
    for action_id, action in flow.actions.items():
        if isinstance(action, StaticBranch):
            yield own, action.property_name, f"action {action_id} branches on it"
        elif isinstance(action, SetProperty):
            yield from _set_occurrences(flow, to_types, action_id, action)


def _set_occurrences(flow: Flow, to_types: Mapping[int, str], action_id: str,
                     action: SetProperty) -> Iterator[tuple[str, str, str]]:
    own = flow.object_type
    if action.target is None:
        yield own, action.property_name, f"action {action_id} writes it"
    elif action.target.type_id in to_types:
        yield (to_types[action.target.type_id], action.property_name,
               f"action {action_id} writes it on associated records")
    if isinstance(action.value, EnrolledProperty):
        yield own, action.value.name, f"action {action_id} copies it"
    elif isinstance(action.value, FetchedProperty):
        source = flow.sources[action.value.source]
        yield (FLOW_OBJECT_TYPES[source.object_type_id], action.value.name,
               f"action {action_id} copies it from data source {source.name}")


def _numbered(what: str, index: int, flow: Flow) -> str:
    return f"{what} (branch {index + 1})" if len(flow.enrollment.groups) > 1 else what


def object_types_using(flow: Flow, to_types: Mapping[int, str], name: str) -> list[str]:
    """The object types whose property ``name`` the flow uses, sorted."""
    return sorted({ot for ot, prop, _ in occurrences(flow, to_types) if prop == name})


def replaced_definition(definition: Mapping[str, Any], flow: Flow, to_types: Mapping[int, str],
                        replacement: Replacement) -> dict[str, Any]:
    """A copy of the stored ``definition`` of ``flow`` with every occurrence of
    ``replacement.old`` of ``replacement.object_type`` naming ``replacement.new`` instead
    (occurrences of a property of that name on another object type are left alone)."""
    out = copy.deepcopy(dict(definition))
    old, new, ot = replacement.old, replacement.new, replacement.object_type
    criteria = out.get("enrollmentCriteria") or {}
    if flow.object_type == ot:
        if criteria.get("listFilterBranch"):
            _rename_filters(criteria["listFilterBranch"], old, new)
        for trigger in criteria.get("reEnrollmentTriggersFilterBranches") or []:
            _rename_trigger(trigger, old, new)
    source_types = {s["name"]: FLOW_OBJECT_TYPES.get(s.get("objectTypeId", ""))
                    for s in out.get("dataSources") or []}
    for action in out.get("actions") or []:
        _rename_action(action, flow.object_type, source_types, to_types, replacement)
    return out


def _rename_filters(branch: dict[str, Any], old: str, new: str) -> None:
    for f in branch.get("filters") or []:
        if f.get("filterType") == "PROPERTY" and f.get("property") == old:
            f["property"] = new
    for sub in branch.get("filterBranches") or []:
        _rename_filters(sub, old, new)


def _rename_trigger(branch: dict[str, Any], old: str, new: str) -> None:
    if branch.get("filterBranchType") != "UNIFIED_EVENTS":
        _rename_filters(branch, old, new)
        return
    if branch.get("eventTypeId") != PROPERTY_CHANGED_EVENT:
        return
    for f in branch.get("filters") or []:
        op = f.get("operation") or {}
        if f.get("property") == "hs_name" and isinstance(op.get("values"), list):
            op["values"] = list(dict.fromkeys(new if v == old else v for v in op["values"]))
        if f.get("property") == "hs_name" and op.get("value") == old:
            op["value"] = new


def _rename_action(action: dict[str, Any], own: str, source_types: Mapping[str, str | None],
                   to_types: Mapping[int, str], r: Replacement) -> None:
    if action.get("type") == "STATIC_BRANCH":
        value = action.get("inputValue") or {}
        if own == r.object_type and value.get("propertyName") == r.old:
            value["propertyName"] = r.new
        return
    fields = action.get("fields") or {}
    if "property_name" not in fields:
        return
    association = fields.get("association")
    written_type = own if association is None else to_types.get(
        association.get("associationTypeId"))
    if written_type == r.object_type and fields["property_name"] == r.old:
        fields["property_name"] = r.new
    value = fields.get("value") or {}
    if value.get("type") == "OBJECT_PROPERTY" and own == r.object_type and \
            value.get("propertyName") == r.old:
        value["propertyName"] = r.new
    if value.get("type") == "FETCHED_OBJECT_PROPERTY":
        source, _, prop = str(value.get("propertyToken", "")).strip("{} ").partition(".")
        if source_types.get(source.strip()) == r.object_type and prop.strip() == r.old:
            value["propertyToken"] = "{{ " + source.strip() + "." + r.new + " }}"
