"""Reports (pure): a saved question "how many records of one object type, or what sum or
average of a number property, per value of a property", with optional filters.

A report's definition is JSON in the API's words (``parse_report`` reads it, refusing any
part it does not support with a 400 naming the part); its filters are HubSpot's list
filter branch (``domain/filter_branches.py``), so they mean exactly what search and
lists mean. ``figures`` turns the rows of the one GROUP BY query (``storage/reports.py``)
into the groups a chart and a table show: the biggest groups, the rest folded into
"(other)", and the records without a value in "(no value)". Date properties are grouped
by UTC day, ISO week (from Monday), month or quarter.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.filter_branches import Reader, branch_groups
from propsync.domain.filters import Filter
from propsync.domain.properties import PropertyDefinition

REPORT_OBJECT_TYPES = ("contacts", "companies", "deals", "tickets")
MEASURES = ("COUNT", "SUM", "AVERAGE")
BUCKETS = ("DAY", "WEEK", "MONTH", "QUARTER")
CHARTS = ("BAR", "COLUMN", "PIE", "LINE")
DEFAULT_GROUPS, MAX_GROUPS = 20, 100  # the biggest groups shown; the rest are "(other)"
MAX_NAME = 200
NO_VALUE, OTHER = "(no value)", "(other)"

READER = Reader("propsync's reports", "REPORT_FILTER_UNSUPPORTED", "INVALID_REPORT_FILTER",
                max_groups=5, max_filters=18)
_FIELDS = ("name", "objectType", "measure", "measureProperty", "groupBy", "dateBucket",
           "chartType", "maxGroups", "filterBranch", "listId")


@dataclass(frozen=True)
class ReportSpec:
    """A report's definition, read: what ``definition`` (the JSON as saved) says."""

    name: str
    object_type: str
    measure: str  # one of MEASURES
    measure_property: str | None  # a number property (SUM, AVERAGE)
    group_by: str
    date_bucket: str | None  # one of BUCKETS, for a date or date-time group-by
    chart_type: str
    max_groups: int
    filter_branch: dict[str, Any] | None
    groups: tuple[tuple[Filter, ...], ...]  # the filter branch as search's filter groups
    list_id: int | None = None  # count only the members of this list (of the same type)

    @property
    def definition(self) -> dict[str, Any]:
        """The definition as the API shows and the store keeps it."""
        return {"name": self.name, "objectType": self.object_type, "measure": self.measure,
                "measureProperty": self.measure_property, "groupBy": self.group_by,
                "dateBucket": self.date_bucket, "chartType": self.chart_type,
                "maxGroups": self.max_groups, "filterBranch": self.filter_branch,
                "listId": None if self.list_id is None else str(self.list_id)}

    def property_names(self) -> list[str]:
        """Every property the report reads: group-by, measure, then filters."""
        names = [self.group_by]
        if self.measure_property:
            names.append(self.measure_property)
        names += [f.property_name for g in self.groups for f in g]
        return list(dict.fromkeys(names))


def refusal(path: str, what: str, code: str = "INVALID_REPORT") -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])


def parse_report(raw: Any) -> ReportSpec:
    """A report definition (the API's JSON) read and checked for shape; the properties it
    names are checked against the account by the service (``check_properties``)."""
    if not isinstance(raw, Mapping):
        raise refusal("body", "a report is a JSON object.")
    unknown = sorted(set(raw) - set(_FIELDS) - {"id", "createdAt", "updatedAt"})
    if unknown:
        raise refusal(unknown[0], "is not a field of a report.", "UNKNOWN_FIELD")
    name = _text(raw, "name", MAX_NAME)
    object_type = _choice(raw, "objectType", REPORT_OBJECT_TYPES)
    measure = _choice(raw, "measure", MEASURES, "COUNT")
    measure_property = _optional_text(raw, "measureProperty")
    if measure == "COUNT" and measure_property is not None:
        raise refusal("measureProperty", "a COUNT measures no property; leave it out.")
    if measure != "COUNT" and measure_property is None:
        raise refusal("measureProperty", f"a {measure} needs a number property.")
    bucket = raw.get("dateBucket")
    if bucket is not None and bucket not in BUCKETS:
        raise refusal("dateBucket", f"one of {', '.join(BUCKETS)}, not {_shown(bucket)}.")
    max_groups = raw.get("maxGroups", DEFAULT_GROUPS)
    if isinstance(max_groups, bool) or not isinstance(max_groups, int) or \
            not 1 <= max_groups <= MAX_GROUPS:
        raise refusal("maxGroups", f"a whole number from 1 to {MAX_GROUPS}.")
    branch = raw.get("filterBranch")
    groups = () if branch is None else branch_groups(branch, "filterBranch", READER)
    return ReportSpec(name, object_type, measure, measure_property, _text(raw, "groupBy", 100),
                      bucket, _choice(raw, "chartType", CHARTS, "BAR"), max_groups,
                      dict(branch) if isinstance(branch, Mapping) else None, groups,
                      _list_id(raw.get("listId")))


