"""The create-property wizard, in the help article's order.

Object type → basic info → field type (where *Property sync* is one choice) → source
object → source property → association labels (only when the two objects have labels)
→ which record to sync from (only when several can qualify) → Create. The state rides
along in hidden fields; each Next checks its own step, and nothing is stored before the
last step's Create, which goes through the same service as the API.

The same source steps redefine an existing sync property (source object → source
property → labels → record to sync from → a review that says how many records the change
recomputes, from ``sync_properties.preview_redefinition``), saved through the PATCH
service. Every Next either shows the next step or says, on the same step, why not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, RedirectResponse

from propsync.domain.associations import AssociationType
from propsync.domain.errors import NotFoundError, PropsyncError, ValidationError
from propsync.domain.objects import OBJECT_TYPES, resolve_object_type
from propsync.domain.properties import Option
from propsync.domain.sync_rule import Selection, is_single_valued
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services import property_groups as group_svc
from propsync.services import sync_properties as sync_svc
from propsync.services.names import propose_name
from propsync.services.sync_properties import SourceRequest
from propsync.web.core import Ctx, CtxDep, Form, FormDep, WebRoute, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)

TITLES = {"object": "Object type", "basics": "Basic info", "field": "Field type",
          "details": "Field details", "source_object": "Source object",
          "source_property": "Source property", "labels": "Association labels",
          "selection": "Record to sync from", "review": "Review the change"}
# key: (label, type, fieldType, what it is)
FIELD_TYPES: dict[str, tuple[str, str, str, str]] = {
    "text": ("Single-line text", "string", "text", "A short text, such as a code or a name."),
    "textarea": ("Multi-line text", "string", "textarea", "Longer text over several lines."),
    "number": ("Number", "number", "number", "A number, compared and sorted as one."),
    "date": ("Date picker", "date", "date", "A calendar date."),
    "booleancheckbox": ("Single checkbox", "bool", "booleancheckbox", "Yes or no."),
    "select": ("Dropdown select", "enumeration", "select", "One of a list of options."),
    "sync": ("Property sync", "", "", "Copies a property of an associated record and keeps "
             "it up to date automatically. Read-only on the record."),
}
SELECTIONS = {"FIRST_CREATED": ("First created", "Values sync from the oldest associated "
                                "record (with the chosen labels)."),
              "LAST_CREATED": ("Last created", "Values sync from the newest associated "
                               "record (with the chosen labels).")}


@dataclass(frozen=True)
class State:
    """Everything chosen so far; each step owns some of these fields."""

    object_type: str = ""
    label: str = ""
    name: str = ""
    group: str = ""
    description: str = ""
    field: str = ""
    options: str = ""
    source_type: str = ""
    source_property: str = ""
    labels_mode: str = ""
    label_ids: tuple[str, ...] = ()
    selection: str = ""

    @classmethod
    def from_form(cls, form: Form) -> State:
        values: dict[str, Any] = {f.name: form.get(f.name) for f in fields(cls)}
        values["label_ids"] = tuple(form.getlist("label_ids"))
        return cls(**values)


OWNS = {"object": ("object_type",), "basics": ("label", "name", "group", "description"),
        "field": ("field",), "details": ("options",), "source_object": ("source_type",),
        "source_property": ("source_property",), "labels": ("labels_mode", "label_ids"),
        "selection": ("selection",), "review": ()}


def labelled_types(ctx: Ctx, state: State) -> list[AssociationType]:
    """The labels from the target to the source object (the unlabeled default excluded)."""
    if not state.object_type or not state.source_type:
        return []
    return [t for t in label_svc.list_labels(ctx.engine, ctx.principal, state.object_type,
                                             state.source_type) if t.label]


def chosen_types(ctx: Ctx, state: State) -> list[AssociationType] | None:
    """The types the labels step chose, or ``None`` for all labels."""
    if state.labels_mode != "select":
        return None
    return [t for t in labelled_types(ctx, state) if str(t.type_id) in state.label_ids]


def steps(ctx: Ctx, state: State) -> list[str]:
    """The steps this state goes through, in order."""
    if state.field != "sync":
        return ["object", "basics", "field", "details"]
    return ["object", "basics", "field", *source_steps(ctx, state)]


def source_steps(ctx: Ctx, state: State) -> list[str]:
    """The steps that choose a sync property's source, in order."""
    found = ["source_object", "source_property"]
    if labelled_types(ctx, state):
        found.append("labels")
    chosen = chosen_types(ctx, state)
    if chosen is None or not is_single_valued(chosen):
        found.append("selection")
    return found


