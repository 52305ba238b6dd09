"""Workflows in the shape of HubSpot's Automation v4 API: the supported subset, read from a
flow definition (pure).

``parse_flow`` reads a flow's JSON (``POST``/``PUT /automation/v4/flows``, or the output of
``GET /automation/v4/flows/{id}`` on a real HubSpot portal) into a ``Flow``; every part
outside the subset is a ``ValidationError`` naming the part (``UNSUPPORTED_…`` codes), never
silently ignored. Names are checked against an account (properties exist, types fit, no
sync property is written) by ``services/workflows.py``, not here.

The subset:
- ``CONTACT_FLOW`` (contacts) and ``PLATFORM_FLOW`` with ``objectTypeId`` 0-1, 0-2, 0-3 or 0-5;
- enrollment ``LIST_BASED`` (an OR of AND branches of ``PROPERTY`` filters on the enrolled
  record, with search's semantics; ``shouldReEnroll`` with re-enrollment triggers on property
  changes) or ``MANUAL``;
- actions: ``SINGLE_CONNECTION`` ``0-5`` (set a property: a static value, the enrolled
  record's property, or a property fetched through an ``ASSOCIATION`` data source; on the
  enrolled record or on its associated records of one association type), ``0-1`` (delay),
  ``STATIC_BRANCH`` on an enrolled record's property.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from propsync.domain.filter_branches import (
    Reader,
    as_text,
    branch_groups,
    filters,
    is_key,
    scalar,
)
from propsync.domain.filters import Filter

SET_PROPERTY = "0-5"
DELAY = "0-1"
# HubSpot's event type "property value changed": a re-enrollment trigger on it names the
# properties in a filter on ``hs_name``.
PROPERTY_CHANGED_EVENT = "4-655002"
FLOW_OBJECT_TYPES = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets"}
CREATED_PROPERTIES = ("createdate", "hs_createdate")
MAX_GROUPS, MAX_FILTERS, MAX_ACTIONS = 25, 100, 100
MAX_NAME_LENGTH = 200  # the width of the stored name
# A delay's units in milliseconds (HubSpot's ``time_unit``s that make sense for a delay).
_UNITS_MS = {"SECONDS": 1_000, "MINUTES": 60_000, "HOURS": 3_600_000, "DAYS": 86_400_000,
             "WEEKS": 604_800_000}
MAX_DELAY_MS = 366 * 86_400_000
_TOKEN = re.compile(r"^\{\{\s*([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\s*\}\}$")


# --- the model -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrollment:
    """Who enrolls: ``LIST_BASED`` records meeting ``groups`` (an OR of AND groups), or
    only those enrolled by hand (``MANUAL``, ``groups`` empty)."""

    kind: str  # LIST_BASED / MANUAL
    groups: tuple[tuple[Filter, ...], ...] = ()
    should_re_enroll: bool = False
    re_enroll_on: frozenset[str] = frozenset()  # properties whose change re-enrolls
    unenroll_not_meeting: bool = False

    @property
    def properties(self) -> frozenset[str]:
        """Every property whose change can enroll a record."""
        return frozenset(f.property_name for g in self.groups for f in g) | self.re_enroll_on


@dataclass(frozen=True)
class AssociationSource:
    """An ``ASSOCIATION`` data source: the enrolled record's associated record of
    ``object_type_id`` by one association type, the first or last created."""

    name: str
    object_type_id: str
    category: str  # HUBSPOT_DEFINED / USER_DEFINED / INTEGRATOR_DEFINED
    type_id: int
    last_created: bool  # sortBy createdate DESC


@dataclass(frozen=True)
class StaticValue:
    text: str


@dataclass(frozen=True)
class EnrolledProperty:
    """``OBJECT_PROPERTY``: a property of the enrolled record."""

    name: str


@dataclass(frozen=True)
class FetchedProperty:
    """``FETCHED_OBJECT_PROPERTY``: a property of the record a data source fetched."""

    source: str
    name: str


Value = StaticValue | EnrolledProperty | FetchedProperty


@dataclass(frozen=True)
class AssociatedTarget:
    """Write to every record associated with the enrolled one by this type (copy "to")."""

    category: str
    type_id: int


@dataclass(frozen=True)
class SetProperty:
    action_id: str
    property_name: str
    value: Value
    target: AssociatedTarget | None  # None: the enrolled record
    next_id: str | None


@dataclass(frozen=True)
class Delay:
    action_id: str
    delay_ms: int
    next_id: str | None


@dataclass(frozen=True)
class StaticBranch:
    """Go on by the enrolled record's ``property_name``: to the branch whose value equals
    it, else to ``default_next`` (``None``: the enrollment ends)."""

    action_id: str
    property_name: str
    branches: tuple[tuple[str, str | None], ...]  # (value, next action id)
    default_next: str | None


Action = SetProperty | Delay | StaticBranch


@dataclass(frozen=True)
class Flow:
    """What propsync runs of a flow definition."""

    object_type: str  # contacts / companies / deals / tickets
    object_type_id: str
    flow_type: str  # CONTACT_FLOW / PLATFORM_FLOW
    name: str
    enabled: bool
    enrollment: Enrollment
    sources: Mapping[str, AssociationSource]
    actions: Mapping[str, Action]
    start_action_id: str | None

    def association_type_ids(self) -> frozenset[int]:
        """Every association type the flow reads through or writes through."""
        return frozenset({s.type_id for s in self.sources.values()} | {
            a.target.type_id for a in self.actions.values()
            if isinstance(a, SetProperty) and a.target is not None})

    def written_properties(self) -> list[tuple[AssociatedTarget | None, str]]:
        """Every (where, property) an action of this flow writes."""
        return [(a.target, a.property_name) for a in self.actions.values()
                if isinstance(a, SetProperty)]

    def read_properties(self) -> list[tuple[str | None, str]]:
        """Every (data source name or ``None`` for the enrolled record, property) read."""
        out: list[tuple[str | None, str]] = [(None, p) for p in sorted(self.enrollment.properties)]
        for a in self.actions.values():
            if isinstance(a, SetProperty) and isinstance(a.value, EnrolledProperty):
                out.append((None, a.value.name))
            elif isinstance(a, SetProperty) and isinstance(a.value, FetchedProperty):
                out.append((a.value.source, a.value.name))
            elif isinstance(a, StaticBranch):
                out.append((None, a.property_name))
        return out


# --- reading a definition --------------------------------------------------------------------

FLOWS = Reader("propsync's workflows", "UNSUPPORTED_FLOW_PART", "INVALID_FLOW", MAX_GROUPS,
              MAX_FILTERS)
unsupported, invalid = FLOWS.unsupported, FLOWS.invalid


def parse_flow(body: Mapping[str, Any]) -> Flow:
    """The supported subset of a flow definition, or a ``ValidationError`` naming the first
    part outside it."""
    if not isinstance(body, Mapping):
        raise invalid("body", "a flow is a JSON object.")
    flow_type, object_type_id = _kind(body)
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid("name", "the name is a string.")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise invalid("name", f"a name has at most {MAX_NAME_LENGTH} characters.")
    enabled = body.get("isEnabled", False)
    if not isinstance(enabled, bool):
        raise invalid("isEnabled", "isEnabled is true or false.")
    _check_extras(body)
    sources = _sources(body.get("dataSources") or [])
    actions = _actions(body.get("actions") or [], sources)
    start = body.get("startActionId")
    if start is not None and (not isinstance(start, str) or start not in actions):
        raise invalid("startActionId", f"no action has the id {start!r}.")
    if start is None and actions:
        start = _first_action(actions)
    _check_graph(actions, start)
    return Flow(FLOW_OBJECT_TYPES[object_type_id], object_type_id, flow_type,
                name or "", enabled, _enrollment(body.get("enrollmentCriteria")), sources,
                actions, start)


def _kind(body: Mapping[str, Any]) -> tuple[str, str]:
    """The flow type and object type id, and no part propsync does not run."""
    flow_type, object_type_id = body.get("type"), body.get("objectTypeId")
    if flow_type not in ("CONTACT_FLOW", "PLATFORM_FLOW"):
        raise unsupported("type", f"flow type {flow_type!r}")
    if not is_key(object_type_id, FLOW_OBJECT_TYPES):
        raise unsupported("objectTypeId", f"object type {object_type_id!r} (use one of "
                          f"{', '.join(FLOW_OBJECT_TYPES)})")
    if flow_type == "CONTACT_FLOW" and object_type_id != "0-1":
        raise invalid("objectTypeId", "a CONTACT_FLOW enrolls contacts (0-1).")
    if body.get("flowType", "WORKFLOW") != "WORKFLOW":
        raise unsupported("flowType", f"flowType {body.get('flowType')!r}")
    for key in ("blockedDates", "timeWindows", "suppressionListIds", "goalFilterBranch",
                "eventAnchor", "enrollmentSchedule", "unEnrollmentSetting",
                "suppressionFilterBranch"):
        if body.get(key):
            raise unsupported(key, f"a non-empty {key!r}")
    return str(flow_type), str(object_type_id)


def _check_extras(body: Mapping[str, Any]) -> None:
    """The members propsync keeps and shows but does not run have HubSpot's types."""
    if body.get("description") is not None and not isinstance(body["description"], str):
        raise invalid("description", "the description is a string.")
    custom = body.get("customProperties")
    if custom is not None and not (isinstance(custom, Mapping) and all(
            isinstance(v, str) for v in custom.values())):
        raise invalid("customProperties", "custom properties map names to strings.")
    if not isinstance(body.get("canEnrollFromSalesforce", False), bool):
        raise invalid("canEnrollFromSalesforce", "it is true or false.")


