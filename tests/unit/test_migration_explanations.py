"""Why a clone differs from its original, in words (``domain/migration_compare.py``)."""

from __future__ import annotations

from propsync.domain.migration_compare import (
    NOT_BY_FILTER,
    OTHER,
    PROCESSING,
    STALE_COPY,
    Side,
    explain_member,
    explain_move,
)

LABELS = ("Company name (copy) (company_copy)", "Company (company_sync)")
DONE = Side(1, "DYNAMIC", "COMPLETE")
CLONE = Side(2, "DYNAMIC", "COMPLETE")


def test_a_stale_copy_names_both_values() -> None:
    found = explain_member(True, DONE, CLONE, LABELS, "Acme", "Acme Inc")
    assert found.reason == STALE_COPY
    assert found.text.startswith("Company name (copy) (company_copy) = 'Acme' but "
                                 "Company (company_sync), the value in its place, = 'Acme Inc'")
    assert "has no value" in explain_member(False, DONE, CLONE, LABELS, "Acme", None).text


def test_equal_values_are_explained_by_the_lists() -> None:
    processing = Side(2, "DYNAMIC", "PROCESSING")
    assert explain_member(True, DONE, processing, LABELS, "A", "A").reason == PROCESSING
    manual = Side(1, "MANUAL", "COMPLETE")
    found = explain_member(True, manual, CLONE, LABELS, "A", "A")
    assert (found.reason, "by hand" in found.text) == (NOT_BY_FILTER, True)
    assert explain_member(True, DONE, CLONE, LABELS, "A", "A").reason == OTHER
    assert explain_member(True, DONE, CLONE, None, None, None).reason == OTHER


def test_values_are_quoted_short_and_never_without_labels() -> None:
    long = "x" * 500
    assert len(explain_member(True, DONE, CLONE, LABELS, long, "y").text) < 300
    moved = explain_move(None, True, "Acme", False, None, "Acme", "Globex")
    assert moved.reason == OTHER and "Acme" in moved.text  # the group's key, not a value
    moved = explain_move(LABELS, True, "Acme", True, None, "Acme", None)
    assert moved.reason == STALE_COPY and "under (no value) in the clone" in moved.text
