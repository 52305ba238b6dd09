"""The planner: which targets each kind of change sends to recomputation (SPEC 3.3)."""

from __future__ import annotations

from propsync.domain.changes import Change, ChangeKind
from propsync.domain.sync_rule import Selection, SyncDefinition
from propsync.sync.planner import dependents, plan

NAME_ID, SYNC_ID = 10, 20
COMPANY_NAME = SyncDefinition(
    account_id=1, property_id=SYNC_ID, name="company_name_sync", label="Company name (sync)",
    target_type="contacts", source_type="companies", source_property_id=NAME_ID,
    source_property="name", association_type_ids=None, selection=Selection.FIRST_CREATED,
    state="LIVE", backfill_cursor=0, backfill_done=0, backfill_total=0, backfill_started_ms=0,
    generation=1)


def test_a_value_that_appears_reselects_every_associated_target():
    """The targets it wins hold no value, so no stored winner names them."""
    work = plan([Change(ChangeKind.VALUE, "companies", 7, NAME_ID)], [COMPANY_NAME])
    assert work.via_sources == {SYNC_ID: {7}}
    assert not work.fanouts and not work.targets


def test_a_replaced_value_only_fans_out_to_the_targets_it_wins():
    work = plan([Change(ChangeKind.REPLACED, "companies", 7, NAME_ID)], [COMPANY_NAME])
    assert work.fanouts == {SYNC_ID: {7}}
    assert not work.via_sources and not work.targets


def test_a_value_of_another_property_or_type_plans_nothing():
    work = plan([Change(ChangeKind.REPLACED, "companies", 7, NAME_ID + 1),
                 Change(ChangeKind.VALUE, "deals", 7, NAME_ID)], [COMPANY_NAME])
    assert work.is_empty


def test_an_association_change_reselects_the_target_end_whichever_end_recorded_it():
    work = plan([Change(ChangeKind.ASSOCIATED, "contacts", 3, None, "companies", 7),
                 Change(ChangeKind.DISSOCIATED, "companies", 8, None, "contacts", 4)],
                [COMPANY_NAME])
    assert work.targets == {SYNC_ID: {3, 4}}


def test_source_lifecycle_reselects_every_associated_target_and_target_lifecycle_itself():
    work = plan([Change(ChangeKind.ARCHIVED, "companies", 7),
                 Change(ChangeKind.RESTORED, "contacts", 3),
                 Change(ChangeKind.CREATED, "contacts", 4),
                 Change(ChangeKind.ARCHIVED, "contacts", 5)], [COMPANY_NAME])
    assert work.via_sources == {SYNC_ID: {7}}
    assert work.targets == {SYNC_ID: {3, 4}}  # an archived target simply stops being read


def test_dependents_are_the_sync_properties_copying_a_property():
    assert dependents([COMPANY_NAME], NAME_ID) == [COMPANY_NAME]
    assert dependents([COMPANY_NAME], SYNC_ID) == []