def _enrollment(raw: Any) -> Enrollment:
    if raw is None:
        return Enrollment("MANUAL")
    if not isinstance(raw, Mapping):
        raise invalid("enrollmentCriteria", "enrollment criteria are a JSON object.")
    kind = raw.get("type")
    re_enroll = raw.get("shouldReEnroll", False)
    if not isinstance(re_enroll, bool):
        raise invalid("enrollmentCriteria.shouldReEnroll", "shouldReEnroll is true or false.")
    if kind == "MANUAL":
        return Enrollment("MANUAL", should_re_enroll=re_enroll)
    if kind != "LIST_BASED":
        raise unsupported("enrollmentCriteria.type", f"enrollment type {kind!r} (use "
                          "LIST_BASED or MANUAL)")
    return _list_based(raw, re_enroll)


def _list_based(raw: Mapping[str, Any], re_enroll: bool) -> Enrollment:
    unenroll = raw.get("unEnrollObjectsNotMeetingCriteria", False)
    if not isinstance(unenroll, bool):
        raise invalid("enrollmentCriteria.unEnrollObjectsNotMeetingCriteria",
                      "it is true or false.")
    groups = branch_groups(raw.get("listFilterBranch"), "enrollmentCriteria.listFilterBranch",
                           FLOWS)
    if not groups:
        raise invalid("enrollmentCriteria.listFilterBranch",
                      "a LIST_BASED enrollment needs at least one filter.")
    triggers: set[str] = set()
    raw_triggers = raw.get("reEnrollmentTriggersFilterBranches") or []
    if not isinstance(raw_triggers, list):
        raise invalid("enrollmentCriteria.reEnrollmentTriggersFilterBranches", "a list.")
    for i, trigger in enumerate(raw_triggers):
        triggers |= _trigger(trigger, f"enrollmentCriteria.reEnrollmentTriggersFilterBranches[{i}]")
    if triggers and not re_enroll:
        raise invalid("enrollmentCriteria.shouldReEnroll",
                      "re-enrollment triggers need shouldReEnroll: true.")
    return Enrollment("LIST_BASED", groups, re_enroll, frozenset(triggers), unenroll)


