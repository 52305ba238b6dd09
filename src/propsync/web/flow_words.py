"""A workflow in words, for its page and the list: who enrolls and what each action does.

Works from what propsync runs (``domain.workflows.Flow``), so a flow made through the API
with parts the editor cannot show is described too. Property and association names come
from lookups the page passes (labels as the account has them; a name it does not know is
shown as its internal name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from propsync.domain.filters import Filter
from propsync.domain.objects import OBJECT_TYPES
from propsync.domain.workflows import (
    FLOW_OBJECT_TYPES,
    Action,
    Delay,
    EnrolledProperty,
    FetchedProperty,
    Flow,
    SetProperty,
    StaticBranch,
    StaticValue,
    successors,
)

_FILTER_WORDS = {"EQ": "is", "NEQ": "is not", "IN": "is any of", "NOT_IN": "is none of",
                 "CONTAINS_TOKEN": "contains", "NOT_CONTAINS_TOKEN": "does not contain",
                 "GT": "is greater than", "GTE": "is at least", "LT": "is less than",
                 "LTE": "is at most", "HAS_PROPERTY": "is known",
                 "NOT_HAS_PROPERTY": "is unknown", "BETWEEN": "is between"}
_UNITS = ((604_800_000, "week"), (86_400_000, "day"), (3_600_000, "hour"), (60_000, "minute"),
          (1_000, "second"))

Label = Callable[[str, str], str]  # (object type, property name) -> its label


@dataclass(frozen=True)
class Words:
    """The flow described: one line per condition group (OR-ed), what re-enrolls, and one
    line per action in the order they run."""

    enrollment: str
    groups: list[str]
    re_enroll: str
    steps: list[tuple[str, str]]  # (action id, what it does)


Associations = Mapping[tuple[str, int], tuple[str, str]]


def describe(flow: Flow, label: Label, associations: Associations) -> Words:
    """``associations``: (category, type id) from the flow's type → the records it leads to
    in words ("associated contact", "company associated as “Primary”") and their type."""
    ot = flow.object_type
    e = flow.enrollment
    if e.kind == "MANUAL":
        enrollment = f"Only {OBJECT_TYPES[ot].singular} records enrolled by hand."
    else:
        enrollment = f"A {OBJECT_TYPES[ot].singular} enrolls when it meets these conditions:"
    groups = [" and ".join(filter_words(f, lambda n: label(ot, n)) for f in g)
              for g in e.groups]
    re_enroll = (", ".join(label(ot, n) for n in sorted(e.re_enroll_on)) if e.should_re_enroll
                 and e.re_enroll_on else "")
    return Words(enrollment, groups, re_enroll,
                 [(a.action_id, action_words(a, flow, label, associations))
                  for a in run_order(flow)])


def filter_words(f: Filter, label: Callable[[str], str]) -> str:
    op = _FILTER_WORDS.get(f.operator, f.operator)
    if f.operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return f"{label(f.property_name)} {op}"
    if f.operator == "BETWEEN":
        return f"{label(f.property_name)} {op} “{f.value}” and “{f.high_value}”"
    if f.values:
        return f"{label(f.property_name)} {op} " + ", ".join(f"“{v}”" for v in f.values)
    value = f.value or ""
    if f.operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        value = value.strip("*")
    return f"{label(f.property_name)} {op} “{value}”"


def run_order(flow: Flow) -> list[Action]:
    """The actions from the first one on, each once (a branch's paths one after another)."""
    seen: list[str] = []
    waiting = [flow.start_action_id] if flow.start_action_id else []
    while waiting:
        at = waiting.pop(0)
        if at in seen or at not in flow.actions:
            continue
        seen.append(at)
        waiting.extend(successors(flow.actions[at]))
    seen += [i for i in flow.actions if i not in seen]
    return [flow.actions[i] for i in seen]


def action_words(a: Action, flow: Flow, label: Label, associations: Associations) -> str:
    ot = flow.object_type
    if isinstance(a, Delay):
        return f"Wait {delay_words(a.delay_ms)}."
    if isinstance(a, StaticBranch):
        ways = "; ".join(f"“{v}” → action {n or 'end'}" for v, n in a.branches)
        return (f"Go on by {label(ot, a.property_name)}: {ways}; otherwise → action "
                f"{a.default_next or 'end'}.")
    assert isinstance(a, SetProperty)
    into = _into(a, ot, label, associations)
    v = a.value
    if isinstance(v, StaticValue):
        return f"Set {into} to “{v.text}”." if v.text else f"Clear {into}."
    if isinstance(v, EnrolledProperty):
        return f"Copy the {OBJECT_TYPES[ot].singular}'s {label(ot, v.name)} to {into}."
    assert isinstance(v, FetchedProperty)
    src = flow.sources[v.source]
    src_type = FLOW_OBJECT_TYPES[src.object_type_id]
    name = associations.get((src.category, src.type_id), (
        f"{OBJECT_TYPES[src_type].singular} associated by type {src.type_id}", src_type))[0]
    which = "last" if src.last_created else "first"
    return f"Copy the {label(src_type, v.name)} of the {name} ({which} created) to {into}."


def _into(a: SetProperty, ot: str, label: Label, associations: Associations) -> str:
    """Where a set-property action writes, in words."""
    if a.target is None:
        return f"the {OBJECT_TYPES[ot].singular}'s {label(ot, a.property_name)}"
    name, target_type = associations.get((a.target.category, a.target.type_id), (
        f"record associated by type {a.target.type_id}", ot))
    return f"the {label(target_type, a.property_name)} of every {name}"


def delay_words(ms: int) -> str:
    for size, unit in _UNITS:
        if ms >= size and ms % size == 0:
            n = ms // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{ms} ms"
