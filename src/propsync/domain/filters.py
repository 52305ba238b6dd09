"""Search filters with HubSpot's semantics: an OR of AND-groups of property filters."""

from __future__ import annotations

from dataclasses import dataclass

from propsync.domain.errors import ErrorDetail, ValidationError

OPERATORS = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN")
NEEDS_VALUE = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "CONTAINS_TOKEN",
               "NOT_CONTAINS_TOKEN")
NEEDS_VALUES = ("IN", "NOT_IN")
MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS = 5, 6, 18


@dataclass(frozen=True)
class Filter:
    property_name: str
    operator: str
    value: str | None = None
    values: tuple[str, ...] = ()
    high_value: str | None = None


def check_filter(f: Filter) -> None:
    """The operator is known and has the operands it needs."""
    if f.operator not in OPERATORS:
        raise invalid(f"Unknown operator {f.operator!r}; use one of {', '.join(OPERATORS)}.",
                      "INVALID_OPERATOR")
    if f.operator in NEEDS_VALUE and f.value is None:
        raise invalid(f"Operator {f.operator} on {f.property_name!r} needs a 'value'.",
                      "MISSING_VALUE")
    if f.operator == "BETWEEN" and f.high_value is None:
        raise invalid(f"BETWEEN on {f.property_name!r} needs 'value' and 'highValue'.",
                      "MISSING_VALUE")
    if f.operator in NEEDS_VALUES and not f.values:
        raise invalid(f"Operator {f.operator} on {f.property_name!r} needs 'values'.",
                      "MISSING_VALUE")


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


def token_pattern(token: str) -> list[str]:
    """LIKE patterns matching ``token`` as a whole word (``*`` is a wildcard), lowercased."""
    t = token.lower().replace("%", "").replace("_", "")
    if "*" in t:
        t = t.replace("*", "%")
        return [t, f"{t} %", f"% {t}", f"% {t} %"]
    return [t, f"{t} %", f"% {t}", f"% {t} %"]


def invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, [ErrorDetail(message, code)])