def _trigger(raw: Any, path: str) -> set[str]:
    """The properties whose change re-enrolls: a ``UNIFIED_EVENTS`` branch on "property value
    changed" (4-655002) naming them in an ``hs_name`` filter, or an AND branch of PROPERTY
    filters (a change of one of them re-enrolls a record that meets the criteria)."""
    if not isinstance(raw, Mapping):
        raise invalid(path, "a trigger is a filter branch.")
    kind = raw.get("filterBranchType")
    if kind == "AND" and not raw.get("filterBranches"):
        return {f.property_name for f in filters(raw.get("filters") or [], path, FLOWS)}
    if kind != "UNIFIED_EVENTS":
        raise unsupported(f"{path}.filterBranchType", f"re-enrollment trigger {kind!r}")
    if raw.get("eventTypeId") != PROPERTY_CHANGED_EVENT:
        raise unsupported(f"{path}.eventTypeId", f"event {raw.get('eventTypeId')!r} (only "
                          f"property value changes, {PROPERTY_CHANGED_EVENT})")
    if raw.get("filterBranches") or raw.get("coalescingRefineBy") or raw.get("pruningRefineBy"):
        raise unsupported(path, "refinements of a property-change trigger")
    if raw.get("operator", "HAS_COMPLETED") != "HAS_COMPLETED":
        raise unsupported(f"{path}.operator", f"event operator {raw.get('operator')!r} (only "
                          "HAS_COMPLETED: the property changed)")
    names: set[str] = set()
    for i, f in enumerate(raw.get("filters") or []):
        names.update(_changed_names(f, f"{path}.filters[{i}]"))
    if not names:
        raise invalid(path, "a property-change trigger names at least one property.")
    return names