@dataclass(frozen=True)
class Flow:
    """Creating a property, or redefining the source of an existing sync property."""

    action: str  # where the steps post
    heading: str
    finish: str  # the last step's button
    cancel: str  # where Cancel leads
    redefining: bool = False

    def order(self, ctx: Ctx, state: State) -> list[str]:
        return [*source_steps(ctx, state), "review"] if self.redefining else steps(ctx, state)


def _creating(state: State) -> Flow:
    return Flow("/ui/settings/properties/new", "Create property", "Create",
                f"/ui/settings/properties?objectType={state.object_type}")


@router.get("/settings/propose-name")
def name_proposal(ctx: CtxDep, label: str = "") -> Response:
    """The internal name the server proposes for ``label`` (the page asks while one types,
    so that the browser shows exactly the name a blank field gets)."""
    return JSONResponse({"name": propose_name(label)})


@router.get("/settings/properties/new")
def wizard_start(ctx: CtxDep, objectType: str = "contacts") -> Response:
    ctx.principal.require_property_settings()
    start = State(object_type=objectType if objectType in OBJECT_TYPES else "contacts")
    return _show(ctx, _creating(start), start, "object", None)


@router.post("/settings/properties/new")
def wizard_step(ctx: CtxDep, form: FormDep) -> Response:
    ctx.principal.require_property_settings()
    state = State.from_form(form)
    return _step(ctx, _creating(state), state, form, _create)


def _step(ctx: Ctx, flow: Flow, state: State, form: Form,
          finish: Callable[[Ctx, State], Response]) -> Response:
    """One Next, Back or finish: the next step, the step before, the finished change, or
    this step again with a message that says why."""
    step, nav = form.get("step"), form.get("nav")
    order = flow.order(ctx, state)
    if step not in order:
        return _show(ctx, flow, state, order[0], "Start again from the first step.")
    if nav == "back":
        return _show(ctx, flow, state, order[max(order.index(step) - 1, 0)], None)
    try:
        state = CHECKS[step](ctx, state)
    except PropsyncError as exc:
        return _show(ctx, flow, state, step, exc.message)
    order = flow.order(ctx, state)
    if step != order[-1]:
        return _show(ctx, flow, state, order[order.index(step) + 1], None)
    if nav != "finish":  # this step turned out to be the last one: say so, ask to finish
        return _show(ctx, flow, state, step, None, notice=_now_last(state, flow))
    try:
        return finish(ctx, state)
    except PropsyncError as exc:
        return _show(ctx, flow, state, step, exc.message)


def _now_last(state: State, flow: Flow) -> str:
    source = OBJECT_TYPES[state.source_type].singular if state.source_type else "record"
    return (f"With these labels at most one {source} can qualify, so there is no record to "
            f"choose: this is the last step. Check it and press {flow.finish}.")


def _show(ctx: Ctx, flow: Flow, state: State, step: str, error: str | None,
          notice: str | None = None) -> Response:
    order = flow.order(ctx, state)
    choices: dict[str, Any] = {}
    try:
        choices = _choices(ctx, state, step)
    except PropsyncError as exc:  # the review found the change refused: say so before it
        if error is None and step == "review" and len(order) > 1:
            return _show(ctx, flow, state, order[-2], exc.message)
        raise
    return render(ctx.request, "wizard.html", status=400 if error else 200, state=state,
                  step=step, order=order, titles=TITLES, error=error, notice=notice,
                  last=step == order[-1], flow=flow, owned=OWNS[step],
                  hidden=_hidden(state, step), section="settings", **choices)


def _hidden(state: State, step: str) -> list[tuple[str, str]]:
    """``(name, value)`` of every state field the shown step does not ask for."""
    pairs: list[tuple[str, str]] = []
    for f in fields(State):
        if f.name in OWNS[step]:
            continue
        value = getattr(state, f.name)
        pairs += [(f.name, v) for v in value] if isinstance(value, tuple) else [(f.name, value)]
    return pairs


