"""The workflow editor's model: a flow as rows a page can show, and the Automation v4 JSON
it stands for, both ways (pure).

``to_definition`` spells a ``FlowForm`` as the JSON ``POST /automation/v4/flows`` takes,
so a flow made in the editor reads back identically through the API. ``from_definition``
reads a stored definition back into a form only when the form spells it again exactly:
a flow with any part the editor cannot show (a branch, a second value in a filter, a data
source shared by two actions...) gives ``None`` and is shown read-only, never silently
changed by a save.

What the editor shows:
- enrollment: by hand only, or when a record meets conditions (property, operator, value;
  the conditions of a group AND-ed, the groups OR-ed), re-enrolling when chosen properties
  change;
- steps in order: set a property to a value; copy a property of the enrolled record; copy
  a property of an associated record (by one association type, the first or last
  created); copy a property to the associated records (by one association type); wait.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from propsync.domain.errors import ValidationError
from propsync.domain.objects import OBJECT_TYPES
from propsync.domain.workflow_shape import stored_definition
from propsync.domain.workflows import (
    DELAY,
    FLOW_OBJECT_TYPES,
    PROPERTY_CHANGED_EVENT,
    SET_PROPERTY,
    Delay,
    EnrolledProperty,
    FetchedProperty,
    SetProperty,
    StaticValue,
    parse_flow,
    successors,
)

# The operators a condition offers, in the words the editor shows them.
OPERATORS = {"IS_EQUAL_TO": "is", "IS_NOT_EQUAL_TO": "is not", "CONTAINS": "contains",
             "DOES_NOT_CONTAIN": "does not contain", "IS_GREATER_THAN": "is greater than",
             "IS_GREATER_THAN_OR_EQUAL_TO": "is at least", "IS_LESS_THAN": "is less than",
             "IS_LESS_THAN_OR_EQUAL_TO": "is at most", "IS_KNOWN": "is known",
             "IS_UNKNOWN": "is unknown"}
NO_VALUE = ("IS_KNOWN", "IS_UNKNOWN")
_COMPARING = ("IS_GREATER_THAN", "IS_GREATER_THAN_OR_EQUAL_TO", "IS_LESS_THAN",
              "IS_LESS_THAN_OR_EQUAL_TO")
_BY_TYPE = {"number": ("IS_EQUAL_TO", "IS_NOT_EQUAL_TO", *_COMPARING),
            "date": ("IS_EQUAL_TO", "IS_NOT_EQUAL_TO", *_COMPARING),
            "datetime": ("IS_EQUAL_TO", "IS_NOT_EQUAL_TO", *_COMPARING),
            "enumeration": ("IS_EQUAL_TO", "IS_NOT_EQUAL_TO"),
            "bool": ("IS_EQUAL_TO", "IS_NOT_EQUAL_TO")}
_TEXT_OPERATORS = ("IS_EQUAL_TO", "IS_NOT_EQUAL_TO", "CONTAINS", "DOES_NOT_CONTAIN")
# What a step does, in the words the editor's "Add" menu shows.
STEP_KINDS = {"set": "Set a property to a value",
              "copy": "Copy a property of the enrolled record",
              "fetch": "Copy a property from an associated record",
              "copy_to": "Copy a property to associated records",
              "delay": "Wait"}
UNITS = {"MINUTES": "minutes", "HOURS": "hours", "DAYS": "days"}
TYPE_IDS = {name: t.type_id for name, t in OBJECT_TYPES.items()}
MAX_GROUPS, MAX_CONDITIONS, MAX_STEPS = 25, 100, 100


def operators_for(property_type: str) -> tuple[str, ...]:
    """The operators a condition on a property of this type offers."""
    return (*_BY_TYPE.get(property_type, _TEXT_OPERATORS), *NO_VALUE)


@dataclass(frozen=True)
class Condition:
    property: str = ""
    operator: str = "IS_EQUAL_TO"
    value: str = ""


@dataclass(frozen=True)
class Step:
    """One action. ``target`` is the property written (for ``copy_to`` on the associated
    records), ``source`` the one read (for ``fetch`` on the associated record);
    ``association`` is ``"<objectType>:<category>:<typeId>"``."""

    kind: str
    action_id: str = ""
    target: str = ""
    value: str = ""
    source: str = ""
    association: str = ""
    last_created: bool = False
    source_name: str = ""
    delay: str = ""
    unit: str = "MINUTES"

    @property
    def associated_type(self) -> str:
        """The object type of the associated records the step reads or writes."""
        return self.association.split(":", 1)[0] if self.association else ""


@dataclass(frozen=True)
class FlowForm:
    name: str = ""
    object_type: str = "contacts"
    manual: bool = False
    groups: tuple[tuple[Condition, ...], ...] = ((Condition(),),)
    re_enroll_on: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()


def association_key(object_type: str, category: str, type_id: int) -> str:
    return f"{object_type}:{category}:{type_id}"


def parse_association(key: str) -> tuple[str, str, int] | None:
    parts = key.split(":")
    if len(parts) != 3 or parts[0] not in OBJECT_TYPES or not parts[2].isascii() \
            or not parts[2].isdigit() or len(parts[2]) > 9:
        return None
    return parts[0], parts[1], int(parts[2])


# --- the form as JSON --------------------------------------------------------------------

def to_definition(form: FlowForm, property_types: Mapping[str, str]) -> dict[str, Any]:
    """The flow definition the form stands for (without ``isEnabled``, which only turning
    the flow on and off changes). ``property_types``: the enrolled type's properties."""
    ids = action_ids(form.steps)
    names = source_names(form.steps)
    actions = [_action(s, ids[i], ids[i + 1] if i + 1 < len(ids) else None, names[i])
               for i, s in enumerate(form.steps)]
    body: dict[str, Any] = {
        "type": "CONTACT_FLOW" if form.object_type == "contacts" else "PLATFORM_FLOW",
        "objectTypeId": TYPE_IDS[form.object_type], "flowType": "WORKFLOW",
        "name": form.name, "actions": actions,
        "enrollmentCriteria": _enrollment(form, property_types),
        "dataSources": _data_sources(form.steps, names),
        "blockedDates": [], "timeWindows": [], "customProperties": {}}
    if ids:
        body["startActionId"] = ids[0]
    if form.object_type == "contacts":
        body.update(suppressionListIds=[], canEnrollFromSalesforce=False)
    return body