def _changed_names(f: Any, path: str) -> list[str]:
    """The property names an ``hs_name`` filter of a property-change trigger names."""
    if not isinstance(f, Mapping) or f.get("property") != "hs_name":
        raise unsupported(path, "a property-change filter other than on hs_name")
    op = f.get("operation")
    if not isinstance(op, Mapping) or op.get("operator") not in ("IS_EQUAL_TO", "IS_ANY_OF"):
        raise unsupported(f"{path}.operation", "an hs_name filter other than IS_EQUAL_TO")
    if op.get("operationType") not in ("STRING", "MULTISTRING", "ENUMERATION"):
        raise invalid(f"{path}.operation.operationType", "an hs_name filter's operationType "
                      "is MULTISTRING (or STRING).")
    raw_values = op.get("values") if op.get("values") is not None else [op.get("value")]
    if not isinstance(raw_values, list) or not all(isinstance(v, str) and v
                                                   for v in raw_values):
        raise invalid(f"{path}.operation", "names the properties whose change re-enrolls.")
    return list(raw_values)


def _sources(raw: Any) -> dict[str, AssociationSource]:
    if not isinstance(raw, list):
        raise invalid("dataSources", "data sources are a list.")
    out: dict[str, AssociationSource] = {}
    for i, s in enumerate(raw):
        path = f"dataSources[{i}]"
        if not isinstance(s, Mapping) or s.get("type") != "ASSOCIATION":
            kind = s.get("type") if isinstance(s, Mapping) else None
            raise unsupported(f"{path}.type", f"data source type {kind!r} (use ASSOCIATION)")
        name = s.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,100}", name):
            raise invalid(f"{path}.name", "a data source's name is 1-100 letters, digits, _.")
        if name in out:
            raise invalid(f"{path}.name", f"two data sources are called {name!r}.")
        object_type_id = s.get("objectTypeId")
        if not is_key(object_type_id, FLOW_OBJECT_TYPES):
            raise unsupported(f"{path}.objectTypeId", f"object type {object_type_id!r}")
        category, type_id = _association(s, path)
        out[name] = AssociationSource(name, object_type_id, category, type_id,
                                      _last_created(s.get("sortBy"), f"{path}.sortBy"))
    return out


def _association(raw: Mapping[str, Any], path: str) -> tuple[str, int]:
    category, type_id = raw.get("associationCategory"), raw.get("associationTypeId")
    if category not in ("HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"):
        raise unsupported(f"{path}.associationCategory", f"category {category!r}")
    if isinstance(type_id, bool) or not isinstance(type_id, int) or type_id <= 0:
        raise invalid(f"{path}.associationTypeId", "an association type id is a positive "
                      "integer.")
    return category, type_id