def _choices(ctx: Ctx, state: State, step: str) -> dict[str, Any]:
    if step == "basics":
        return {"groups": group_svc.list_groups(ctx.engine, ctx.principal, state.object_type),
                "name_typed": bool(state.name) and state.name != propose_name(state.label)}
    if step == "field":
        return {"field_types": FIELD_TYPES}
    if step == "source_property":
        views = prop_svc.list_properties(ctx.engine, ctx.principal, state.source_type)
        return {"sources": [(v.definition, _why_not(v.definition)) for v in views]}
    if step == "labels":
        return {"labels": labelled_types(ctx, state)}
    if step == "selection":
        return {"selections": SELECTIONS}
    if step == "details":
        return {"field_types": FIELD_TYPES}
    if step == "review":
        return {"preview": sync_svc.preview_redefinition(
            ctx.engine, ctx.principal, state.object_type, state.name, _source(ctx, state))}
    return {}


def _why_not(prop: Any) -> str | None:
    """Why a property cannot be a sync source, or ``None`` if it can."""
    if prop.access.is_restricted:
        return ("Restricted view or edit access: a sync property is visible to everyone, so "
                "it cannot copy restricted data.")
    if prop.calculated:
        return "Calculated by propsync: only stored properties can be copied."
    return None


def _check_object(ctx: Ctx, state: State) -> State:
    return replace(state, object_type=resolve_object_type(state.object_type or "?").name)


def _check_basics(ctx: Ctx, state: State) -> State:
    if not state.label:
        raise ValidationError("Give the property a label: it is what users see.")
    state = replace(state, name=state.name or propose_name(state.label))
    group_svc.check_name(state.name)
    try:
        prop_svc.get_property(ctx.engine, ctx.principal, state.object_type, state.name)
    except NotFoundError:
        pass
    else:
        raise ValidationError(f"{state.object_type} already has a property named "
                              f"{state.name!r}. Choose another internal name.")
    group_svc.get_group(ctx.engine, ctx.principal, state.object_type, state.group or "?")
    return state


def _check_field(ctx: Ctx, state: State) -> State:
    if state.field not in FIELD_TYPES:
        raise ValidationError("Choose a field type.")
    return state


def _check_source_object(ctx: Ctx, state: State) -> State:
    if not state.source_type:
        raise ValidationError("Choose the object the value is copied from.")
    state = replace(state, source_type=resolve_object_type(state.source_type).name)
    if not labelled_types(ctx, state):  # no labels step: labels chosen for another object
        state = replace(state, labels_mode="", label_ids=())
    if state.source_type == state.object_type and not labelled_types(ctx, state):
        raise ValidationError(
            f"A sync property on {state.object_type} can copy from another "
            f"{OBJECT_TYPES[state.source_type].singular} only through a labelled association, "
            "and this account has no such label yet. Choose another source object.")
    return state


def _check_source_property(ctx: Ctx, state: State) -> State:
    if not state.source_property:
        raise ValidationError("Choose the property whose value is copied.")
    prop = prop_svc.get_property(ctx.engine, ctx.principal, state.source_type,
                                 state.source_property).definition
    reason = _why_not(prop)
    if reason:
        raise ValidationError(f"{prop.label} cannot be copied. {reason}")
    return state


def _check_labels(ctx: Ctx, state: State) -> State:
    if state.labels_mode not in ("all", "select"):
        raise ValidationError("Choose All association labels or Select association labels.")
    if state.labels_mode == "select" and not chosen_types(ctx, state):
        raise ValidationError("Select at least one association label, or choose All "
                              "association labels.")
    return state


def _check_selection(ctx: Ctx, state: State) -> State:
    if state.selection not in SELECTIONS:
        single = OBJECT_TYPES[state.source_type].singular
        raise ValidationError(f"Several {single} records can qualify: choose whether the first "
                              "created or the last created one is synced from.")
    return state


def _check_details(ctx: Ctx, state: State) -> State:
    if state.field == "select" and not _options(state):
        raise ValidationError("A dropdown needs at least one option: write one per line.")
    return state


