"""Search filters with HubSpot's semantics: an OR of AND-groups of property filters."""

from __future__ import annotations

from dataclasses import dataclass

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.text import unstorable

OPERATORS = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN")
# Lists' filters (domain/filter_branches.py) compare in more ways than search's do: a
# prefix, a suffix, outside a range. Search's API takes only OPERATORS.
LIST_OPERATORS = (*OPERATORS, "STARTS_WITH", "ENDS_WITH", "NOT_BETWEEN")
NEEDS_VALUE = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "CONTAINS_TOKEN",
               "NOT_CONTAINS_TOKEN", "STARTS_WITH", "ENDS_WITH", "NOT_BETWEEN")
NEEDS_VALUES = ("IN", "NOT_IN")
# HubSpot's limits on one search (developers.hubspot.com, CRM search): 5 filterGroups,
# 6 filters in a group and 18 in all; "only one sorting rule can be applied to any
# search"; a query of at most 3,000 characters; 1-200 results a page; and no paging past
# the first 10,000 results.
MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS = 5, 6, 18
MAX_SORTS = 1
MAX_QUERY = 3_000
MAX_LIMIT = 200
MAX_RESULTS = 10_000
# propsync's own: HubSpot documents no limit on the values of one IN / NOT_IN filter.
MAX_VALUES = 500


@dataclass(frozen=True)
class Filter:
    property_name: str
    operator: str
    value: str | None = None
    values: tuple[str, ...] = ()
    high_value: str | None = None


def check_filter(f: Filter, operators: tuple[str, ...] = OPERATORS) -> None:
    """The operator is one of ``operators`` (search's, unless a list's filter is checked)
    and has the operands it needs, and they can be searched for."""
    if f.operator not in operators:
        raise invalid(f"Unknown operator {f.operator!r}; use one of {', '.join(operators)}.",
                      "INVALID_OPERATOR")
    if f.operator in NEEDS_VALUE and f.value is None:
        raise invalid(f"Operator {f.operator} on {f.property_name!r} needs a 'value'.",
                      "MISSING_VALUE")
    if f.operator in ("BETWEEN", "NOT_BETWEEN") and f.high_value is None:
        raise invalid(f"BETWEEN on {f.property_name!r} needs 'value' and 'highValue'.",
                      "MISSING_VALUE")
    if f.operator in NEEDS_VALUES and not f.values:
        raise invalid(f"Operator {f.operator} on {f.property_name!r} needs 'values'.",
                      "MISSING_VALUE")
    if len(f.values) > MAX_VALUES:
        raise invalid(f"Operator {f.operator} on {f.property_name!r} takes at most "
                      f"{MAX_VALUES} values, not {len(f.values)} (a limit of propsync's own; "
                      "HubSpot documents none).", "TOO_MANY_VALUES")
    _check_operands(f)


def _check_operands(f: Filter) -> None:
    operands = [x for x in (f.value, f.high_value, *f.values) if x is not None]
    for operand in operands:
        reason = unstorable(operand)
        if reason is not None:
            raise invalid(f"A value of the filter on {f.property_name!r} {reason}.",
                          "INVALID_FILTER_VALUE")
    if f.operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN", "STARTS_WITH", "ENDS_WITH") and \
            len(f.value or "") > MAX_QUERY:
        raise invalid(f"A token to search for is at most {MAX_QUERY} characters, as a query is.",
                      "INVALID_FILTER_VALUE")


def check_limits(groups: list[list[Filter]]) -> None:
    """HubSpot's limits: 5 groups, 6 filters in a group, 18 filters in all."""
    total = sum(len(g) for g in groups)
    if len(groups) > MAX_GROUPS or any(len(g) > MAX_PER_GROUP for g in groups) or \
            total > MAX_FILTERS:
        raise invalid(f"At most {MAX_GROUPS} filterGroups, {MAX_PER_GROUP} filters per group "
                      f"and {MAX_FILTERS} filters in all are allowed.", "TOO_MANY_FILTERS")
    for group in groups:
        for f in group:
            check_filter(f)


def check_search(sorts: int, query: str | None, limit: int) -> None:
    """HubSpot's limits on the rest of a search: one sort, the query's length, the page size."""
    if sorts > MAX_SORTS:
        raise invalid(f"Only one sorting rule can be applied to any search; this one has "
                      f"{sorts}.", "TOO_MANY_SORTS")
    if query is not None and len(query) > MAX_QUERY:
        raise invalid(f"The query is at most {MAX_QUERY} characters long, not {len(query)}.",
                      "QUERY_TOO_LONG")
    reason = unstorable(query or "")
    if reason is not None:
        raise invalid(f"The query {reason}.", "INVALID_QUERY")
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIMIT}.", "INVALID_LIMIT")


def parse_offset(after: str | None) -> int:
    """Where a page starts: ``after`` is the offset a previous page gave (0 to 9,999),
    written as plain digits. HubSpot's search pages through the first 10,000 results."""
    if after in (None, "", "0"):
        return 0
    assert after is not None
    if not (after.isascii() and after.isdigit() and after[0] != "0" and len(after) <= 5
            and int(after) < MAX_RESULTS):
        raise invalid(f"'after' must be a paging cursor from a previous page, not "
                      f"{after[:100]!r}; a search pages through its first {MAX_RESULTS:,} "
                      "results.", "INVALID_PAGING")
    return int(after)


def token_pattern(token: str) -> list[str]:
    """LIKE patterns matching ``token`` as a whole word (``*`` is a wildcard), lowercased."""
    t = token.lower().replace("%", "").replace("_", "")
    if "*" in t:
        t = t.replace("*", "%")
        return [t, f"{t} %", f"% {t}", f"% {t} %"]
    return [t, f"{t} %", f"% {t}", f"% {t} %"]


def like_pattern(value: str, prefix: bool) -> str:
    """A ``LIKE`` pattern (escape ``\\``) for values starting (``prefix``) or ending with
    ``value``, lowercased."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}"


def invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, [ErrorDetail(message, code)])
