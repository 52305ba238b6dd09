"""The migration's states and transitions (domain/migrations.py): every rule."""

from __future__ import annotations

import pytest

from propsync.domain.migrations import (
    LINE,
    Facts,
    Refusal,
    State,
    Step,
    next_step,
    reached,
    settled,
    transition,
    undo_order,
)

DONE = Facts(backfill_done=True)
SETTLED = Facts(settled=True)


def test_the_main_line_in_order() -> None:
    assert transition(State.PLANNED, Step.APPLY) is State.APPLYING
    assert transition(State.PLANNED, Step.APPLY, DONE) is State.APPLIED
    assert transition(State.APPLYING, Step.APPLY) is State.APPLYING
    assert transition(State.APPLYING, Step.APPLY, DONE) is State.APPLIED
    assert transition(State.APPLIED, Step.CLONE) is State.CLONED
    assert transition(State.CLONED, Step.COMPARE) is State.COMPARED
    assert transition(State.COMPARED, Step.CUT_OVER) is State.CUT_OVER
    assert transition(State.CUT_OVER, Step.CLEAN_UP, SETTLED) is State.CLEANED_UP


def test_each_step_may_be_asked_again_in_the_state_it_leads_to() -> None:
    assert transition(State.APPLIED, Step.APPLY) is State.APPLIED
    assert transition(State.CLONED, Step.CLONE) is State.CLONED
    assert transition(State.COMPARED, Step.COMPARE) is State.COMPARED
    assert transition(State.CUT_OVER, Step.CUT_OVER) is State.CUT_OVER
    assert transition(State.CLEANED_UP, Step.CLEAN_UP, SETTLED) is State.CLEANED_UP
    assert transition(State.UNDONE, Step.UNDO) is State.UNDONE


@pytest.mark.parametrize("step", [Step.CLONE, Step.COMPARE, Step.CUT_OVER, Step.CLEAN_UP])
def test_no_step_is_skipped(step: Step) -> None:
    allowed = {Step.CLONE: {State.APPLIED, State.CLONED},
               Step.COMPARE: {State.CLONED, State.COMPARED},
               Step.CUT_OVER: {State.COMPARED, State.CUT_OVER},
               Step.CLEAN_UP: {State.CUT_OVER, State.CLEANED_UP}}[step]
    for state in State:
        got = transition(state, step, SETTLED)
        assert isinstance(got, Refusal) == (state not in allowed), (state, step)


def test_a_clone_or_comparison_left_unfinished_keeps_the_step_to_do() -> None:
    """A request clones and compares as many assets as its time allows; until the last
    is done the state says the step is still to do, even when it was done before (a clone
    asked again finds a new use to clone; a comparison asked again starts over)."""
    left = Facts(settled=True, unfinished=True)
    assert transition(State.APPLIED, Step.CLONE, left) is State.APPLIED
    assert transition(State.CLONED, Step.CLONE, left) is State.APPLIED
    assert transition(State.CLONED, Step.COMPARE, left) is State.CLONED
    assert transition(State.COMPARED, Step.COMPARE, left) is State.CLONED
    assert next_step(State.APPLIED) is Step.CLONE and next_step(State.CLONED) is Step.COMPARE
    # the other steps have nothing left over: the fact does not change them
    assert transition(State.COMPARED, Step.CUT_OVER, left) is State.CUT_OVER
    assert transition(State.CUT_OVER, Step.CLEAN_UP, left) is State.CLEANED_UP


def test_apply_is_refused_once_past_applied() -> None:
    for state in (State.CLONED, State.COMPARED, State.CUT_OVER, State.CLEANED_UP):
        assert isinstance(transition(state, Step.APPLY, DONE), Refusal)


def test_clean_up_waits_for_a_settled_comparison() -> None:
    got = transition(State.CUT_OVER, Step.CLEAN_UP, Facts(settled=False))
    assert isinstance(got, Refusal) and "acknowledged" in got.reason


def test_undo_up_to_and_including_cut_over_not_after_clean_up() -> None:
    for state in State:
        got = transition(state, Step.UNDO)
        if state is State.CLEANED_UP:
            assert isinstance(got, Refusal) and "deleted" in got.reason
        else:
            assert got is State.UNDONE


def test_an_undone_migration_takes_no_other_step() -> None:
    for step in Step:
        if step is not Step.UNDO:
            assert isinstance(transition(State.UNDONE, step, Facts(True, True)), Refusal)


def test_history_fill_from_applied_on_and_the_state_stays() -> None:
    for state in State:
        got = transition(state, Step.FILL_HISTORY)
        if state in (State.PLANNED, State.APPLYING, State.UNDONE):
            assert isinstance(got, Refusal)
        else:
            assert got is state


def test_acknowledge_after_a_comparison_until_clean_up() -> None:
    for state in State:
        got = transition(state, Step.ACKNOWLEDGE)
        if state in (State.COMPARED, State.CUT_OVER):
            assert got is state
        else:
            assert isinstance(got, Refusal)


def test_undo_removes_in_reverse_order() -> None:
    assert undo_order(State.CUT_OVER) == ("enable_workflow", "delete_clones",
                                          "delete_sync_property")
    for state in (State.PLANNED, State.APPLYING, State.APPLIED, State.CLONED,
                  State.COMPARED, State.UNDONE):
        assert undo_order(state) == ("delete_clones", "delete_sync_property")
    assert undo_order(State.CLEANED_UP) == ()


def test_next_step_and_reached() -> None:
    assert [next_step(s) for s in LINE] == [Step.APPLY, Step.APPLY, Step.CLONE,
                                            Step.COMPARE, Step.CUT_OVER, Step.CLEAN_UP, None]
    assert next_step(State.UNDONE) is None
    assert reached(State.COMPARED, Step.CLONE) and not reached(State.CLONED, Step.COMPARE)
    assert not reached(State.APPLYING, Step.APPLY) and reached(State.APPLIED, Step.APPLY)
    assert not reached(State.UNDONE, Step.APPLY)
    assert not reached(State.CLEANED_UP, Step.UNDO)


def test_settled_needs_each_difference_acknowledged_as_it_is() -> None:
    assert settled({}, {})
    assert not settled({"list:1": "a"}, {})
    assert not settled({"list:1": "a"}, {"list:1": "b"})  # acknowledged other differences
    assert settled({"list:1": "a"}, {"list:1": "a", "report:2": "c"})