def action_ids(steps: tuple[Step, ...]) -> list[str]:
    """Each step's action id: the one it had, else the next number no step uses."""
    used = {s.action_id for s in steps if s.action_id}
    numbers = [int(i) for i in used if i.isascii() and i.isdigit() and len(i) < 10]
    counter = max(numbers, default=0)
    out, seen = [], set()
    for s in steps:
        if s.action_id and s.action_id not in seen:
            out.append(s.action_id)
        else:
            counter += 1
            while str(counter) in used:
                counter += 1
            out.append(str(counter))
        seen.add(out[-1])
    return out


def source_names(steps: tuple[Step, ...]) -> list[str | None]:
    """Each ``fetch`` step's data source name (the one it had unless another step with a
    different source took it first); ``None`` for other steps."""
    taken: dict[str, str] = {}  # name -> association and order it stands for
    out: list[str | None] = []
    for i, s in enumerate(steps):
        if s.kind != "fetch":
            out.append(None)
            continue
        spec = f"{s.association}/{s.last_created}"
        name = s.source_name if re.fullmatch(r"[A-Za-z0-9_]{1,100}", s.source_name) else ""
        if not name or taken.get(name, spec) != spec:
            name = _fresh_name(s, taken, i)
        taken[name] = spec
        out.append(name)
    return out


def _fresh_name(step: Step, taken: Mapping[str, str], index: int) -> str:
    singular = OBJECT_TYPES[step.associated_type].singular if step.associated_type in \
        OBJECT_TYPES else "record"
    name = f"associated_{singular}_{index + 1}"
    while name in taken:
        name += "_"
    return name


def _action(s: Step, action_id: str, next_id: str | None, source: str | None
            ) -> dict[str, Any]:
    if s.kind == "delay":
        fields: dict[str, Any] = {"delta": s.delay, "time_unit": s.unit}
        type_id = DELAY
    else:
        fields = {"property_name": s.target, "value": _value(s, source)}
        type_id = SET_PROPERTY
        if s.kind == "copy_to":
            found = parse_association(s.association)
            category, assoc_id = (found[1], found[2]) if found else ("", 0)
            fields["association"] = {"associationCategory": category,
                                     "associationTypeId": assoc_id}
    action: dict[str, Any] = {"type": "SINGLE_CONNECTION", "actionId": action_id,
                              "actionTypeId": type_id, "actionTypeVersion": 0,
                              "fields": fields}
    if next_id is not None:
        action["connection"] = {"edgeType": "STANDARD", "nextActionId": next_id}
    return action


