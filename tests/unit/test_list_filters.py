"""Lists' filter branches read (pure): the operators only lists take, points in time
(absolute, relative to today, resolved as days pass), and refusals naming the part."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from propsync.domain.errors import ValidationError
from propsync.domain.filter_branches import next_time_change, relative_groups, resolve_times
from propsync.domain.filters import Filter
from propsync.domain.lists import read_create, read_filter
from propsync.domain.workflows import FLOWS


def one(operation: dict[str, Any], name: str = "firstname") -> dict[str, Any]:
    return {"filterBranchType": "OR", "filterBranches": [{
        "filterBranchType": "AND", "filters": [
            {"filterType": "PROPERTY", "property": name, "operation": operation}]}]}


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_string_operators_lists_take():
    got = read_filter(one({"operationType": "STRING", "operator": "STARTS_WITH",
                           "value": "Ad"})).groups
    assert got == ((Filter("firstname", "STARTS_WITH", "Ad"),),)
    got = read_filter(one({"operationType": "MULTISTRING", "operator": "ENDS_WITH",
                           "values": ["son"]})).groups
    assert got == ((Filter("firstname", "ENDS_WITH", "son"),),)


def test_not_between_leaves_out_records_without_a_value_unless_asked():
    raw = {"operationType": "NUMBER_RANGED", "operator": "IS_NOT_BETWEEN", "lowerBound": 1,
           "upperBound": 5}
    assert read_filter(one(raw, "n")).groups == (
        (Filter("n", "NOT_BETWEEN", "1", (), "5"), Filter("n", "HAS_PROPERTY")),)
    raw["includeObjectsWithNoValueSet"] = True
    assert read_filter(one(raw, "n")).groups == ((Filter("n", "NOT_BETWEEN", "1", (), "5"),),)


def test_workflows_do_not_take_lists_operators():
    """The reader is shared; workflows keep their subset (their tests hold it)."""
    from propsync.domain.filter_branches import branch_groups
    with pytest.raises(ValidationError) as refused:
        branch_groups(one({"operationType": "STRING", "operator": "STARTS_WITH",
                           "value": "a"}), "p", FLOWS)
    assert "STARTS_WITH" in refused.value.message


def test_absolute_date_point_in_its_zone():
    point = {"timeType": "DATE", "zoneId": "Europe/Paris", "year": 2026, "month": 7,
             "day": 1}
    groups = read_filter(one({"operationType": "TIME_POINT", "operator": "IS_BEFORE",
                              "timePoint": point}, "closedate")).groups
    resolved = resolve_times(groups, 0)
    assert resolved == ((Filter("closedate", "LT", str(ms(2026, 6, 30, 22))),),)
    assert not relative_groups(groups)


def test_relative_to_today_resolves_as_days_pass():
    raw = {"operationType": "TIME_RANGED", "operator": "IS_BETWEEN",
           "lowerBoundTimePoint": {"timeType": "INDEXED", "zoneId": "UTC",
                                   "indexReference": {"referenceType": "TODAY"},
                                   "offset": {"days": -7}},
           "upperBoundTimePoint": {"timeType": "INDEXED", "zoneId": "UTC",
                                   "indexReference": {"referenceType": "TODAY", "hour": 23,
                                                      "minute": 59}}}
    groups = read_filter(one(raw, "closedate")).groups
    assert relative_groups(groups)
    now = ms(2026, 3, 10, 15)
    assert resolve_times(groups, now) == ((Filter("closedate", "BETWEEN", str(ms(2026, 3, 3)),
                                                  (), str(ms(2026, 3, 10, 23, 59))),),)
    assert next_time_change(groups, now) == ms(2026, 3, 11)
    later = resolve_times(groups, ms(2026, 3, 11, 0, 0, 1))
    assert later[0][0].value == str(ms(2026, 3, 4))


def test_months_offset_clamps_to_the_months_last_day():
    raw = {"operationType": "TIME_POINT", "operator": "IS_AFTER", "timePoint": {
        "timeType": "INDEXED", "zoneId": "UTC", "indexReference": {"referenceType": "TODAY"},
        "offset": {"months": 1}}}
    groups = read_filter(one(raw, "d")).groups
    assert resolve_times(groups, ms(2026, 1, 31, 12))[0][0].value == str(ms(2026, 2, 28))


@pytest.mark.parametrize(("operation", "named"), [
    ({"operationType": "TIME_POINT", "operator": "IS_BEFORE", "timePoint": {
        "timeType": "INDEXED", "zoneId": "UTC", "indexReference": {"referenceType": "NOW"}}},
     "indexReference.referenceType"),
    ({"operationType": "TIME_POINT", "operator": "IS_BEFORE", "timePoint": {
        "timeType": "DATE", "zoneId": "Mars/Olympus", "year": 2026, "month": 1, "day": 1}},
     "zoneId"),
    ({"operationType": "TIME_POINT", "operator": "IS_BEFORE", "timePoint": {
        "timeType": "DATE", "zoneId": "UTC", "year": 2026, "month": 2, "day": 30}},
     "timePoint"),
    ({"operationType": "TIME_POINT", "operator": "IS_EQUAL_TO", "timePoint": {}},
     "operator"),
    ({"operationType": "TIME_POINT", "operator": "IS_AFTER", "timePoint": {
        "timeType": "INDEXED", "zoneId": "UTC", "indexReference": {"referenceType": "TODAY"},
        "offset": {"fortnights": 1}}}, "offset.fortnights"),
    ({"operationType": "TIME_POINT", "operator": "IS_AFTER", "timePoint": {
        "timeType": "INDEXED", "zoneId": "UTC", "indexReference": {"referenceType": "TODAY"},
        "offset": {"days": 10**12}}}, "offset.days"),
    ({"operationType": "STRING", "operator": "HAS_EVER_BEEN_EQUAL_TO", "value": "a"},
     "operator"),
    ({"operationType": "CALENDAR_DATE", "operator": "IS_BEFORE"}, "operationType"),
    ({"operationType": "STRING", "operator": "STARTS_WITH", "value": "a",
      "includeObjectsWithNoValueSet": True}, "includeObjectsWithNoValueSet"),
])
def test_unsupported_or_invalid_parts_are_refused_naming_them(operation, named):
    with pytest.raises(ValidationError) as refused:
        read_filter(one(operation))
    assert named in refused.value.message


def test_create_refuses_what_propsync_does_not_keep():
    base = {"name": "L", "objectTypeId": "0-1", "processingType": "MANUAL"}
    assert read_create(base).object_type == "contacts"
    for key, value in (("listFolderId", 3), ("membershipSettings", {"membershipTeamId": 1}),
                       ("filterBranch", one({"operationType": "ALL_PROPERTY",
                                             "operator": "IS_KNOWN"})),
                       ("objectTypeId", "0-7"), ("processingType", "STATIC"), ("name", " ")):
        with pytest.raises(ValidationError) as refused:
            read_create({**base, key: value})
        assert key in refused.value.message
    with pytest.raises(ValidationError, match="filterBranch"):
        read_create({**base, "processingType": "DYNAMIC"})
