"""HubSpot's filter branches, as lists (v3) and workflows' enrollment (automation v4) write
them: an OR of AND branches of ``PROPERTY`` filters, read into search's filter groups
(``domain/filters.py``: an OR of AND groups, the same semantics as search) (pure).

Each reader (workflows, lists) names itself and its error codes in a ``Reader``; anything
outside the supported operators and branch shapes is refused naming the part, never
ignored.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.filters import LIST_OPERATORS, Filter, check_filter


@dataclass(frozen=True)
class Reader:
    """Who reads a branch: its name in refusals, their codes, and its limits."""

    owner: str  # "propsync's workflows"
    unsupported_code: str
    invalid_code: str
    max_groups: int
    max_filters: int
    # Lists read more than workflows' enrollment: STARTS_WITH / ENDS_WITH, IS_NOT_BETWEEN,
    # and dates (TIME_POINT / TIME_RANGED, absolute or relative to today).
    extended: bool = False

    def unsupported(self, path: str, what: str, code: str | None = None) -> ValidationError:
        message = f"{path}: {what} is not supported by {self.owner}."
        return ValidationError(message, [ErrorDetail(message, code or self.unsupported_code,
                                                     {"path": [path]})])

    def invalid(self, path: str, what: str, code: str | None = None) -> ValidationError:
        message = f"{path}: {what}"
        return ValidationError(message, [ErrorDetail(message, code or self.invalid_code,
                                                     {"path": [path]})])


def branch_groups(raw: Any, path: str, reader: Reader) -> tuple[tuple[Filter, ...], ...]:
    """An OR of AND branches (or one AND branch) of PROPERTY filters → filter groups (an OR
    of AND groups, as search takes them)."""
    if not isinstance(raw, Mapping):
        raise reader.invalid(path, "a filter branch is a JSON object.")
    _check_operator_name(raw, path, reader)
    kind = raw.get("filterBranchType")
    if kind == "AND":
        if raw.get("filterBranches"):
            raise reader.unsupported(f"{path}.filterBranches", "a branch inside an AND branch")
        return (filters(raw.get("filters") or [], path, reader),)
    if kind != "OR":
        raise reader.unsupported(f"{path}.filterBranchType", f"filter branch type {kind!r} (use OR "
                          "of AND branches of PROPERTY filters)")
    if raw.get("filters"):
        raise reader.unsupported(f"{path}.filters", "filters directly in an OR branch")
    groups: list[tuple[Filter, ...]] = []
    for i, sub in enumerate(raw.get("filterBranches") or []):
        sub_path = f"{path}.filterBranches[{i}]"
        if not isinstance(sub, Mapping) or sub.get("filterBranchType") != "AND":
            raise reader.unsupported(sub_path, "a branch other than AND inside the OR branch")
        groups.extend(branch_groups(sub, sub_path, reader))
    if len(groups) > reader.max_groups or sum(map(len, groups)) > reader.max_filters:
        raise reader.invalid(path, f"at most {reader.max_groups} branches and "
                             f"{reader.max_filters} filters.",
                      "TOO_MANY_FILTERS")
    return tuple(g for g in groups if g)


def _check_operator_name(raw: Mapping[str, Any], path: str, reader: Reader) -> None:
    if not isinstance(raw.get("filterBranchOperator", ""), str):
        raise reader.invalid(f"{path}.filterBranchOperator", "a branch's operator is a string.")


def filters(raw: Any, path: str, reader: Reader) -> tuple[Filter, ...]:
    """A list of PROPERTY filters (an AND group)."""
    if not isinstance(raw, list):
        raise reader.invalid(f"{path}.filters", "filters are a list.")
    out: list[Filter] = []
    for i, f in enumerate(raw):
        out.extend(property_filter(f, f"{path}.filters[{i}]", reader))
    return tuple(out)


# HubSpot's list filter operators → search's (domain/filters.py).
_POSITIVE = {"IS_EQUAL_TO": "EQ", "IS_ANY_OF": "IN", "CONTAINS": "CONTAINS_TOKEN",
             "IS_GREATER_THAN": "GT", "IS_GREATER_THAN_OR_EQUAL_TO": "GTE",
             "IS_LESS_THAN": "LT", "IS_LESS_THAN_OR_EQUAL_TO": "LTE", "IS_KNOWN": "HAS_PROPERTY",
             "IS_BETWEEN": "BETWEEN"}
_NEGATIVE = {"IS_NOT_EQUAL_TO": "NEQ", "IS_NONE_OF": "NOT_IN",
             "DOES_NOT_CONTAIN": "NOT_CONTAINS_TOKEN", "IS_UNKNOWN": "NOT_HAS_PROPERTY"}
_OPERATION_TYPES = ("STRING", "MULTISTRING", "ENUMERATION", "NUMBER", "BOOL", "ALL_PROPERTY",
                    "NUMBER_RANGED", "RANGED_NUMBER")
# Only lists (``Reader.extended``) read these.
_EXTENDED_POSITIVE = {"STARTS_WITH": "STARTS_WITH", "ENDS_WITH": "ENDS_WITH"}
_EXTENDED_NEGATIVE = {"IS_NOT_BETWEEN": "NOT_BETWEEN"}
_TIME_TYPES = ("TIME_POINT", "TIME_RANGED")
# The operand of a NUMBER or BOOL operation is a number or a boolean (HubSpot's schema).
_NUMERIC = re.compile(r"^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def property_filter(raw: Any, path: str, reader: Reader) -> list[Filter]:
    """One ``PROPERTY`` filter as search filters (one, or two when a negative operator
    leaves out records with no value: ``includeObjectsWithNoValueSet: false``)."""
    if not isinstance(raw, Mapping) or raw.get("filterType") != "PROPERTY":
        kind = raw.get("filterType") if isinstance(raw, Mapping) else None
        raise reader.unsupported(f"{path}.filterType", f"filter type {kind!r} (use PROPERTY)")
    prop = raw.get("property")
    op = raw.get("operation")
    if not isinstance(prop, str) or not prop:
        raise reader.invalid(f"{path}.property", "a filter names a property.")
    if not isinstance(op, Mapping):
        raise reader.invalid(f"{path}.operation", "a filter has an operation.")
    op_type, operator = op.get("operationType"), op.get("operator")
    include_empty = op.get("includeObjectsWithNoValueSet", False)
    if reader.extended and op_type in _TIME_TYPES:
        return _time_filter(prop, op, f"{path}.operation", reader)
    search_op = _operator(op_type, operator, include_empty, f"{path}.operation", reader)
    value, values, high = _operands(op, str(op_type), search_op, f"{path}.operation",
                                   reader)
    if search_op in ("EQ", "NEQ") and value is None:  # equal to any of several values
        search_op = {"EQ": "IN", "NEQ": "NOT_IN"}[search_op]
    if search_op == "CONTAINS_TOKEN" or search_op == "NOT_CONTAINS_TOKEN":
        value = f"*{value}*" if value is not None else None  # a substring, as lists mean it
    f = Filter(prop, search_op, value, values, high)
    try:
        check_filter(f, LIST_OPERATORS)
    except ValidationError as exc:
        raise reader.invalid(path, exc.message, "INVALID_FILTER") from None
    negative = is_key(operator, _NEGATIVE) or (reader.extended
                                                and is_key(operator, _EXTENDED_NEGATIVE))
    if negative and operator != "IS_UNKNOWN" and not include_empty:
        return [f, Filter(prop, "HAS_PROPERTY")]
    return [f]


def _operator(op_type: Any, operator: Any, include_empty: Any, path: str, reader: Reader
              ) -> str:
    """Search's operator for a list filter's, or a refusal naming what is not supported."""
    if op_type not in _OPERATION_TYPES:
        raise reader.unsupported(f"{path}.operationType", f"operation type {op_type!r}")
    if not isinstance(include_empty, bool):
        raise reader.invalid(f"{path}.includeObjectsWithNoValueSet", "true or false.")
    negative = {**_NEGATIVE, **(_EXTENDED_NEGATIVE if reader.extended else {})}
    positive = {**_POSITIVE, **(_EXTENDED_POSITIVE if reader.extended else {})}
    if is_key(operator, negative):
        return negative[operator]
    if not is_key(operator, positive):
        raise reader.unsupported(f"{path}.operator", f"operator {operator!r}")
    if include_empty and operator != "IS_KNOWN":
        raise reader.unsupported(f"{path}.includeObjectsWithNoValueSet", f"true with {operator}")
    return positive[operator]


def _operands(op: Mapping[str, Any], op_type: str, search_op: str, path: str, reader: Reader
              ) -> tuple[str | None, tuple[str, ...], str | None]:
    if search_op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return None, (), None
    if search_op in ("BETWEEN", "NOT_BETWEEN"):
        low, high = op.get("lowerBound"), op.get("upperBound")
        if not is_number(low) or not is_number(high):
            raise reader.invalid(path, "IS_BETWEEN needs numbers lowerBound and upperBound.")
        return as_text(low), (), as_text(high)
    if search_op in ("IN", "NOT_IN") or op_type in ("MULTISTRING", "ENUMERATION"):
        raw = op.get("values")
        if not isinstance(raw, list) or not raw or not all(scalar(v) for v in raw):
            raise reader.invalid(f"{path}.values", "the operation needs a list of values.")
        texts = tuple(as_text(v) for v in raw)
        if search_op in ("EQ", "NEQ"):  # IS_EQUAL_TO on several values: any of them
            return None, texts, None
        if search_op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN", "STARTS_WITH", "ENDS_WITH"):
            if len(texts) != 1:
                raise reader.unsupported(f"{path}.values", f"{op.get('operator')} with several "
                                         "values")
            return texts[0], (), None
        return None, texts, None
    return _single_value(op.get("value"), op_type, f"{path}.value", reader), (), None


def _single_value(raw: Any, op_type: str, path: str, reader: Reader) -> str:
    if not scalar(raw):
        raise reader.invalid(path, "the operation needs a value.")
    if op_type == "NUMBER" and not is_number(raw):
        raise reader.invalid(path, "a NUMBER operation compares with a number.")
    if op_type == "BOOL" and str(raw).lower() not in ("true", "false"):
        raise reader.invalid(path, "a BOOL operation compares with true or false.")
    return as_text(raw)


# Dates (lists only): a TIME_POINT compares with one point in time, a TIME_RANGED with two.
# A point is a DATE (a day and time in a zone) or INDEXED to TODAY (the start of today in
# its zone, plus the reference's hour/minute/second and an offset). An absolute point is
# kept as ``AT|<milliseconds>``, one relative to today as ``TODAY|...`` text in the
# filter; both are resolved into milliseconds when the list is evaluated
# (``resolve_times``), which a periodic pass repeats as days pass (``next_time_change``).
_TIME_OPERATORS = {"IS_BEFORE": ("LT", "LTE"), "IS_AFTER": ("GT", "GTE")}
_OFFSET_UNITS = ("years", "quarters", "months", "weeks", "days", "hours", "minutes", "seconds",
                 "milliseconds")
_TIME_FIELDS = ("hour", "minute", "second", "millisecond")
RELATIVE = "TODAY|"
ABSOLUTE = "AT|"
_MIN_MS, _MAX_MS = -62_135_596_800_000, 253_402_300_799_999  # years 1 and 9999, UTC
_MAX_OFFSET = 100_000  # days (or the same span in other units): 270 years either way


def _time_filter(prop: str, op: Mapping[str, Any], path: str, reader: Reader) -> list[Filter]:
    op_type, operator = op.get("operationType"), op.get("operator")
    include_empty = op.get("includeObjectsWithNoValueSet", False)
    if not isinstance(include_empty, bool):
        raise reader.invalid(f"{path}.includeObjectsWithNoValueSet", "true or false.")
    parser = op.get("propertyParser")
    if parser not in (None, "VALUE"):
        raise reader.unsupported(f"{path}.propertyParser", f"property parser {parser!r} (use "
                                 "VALUE)")
    if op.get("type") not in (None, op_type):
        raise reader.invalid(f"{path}.type", f"a {op_type} operation's type is {op_type}.")
    if op_type == "TIME_POINT":
        if not is_key(operator, _TIME_OPERATORS):
            raise reader.unsupported(f"{path}.operator", f"operator {operator!r} with "
                                     "TIME_POINT (use IS_BEFORE or IS_AFTER)")
        inclusive = _endpoint(op.get("endpointBehavior"), False, f"{path}.endpointBehavior",
                              reader)
        point = _time_point(op.get("timePoint"), f"{path}.timePoint", reader)
        f = Filter(prop, _TIME_OPERATORS[operator][inclusive], point)
        negative = False
    else:
        if operator not in ("IS_BETWEEN", "IS_NOT_BETWEEN"):
            raise reader.unsupported(f"{path}.operator", f"operator {operator!r} with "
                                     "TIME_RANGED (use IS_BETWEEN or IS_NOT_BETWEEN)")
        for end in ("lower", "upper"):
            _endpoint(op.get(f"{end}BoundEndpointBehavior"), True,
                      f"{path}.{end}BoundEndpointBehavior", reader, exclusive_ok=False)
        low = _time_point(op.get("lowerBoundTimePoint"), f"{path}.lowerBoundTimePoint", reader)
        high = _time_point(op.get("upperBoundTimePoint"), f"{path}.upperBoundTimePoint",
                           reader)
        negative = operator == "IS_NOT_BETWEEN"
        f = Filter(prop, "NOT_BETWEEN" if negative else "BETWEEN", low, (), high)
    if include_empty and not negative:
        raise reader.unsupported(f"{path}.includeObjectsWithNoValueSet",
                                 f"true with {operator}")
    if negative and not include_empty:
        return [f, Filter(prop, "HAS_PROPERTY")]
    return [f]


def _endpoint(raw: Any, default: bool, path: str, reader: Reader, exclusive_ok: bool = True
              ) -> bool:
    """Whether the end is included: ``INCLUSIVE`` / ``EXCLUSIVE`` (a range's ends are
    included, as HubSpot's IS_BETWEEN includes them)."""
    if raw is None:
        return default
    if raw == "INCLUSIVE":
        return True
    if raw == "EXCLUSIVE" and exclusive_ok:
        return False
    raise reader.unsupported(path, f"endpoint behavior {str(raw)[:40]!r}")


def _zone(raw: Any, path: str, reader: Reader) -> str:
    if raw is None or raw == "":
        return "UTC"
    if not isinstance(raw, str) or len(raw) > 64:
        raise reader.invalid(f"{path}.zoneId", "a time zone id such as 'UTC' or "
                             "'Europe/Paris'.")
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.invalid(f"{path}.zoneId", f"unknown time zone {raw[:64]!r}.") from None
    return raw


def _int(raw: Any, path: str, reader: Reader, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise reader.invalid(path, f"a whole number from {low} to {high}.")
    return raw


def _time_point(raw: Any, path: str, reader: Reader) -> str:
    """An absolute point as milliseconds (text), a relative one as ``TODAY|...``."""
    if not isinstance(raw, Mapping):
        raise reader.invalid(path, "a time point is a JSON object.")
    kind = raw.get("timeType")
    zone = _zone(raw.get("zoneId"), path, reader)
    if kind == "DATE":
        year = _int(raw.get("year"), f"{path}.year", reader, 1, 9999)
        month = _int(raw.get("month"), f"{path}.month", reader, 1, 12)
        day = _int(raw.get("day"), f"{path}.day", reader, 1, 31)
        clock = [_int(raw.get(k) or 0, f"{path}.{k}", reader, 0, hi)
                 for k, hi in zip(_TIME_FIELDS, (23, 59, 59, 999), strict=True)]
        try:
            moment = datetime(year, month, day, clock[0], clock[1], clock[2],
                              clock[3] * 1000, tzinfo=ZoneInfo(zone))
        except ValueError:
            raise reader.invalid(path, f"{year}-{month}-{day} is no date.") from None
        return ABSOLUTE + str(int(moment.timestamp() * 1000))
    if kind != "INDEXED":
        raise reader.unsupported(f"{path}.timeType", f"time type {kind!r} (use DATE, or "
                                 "INDEXED to TODAY)")
    ref = raw.get("indexReference")
    if not isinstance(ref, Mapping) or ref.get("referenceType") != "TODAY":
        found = ref.get("referenceType") if isinstance(ref, Mapping) else None
        raise reader.unsupported(f"{path}.indexReference.referenceType",
                                 f"reference type {found!r} (use TODAY)")
    clock = [_int(ref.get(k) or 0, f"{path}.indexReference.{k}", reader, 0, hi)
             for k, hi in zip(_TIME_FIELDS, (23, 59, 59, 999), strict=True)]
    offset = raw.get("offset") or {}
    if not isinstance(offset, Mapping):
        raise reader.invalid(f"{path}.offset", "an offset is a JSON object.")
    unknown = sorted(set(offset) - set(_OFFSET_UNITS))
    if unknown:
        raise reader.unsupported(f"{path}.offset.{unknown[0][:40]}", "this offset unit")
    limits = {"years": 270, "quarters": 1_100, "months": 3_300, "weeks": 15_000,
              "days": _MAX_OFFSET, "hours": 24 * _MAX_OFFSET, "minutes": 1440 * _MAX_OFFSET,
              "seconds": 86_400 * _MAX_OFFSET, "milliseconds": 86_400_000 * _MAX_OFFSET}
    amounts = [_int(offset.get(u) or 0, f"{path}.offset.{u}", reader, -limits[u], limits[u])
               for u in _OFFSET_UNITS]
    return RELATIVE + "|".join([zone, *map(str, clock), *map(str, amounts)])


def is_relative(value: str | None) -> bool:
    return value is not None and value.startswith(RELATIVE)


def is_time(value: str | None) -> bool:
    """Whether a filter's operand is a point in time (a list's TIME_POINT / TIME_RANGED)."""
    return value is not None and (value.startswith(RELATIVE) or value.startswith(ABSOLUTE))


def relative_groups(groups: Sequence[Sequence[Filter]]) -> bool:
    """Whether some filter compares with a time relative to today."""
    return any(is_relative(f.value) or is_relative(f.high_value) for g in groups for f in g)


def _resolve(value: str | None, now_ms: int) -> str | None:
    if value is not None and value.startswith(ABSOLUTE):
        return value[len(ABSOLUTE):]
    if not is_relative(value):
        return value
    assert value is not None
    zone, *numbers = value[len(RELATIVE):].split("|")
    hour, minute, second, milli, years, quarters, months, weeks, days, hours, minutes, \
        seconds, millis = map(int, numbers)
    tz = ZoneInfo(zone)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    total_months = today.month - 1 + months + 3 * quarters + 12 * years
    year, month = today.year + total_months // 12, total_months % 12 + 1
    year = min(max(year, 1), 9999)
    day = min(today.day, calendar.monthrange(year, month)[1])
    try:
        start = date(year, month, day) + timedelta(weeks=weeks, days=days)
    except OverflowError:
        start = date(1, 1, 1) if weeks * 7 + days < 0 else date(9999, 12, 31)
    try:
        moment = datetime(start.year, start.month, start.day, hour, minute, second,
                          milli * 1000, tzinfo=tz)
        ms = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):  # at the ends of the calendar
        ms = _MIN_MS if start.year < 5000 else _MAX_MS
    ms += millis + 1000 * (seconds + 60 * (minutes + 60 * hours))
    return str(min(max(ms, _MIN_MS), _MAX_MS))


def resolve_times(groups: Sequence[Sequence[Filter]], now_ms: int
                  ) -> tuple[tuple[Filter, ...], ...]:
    """``groups`` with every point in time read as milliseconds (one relative to today as
    at ``now_ms``)."""
    return tuple(tuple(replace(f, value=_resolve(f.value, now_ms),
                               high_value=_resolve(f.high_value, now_ms)) for f in g)
                 for g in groups)


def next_time_change(groups: Sequence[Sequence[Filter]], now_ms: int) -> int | None:
    """When a time relative to today next moves (the next midnight in its zone after
    ``now_ms``), or ``None`` when no filter compares with one."""
    zones = {v[len(RELATIVE):].split("|")[0] for g in groups for f in g
             for v in (f.value, f.high_value) if v is not None and is_relative(v)}
    found: int | None = None
    for zone in zones:
        tz = ZoneInfo(zone)
        today = datetime.fromtimestamp(now_ms / 1000, tz).date()
        tomorrow = today + timedelta(days=1)
        ms = int(datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz)
                 .timestamp() * 1000)
        found = ms if found is None else min(found, ms)
    return found


def is_key(value: Any, table: Mapping[str, Any]) -> TypeGuard[str]:
    """``value`` is a key of ``table`` (a JSON list or object is no key, not a crash)."""
    return isinstance(value, str) and value in table


def is_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        return False
    return isinstance(v, int) or (isinstance(v, float) and v == v and abs(v) != float("inf")) \
        or (isinstance(v, str) and _NUMERIC.match(v) is not None)


def scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool)) and v is not None


def as_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
