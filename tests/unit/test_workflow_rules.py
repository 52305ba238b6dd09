"""How a workflow runs, as pure rules: triggers, admission, branches, the last write wins."""

from __future__ import annotations

import pytest

from propsync.domain.changes import ChangeKind
from propsync.domain.filters import Filter
from propsync.domain.properties import PropertyDefinition
from propsync.domain.workflow_rules import (
    Admission,
    Trigger,
    admit,
    admit_manual,
    advance,
    branch_next,
    copy_wins,
    describe_delay,
    is_copy,
    trigger_of,
)
from propsync.domain.workflows import (
    Delay,
    EnrolledProperty,
    Enrollment,
    SetProperty,
    StaticBranch,
    StaticValue,
)

LIFECYCLE = Enrollment("LIST_BASED", ((Filter("lifecyclestage", "EQ", "lead"),),))
REENROLLING = Enrollment("LIST_BASED", ((Filter("lifecyclestage", "EQ", "lead"),),),
                         should_re_enroll=True, re_enroll_on=frozenset({"city"}))


@pytest.mark.parametrize("kind", [ChangeKind.CREATED, ChangeKind.RESTORED])
def test_a_created_or_restored_record_may_enroll_for_the_first_time(kind):
    assert trigger_of(LIFECYCLE, kind, None) is Trigger.FIRST


@pytest.mark.parametrize("kind", [ChangeKind.VALUE, ChangeKind.REPLACED])
def test_a_change_of_a_criteria_property_may_enroll_for_the_first_time(kind):
    assert trigger_of(LIFECYCLE, kind, "lifecyclestage") is Trigger.FIRST


def test_a_change_of_another_property_enrolls_nobody():
    assert trigger_of(LIFECYCLE, ChangeKind.VALUE, "city") is None
    assert trigger_of(LIFECYCLE, ChangeKind.ARCHIVED, None) is None
    assert trigger_of(LIFECYCLE, ChangeKind.ASSOCIATED, None) is None


def test_a_change_of_a_re_enrollment_property_may_enroll_again():
    assert trigger_of(REENROLLING, ChangeKind.REPLACED, "city") is Trigger.AGAIN
    assert trigger_of(REENROLLING, ChangeKind.REPLACED, "lifecyclestage") is Trigger.FIRST


def test_a_manual_flow_enrolls_only_by_hand():
    manual = Enrollment("MANUAL")
    assert trigger_of(manual, ChangeKind.CREATED, None) is None
    assert trigger_of(manual, ChangeKind.VALUE, "city") is None


@pytest.mark.parametrize(("trigger", "ever", "active", "expected"), [
    (Trigger.FIRST, False, False, Admission.ENROLL),
    (Trigger.FIRST, True, False, Admission.NONE),
    (Trigger.FIRST, True, True, Admission.NONE),
    (Trigger.AGAIN, False, False, Admission.ENROLL),
    (Trigger.AGAIN, True, False, Admission.ENROLL),
    (Trigger.AGAIN, True, True, Admission.PENDING),
])
def test_a_record_enrolls_once_unless_the_trigger_re_enrolls_it(trigger, ever, active, expected):
    assert admit(trigger, ever, active) is expected


def test_a_record_enrolled_by_hand_while_active_goes_again_afterwards():
    assert admit_manual(active=False) is Admission.ENROLL
    assert admit_manual(active=True) is Admission.PENDING


def test_the_stronger_trigger_of_several_changes_counts():
    assert max(Trigger.FIRST, Trigger.AGAIN) is Trigger.AGAIN


@pytest.mark.parametrize(("copied", "target", "wins"), [
    ((100, 7), (99, 9), True),  # the target is older
    ((100, 7), (100, 5), True),  # same millisecond: the later entry is newer
    ((100, 7), (100, 9), False),
    ((100, 7), (101, 1), False),  # the target was written after the copied value
    ((100, 7), (100, 7), True),  # the same entry is not newer than itself
    ((100, 7), None, True),  # nothing was ever written on the target
    (None, (101, 1), True),  # a calculated value has no version: always new
])
def test_a_copied_value_lands_unless_the_target_is_newer(copied, target, wins):
    assert copy_wins(copied, target) is wins


NUMBER = PropertyDefinition(1, "contacts", "score", "Score", "number", "number", "g")
BRANCH = StaticBranch("2", "score", (("5.0", "3"), ("7", None)), default_next="4")


def test_a_branch_matches_a_value_as_the_property_stores_it():
    assert branch_next(BRANCH, NUMBER, "5") == "3"


def test_a_branch_may_end_the_enrollment():
    assert branch_next(BRANCH, NUMBER, "7") is None


def test_no_value_or_no_match_takes_the_default_branch():
    assert branch_next(BRANCH, NUMBER, None) == "4"
    assert branch_next(BRANCH, NUMBER, "6") == "4"


def test_a_branch_on_a_deleted_property_compares_the_texts():
    assert branch_next(BRANCH, None, "7") is None
    assert branch_next(BRANCH, None, "5") == "4"


def test_a_delay_makes_the_next_action_due_later():
    step = advance(Delay("1", 60_000, "2"), now_ms=1_000)
    assert (step.next_action_id, step.due_ms) == ("2", 61_000)


def test_a_set_property_goes_on_at_once_and_a_branch_where_it_leads():
    step = advance(SetProperty("1", "city", StaticValue("Oslo"), None, None), now_ms=5)
    assert (step.next_action_id, step.due_ms) == (None, 5)
    assert advance(BRANCH, now_ms=5, branch_to="3").next_action_id == "3"


@pytest.mark.parametrize(("ms", "words"), [
    (1_000, "1 second"), (120_000, "2 minutes"), (86_400_000, "1 day"),
    (1_209_600_000, "2 weeks"), (1_500, "1500 ms")])
def test_a_delay_reads_in_words(ms, words):
    assert describe_delay(ms) == words


def test_a_copy_is_a_value_taken_from_a_property():
    assert is_copy(SetProperty("1", "city", EnrolledProperty("town"), None, None))
    assert not is_copy(SetProperty("1", "city", StaticValue("Oslo"), None, None))
