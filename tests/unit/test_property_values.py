"""Pure rules of property values: how raw input becomes a stored value, and who may use it."""

from __future__ import annotations

import pytest

from propsync.domain.errors import ValidationError
from propsync.domain.properties import (
    AccessRule,
    Option,
    PropertyDefinition,
    StoredValue,
    normalize_value,
    renormalize,
)


def prop(type_: str, field_type: str, options: tuple[Option, ...] = ()) -> PropertyDefinition:
    return PropertyDefinition(id=1, object_type="deals", name="p", label="P", type=type_,
                              field_type=field_type, group_name="dealinformation",
                              options=options)


NUMBER = prop("number", "number")
DATE = prop("date", "date")
DATETIME = prop("datetime", "date")
TIER = prop("enumeration", "select", (Option("gold", "Gold"), Option("silver", "Silver")))
TAGS = prop("enumeration", "checkbox", (Option("a", "A"), Option("b", "B")))
FLAG = prop("bool", "booleancheckbox")
TEXT = prop("string", "text")


@pytest.mark.parametrize(("definition", "raw", "expected"), [
    (TEXT, "hello", StoredValue("hello", None)),
    (TEXT, 12, StoredValue("12", None)),
    (NUMBER, "42", StoredValue("42", 42.0)),
    (NUMBER, " 42.50 ", StoredValue("42.5", 42.5)),
    (NUMBER, 7, StoredValue("7", 7.0)),
    (DATE, "2024-03-05", StoredValue("2024-03-05", 1709596800000.0)),
    (DATE, "2024-03-05T23:10:00Z", StoredValue("2024-03-05", 1709596800000.0)),
    (DATETIME, "1709596800000", StoredValue("2024-03-05T00:00:00.000Z", 1709596800000.0)),
    (DATETIME, "2024-03-05T01:00:00+01:00", StoredValue("2024-03-05T00:00:00.000Z",
                                                         1709596800000.0)),
    (TIER, "gold", StoredValue("gold", None)),
    (TAGS, "a;b", StoredValue("a;b", None)),
    (FLAG, "TRUE", StoredValue("true", None)),
    (FLAG, False, StoredValue("false", None)),
])
def test_a_raw_value_becomes_its_canonical_stored_form(definition, raw, expected):
    assert normalize_value(definition, raw) == expected


@pytest.mark.parametrize("raw", [None, ""])
def test_none_and_the_empty_string_clear_the_value(raw):
    assert normalize_value(NUMBER, raw) is None


@pytest.mark.parametrize(("definition", "raw", "code"), [
    (NUMBER, "forty", "INVALID_INTEGER"),
    (NUMBER, "nan", "INVALID_INTEGER"),
    (NUMBER, "inf", "INVALID_INTEGER"),
    (DATE, "05/03/2024", "INVALID_DATE"),
    (DATETIME, "2024-13-40", "INVALID_DATE"),
    (TIER, "bronze", "INVALID_OPTION"),
    (TIER, "gold;silver", "INVALID_OPTION"),
    (TAGS, "a;c", "INVALID_OPTION"),
    (FLAG, "yes", "INVALID_BOOLEAN"),
    (TEXT, ["a", "list"], "INVALID_VALUE"),
    (TEXT, "x" * 65537, "INVALID_VALUE"),
    (TEXT, "a\x00b", "INVALID_VALUE"),
    (TEXT, "\ud800", "INVALID_VALUE"),
    (DATETIME, "9999-12-31T23:59:59-01:00", "INVALID_DATE"),
    (DATETIME, "0001-01-01T00:00:00+01:00", "INVALID_DATE"),
    (DATETIME, "9999-12-31T23:59:59.9996Z", "INVALID_DATE"),
    (DATETIME, "-62135596800001", "INVALID_DATE"),
    (DATE, "9999-12-31T23:59:59-01:00", "INVALID_DATE"),
    (DATE, "0001-01-01T00:00:00+01:00", "INVALID_DATE"),
])
def test_a_value_that_does_not_fit_is_refused_with_a_code_naming_the_property(
        definition, raw, code):
    with pytest.raises(ValidationError) as caught:
        normalize_value(definition, raw)
    detail = caught.value.details[0]
    assert detail.code == code
    assert detail.context == {"propertyName": ["p"]}
    assert "'p'" in caught.value.message


@pytest.mark.parametrize(("definition", "raw", "expected"), [
    (DATETIME, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
    (DATETIME, "-62135596800000", "0001-01-01T00:00:00.000Z"),
    (DATETIME, "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
    (DATETIME, "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59.000Z"),
    (DATE, "0001-01-01", "0001-01-01"),
    (DATE, "9999-12-31", "9999-12-31"),
])
def test_the_first_and_last_moments_of_years_1_to_9999_are_kept_as_iso_text(
        definition, raw, expected):
    stored = normalize_value(definition, raw)
    assert stored is not None and stored.text == expected
    assert normalize_value(definition, stored.text) == stored  # it reads back as itself


def test_renormalize_converts_what_fits_and_returns_what_does_not():
    converted, misfits = renormalize(NUMBER, [(1, "42"), (2, "abc"), (3, "1.50")])
    assert converted == [(1, StoredValue("42", 42.0)), (3, StoredValue("1.5", 1.5))]
    assert misfits == [(2, "abc")]


def test_renormalize_reports_a_removed_option_still_in_use():
    only_gold = prop("enumeration", "select", (Option("gold", "Gold"),))
    _, misfits = renormalize(only_gold, [(1, "gold"), (2, "silver")])
    assert misfits == [(2, "silver")]


def test_an_unrestricted_rule_admits_everyone():
    rule = AccessRule()
    assert not rule.is_restricted and not rule.admits_nobody
    assert rule.can_view(1, frozenset()) and rule.can_edit(1, frozenset())


def test_a_view_rule_admits_named_users_and_members_of_named_teams():
    rule = AccessRule(view_users=frozenset({1}), view_teams=frozenset({10}))
    assert rule.view_restricted and not rule.edit_restricted
    assert rule.can_view(1, frozenset())
    assert rule.can_view(2, frozenset({10, 11}))
    assert not rule.can_view(3, frozenset({11}))


def test_a_user_who_may_not_view_may_not_edit_either():
    rule = AccessRule(view_users=frozenset({1}))
    assert rule.can_edit(1, frozenset())
    assert not rule.can_edit(2, frozenset())


def test_an_edit_rule_leaves_viewing_open():
    rule = AccessRule(edit_users=frozenset(), edit_teams=frozenset({10}))
    assert rule.can_view(2, frozenset()) and not rule.can_edit(2, frozenset())
    assert rule.can_edit(2, frozenset({10}))
    assert rule.team_ids == {10} and rule.user_ids == frozenset()


def test_a_restricted_side_naming_nobody_admits_nobody():
    assert AccessRule(view_users=frozenset(), view_teams=frozenset()).admits_nobody
    assert AccessRule(edit_users=frozenset()).admits_nobody
    assert not AccessRule(view_users=frozenset({1}), view_teams=frozenset()).admits_nobody
