"""The one strict reading of a record id: ASCII digits, no sign, no spaces, no leading zero."""

from __future__ import annotations

import pytest

from propsync.domain.record_ids import parse_record_id


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", 1), ("42", 42), ("9" * 18, 10**18 - 1), (7, 7),
])
def test_digits_are_a_record_id(raw, expected):
    assert parse_record_id(raw) == expected


@pytest.mark.parametrize("raw", [
    "²", "\u0661", "\uff11",  # pass str.isdigit (superscript two, Arabic-Indic and fullwidth 1)
    " 1", "1 ", "\t1", "1\n", "00001", "01", "0", "+1", "-1", "1_000", "1e3", "1.0", "0x1",
    "1" * 19, "", "\x00", "1\x00", "x", 0, -1, 10**18, True,
])
def test_any_other_text_names_no_record(raw):
    assert parse_record_id(raw) is None
