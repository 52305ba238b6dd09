"""A migration from a copy workflow to a sync property as a state machine (issue 16), pure.

    PLANNED ─apply→ APPLYING ─apply (backfill done)→ APPLIED ─clone→ CLONED ─compare→
    COMPARED ─cut-over→ CUT_OVER ─clean-up→ CLEANED_UP

and ``UNDONE`` from any state up to and including ``CUT_OVER``. Every step may be asked
again in the state it leads to (a step interrupted by a crash is run again by asking for
it again): ``apply`` in ``APPLYING`` looks at the backfill again, ``clone`` in ``CLONED``
finds the clones made, ``compare`` in ``COMPARED`` compares again, ``cut-over`` in
``CUT_OVER`` and ``clean-up`` in ``CLEANED_UP`` find their work done, ``undo`` in
``UNDONE`` removes whatever an interrupted undo left.

- ``clone`` and ``compare`` may take several requests (each does as many assets as its
  time allows): while assets are left (``Facts.unfinished``) the state is the one before
  the step (``APPLIED``, ``CLONED``), so the next step is the same step again.
- ``acknowledge`` (in ``COMPARED`` or ``CUT_OVER``) records which differences the
  administrator accepts; the state stays.
- ``fill-history`` (optional) is allowed from ``APPLIED`` on, not after an undo; the
  state stays.
- ``cut-over`` turns the copy workflow off (never deletes it).
- ``clean-up`` deletes the workflow and archives the old property if nothing uses it any
  more; only when the comparison is clean or every difference is acknowledged.
- ``undo`` removes what the migration made, in reverse order: the workflow turned on
  again (after a cut-over), the clones deleted, then the sync property (clones use it).
  Refused after clean-up: the workflow is gone.

``transition(state, step, facts)`` returns the next state or a ``Refusal`` saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    PLANNED = "PLANNED"
    APPLYING = "APPLYING"
    APPLIED = "APPLIED"
    CLONED = "CLONED"
    COMPARED = "COMPARED"
    CUT_OVER = "CUT_OVER"
    CLEANED_UP = "CLEANED_UP"
    UNDONE = "UNDONE"


class Step(StrEnum):
    APPLY = "apply"
    CLONE = "clone"
    COMPARE = "compare"
    ACKNOWLEDGE = "acknowledge"
    CUT_OVER = "cut-over"
    CLEAN_UP = "clean-up"
    FILL_HISTORY = "fill-history"
    UNDO = "undo"


# The main line, in order; each step's state once done.
LINE = (State.PLANNED, State.APPLYING, State.APPLIED, State.CLONED, State.COMPARED,
        State.CUT_OVER, State.CLEANED_UP)
_AFTER = {Step.CLONE: State.CLONED, Step.COMPARE: State.COMPARED,
          Step.CUT_OVER: State.CUT_OVER, Step.CLEAN_UP: State.CLEANED_UP}
_FROM = {Step.CLONE: (State.APPLIED, State.CLONED),
         Step.COMPARE: (State.CLONED, State.COMPARED),
         Step.CUT_OVER: (State.COMPARED, State.CUT_OVER),
         Step.CLEAN_UP: (State.CUT_OVER, State.CLEANED_UP)}
UNDOABLE = frozenset({State.PLANNED, State.APPLYING, State.APPLIED, State.CLONED,
                      State.COMPARED, State.CUT_OVER, State.UNDONE})
_HISTORY_FROM = frozenset({State.APPLIED, State.CLONED, State.COMPARED, State.CUT_OVER,
                           State.CLEANED_UP})


@dataclass(frozen=True)
class Facts:
    """What a transition depends on beyond the state."""

    backfill_done: bool = False  # the sync property's backfill has finished
    settled: bool = False  # the comparison is clean, or each difference acknowledged
    unfinished: bool = False  # a clone or comparison left assets for the next request


@dataclass(frozen=True)
class Refusal:
    reason: str


def transition(state: State, step: Step, facts: Facts = Facts()) -> State | Refusal:
    """The state after ``step`` in ``state``, or why it is refused."""
    if state is State.UNDONE and step is not Step.UNDO:
        return Refusal("This migration was undone; start a new one.")
    if step is Step.UNDO:
        if state not in UNDOABLE:
            return Refusal("A cleaned-up migration cannot be undone: its copy workflow is "
                           "deleted.")
        return State.UNDONE
    if step in (Step.APPLY, Step.FILL_HISTORY, Step.ACKNOWLEDGE):
        return _side_step(state, step, facts)
    allowed = _FROM[step]
    if state not in allowed:
        return Refusal(f"{step.value} comes after {_word(allowed[0])}; this migration is "
                       f"{state.value}.")
    if step is Step.CLEAN_UP and not facts.settled:
        return Refusal("Clean-up waits until the comparison is clean or each difference "
                       "is acknowledged.")
    if step in _LEFT_BEFORE and facts.unfinished:
        return _LEFT_BEFORE[step]
    return _AFTER[step]


# Where a clone or comparison that left assets for the next request leaves the state.
_LEFT_BEFORE = {Step.CLONE: State.APPLIED, Step.COMPARE: State.CLONED}


def _side_step(state: State, step: Step, facts: Facts) -> State | Refusal:
    """Apply (which waits for the backfill), and the steps that keep the state."""
    if step is Step.APPLY:
        if state not in (State.PLANNED, State.APPLYING, State.APPLIED):
            return Refusal(f"The sync property was made and filled already ({state.value}).")
        if state is State.APPLIED or facts.backfill_done:
            return State.APPLIED
        return State.APPLYING
    if step is Step.FILL_HISTORY:
        if state not in _HISTORY_FROM:
            return Refusal("History is filled once the sync property holds its values "
                           "(after apply).")
        return state
    if state not in (State.COMPARED, State.CUT_OVER):
        return Refusal("Differences are acknowledged after a comparison and before "
                       "clean-up.")
    return state


def _word(state: State) -> str:
    return {State.APPLIED: "apply", State.CLONED: "clone", State.COMPARED: "compare",
            State.CUT_OVER: "cut-over"}[state]


def next_step(state: State) -> Step | None:
    """The step that moves the migration on from ``state`` (None at an end)."""
    return {State.PLANNED: Step.APPLY, State.APPLYING: Step.APPLY,
            State.APPLIED: Step.CLONE, State.CLONED: Step.COMPARE,
            State.COMPARED: Step.CUT_OVER, State.CUT_OVER: Step.CLEAN_UP}.get(state)


def reached(state: State, step: Step) -> bool:
    """Has a migration in ``state`` done ``step`` of the main line (undone: none)?"""
    target = {Step.APPLY: State.APPLIED, **_AFTER}.get(step)
    if target is None or state is State.UNDONE:
        return False
    return LINE.index(state) >= LINE.index(target)


def undo_order(state: State) -> tuple[str, ...]:
    """What undoing a migration in ``state`` does, in order: ``enable_workflow`` (after a
    cut-over), ``delete_clones``, ``delete_sync_property``. Clones go before the sync
    property they use. Every part looks before it removes, so a state whose step was
    interrupted undoes whatever that step made."""
    if state not in UNDOABLE:
        return ()
    parts = ("enable_workflow",) if state is State.CUT_OVER else ()
    return (*parts, "delete_clones", "delete_sync_property")


def settled(differing: dict[str, str], acknowledged: dict[str, str]) -> bool:
    """The comparison is settled when every asset that differs (key → fingerprint of its
    differences) has those very differences acknowledged."""
    return all(acknowledged.get(key) == print_ for key, print_ in differing.items())