def _value(s: Step, source: str | None) -> dict[str, Any]:
    if s.kind == "set":
        return {"type": "STATIC_VALUE", "staticValue": s.value}
    if s.kind == "fetch":
        return {"type": "FETCHED_OBJECT_PROPERTY",
                "propertyToken": f"{{{{ {source}.{s.source} }}}}"}
    return {"type": "OBJECT_PROPERTY", "propertyName": s.source}


def _data_sources(steps: tuple[Step, ...], names: list[str | None]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for s, name in zip(steps, names, strict=True):
        if name is None or name in out:
            continue
        found = parse_association(s.association)
        ot, category, type_id = found if found else ("", "", 0)
        out[name] = {"type": "ASSOCIATION", "name": name,
                     "objectTypeId": TYPE_IDS.get(ot, ""), "associationCategory": category,
                     "associationTypeId": type_id,
                     "sortBy": {"property": "createdate",
                                "order": "DESC" if s.last_created else "ASC"}}
    return list(out.values())


def _enrollment(form: FlowForm, types: Mapping[str, str]) -> dict[str, Any]:
    if form.manual:
        return {"type": "MANUAL", "shouldReEnroll": False}
    groups = [{"filterBranchType": "AND", "filterBranchOperator": "AND", "filterBranches": [],
               "filters": [_filter(c, types.get(c.property, "string")) for c in g]}
              for g in form.groups]
    return {"type": "LIST_BASED", "shouldReEnroll": bool(form.re_enroll_on),
            "unEnrollObjectsNotMeetingCriteria": False,
            "listFilterBranch": {"filterBranchType": "OR", "filterBranchOperator": "OR",
                                 "filterBranches": groups, "filters": []},
            "reEnrollmentTriggersFilterBranches": [_trigger(n) for n in form.re_enroll_on]}


def _filter(c: Condition, property_type: str) -> dict[str, Any]:
    operation: dict[str, Any] = {"operator": c.operator, "includeObjectsWithNoValueSet": False}
    if c.operator in NO_VALUE:
        operation["operationType"] = "ALL_PROPERTY"
    elif property_type == "enumeration":
        operation.update(operationType="ENUMERATION", values=[c.value], operator=(
            "IS_ANY_OF" if c.operator == "IS_EQUAL_TO" else "IS_NONE_OF"))
    elif property_type == "number":
        operation.update(operationType="NUMBER", value=_number(c.value))
    elif property_type == "bool":
        operation.update(operationType="BOOL", value=c.value.lower() == "true")
    else:
        operation.update(operationType="STRING", value=c.value)
    return {"filterType": "PROPERTY", "property": c.property, "operation": operation}


def _number(text: str) -> int | float | str:
    """A number as JSON spells it; text that is no number stays text (and is refused)."""
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() \
        else number


def _trigger(name: str) -> dict[str, Any]:
    return {"filterBranchType": "UNIFIED_EVENTS", "filterBranchOperator": "AND",
            "eventTypeId": PROPERTY_CHANGED_EVENT, "operator": "HAS_COMPLETED",
            "filterBranches": [], "filters": [
                {"filterType": "PROPERTY", "property": "hs_name", "operation": {
                    "operationType": "STRING", "operator": "IS_EQUAL_TO", "value": name,
                    "includeObjectsWithNoValueSet": False}}]}


# --- JSON as a form --------------------------------------------------------------------------

def from_definition(definition: Mapping[str, Any], property_types: Mapping[str, str],
                    association_types: Mapping[tuple[str, int], str]) -> FlowForm | None:
    """The form that spells ``definition`` exactly, or ``None`` when the editor cannot show
    all of it. ``association_types``: (category, type id) → the object type it leads to,
    from the flow's object type."""
    body = {k: v for k, v in definition.items() if k != "isEnabled"}
    try:
        flow = parse_flow(body)
        raw_actions = {a["actionId"]: a for a in body.get("actions") or []}
        form = FlowForm(name=flow.name, object_type=flow.object_type,
                        **_read_enrollment(body.get("enrollmentCriteria")),
                        steps=_read_steps(flow, raw_actions, association_types))
    except (ValidationError, KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None
    if not is_shown(form, property_types):
        return None
    try:  # compared as stored: both with the members HubSpot answers filled in
        again = stored_definition(to_definition(form, property_types))
    except (KeyError, TypeError, ValueError):
        return None
    return form if again == stored_definition(body) else None


def is_shown(form: FlowForm, property_types: Mapping[str, str]) -> bool:
    """Whether every choice of the form is one the editor's menus offer."""
    operators_fit = all(c.operator in operators_for(property_types.get(c.property, "string"))
                        for g in form.groups for c in g)
    return operators_fit and all(s.unit in UNITS for s in form.steps)


def _read_enrollment(raw: Any) -> dict[str, Any]:
    if raw is None or raw.get("type") == "MANUAL":
        return {"manual": True, "groups": ((Condition(),),)}
    branch = raw["listFilterBranch"]
    groups = tuple(tuple(_read_filter(f) for f in g["filters"])
                   for g in branch["filterBranches"])
    names = tuple(t["filters"][0]["operation"]["value"]
                  for t in raw.get("reEnrollmentTriggersFilterBranches") or [])
    return {"manual": False, "groups": groups, "re_enroll_on": names}


def _read_filter(raw: Mapping[str, Any]) -> Condition:
    op = raw["operation"]
    operator = {"IS_ANY_OF": "IS_EQUAL_TO", "IS_NONE_OF": "IS_NOT_EQUAL_TO"}.get(
        op["operator"], op["operator"])
    if op["operator"] in ("IS_ANY_OF", "IS_NONE_OF"):
        values = op["values"]
        value = values[0] if len(values) == 1 else None
    else:
        value = op.get("value", "")
    if not isinstance(value, (str, int, float)):
        raise ValueError("a value the editor cannot show")
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return Condition(str(raw["property"]), operator, text)


def _read_steps(flow: Any, raw_actions: Mapping[str, Any],
                association_types: Mapping[tuple[str, int], str]) -> tuple[Step, ...]:
    """The actions in the order they run; a flow that branches is not a list of steps."""
    steps: list[Step] = []
    at = flow.start_action_id
    while at is not None:
        action = flow.actions[at]
        if isinstance(action, Delay):
            fields = raw_actions[at]["fields"]
            steps.append(Step("delay", at, delay=str(fields["delta"]),
                              unit=str(fields["time_unit"])))
        else:
            steps.append(_read_step(action, flow, association_types))
        following = successors(action)
        at = following[0] if following else None
    if len(steps) != len(flow.actions):
        raise ValueError("actions that never run")
    return tuple(steps)


def _read_step(action: Any, flow: Any, association_types: Mapping[tuple[str, int], str]
               ) -> Step:
    if not isinstance(action, SetProperty):
        raise ValueError("a branch")
    value, base = action.value, Step("set", action.action_id, action.property_name)
    if action.target is not None:
        ot = association_types[(action.target.category, action.target.type_id)]
        if not isinstance(value, EnrolledProperty):
            raise ValueError("a copy to associated records of anything but a property")
        return replace(base, kind="copy_to", source=value.name, association=association_key(
            ot, action.target.category, action.target.type_id))
    if isinstance(value, StaticValue):
        return replace(base, value=value.text)
    if isinstance(value, EnrolledProperty):
        return replace(base, kind="copy", source=value.name)
    assert isinstance(value, FetchedProperty)
    src = flow.sources[value.source]
    return replace(base, kind="fetch", source=value.name, source_name=src.name,
                   last_created=src.last_created, association=association_key(
                       FLOW_OBJECT_TYPES[src.object_type_id], src.category, src.type_id))


# --- conditions alone, for the other editors that filter records (reports) -------------------

def filter_branch(groups: tuple[tuple[Condition, ...], ...], property_types: Mapping[str, str]
                  ) -> dict[str, Any] | None:
    """Condition groups as HubSpot's list filter branch (an OR of AND branches); ``None``
    when no condition names a property. Conditions without a property are left out."""
    named = tuple(tuple(c for c in g if c.property) for g in groups)
    if not any(named):
        return None
    form = FlowForm(name="", object_type="contacts", manual=False,
                    groups=tuple(g for g in named if g))
    branch: dict[str, Any] = _enrollment(form, property_types)["listFilterBranch"]
    return branch


def conditions_of(branch: Mapping[str, Any] | None) -> tuple[tuple[Condition, ...], ...] | None:
    """The condition groups that spell ``branch`` (what ``filter_branch`` writes), or
    ``None`` when the form's rows cannot show it."""
    if branch is None:
        return ((Condition(),),)
    try:
        groups: tuple[tuple[Condition, ...], ...] = _read_enrollment(
            {"type": "LIST_BASED", "listFilterBranch": branch})["groups"]
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None
    return groups or ((Condition(),),)