def _last_created(raw: Any, path: str) -> bool:
    """``sortBy`` createdate: ASC is the first created (also when absent), DESC the last."""
    if raw is None:
        return False
    if not isinstance(raw, Mapping) or raw.get("property") not in CREATED_PROPERTIES:
        raise unsupported(path, "a sort other than by createdate (first or last created)")
    if raw.get("order") not in ("ASC", "DESC"):
        raise invalid(f"{path}.order", "ASC (first created) or DESC (last created).")
    return bool(raw.get("order") == "DESC")


def _actions(raw: Any, sources: Mapping[str, AssociationSource]) -> dict[str, Action]:
    if not isinstance(raw, list):
        raise invalid("actions", "actions are a list.")
    if len(raw) > MAX_ACTIONS:
        raise invalid("actions", f"at most {MAX_ACTIONS} actions.")
    out: dict[str, Action] = {}
    for i, a in enumerate(raw):
        path = f"actions[{i}]"
        if not isinstance(a, Mapping):
            raise invalid(path, "an action is a JSON object.")
        action_id = a.get("actionId")
        if not isinstance(action_id, str) or not action_id or len(action_id) > 50:
            raise invalid(f"{path}.actionId", "an action has an id (1-50 characters).")
        if action_id in out:
            raise invalid(f"{path}.actionId", f"two actions have the id {action_id!r}.")
        out[action_id] = _action(a, path, action_id, sources)
    return out


def _action(a: Mapping[str, Any], path: str, action_id: str,
            sources: Mapping[str, AssociationSource]) -> Action:
    kind = a.get("type")
    if kind == "STATIC_BRANCH":
        return _static_branch(a, path, action_id)
    if kind != "SINGLE_CONNECTION":
        raise unsupported(f"{path}.type", f"action type {kind!r}")
    type_id = a.get("actionTypeId")
    fields = a.get("fields")
    if not isinstance(fields, Mapping):
        raise invalid(f"{path}.fields", "an action has fields.")
    next_id = _next(a.get("connection"), f"{path}.connection")
    _check_version(a.get("actionTypeVersion", 0), f"{path}.actionTypeVersion")
    if type_id == DELAY:
        return Delay(action_id, _delay_ms(fields, f"{path}.fields"), next_id)
    if type_id != SET_PROPERTY:
        raise unsupported(f"{path}.actionTypeId", f"action type {type_id!r} (propsync runs "
                          f"{SET_PROPERTY}, set a property value, and {DELAY}, delay)")
    unknown = set(fields) - {"property_name", "value", "association"}
    if unknown:
        raise unsupported(f"{path}.fields", f"the field(s) {', '.join(sorted(unknown))}")
    prop = fields.get("property_name")
    if not isinstance(prop, str) or not prop:
        raise invalid(f"{path}.fields.property_name", "names the property to set.")
    target = None
    if fields.get("association") is not None:
        if not isinstance(fields["association"], Mapping):
            raise invalid(f"{path}.fields.association", "an association is a JSON object.")
        target = AssociatedTarget(*_association(fields["association"],
                                                f"{path}.fields.association"))
    return SetProperty(action_id, prop, _value(fields.get("value"), f"{path}.fields.value",
                                               sources), target, next_id)


def _check_version(version: Any, path: str) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 2**31:
        raise invalid(path, "an action type version is a whole number.")


def _delay_ms(fields: Mapping[str, Any], path: str) -> int:
    unit, delta = fields.get("time_unit"), fields.get("delta")
    if not is_key(unit, _UNITS_MS):
        raise unsupported(f"{path}.time_unit", f"time unit {unit!r}")
    extra = set(fields) - {"delta", "time_unit"}
    if extra:
        raise unsupported(path, f"the field(s) {', '.join(sorted(extra))}")
    if isinstance(delta, bool) or not isinstance(delta, (str, int)):
        raise invalid(f"{path}.delta", "a delay is a whole number.")
    try:
        amount = int(str(delta))
    except ValueError:
        raise invalid(f"{path}.delta", "a delay is a whole number.") from None
    if not 0 <= amount * _UNITS_MS[unit] <= MAX_DELAY_MS:
        raise invalid(f"{path}.delta", "a delay is between 0 and 366 days.")
    return amount * _UNITS_MS[unit]