def _check_review(ctx: Ctx, state: State) -> State:
    return state  # the review checked the change when it was shown


CHECKS = {"object": _check_object, "basics": _check_basics, "field": _check_field,
          "details": _check_details, "source_object": _check_source_object,
          "source_property": _check_source_property, "labels": _check_labels,
          "selection": _check_selection, "review": _check_review}


def _options(state: State) -> tuple[Option, ...]:
    lines = [line.strip() for line in state.options.splitlines() if line.strip()]
    return tuple(Option(propose_name(line) or f"option_{i}", line, i)
                 for i, line in enumerate(lines))


def _selection(ctx: Ctx, state: State) -> str | None:
    """The selection rule, when the selection step applies to this state."""
    if state.selection in SELECTIONS and "selection" in source_steps(ctx, state):
        return Selection(state.selection).value
    return None


def _source(ctx: Ctx, state: State) -> SourceRequest:
    chosen = chosen_types(ctx, state)
    return SourceRequest(state.source_type, state.source_property,
                         None if chosen is None else [(t.category, t.type_id) for t in chosen],
                         _selection(ctx, state))


def _create(ctx: Ctx, state: State) -> Response:
    """Create the property the wizard describes, and show it."""
    _, ptype, field_type, _ = FIELD_TYPES[state.field]
    source = _source(ctx, state) if state.field == "sync" else None
    view = prop_svc.create_property(ctx.engine, ctx.principal, state.object_type,
                                    prop_svc.PropertyInput(
        name=state.name, label=state.label, type=ptype or None,
        field_type=field_type or None, group_name=state.group,
        description=state.description, options=_options(state) if ptype == "enumeration"
        else (), sync_source=source))
    return RedirectResponse(f"/ui/settings/properties/{state.object_type}/"
                            f"{view.definition.name}?created=1", status_code=303)


def _redefining(object_type: str, name: str, label: str) -> Flow:
    page = f"/ui/settings/properties/{object_type}/{name}"
    return Flow(f"{page}/redefine", f"Change the source of {label}", "Save", page,
                redefining=True)


def _existing_sync(ctx: Ctx, object_type: str, name: str) -> tuple[str, prop_svc.PropertyView]:
    ctx.principal.require_property_settings()
    ot = resolve_object_type(object_type).name
    view = prop_svc.get_property(ctx.engine, ctx.principal, ot, name)
    if view.sync is None:
        raise ValidationError(f"{view.definition.label} is not a sync property: it has no "
                              "source to change.")
    return ot, view


@router.get("/settings/properties/{objectType}/{name}/redefine")
def redefine_start(ctx: CtxDep, objectType: str, name: str) -> Response:
    """The source steps, filled with the sync property's current source."""
    ot, view = _existing_sync(ctx, objectType, name)
    d, prop = view.sync, view.definition
    assert d is not None
    ids = d.association_type_ids
    state = State(object_type=ot, name=prop.name, label=prop.label, field="sync",
                  source_type=d.source_type, source_property=d.source_property,
                  labels_mode="all" if ids is None else "select",
                  label_ids=tuple(str(i) for i in sorted(ids or ())),
                  selection=d.selection.value if d.selection else "")
    return _show(ctx, _redefining(ot, prop.name, prop.label), state, "source_object", None)


@router.post("/settings/properties/{objectType}/{name}/redefine")
def redefine_step(ctx: CtxDep, form: FormDep, objectType: str, name: str) -> Response:
    ot, view = _existing_sync(ctx, objectType, name)
    prop = view.definition
    state = replace(State.from_form(form), object_type=ot, name=prop.name, label=prop.label,
                    field="sync")
    return _step(ctx, _redefining(ot, prop.name, prop.label), state, form, _redefine)


def _redefine(ctx: Ctx, state: State) -> Response:
    """Save the new source through the PATCH service: every value is recomputed."""
    prop_svc.update_property(ctx.engine, ctx.principal, state.object_type, state.name,
                             prop_svc.PropertyPatch(sync_source=_source(ctx, state)))
    return RedirectResponse(f"/ui/settings/properties/{state.object_type}/{state.name}"
                            "?redefined=1", status_code=303)
