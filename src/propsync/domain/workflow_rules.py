"""How a workflow runs (pure): which changes enroll a record, what an enrollment does next,
and when a copied value may overwrite the value it lands on.

The flow itself is ``domain/workflows.py``'s ``Flow``; the engine (``workflows/``) asks these
rules and does the rest in SQL. Decided in the design of issue 14:

- A record enrolls (``LIST_BASED``) when, after a change of one of the enrollment's
  properties (or its creation or restore), it meets the criteria and either never enrolled
  in the flow, or the flow re-enrolls and the change was of a re-enrollment property.
- One enrollment at a time per (flow, record): a trigger that would enroll again while one
  is active is remembered (``reenroll_pending``) and starts a new enrollment when the
  active one ends, if the record still meets the criteria. Several coalesce into one.
- A copied value is written only where the target's value is not newer than the copied
  one (by their versions, ``storage/value_versions.py``): the last write wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from propsync.domain.changes import ChangeKind
from propsync.domain.errors import ValidationError
from propsync.domain.properties import PropertyDefinition, normalize_value
from propsync.domain.workflows import (
    Action,
    Delay,
    Enrollment,
    SetProperty,
    StaticBranch,
    StaticValue,
)


class EnrollmentState(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Outcome(StrEnum):
    """What one run of one action did (a row of the run log)."""

    DONE = "DONE"
    SKIPPED = "SKIPPED"  # it ran, and had nothing to write
    FAILED = "FAILED"  # it could not run; the enrollment ends FAILED


class Trigger(IntEnum):
    """What a change allows; the stronger of several changes to one record counts."""

    FIRST = 1  # enrolls a record that never enrolled in the flow
    AGAIN = 2  # also re-enrolls one that did (``shouldReEnroll`` on this property)


class Admission(StrEnum):
    ENROLL = "enroll"
    PENDING = "pending"  # remembered on the active enrollment
    NONE = "none"


_LIFECYCLE = (ChangeKind.CREATED, ChangeKind.RESTORED)
_VALUE = (ChangeKind.VALUE, ChangeKind.REPLACED)


def trigger_of(enrollment: Enrollment, kind: ChangeKind, property_name: str | None
               ) -> Trigger | None:
    """What a change of the enrolled object type allows in a flow, before its criteria are
    asked: a creation or restore, or a value change of an enrollment property, may enroll
    a record for the first time; a value change of a re-enrollment property, again."""
    if enrollment.kind != "LIST_BASED":
        return None
    if kind in _LIFECYCLE:
        return Trigger.FIRST
    if kind not in _VALUE or property_name is None:
        return None
    if enrollment.should_re_enroll and property_name in enrollment.re_enroll_on:
        return Trigger.AGAIN
    if property_name in enrollment.properties:
        return Trigger.FIRST
    return None


def admit(trigger: Trigger, ever_enrolled: bool, active: bool) -> Admission:
    """What a trigger does to a record that meets the criteria: enroll it, remember it on
    its active enrollment, or nothing (it enrolled before and the trigger does not
    re-enroll)."""
    if active:
        return Admission.PENDING if trigger is Trigger.AGAIN else Admission.NONE
    if ever_enrolled and trigger is not Trigger.AGAIN:
        return Admission.NONE
    return Admission.ENROLL


def admit_manual(active: bool) -> Admission:
    """A record enrolled by hand: enrolled at once, or, while it runs through the flow,
    once more when that enrollment ends (HubSpot re-enrolls a record enrolled by hand)."""
    return Admission.PENDING if active else Admission.ENROLL


# --- the last write wins -----------------------------------------------------------------

# A value's version: (time in ms, id) of the write it came from — for a copy, of the write
# of the value it copied (storage/value_versions.py). Ids come from one sequence.
Version = tuple[int, int]


def copy_wins(copied: Version | None, target: Version | None) -> bool:
    """Whether a copied value may be written over the target's: unless the target's value
    is newer. A value without a version (a calculated property's) is always new; a target
    without one never had a value written."""
    if copied is None or target is None:
        return True
    return target <= copied


# --- what an action does ----------------------------------------------------------------

def branch_next(branch: StaticBranch, prop: PropertyDefinition | None, value: str | None
                ) -> str | None:
    """The action after a static branch on the enrolled record's value (``None``: the
    enrollment ends). A branch value matches when it is the same value once stored as
    the property stores it ("5.0" matches a number property's "5")."""
    for raw, next_id in branch.branches:
        if value is not None and _stored_text(prop, raw) == value:
            return next_id
    return branch.default_next


def _stored_text(prop: PropertyDefinition | None, raw: str) -> str:
    if prop is None:
        return raw
    try:
        stored = normalize_value(prop, raw)
    except ValidationError:
        return raw
    return stored.text if stored is not None else ""


@dataclass(frozen=True)
class Advance:
    """Where an enrollment goes after an action: its next action, due when."""

    next_action_id: str | None  # None: the enrollment is complete
    due_ms: int


def advance(action: Action, now_ms: int, branch_to: str | None = None) -> Advance:
    """The enrollment's next step: a delay's next action is due once the delay is over,
    any other action's at once (a branch's is ``branch_to``)."""
    if isinstance(action, Delay):
        return Advance(action.next_id, now_ms + action.delay_ms)
    if isinstance(action, StaticBranch):
        return Advance(branch_to, now_ms)
    return Advance(action.next_id, now_ms)


def describe_delay(delay_ms: int) -> str:
    """A delay in words, for the run log."""
    for unit_ms, name in ((604_800_000, "week"), (86_400_000, "day"), (3_600_000, "hour"),
                          (60_000, "minute"), (1_000, "second")):
        if delay_ms >= unit_ms and delay_ms % unit_ms == 0:
            n = delay_ms // unit_ms
            return f"{n} {name}{'' if n == 1 else 's'}"
    return f"{delay_ms} ms"


def is_copy(action: SetProperty) -> bool:
    """A set-property action whose value is another property's (the last write wins)."""
    return not isinstance(action.value, StaticValue)
