"""A report's figures equal the same figures computed from scratch in Python, over random
records (hypothesis): grouped by an enumeration, a bool, a sync property, a number, and
dates by day, week, month and quarter; counted, summed and averaged; filtered; folded
into "(other)" past ``maxGroups``. As of a past moment they equal the history replayed up
to it. On both stores."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from propsync.clock import now_ms
from propsync.domain.properties import Option, format_ms
from propsync.domain.reports import BUCKETS, bucket_key
from propsync.services import report_usage
from propsync.services import reports as svc
from propsync.services.properties import PropertyInput, create_property
from tests.integration.world import PRIMARY, World

TIERS = ("gold", "silver", "bronze", "iron")
CITIES = ("Oslo", "Bergen", "Trondheim", "Tromsø", "oslo")
LOW, HIGH = -400_000_000_000, 2_300_000_000_000  # epoch ms: 1957 to 2042


def _setup(engine: Any) -> World:
    w = World.new(engine)
    group = "contactinformation"
    for name, kind, field, options in (
            ("tier", "enumeration", "select", tuple(Option(t, t.title()) for t in TIERS)),
            ("flag", "bool", "booleancheckbox", ()), ("score", "number", "number", ()),
            ("seen", "date", "date", ()), ("seen_at", "datetime", "date", ())):
        create_property(engine, w.principal, "contacts", PropertyInput(
            name, name.title(), kind, field, group, options=options))
    w.define("contacts", "company_city", "companies", "city", [PRIMARY])
    return w


contact = st.fixed_dictionaries({}, optional={
    "tier": st.sampled_from(TIERS), "flag": st.sampled_from(("true", "false")),
    "score": st.integers(-50, 50) | st.floats(-1e3, 1e3, allow_nan=False).map(
        lambda f: round(f, 2)),
    "seen": st.integers(LOW // 86_400_000, HIGH // 86_400_000),
    "seen_at": st.integers(LOW, HIGH),
    "company": st.integers(0, len(CITIES)),  # an index into the companies, or none
})


def _written(raw: Mapping[str, Any]) -> dict[str, object]:
    out: dict[str, object] = {k: v for k, v in raw.items() if k in ("tier", "flag", "score")}
    if "seen" in raw:
        out["seen"] = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=raw["seen"])
                       ).date().isoformat()
    if "seen_at" in raw:
        out["seen_at"] = format_ms(raw["seen_at"])
    return out


def _day(raw: Mapping[str, Any], name: str) -> Any:
    if name == "seen":
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=raw["seen"])).date()
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=raw["seen_at"])).date()


def _key(raw: Mapping[str, Any], group_by: str, bucket: str | None, city: str | None
         ) -> str | None:
    if group_by == "company_city":
        return city
    if group_by not in raw:
        return None
    if group_by in ("seen", "seen_at"):
        assert bucket is not None
        return bucket_key(bucket, _day(raw, group_by))
    if group_by == "score":
        return str(_number(raw["score"]))
    return str(raw[group_by])


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


Filter = tuple[str, Callable[[Mapping[str, Any]], bool]] | None
FILTERS: list[tuple[dict[str, Any] | None, Callable[[Mapping[str, Any]], bool]]] = [
    (None, lambda raw: True),
    ({"filterBranchType": "AND", "filters": [{"filterType": "PROPERTY", "property": "score",
                                             "operation": {"operationType": "NUMBER",
                                                           "operator": "IS_GREATER_THAN",
                                                           "value": 0}}]},
     lambda raw: "score" in raw and raw["score"] > 0),
    ({"filterBranchType": "OR", "filterBranches": [
        {"filterBranchType": "AND", "filters": [{"filterType": "PROPERTY", "property": "tier",
                                                 "operation": {"operationType": "ENUMERATION",
                                                               "operator": "IS_ANY_OF",
                                                               "values": ["gold", "iron"]}}]},
        {"filterBranchType": "AND", "filters": [{"filterType": "PROPERTY", "property": "flag",
                                                 "operation": {"operationType": "BOOL",
                                                               "operator": "IS_EQUAL_TO",
                                                               "value": True}}]}]},
     lambda raw: raw.get("tier") in ("gold", "iron") or raw.get("flag") == "true"),
]


def expected_groups(rows: list[tuple[dict[str, Any], str | None]], group_by: str,
                    bucket: str | None) -> dict[str | None, list[float]]:
    """{key: [records, measured, sum of score]} from scratch."""
    found: dict[str | None, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for raw, city in rows:
        g = found[_key(raw, group_by, bucket, city)]
        g[0] += 1
        if "score" in raw:
            g[1] += 1
            g[2] += float(raw["score"])
    return dict(found)


def _measure(measure: str, g: list[float]) -> float | None:
    if measure == "COUNT":
        return g[0]
    if measure == "SUM":
        return g[2]
    return g[2] / g[1] if g[1] else None


def check_figures(run: svc.ReportRun, expected: dict[str | None, list[float]], measure: str,
                  max_groups: int) -> None:
    groups = run.figures.groups
    assert run.figures.records == sum(g[0] for g in expected.values())
    values = {k: g for k, g in expected.items() if k is not None}
    kept = [g for g in groups if g.kind == "VALUE"]
    assert len(kept) == min(max_groups, len(values))
    for g in kept:
        assert g.key in values, g
        assert g.records == values[g.key][0]
        assert g.value == pytest.approx(_measure(measure, values[g.key]))
    ranked = sorted((_measure(measure, g) for g in values.values()),
                    key=lambda m: (m is None, -(m or 0.0)))
    shown = sorted((g.value for g in kept), key=lambda m: (m is None, -(m or 0.0)))
    assert shown == pytest.approx(ranked[:len(kept)])
    no_value = [g for g in groups if g.kind == "NO_VALUE"]
    assert [g.records for g in no_value] == ([expected[None][0]] if None in expected else [])
    other = [g for g in groups if g.kind == "OTHER"]
    rest = [values[k] for k in values if k not in {g.key for g in kept}]
    if rest:
        assert len(other) == 1 and other[0].folded == len(rest)
        assert other[0].records == sum(g[0] for g in rest)
        folded = [sum(g[i] for g in rest) for i in range(3)]
        assert other[0].value == pytest.approx(_measure(measure, folded))
    else:
        assert other == []


@pytest.fixture
def w(engine: Any) -> World:
    return _setup(engine)


GROUPINGS = [("tier", None), ("flag", None), ("company_city", None), ("score", None),
             *(("seen", b) for b in BUCKETS), *(("seen_at", b) for b in BUCKETS)]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(contacts=st.lists(contact, max_size=30), grouping=st.sampled_from(GROUPINGS),
       measure=st.sampled_from(("COUNT", "SUM", "AVERAGE")),
       which=st.integers(0, len(FILTERS) - 1), max_groups=st.integers(1, 6))
def test_figures_equal_a_computation_from_scratch(
        w: World, contacts: list[dict[str, Any]], grouping: tuple[str, str | None],
        measure: str, which: int, max_groups: int) -> None:
    companies = w.create_each("companies", [{"city": c} for c in CITIES])
    ids = w.create_each("contacts", [_written(c) for c in contacts])
    for rid, raw in zip(ids, contacts, strict=True):
        if raw.get("company", len(CITIES)) < len(CITIES):
            w.link("contacts", rid, "companies", companies[raw["company"]], [PRIMARY])
    w.settle()
    cities = {rid: w.value("contacts", rid, "company_city") for rid in ids}
    branch, keep = FILTERS[which]
    group_by, bucket = grouping
    report = svc.create_report(w.engine, w.principal, {
        "name": "Random", "objectType": "contacts", "measure": measure,
        "measureProperty": None if measure == "COUNT" else "score", "groupBy": group_by,
        "dateBucket": bucket, "maxGroups": max_groups, "filterBranch": branch})
    try:
        rows = [(raw, cities[rid]) for rid, raw in zip(ids, contacts, strict=True)
                if keep(raw)]
        run = svc.run_report(w.engine, w.principal, str(report.report_id))
        check_figures(run, expected_groups(rows, group_by, bucket), measure, max_groups)
    finally:
        svc.delete_report(w.engine, w.principal, str(report.report_id))
        for rid in ids:
            w.archive("contacts", rid)
        for rid in companies:
            w.archive("companies", rid)
        w.settle()


def _moment() -> int:
    """A moment strictly between writes (the clock moves on past it)."""
    time.sleep(0.003)
    at = now_ms()
    time.sleep(0.003)
    return at


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.lists(st.tuples(st.integers(0, 5), contact), max_size=6),
                      min_size=1, max_size=4),
       grouping=st.sampled_from([("tier", None), ("seen", "MONTH"), ("seen_at", "WEEK"),
                                 ("seen_at", "DAY"), ("flag", None)]),
       measure=st.sampled_from(("COUNT", "SUM")))
def test_as_of_a_moment_equals_the_history_replayed_to_it(
        w: World, steps: list[list[tuple[int, dict[str, Any]]]], grouping: tuple[str, str | None],
        measure: str) -> None:
    """Records are created, changed, cleared and archived in steps; the report as of the
    moment after each step equals the state the steps had made by then."""
    group_by, bucket = grouping
    report = svc.create_report(w.engine, w.principal, {
        "name": "History", "objectType": "contacts", "measure": measure,
        "measureProperty": None if measure == "COUNT" else "score", "groupBy": group_by,
        "dateBucket": bucket, "maxGroups": 100, "filterBranch": None if measure == "COUNT"
        else FILTERS[1][0]})
    keep = FILTERS[0][1] if measure == "COUNT" else FILTERS[1][1]
    live: dict[int, dict[str, Any]] = {}
    made: list[int] = []
    moments: list[tuple[int, dict[int, dict[str, Any]]]] = [(_moment(), {})]
    for step in steps:
        for slot, raw in step:
            if slot < len(made) and made[slot] in live:
                rid = made[slot]
                if raw.get("company") == 0:  # now and then a record goes
                    w.archive("contacts", rid)
                    del live[rid]
                    continue
                cleared = {k: None for k in ("tier", "flag", "score", "seen", "seen_at")
                           if k in live[rid] and k not in raw}
                w.set("contacts", rid, **_written(raw), **cleared)
                live[rid] = dict(raw)
            else:
                made.append(w.one("contacts", **_written(raw)))
                live[made[-1]] = dict(raw)
        moments.append((_moment(), {rid: dict(raw) for rid, raw in live.items()}))
    try:
        for at, state in moments:
            run = svc.run_report(w.engine, w.principal, str(report.report_id), str(at))
            rows = [(raw, None) for raw in state.values() if keep(raw)]
            check_figures(run, expected_groups(rows, group_by, bucket), measure, 100)
            assert run.figures.as_of_ms == at
    finally:
        svc.delete_report(w.engine, w.principal, str(report.report_id))
        for rid in live:
            w.archive("contacts", rid)


def test_a_value_cleared_then_is_no_value_and_a_record_made_later_is_left_out(w: World
                                                                                ) -> None:
    report = svc.create_report(w.engine, w.principal, {
        "name": "Tiers", "objectType": "contacts", "groupBy": "tier"})
    first = w.one("contacts", tier="gold")
    before = _moment()
    w.set("contacts", first, tier=None)
    w.one("contacts", tier="silver")
    run = svc.run_report(w.engine, w.principal, str(report.report_id), str(before))
    assert [(g.kind, g.key, g.records) for g in run.figures.groups] == [("VALUE", "gold", 1)]
    now = svc.run_report(w.engine, w.principal, str(report.report_id))
    assert [(g.kind, g.label, g.records) for g in now.figures.groups] == [
        ("VALUE", "Silver", 1), ("NO_VALUE", "(no value)", 1)]
    assert math.isclose(now.figures.value or 0, 2)


def test_property_uses_names_each_report_and_where_it_reads_the_property(w: World) -> None:
    from propsync.domain.usage import Use
    from propsync.storage.db import read_transaction

    made = svc.create_report(w.engine, w.principal, {
        "name": "Scores by tier", "objectType": "contacts", "groupBy": "tier",
        "measure": "SUM", "measureProperty": "score", "filterBranch": FILTERS[2][0]})
    rid = str(made.report_id)
    with read_transaction(w.engine) as conn:
        assert report_usage.property_uses(conn, w.account_id, "contacts", "tier") == [
            Use("report", rid, "Scores by tier", "contacts", ("group by", "filter branch 1"),
                f"/ui/reports/{rid}", reads=("tier", "score", "flag"))]
        assert [u.parts for u in report_usage.property_uses(conn, w.account_id, "contacts", "score")
                ] == [("measure",)]
        assert [u.parts for u in report_usage.property_uses(conn, w.account_id, "contacts", "flag")
                ] == [("filter branch 2",)]
        assert report_usage.property_uses(conn, w.account_id, "contacts", "seen") == []
        assert report_usage.property_uses(conn, w.account_id, "companies", "tier") == []


def test_as_of_reads_date_times_back_from_history_for_buckets_and_filters(w: World) -> None:
    late = 1_772_667_000_000  # 2026-03-04T23:30:00Z
    report = svc.create_report(w.engine, w.principal, {
        "name": "Seen", "objectType": "contacts", "groupBy": "seen_at", "dateBucket": "DAY",
        "filterBranch": {"filterBranchType": "AND", "filters": [{
            "filterType": "PROPERTY", "property": "seen_at", "operation": {
                "operationType": "NUMBER", "operator": "IS_GREATER_THAN_OR_EQUAL_TO",
                "value": late}}]}})
    rid = w.one("contacts", seen_at=format_ms(late))
    w.one("contacts", seen_at=format_ms(late - 1))  # filtered out, then and now
    before = _moment()
    w.set("contacts", rid, seen_at=format_ms(late + 3_600_000))
    then = svc.run_report(w.engine, w.principal, str(report.report_id), str(before))
    now = svc.run_report(w.engine, w.principal, str(report.report_id))
    assert [(g.key, g.records) for g in then.figures.groups] == [("2026-03-04", 1)]
    assert [(g.key, g.records) for g in now.figures.groups] == [("2026-03-05", 1)]