def _list_id(raw: Any) -> int | None:
    """A list's id, as Lists v3 writes it (digits, as a string or a number), or none."""
    if raw is None or raw == "":
        return None
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or \
            len(text) > 18 or text.startswith("0"):
        raise refusal("listId", "a list's id (its digits), or null for every record.")
    return int(text)


def _text(raw: Mapping[str, Any], key: str, longest: int) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise refusal(key, "a non-empty text is required.")
    if len(value) > longest:
        raise refusal(key, f"at most {longest} characters.")
    return value.strip()


def _optional_text(raw: Mapping[str, Any], key: str) -> str | None:
    return None if raw.get(key) in (None, "") else _text(raw, key, 100)


def _choice(raw: Mapping[str, Any], key: str, allowed: Sequence[str],
            default: str | None = None) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise refusal(key, f"one of {', '.join(allowed)}, not {_shown(value)}.")
    return str(value)


def _shown(value: Any) -> str:
    return repr(value)[:40]


def is_date(prop: PropertyDefinition) -> bool:
    return prop.type in ("date", "datetime")


def check_properties(spec: ReportSpec, group_by: PropertyDefinition,
                     measured: PropertyDefinition | None) -> ReportSpec:
    """The definition checked against its properties' types: a date group-by has a bucket
    (by month unless said), no other has one; a measure is a number property."""
    bucket = spec.date_bucket
    if is_date(group_by):
        bucket = bucket or "MONTH"
    elif bucket is not None:
        raise refusal("dateBucket", "only a date or date-time group-by is bucketed.")
    if measured is not None and (measured.type != "number" or measured.calculated):
        raise refusal("measureProperty", f"a {spec.measure} needs a number property.")
    return ReportSpec(spec.name, spec.object_type, spec.measure, spec.measure_property,
                      spec.group_by, bucket, spec.chart_type, spec.max_groups,
                      spec.filter_branch, spec.groups, spec.list_id)


# -- the figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    """One row of the GROUP BY query: a kept group (``key`` None: no value), or the folded
    rest (``folded`` groups)."""

    key: str | None
    records: int
    measured: int  # records with a value of the measured property
    total: float | None  # the sum of those values
    kept: bool
    folded: int = 0


@dataclass(frozen=True)
class Group:
    kind: str  # VALUE / NO_VALUE / OTHER
    key: str | None
    label: str
    records: int
    value: float | None  # the measure: records, sum, or average (None: nothing to average)
    folded: int = 0  # OTHER: how many groups it holds


@dataclass(frozen=True)
class Figures:
    measure: str
    groups: tuple[Group, ...]
    records: int  # every record counted
    value: float | None  # the measure over every record
    as_of_ms: int | None


def measure_of(measure: str, records: int, measured: int, total: float | None
               ) -> float | None:
    if measure == "COUNT":
        return float(records)
    if measure == "SUM":
        return float(total or 0.0)
    return (total or 0.0) / measured if measured else None


def figures(spec: ReportSpec, group_by: PropertyDefinition, rows: Sequence[GroupRow],
            as_of_ms: int | None = None) -> Figures:
    """The report's groups in the order shown: dates in time order, any other group-by
    biggest first; then "(no value)", then "(other)" (if anything was folded)."""
    kept = [r for r in rows if r.kept and r.key is not None]
    groups = [Group("VALUE", r.key, label_of(group_by, spec.date_bucket, r.key), r.records,
                    measure_of(spec.measure, r.records, r.measured, r.total))
              for r in kept if r.key is not None]
    if is_date(group_by):
        groups.sort(key=lambda g: g.key or "")
    else:
        groups.sort(key=lambda g: (g.value is None, -(g.value or 0.0), g.label))
    for r in rows:
        if r.kept and r.key is None and r.records:
            groups.append(Group("NO_VALUE", None, NO_VALUE, r.records,
                                measure_of(spec.measure, r.records, r.measured, r.total)))
    for r in rows:
        if not r.kept and r.folded:
            groups.append(Group("OTHER", None, OTHER, r.records,
                                measure_of(spec.measure, r.records, r.measured, r.total),
                                r.folded))
    records = sum(r.records for r in rows)
    measured = sum(r.measured for r in rows)
    total = math.fsum(r.total for r in rows if r.total is not None)
    return Figures(spec.measure, tuple(groups), records,
                   measure_of(spec.measure, records, measured, total), as_of_ms)


def label_of(prop: PropertyDefinition, bucket: str | None, key: str) -> str:
    """How a group's key is shown: an option's label, Yes/No, a bucket in words."""
    if prop.type == "enumeration" or (prop.type == "bool" and prop.options):
        found = next((o.label for o in prop.options if o.value == key), None)
        if found:
            return found
    if prop.type == "bool":
        return {"true": "Yes", "false": "No"}.get(key, key)
    if is_date(prop) and bucket is not None:
        return bucket_label(bucket, key)
    return key


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def bucket_label(bucket: str, key: str) -> str:
    """A bucket's key (``2026-03-02``, ``2026-03``, ``2026-Q1``) in words."""
    if bucket == "WEEK":
        return f"Week of {key}"
    if bucket == "MONTH" and len(key) == 7:
        return f"{_MONTHS[int(key[5:7]) - 1]} {key[:4]}"
    if bucket == "QUARTER" and len(key) == 7:
        return f"{key[5:]} {key[:4]}"
    return key


