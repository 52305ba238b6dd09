"""Automation → Workflows: the editor (``/ui/automation/workflows/new`` and ``…/{id}/edit``).

A plain HTML form (``web/flow_fields.py`` reads its fields): the buttons that add, remove or
move a condition or a step post the form and get it back changed, with focus on what
changed, so the editor works without script and from the keyboard; Save spells the form as
the Automation v4 JSON the API takes and saves it through ``services.workflows``, whose
refusals are shown above the form in their own words, with the form as it was typed.

Only properties the user may view are offered as conditions and as values to copy, and
only properties they may edit, that are not calculated and not sync properties, as targets;
a form naming anything else (a crafted one) is refused here. A flow the editor cannot spell
again exactly, or that names properties this user may not see, is shown read-only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.associations import AssociationType
from propsync.domain.errors import ErrorDetail, PropsyncError, ValidationError
from propsync.domain.objects import OBJECT_TYPES, resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.domain.workflows import Flow
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services import workflows as flow_svc
from propsync.web import flow_fields
from propsync.web import flow_form as ff
from propsync.web.core import Ctx, CtxDep, Form, FormDep, WebRoute, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
BASE = "/ui/automation/workflows"


class StoredFlow(Protocol):
    """What the pages read of a saved flow (``services.workflows`` gives them)."""

    @property
    def flow_id(self) -> int: ...
    @property
    def revision(self) -> int: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def name(self) -> str: ...
    @property
    def object_type(self) -> str: ...
    @property
    def flow(self) -> Flow: ...
    @property
    def definition(self) -> dict[str, Any]: ...
    @property
    def updated_ms(self) -> int: ...


@dataclass(frozen=True)
class AssociationChoice:
    key: str  # flow_form.association_key
    to_type: str
    text: str  # as the menu shows it: "Company · Primary", "Contact · any association"


@dataclass(frozen=True)
class Offered:
    """What the editor offers this user for a flow of ``object_type``: per object type the
    properties whose values they may view (conditions, values copied) and those a step may
    write (editable, not calculated, not sync); the association types from the flow's type."""

    object_type: str
    viewable: dict[str, list[PropertyDefinition]]
    writable: dict[str, list[PropertyDefinition]]
    associations: list[AssociationChoice]

    def types(self, object_type: str) -> dict[str, str]:
        return {p.name: p.type for p in self.viewable.get(object_type, [])}

    def association_ends(self) -> dict[tuple[str, int], str]:
        found = (ff.parse_association(a.key) for a in self.associations)
        return {(f[1], f[2]): f[0] for f in found if f is not None}

    def association(self, key: str) -> AssociationChoice | None:
        return next((a for a in self.associations if a.key == key), None)


def offered(ctx: Ctx, object_type: str) -> Offered:
    p = ctx.principal
    viewable: dict[str, list[PropertyDefinition]] = {}
    writable: dict[str, list[PropertyDefinition]] = {}
    for ot in OBJECT_TYPES:
        views = prop_svc.list_properties(ctx.engine, p, ot)
        shown = sorted((v for v in views if v.definition.access.can_view(p.user_id, p.team_ids)),
                       key=lambda v: v.definition.label.lower())
        viewable[ot] = [v.definition for v in shown]
        writable[ot] = [v.definition for v in shown if v.sync is None
                        and not v.definition.calculated
                        and v.definition.access.can_edit(p.user_id, p.team_ids)]
    return Offered(object_type, viewable, writable, association_choices(ctx, object_type))


def association_choices(ctx: Ctx, object_type: str) -> list[AssociationChoice]:
    """Every association type from ``object_type``: per object type, the unlabeled default
    (any association), then Primary and the account's labels."""
    out = []
    for tt in OBJECT_TYPES:
        for t in label_svc.list_labels(ctx.engine, ctx.principal, object_type, tt):
            noun = OBJECT_TYPES[tt].singular.capitalize()
            out.append(AssociationChoice(ff.association_key(tt, t.category, t.type_id), tt,
                                         f"{noun} · {t.label or 'any association'}"))
    return out


def association_phrase(t: AssociationType) -> str:
    """The records an association type leads to, in words: "associated contact", "company
    associated as “Primary”"."""
    noun = OBJECT_TYPES[t.to_type].singular
    return f"{noun} associated as “{t.label}”" if t.label else f"associated {noun}"


# --- checking a form against what it offers ---------------------------------------------------

def problems(form: ff.FlowForm, offer: Offered, named: bool = True) -> list[tuple[str, str]]:
    """What the user still has to choose or fix, each with the id of the field it is about;
    a property or association not offered is refused as if it did not exist. ``named``:
    a name is needed (a flow made through the API may have none)."""
    ot = form.object_type
    viewable = {p.name: p for p in offer.viewable[ot]}
    found: list[tuple[str, str]] = []
    if named and not form.name:
        found.append(("name", "Give the workflow a name."))
    if not form.manual:
        for g, group in enumerate(form.groups):
            for i, c in enumerate(group):
                found += _condition_problems(c, f"c-{g}-{i}", viewable, g, i)
        for name in form.re_enroll_on:
            if name not in viewable:
                found.append(("re-enroll", f"There is no property {name!r} to re-enroll on."))
    for i, step in enumerate(form.steps):
        found += [(f"s-{i}-{field}", f"Step {i + 1}: {text}")
                  for field, text in _step_problems(step, ot, offer)]
    return found