def _value(raw: Any, path: str, sources: Mapping[str, AssociationSource]) -> Value:
    if not isinstance(raw, Mapping):
        raise invalid(path, "the value to set is a JSON object.")
    kind = raw.get("type")
    if kind == "STATIC_VALUE":
        text = raw.get("staticValue")
        if not isinstance(text, str):
            raise invalid(f"{path}.staticValue", "a static value is a string.")
        return StaticValue(text)
    if kind == "OBJECT_PROPERTY":
        name = raw.get("propertyName")
        if not isinstance(name, str) or not name:
            raise invalid(f"{path}.propertyName", "names the enrolled record's property.")
        return EnrolledProperty(name)
    if kind == "FETCHED_OBJECT_PROPERTY":
        token = raw.get("propertyToken")
        match = _TOKEN.match(token) if isinstance(token, str) else None
        if match is None:
            raise invalid(f"{path}.propertyToken", "a property token reads "
                          "'{{ data_source_name.property_name }}'.")
        if match.group(1) not in sources:
            raise invalid(f"{path}.propertyToken", f"no data source is called "
                          f"{match.group(1)!r}.")
        return FetchedProperty(match.group(1), match.group(2))
    raise unsupported(f"{path}.type", f"value type {kind!r}")


def _static_branch(a: Mapping[str, Any], path: str, action_id: str) -> StaticBranch:
    value = a.get("inputValue")
    if not isinstance(value, Mapping) or value.get("type") != "OBJECT_PROPERTY" or \
            not isinstance(value.get("propertyName"), str):
        raise unsupported(f"{path}.inputValue", "a branch on anything but an enrolled "
                          "record's property (OBJECT_PROPERTY)")
    branches = []
    raw = a.get("staticBranches")
    if not isinstance(raw, list) or not raw:
        raise invalid(f"{path}.staticBranches", "a static branch has branches.")
    for i, b in enumerate(raw):
        if not isinstance(b, Mapping) or not scalar(b.get("branchValue")):
            raise invalid(f"{path}.staticBranches[{i}]", "a branch has a branchValue.")
        branches.append((as_text(b["branchValue"]),
                         _next(b.get("connection"), f"{path}.staticBranches[{i}].connection")))
    return StaticBranch(action_id, value["propertyName"], tuple(branches),
                        _next(a.get("defaultBranch"), f"{path}.defaultBranch"))


def _next(raw: Any, path: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("nextActionId"), str):
        raise invalid(path, "a connection names its nextActionId.")
    if raw.get("edgeType", "STANDARD") not in ("STANDARD", "GOTO"):
        raise invalid(f"{path}.edgeType", "STANDARD or GOTO.")
    return str(raw["nextActionId"])


def successors(action: Action) -> list[str]:
    if isinstance(action, StaticBranch):
        return [n for n in (*(b[1] for b in action.branches), action.default_next)
                if n is not None]
    return [action.next_id] if action.next_id is not None else []


def _first_action(actions: Mapping[str, Action]) -> str:
    """Without ``startActionId``, the action no other one leads to (HubSpot's graphs start
    at the action that is nobody's next)."""
    targets = {n for a in actions.values() for n in successors(a)}
    roots = [i for i in actions if i not in targets]
    if len(roots) != 1:
        raise invalid("startActionId", "name the first action (startActionId): "
                      f"{len(roots)} actions are nobody's next.")
    return roots[0]


def _check_graph(actions: Mapping[str, Action], start: str | None) -> None:
    """Every connection leads to an action, and no path loops (each enrollment ends)."""
    for action in actions.values():
        for n in successors(action):
            if n not in actions:
                raise invalid(f"actions[{action.action_id}]", f"leads to an unknown action "
                              f"{n!r}.")
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        if state.get(node) == 1:
            raise invalid(f"actions[{node}]", "the actions form a loop.", "FLOW_LOOP")
        if state.get(node) == 2:
            return
        state[node] = 1
        for n in successors(actions[node]):
            visit(n)
        state[node] = 2

    if start is not None:
        visit(start)