def bucket_key(bucket: str, day: date) -> str:
    """The key of the bucket holding ``day`` (UTC), as the query spells it."""
    if bucket == "DAY":
        return day.isoformat()
    if bucket == "WEEK":
        return date.fromordinal(day.toordinal() - day.weekday()).isoformat()
    if bucket == "MONTH":
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def csv_rows(spec: ReportSpec, figures: Figures) -> list[list[str]]:
    """The figures as CSV rows: a header, one row per group, and the total."""
    measure = {"COUNT": "Records", "SUM": f"Sum of {spec.measure_property}",
               "AVERAGE": f"Average of {spec.measure_property}"}[spec.measure]
    header = [spec.group_by, "Records"] + ([] if spec.measure == "COUNT" else [measure])
    rows = [header]
    for g in (*figures.groups, Group("TOTAL", None, "Total", figures.records, figures.value)):
        row = [_safe_cell(g.label), str(g.records)]
        if spec.measure != "COUNT":
            row.append("" if g.value is None else number_text(g.value))
        rows.append(row)
    return rows


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else f"{value:.6g}"


# -- where a report uses a property, and a clone with another one -----------------------


def parts_using(spec: ReportSpec, name: str) -> tuple[str, ...]:
    """Where ``spec`` reads property ``name``: "group by", "measure", "filter branch N"."""
    parts = []
    if spec.group_by == name:
        parts.append("group by")
    if spec.measure_property == name:
        parts.append("measure")
    parts += [f"filter branch {i + 1}" for i, g in enumerate(spec.groups)
              if any(f.property_name == name for f in g)]
    return tuple(parts)


def replaced(definition: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """The definition with property ``new`` wherever it names ``old``."""
    out = copy.deepcopy(dict(definition))
    for key in ("groupBy", "measureProperty"):
        if out.get(key) == old:
            out[key] = new
    _replace_in_branch(out.get("filterBranch"), old, new)
    return out


def _replace_in_branch(branch: Any, old: str, new: str) -> None:
    if not isinstance(branch, dict):
        return
    for f in branch.get("filters") or []:
        if isinstance(f, dict) and f.get("property") == old:
            f["property"] = new
    for sub in branch.get("filterBranches") or []:
        _replace_in_branch(sub, old, new)


# -- as of a moment ----------------------------------------------------------------------

_DAY_MS = 86_400_000


def parse_as_of(raw: str, now_ms: int) -> int:
    """``asOf`` as epoch milliseconds: a date (``2026-03-31``: the end of that UTC day), an
    ISO-8601 date-time with its zone, or milliseconds since 1970; not in the future."""
    text = raw.strip()
    try:
        if re.fullmatch(r"-?[0-9]{1,15}", text):
            ms = int(text)
        elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            day = date.fromisoformat(text)
            ms = (day.toordinal() - _EPOCH_DAY + 1) * _DAY_MS - 1
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None or not text.isascii():
                raise ValueError("no zone")
            ms = round(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise refusal("asOf", "a date (YYYY-MM-DD), an ISO-8601 date-time with its zone, or "
                      "milliseconds since 1970.", "INVALID_AS_OF") from None
    if ms > now_ms:
        raise refusal("asOf", "a moment in the past (a report shows today's figures without "
                      "it).", "INVALID_AS_OF")
    return max(ms, -62135596800000)  # not before the year 1


_EPOCH_DAY = date(1970, 1, 1).toordinal()