def _condition_problems(c: ff.Condition, at: str, viewable: dict[str, PropertyDefinition],
                        g: int, i: int) -> list[tuple[str, str]]:
    where = f"Condition {i + 1} of group {g + 1}"
    prop = viewable.get(c.property)
    if prop is None:
        return [(f"{at}-property", f"{where}: choose a property.")]
    if c.operator not in ff.operators_for(prop.type):
        words = ", ".join(ff.OPERATORS[o] for o in ff.operators_for(prop.type))
        return [(f"{at}-operator", f"{where}: “{prop.label}” is compared with: {words}.")]
    if c.operator not in ff.NO_VALUE and not c.value:
        return [(f"{at}-value", f"{where}: give a value to compare “{prop.label}” with.")]
    return []


def _step_problems(s: ff.Step, ot: str, offer: Offered) -> list[tuple[str, str]]:
    if s.kind == "delay":
        ok = s.delay.isascii() and s.delay.isdigit() and len(s.delay) < 7 and s.unit in ff.UNITS
        return [] if ok else [("delay", "wait a whole number of minutes, hours or days.")]
    found = []
    assoc = offer.association(s.association) if s.kind in ("fetch", "copy_to") else None
    if s.kind in ("fetch", "copy_to") and assoc is None:
        found.append(("association", "choose the associated records."))
    target_type = assoc.to_type if s.kind == "copy_to" and assoc else ot
    source_type = assoc.to_type if s.kind == "fetch" and assoc else ot
    if s.target not in {p.name for p in offer.writable[target_type]}:
        found.append(("target", "choose the property to set (sync properties and "
                                "calculated ones cannot be set)."))
    if s.kind != "set" and s.source not in {p.name for p in offer.viewable[source_type]}:
        found.append(("source", "choose the property to copy."))
    return found


def refused(found: list[tuple[str, str]]) -> ValidationError:
    details = [ErrorDetail(text, "INVALID_FLOW", {"field": [field]}) for field, text in found]
    return ValidationError(" ".join(text for _, text in found), details)


def definition_of(form: ff.FlowForm, offer: Offered) -> dict[str, Any]:
    """The flow JSON the form stands for, or the editor's own refusal of it."""
    found = problems(form, offer)
    if found:
        raise refused(found)
    return ff.to_definition(form, offer.types(form.object_type))


def readable(ctx: Ctx, stored: StoredFlow) -> tuple[ff.FlowForm | None, Offered]:
    """The form of a stored flow, or None when this user's editor cannot show all of it."""
    offer = offered(ctx, stored.object_type)
    form = ff.from_definition(stored.definition, offer.types(stored.object_type),
                              offer.association_ends())
    if form is None or problems(form, offer, named=False):
        return None, offer
    return form, offer


# --- the pages ----------------------------------------------------------------------------------

FIRST_FIELD = {"set": "target", "copy": "source", "fetch": "association",
               "copy_to": "association", "delay": "delay"}


def definition_json(stored: StoredFlow) -> str:
    """The flow as ``GET /automation/v4/flows/{id}`` shows its definition."""
    return json.dumps({**stored.definition, "isEnabled": stored.enabled}, indent=2,
                      ensure_ascii=False)


def focus_after(op: str, before: ff.FlowForm, after: ff.FlowForm) -> str:
    """The id of the field focus goes to after a button: what it added or moved."""
    name, _, arg = op.partition(":")
    if name == "refresh":  # back to the menu whose choice it showed
        return arg if re.fullmatch(r"object_type|s-\d{1,3}-association", arg) else ""
    if name == "add-condition" and arg.isdigit():
        g = int(arg)
        return f"c-{g}-{len(after.groups[g]) - 1}-property" if g < len(after.groups) else ""
    if name == "add-group":
        return f"c-{len(after.groups) - 1}-0-property"
    if name == "add-step" and len(after.steps) > len(before.steps):
        return f"s-{len(after.steps) - 1}-{FIRST_FIELD[after.steps[-1].kind]}"
    if name in ("up", "down") and arg.isdigit():
        i = int(arg) + (-1 if name == "up" else 1)
        if not 0 <= i < len(after.steps):
            return ""
        # the same button of the moved step, unless it has none there (first or last)
        edge = (i == 0) if name == "up" else (i == len(after.steps) - 1)
        return f"s-{i}-{('down' if name == 'up' else 'up') if edge else name}"
    if name == "remove-step":
        return "add-step"
    if name == "remove-condition":
        return "trigger-h"
    return ""


OPERATOR_TABLE = {"labels": ff.OPERATORS, "types": {t: ff.operators_for(t) for t in (
    "string", "number", "date", "datetime", "enumeration", "bool")}}
