"""Lists in the shape of HubSpot's Lists v3 API (pure): what a list is, how its filter
branch is read (``domain/filter_branches.py``, with the operators only lists take), and
the parts of a request that propsync refuses, each named in a 400.

A list holds records of one object type (contacts, companies, deals, tickets). Its
processing type says how its members come:

- ``DYNAMIC``: the records that meet its filter now, kept by the feed's reader ``lists``;
- ``SNAPSHOT``: the records that met its filter when it was evaluated (once, after it was
  created); members can then be added and removed by hand;
- ``MANUAL``: records added and removed by hand only; it has no filter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.filter_branches import Reader, branch_groups
from propsync.domain.filters import Filter
from propsync.domain.text import unstorable

LIST_OBJECT_TYPES = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets"}
OBJECT_TYPE_IDS = {v: k for k, v in LIST_OBJECT_TYPES.items()}
PROCESSING_TYPES = ("DYNAMIC", "MANUAL", "SNAPSHOT")
MAX_NAME = 200
MAX_BRANCHES, MAX_FILTERS = 25, 100  # propsync's own: each is a condition of one query
MAX_BRANCH_CHARS = 200_000  # a filter branch, as JSON
# The calculated properties a list may filter on: fixed when the record is created. The
# last-modified date moves with every write, which the change feed does not record.
FOLLOWED_CALCULATED = ("createdate", "hs_object_id")

LISTS = Reader("propsync's lists", "UNSUPPORTED_LIST_PART", "INVALID_LIST", MAX_BRANCHES,
               MAX_FILTERS, extended=True)


@dataclass(frozen=True)
class ListFilter:
    """A list's filter: the branch as stored (HubSpot's JSON, defaults filled in) and its
    reading, an OR of AND groups of search filters."""

    branch: dict[str, Any]
    groups: tuple[tuple[Filter, ...], ...]

    @property
    def property_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.property_name for g in self.groups for f in g))

    def parts_using(self, name: str) -> tuple[str, ...]:
        """Where ``name`` is used, in words (``filter branch 2``)."""
        return tuple(f"filter branch {i + 1}" for i, g in enumerate(self.groups)
                     if any(f.property_name == name for f in g))


def invalid(path: str, what: str, code: str = "INVALID_LIST") -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]})])


def object_type_of(raw: Any, path: str = "objectTypeId") -> str:
    """The object type a list's ``objectTypeId`` names (``0-1`` or ``contacts``...)."""
    if isinstance(raw, str) and raw in LIST_OBJECT_TYPES:
        return LIST_OBJECT_TYPES[raw]
    if isinstance(raw, str) and raw in OBJECT_TYPE_IDS:
        return raw
    shown = raw[:40] if isinstance(raw, str) else raw
    raise invalid(path, f"{shown!r} is not an object type lists hold (use 0-1 contacts, "
                  "0-2 companies, 0-3 deals or 0-5 tickets).", "INVALID_OBJECT_TYPE")


def list_name(raw: Any, path: str = "name") -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid(path, "a list has a name (text, not empty).", "INVALID_NAME")
    if len(raw) > MAX_NAME:
        raise invalid(path, f"a list's name has at most {MAX_NAME} characters.",
                      "INVALID_NAME")
    reason = unstorable(raw)
    if reason is not None:
        raise invalid(path, f"the name {reason}.", "INVALID_NAME")
    return raw


def processing_type(raw: Any) -> str:
    if not isinstance(raw, str) or raw not in PROCESSING_TYPES:
        shown = raw[:40] if isinstance(raw, str) else raw
        raise invalid("processingType", f"{shown!r} is not a processing type (use DYNAMIC, "
                      "MANUAL or SNAPSHOT).", "INVALID_PROCESSING_TYPE")
    return raw


def read_filter(raw: Any, path: str = "filterBranch") -> ListFilter:
    """A filter branch as propsync keeps it, or a 400 naming the part it does not take."""
    try:
        size = len(json.dumps(raw, ensure_ascii=False))
    except (TypeError, ValueError):
        raise invalid(path, "a filter branch is JSON.") from None
    if size > MAX_BRANCH_CHARS:
        raise invalid(path, f"a filter branch has at most {MAX_BRANCH_CHARS:,} characters "
                      "of JSON.", "FILTER_TOO_LARGE")
    groups = branch_groups(raw, path, LISTS)
    return ListFilter(stored_branch(raw), groups)


def filter_from_stored(branch: Mapping[str, Any]) -> ListFilter:
    return ListFilter(dict(branch), branch_groups(branch, "filterBranch", LISTS))


def stored_branch(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The branch with HubSpot's defaults filled in: every branch has its
    ``filterBranchOperator``, ``filterBranches`` and ``filters``; every operation its
    ``includeObjectsWithNoValueSet``."""
    kind = raw.get("filterBranchType")
    out: dict[str, Any] = {
        "filterBranchType": kind,
        "filterBranchOperator": raw.get("filterBranchOperator") or kind,
        "filterBranches": [stored_branch(b) for b in raw.get("filterBranches") or []],
        "filters": [_stored_filter(f) for f in raw.get("filters") or []],
    }
    return out


def _stored_filter(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    operation = dict(raw["operation"])
    operation.setdefault("includeObjectsWithNoValueSet", False)
    out["operation"] = operation
    return out


@dataclass(frozen=True)
class NewList:
    """What a create request asks for, read."""

    name: str
    object_type: str
    processing_type: str
    filter: ListFilter | None


_KNOWN_CREATE = ("name", "objectTypeId", "processingType", "filterBranch", "listFolderId",
                 "customProperties", "membershipSettings", "listPermissions")


def read_create(body: Mapping[str, Any]) -> NewList:
    """A ``ListCreateRequest``: refused with a 400 naming the part propsync does not take
    (folders, custom properties, membership settings and permissions are not kept, so they
    are refused, not ignored)."""
    for key in ("listFolderId", "customProperties", "membershipSettings", "listPermissions"):
        if body.get(key) not in (None, {}, [], 0):
            raise invalid(key, f"{key} is not supported by propsync's lists.",
                          "UNSUPPORTED_LIST_PART")
    name = list_name(body.get("name"))
    object_type = object_type_of(body.get("objectTypeId"))
    kind = processing_type(body.get("processingType"))
    raw = body.get("filterBranch")
    if kind == "MANUAL":
        if raw is not None:
            raise invalid("filterBranch", "a MANUAL list has no filter; its members are "
                          "added and removed by hand.")
        return NewList(name, object_type, kind, None)
    if raw is None:
        raise invalid("filterBranch", f"a {kind} list needs a filterBranch (an OR branch of "
                      "AND branches of PROPERTY filters).", "MISSING_FILTER")
    return NewList(name, object_type, kind, read_filter(raw))
