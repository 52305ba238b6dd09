"""HubSpot's limits on a search, and text a store can hold: pure rules, each a 400."""

from __future__ import annotations

import pytest

from propsync.domain.errors import ValidationError
from propsync.domain.filters import (
    MAX_VALUES,
    Filter,
    check_filter,
    check_search,
    parse_offset,
)
from propsync.domain.text import unstorable


@pytest.mark.parametrize(("after", "expected"), [
    (None, 0), ("", 0), ("0", 0), ("10", 10), ("9999", 9999)])
def test_a_search_cursor_is_an_offset_within_the_first_ten_thousand_results(after, expected):
    assert parse_offset(after) == expected


@pytest.mark.parametrize("after", ["10000", "99999999999", "²", "\u0661", " 1", "01", "-1",
                                   "1.0", "x"])
def test_any_other_cursor_is_refused(after):
    with pytest.raises(ValidationError) as caught:
        parse_offset(after)
    assert caught.value.details[0].code == "INVALID_PAGING"


@pytest.mark.parametrize(("sorts", "query", "limit", "code"), [
    (2, None, 10, "TOO_MANY_SORTS"),
    (1000, None, 10, "TOO_MANY_SORTS"),
    (0, "q" * 3001, 10, "QUERY_TOO_LONG"),
    (0, "a\x00", 10, "INVALID_QUERY"),
    (0, None, 0, "INVALID_LIMIT"),
    (0, None, 201, "INVALID_LIMIT"),
])
def test_a_search_past_hubspots_limits_is_refused(sorts, query, limit, code):
    with pytest.raises(ValidationError) as caught:
        check_search(sorts, query, limit)
    assert caught.value.details[0].code == code


def test_a_search_within_hubspots_limits_passes():
    check_search(1, "q" * 3000, 200)
    check_search(0, None, 1)


@pytest.mark.parametrize(("flt", "code"), [
    (Filter("p", "IN", values=tuple("x" * (MAX_VALUES + 1))), "TOO_MANY_VALUES"),
    (Filter("p", "NOT_IN", values=tuple("x" * (MAX_VALUES + 1))), "TOO_MANY_VALUES"),
    (Filter("p", "EQ", "a\x00"), "INVALID_FILTER_VALUE"),
    (Filter("p", "BETWEEN", "a", high_value="\ud800"), "INVALID_FILTER_VALUE"),
    (Filter("p", "IN", values=("a", "\x00")), "INVALID_FILTER_VALUE"),
    (Filter("p", "CONTAINS_TOKEN", "t" * 3001), "INVALID_FILTER_VALUE"),
])
def test_a_filter_whose_operands_cannot_be_searched_for_is_refused(flt, code):
    with pytest.raises(ValidationError) as caught:
        check_filter(flt)
    assert caught.value.details[0].code == code


def test_an_in_filter_of_500_values_passes():
    check_filter(Filter("p", "IN", values=tuple(str(i) for i in range(MAX_VALUES))))


@pytest.mark.parametrize(("text", "says"), [
    ("a\x00b", "NUL character"), ("\ud800", "lone surrogate (\\ud800)"),
    ("x\udfff", "lone surrogate (\\udfff)")])
def test_text_with_a_nul_or_a_lone_surrogate_cannot_be_stored(text, says):
    assert says in (unstorable(text) or "")


@pytest.mark.parametrize("text", ["", "plain", "Øystein 😀", "\u202e", "\ufffd"])
def test_any_other_text_can_be_stored(text):
    assert unstorable(text) is None
