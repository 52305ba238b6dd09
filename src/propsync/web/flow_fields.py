"""The workflow editor's fields as a ``FlowForm``, and the buttons that change the form
(pure): the page posts every field on every button, so the server can show the form again
changed, with nothing of what was typed lost."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from propsync.domain.objects import OBJECT_TYPES
from propsync.web.flow_form import (
    MAX_CONDITIONS,
    MAX_GROUPS,
    MAX_STEPS,
    STEP_KINDS,
    Condition,
    FlowForm,
    Step,
)

_FIELD = re.compile(r"^([cs])-(\d{1,3})(?:-(\d{1,3}))?-([a-z_]+)$")


def read_fields(fields: Mapping[str, list[str]]) -> FlowForm:
    """The form the editor's fields spell: ``name``, ``object_type``, ``enroll``
    (``conditions`` / ``manual``), ``re_enroll`` (several), ``c-<group>-<row>-<part>`` and
    ``s-<row>-<part>``; rows come in the order of their numbers."""
    def one(name: str, default: str = "") -> str:
        values = fields.get(name)
        return values[-1].strip() if values else default

    conditions: dict[int, dict[int, dict[str, str]]] = {}
    steps: dict[int, dict[str, str]] = {}
    for key, values in fields.items():
        found = _FIELD.match(key)
        if found is None or not values:
            continue
        kind, first, second, part = found.groups()
        if kind == "c" and second is not None:
            conditions.setdefault(int(first), {}).setdefault(int(second), {})[part] = \
                values[-1].strip()
        elif kind == "s" and second is None:
            steps.setdefault(int(first), {})[part] = values[-1].strip()
    object_type = one("object_type", "contacts")
    groups = tuple(tuple(Condition(r.get("property", ""), r.get("operator", "IS_EQUAL_TO"),
                                   r.get("value", "")) for _, r in sorted(rows.items()))
                   for _, rows in sorted(conditions.items()))
    return FlowForm(
        name=one("name"), object_type=object_type if object_type in OBJECT_TYPES else "contacts",
        manual=one("enroll") == "manual", groups=groups or ((Condition(),),),
        re_enroll_on=tuple(dict.fromkeys(v.strip() for v in fields.get("re_enroll", []) if v)),
        steps=tuple(_read_step_fields(r) for _, r in sorted(steps.items())))


def _read_step_fields(r: Mapping[str, str]) -> Step:
    kind = r.get("kind", "")
    return Step(kind if kind in STEP_KINDS else "set", r.get("id", ""), r.get("target", ""),
                r.get("value", ""), r.get("source", ""), r.get("association", ""),
                r.get("pick") == "last", r.get("source_name", ""), r.get("delay", ""),
                r.get("unit", "MINUTES"))


def apply_button(form: FlowForm, op: str, new_kind: str = "") -> FlowForm:
    """The form after one of the editor's buttons (``op``): add or remove a condition, a
    group or a step, move a step up or down. An ``op`` it does not know changes nothing."""
    name, _, arg = op.partition(":")
    numbers = [int(x) for x in arg.split(":") if x.isascii() and x.isdigit() and len(x) < 4]
    groups, steps = [list(g) for g in form.groups], list(form.steps)
    if name == "add-condition" and len(numbers) == 1 and numbers[0] < len(groups) and \
            sum(map(len, groups)) < MAX_CONDITIONS:
        groups[numbers[0]].append(Condition())
    elif name == "add-group" and len(groups) < MAX_GROUPS:
        groups.append([Condition()])
    elif name == "remove-condition" and len(numbers) == 2 and numbers[0] < len(groups) \
            and numbers[1] < len(groups[numbers[0]]):
        del groups[numbers[0]][numbers[1]]
    elif name == "add-step" and new_kind in STEP_KINDS and len(steps) < MAX_STEPS:
        steps.append(Step(new_kind))
    elif name in ("remove-step", "up", "down") and len(numbers) == 1 and \
            numbers[0] < len(steps):
        steps = _moved(steps, name, numbers[0])
    kept = tuple(tuple(g) for g in groups if g) or ((Condition(),),)
    return replace(form, groups=kept, steps=tuple(steps))


def _moved(steps: list[Step], how: str, i: int) -> list[Step]:
    if how == "remove-step":
        return steps[:i] + steps[i + 1:]
    j = i - 1 if how == "up" else i + 1
    if 0 <= j < len(steps):
        steps[i], steps[j] = steps[j], steps[i]
    return steps
