"""HubSpot's filter branches, as lists (v3) and workflows' enrollment (automation v4) write
them: an OR of AND branches of ``PROPERTY`` filters, read into search's filter groups
(``domain/filters.py``: an OR of AND groups, the same semantics as search) (pure).

Each reader (workflows, lists) names itself and its error codes in a ``Reader``; anything
outside the supported operators and branch shapes is refused naming the part, never
ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.filters import Filter, check_filter


@dataclass(frozen=True)
class Reader:
    """Who reads a branch: its name in refusals, their codes, and its limits."""

    owner: str  # "propsync's workflows"
    unsupported_code: str
    invalid_code: str
    max_groups: int
    max_filters: int

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
    search_op = _operator(op_type, operator, include_empty, f"{path}.operation", reader)
    value, values, high = _operands(op, str(op_type), search_op, f"{path}.operation",
                                   reader)
    if search_op in ("EQ", "NEQ") and value is None:  # equal to any of several values
        search_op = {"EQ": "IN", "NEQ": "NOT_IN"}[search_op]
    if search_op == "CONTAINS_TOKEN" or search_op == "NOT_CONTAINS_TOKEN":
        value = f"*{value}*" if value is not None else None  # a substring, as lists mean it
    f = Filter(prop, search_op, value, values, high)
    try:
        check_filter(f)
    except ValidationError as exc:
        raise reader.invalid(path, exc.message, "INVALID_FILTER") from None
    if is_key(operator, _NEGATIVE) and operator != "IS_UNKNOWN" and not include_empty:
        return [f, Filter(prop, "HAS_PROPERTY")]
    return [f]


def _operator(op_type: Any, operator: Any, include_empty: Any, path: str, reader: Reader
              ) -> str:
    """Search's operator for a list filter's, or a refusal naming what is not supported."""
    if op_type not in _OPERATION_TYPES:
        raise reader.unsupported(f"{path}.operationType", f"operation type {op_type!r}")
    if not isinstance(include_empty, bool):
        raise reader.invalid(f"{path}.includeObjectsWithNoValueSet", "true or false.")
    if is_key(operator, _NEGATIVE):
        return _NEGATIVE[operator]
    if not is_key(operator, _POSITIVE):
        raise reader.unsupported(f"{path}.operator", f"operator {operator!r}")
    if include_empty and operator != "IS_KNOWN":
        raise reader.unsupported(f"{path}.includeObjectsWithNoValueSet", f"true with {operator}")
    return _POSITIVE[operator]


def _operands(op: Mapping[str, Any], op_type: str, search_op: str, path: str, reader: Reader
              ) -> tuple[str | None, tuple[str, ...], str | None]:
    if search_op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return None, (), None
    if search_op == "BETWEEN":
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
        if search_op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            if len(texts) != 1:
                raise reader.unsupported(f"{path}.values", "CONTAINS with several values")
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