_STEP_PATH = re.compile(r"^actions\[(\d+)\]")
_GROUP_PATH = re.compile(r"^enrollmentCriteria\.listFilterBranch.*?(?:filterBranches\[(\d+)\]|"
                         r"branch (\d+))")


def marked(error: PropsyncError | None
           ) -> tuple[set[str], dict[int, list[str]], dict[int, list[str]]]:
    """What a refusal is about: the editor's own fields, and the messages about each step
    and condition group, found by the place in the definition the service's refusal names
    (``actions[2]...``: the editor writes steps and groups in the order it shows them)."""
    fields: set[str] = set()
    steps: dict[int, list[str]] = {}
    groups: dict[int, list[str]] = {}
    for d in error.details if error else []:
        fields.update(str(f) for f in (d.context or {}).get("field", []))
        for path in [*(d.context or {}).get("path", [])][:1] or [d.message]:
            if (m := _STEP_PATH.match(str(path))) is not None:
                steps.setdefault(int(m.group(1)), []).append(d.message)
            elif (m := _GROUP_PATH.match(str(path))) is not None:
                g = int(m.group(1)) if m.group(1) else int(m.group(2)) - 1
                groups.setdefault(g, []).append(d.message)
    return fields, steps, groups


def editor(ctx: Ctx, form: ff.FlowForm, stored: StoredFlow | None,
           offer: Offered | None = None, error: PropsyncError | None = None, focus: str = "",
           status: int = 200) -> Response:
    offer = offer if offer is not None and offer.object_type == form.object_type else offered(
        ctx, form.object_type)
    fields, steps, groups = marked(error)
    return render(ctx.request, "workflow_edit.html", status=status, form=form, stored=stored,
                  offer=offer, error=error, error_fields=fields, error_steps=steps,
                  error_groups=groups, focus=focus, operators=ff.OPERATORS,
                  operators_for=ff.operators_for, operator_table=OPERATOR_TABLE,
                  step_kinds=ff.STEP_KINDS, units=ff.UNITS, section="automation")


@router.get("/automation/workflows/new")
def new_workflow(ctx: CtxDep, objectType: str = "contacts") -> Response:
    ctx.principal.require_property_settings()
    ot = resolve_object_type(objectType).name
    return editor(ctx, ff.FlowForm(object_type=ot), None)


@router.post("/automation/workflows/new")
def post_new_workflow(ctx: CtxDep, form: FormDep) -> Response:
    ctx.principal.require_property_settings()
    typed = flow_fields.read_fields(form.fields)
    if form.get("shown_type") not in ("", typed.object_type):
        # another object: the conditions and steps named the other one's properties
        typed = ff.FlowForm(name=typed.name, object_type=typed.object_type)
    return _posted(ctx, typed, form, None,
                   lambda body: flow_svc.create_flow(ctx.engine, ctx.principal,
                                                     {**body, "isEnabled": False}))


@router.get("/automation/workflows/{flowId}/edit")
def edit_workflow(ctx: CtxDep, flowId: str) -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    form, offer = readable(ctx, stored)
    if form is None:
        return render(ctx.request, "workflow_readonly.html", stored=stored,
                      definition=definition_json(stored), section="automation")
    ctx.principal.require_property_settings()
    return editor(ctx, form, stored, offer)


@router.post("/automation/workflows/{flowId}/edit")
def post_edit_workflow(ctx: CtxDep, form: FormDep, flowId: str) -> Response:
    stored = flow_svc.get_flow(ctx.engine, ctx.principal, flowId)
    ctx.principal.require_property_settings()
    if readable(ctx, stored)[0] is None:
        raise ValidationError("This workflow has parts the editor cannot show; change it "
                              "through the API (PUT /automation/v4/flows/{flowId}).")
    typed = flow_fields.read_fields({**form.fields, "object_type": [stored.object_type]})
    revision = form.get("revision")
    return _posted(ctx, typed, form, stored,
                   lambda body: flow_svc.update_flow(
                       ctx.engine, ctx.principal, str(stored.flow_id),
                       {**body, "isEnabled": stored.enabled, "revisionId": revision}))


def _posted(ctx: Ctx, typed: ff.FlowForm, form: Form, stored: StoredFlow | None,
            save: Callable[[dict[str, Any]], StoredFlow]) -> Response:
    """Save the form, or apply the button pressed and show the form again."""
    op = form.get("op") or "save"
    if op != "save":
        changed = flow_fields.apply_button(typed, op, form.get("new_kind"))
        return editor(ctx, changed, stored, focus=focus_after(op, typed, changed))
    offer = offered(ctx, typed.object_type)
    try:
        saved = save(definition_of(typed, offer))
    except PropsyncError as exc:
        return editor(ctx, typed, stored, offer, error=exc, status=exc.status,
                      focus="editor-error")
    key = "created" if stored is None else "saved"
    return RedirectResponse(f"{BASE}/{saved.flow_id}?done={key}", status_code=303)
