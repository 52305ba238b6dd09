"""Lists: the account's lists (name, object, type, size, updated), a list's page (its
filter in words, its members a page at a time with links to the records, adding and
removing members of a MANUAL or evaluated SNAPSHOT list, cloning with a property put in
another's place, deleting), and creating a list or changing a DYNAMIC list's filter with
a plain form: conditions, all of which a record meets (one AND branch).

Everything goes through ``services/lists.py``; its refusals are shown in its words with
the form as typed. A list whose filter the form cannot spell (several branches, an
operator it does not offer) is shown in words and JSON, and its filter is changed
through the API only, never silently rewritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.errors import PropsyncError
from propsync.domain.filter_branches import is_relative, is_time
from propsync.domain.filters import Filter
from propsync.domain.lists import LIST_OBJECT_TYPES, OBJECT_TYPE_IDS
from propsync.domain.objects import OBJECT_TYPES
from propsync.domain.properties import PropertyDefinition, format_ms
from propsync.services import list_members as members_svc
from propsync.services import lists as svc
from propsync.services.lists import StoredList
from propsync.web.core import Ctx, CtxDep, Form, FormDep, WebRoute, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
BASE = "/ui/lists"
ROWS = 5  # conditions the form offers
MEMBERS_SHOWN = 50
NOTICES = {"created": "List created. Its members appear as soon as it is evaluated.",
           "saved": "Filters saved: the list is evaluated again.",
           "renamed": "List renamed.", "deleted": "List deleted.", "cloned": "List cloned.",
           "added": "Members added.", "removed": "Member removed."}
# The form's operators: (value, words, the types it suits).
OPERATORS = [("eq", "is equal to"), ("neq", "is not equal to"), ("contains", "contains"),
             ("starts", "starts with"), ("ends", "ends with"), ("known", "is known"),
             ("unknown", "is unknown"), ("gt", "is greater than / after"),
             ("lt", "is less than / before"), ("last_days", "is in the last … days")]
_WORDS = {"EQ": "is", "NEQ": "is not", "IN": "is any of", "NOT_IN": "is none of",
          "LT": "is less than", "LTE": "is at most", "GT": "is greater than",
          "GTE": "is at least", "BETWEEN": "is between", "NOT_BETWEEN": "is not between",
          "HAS_PROPERTY": "is known", "NOT_HAS_PROPERTY": "is unknown",
          "CONTAINS_TOKEN": "contains", "NOT_CONTAINS_TOKEN": "does not contain",
          "STARTS_WITH": "starts with", "ENDS_WITH": "ends with"}


@dataclass
class Row:
    prop: str = ""
    op: str = ""
    value: str = ""


def _time_words(value: str) -> str:
    if value.startswith("AT|"):
        return format_ms(int(value[3:]))[:16].replace("T", " ") + " UTC"
    if is_relative(value):
        parts = value.split("|")
        days = int(parts[13])
        zone = parts[1]
        when = "today" if days == 0 else (f"{-days} days ago" if days < 0 else
                                         f"in {days} days")
        clock = f" {int(parts[2]):02d}:{int(parts[3]):02d}" if parts[2] != "0" or \
            parts[3] != "0" else ""
        return f"{when}{clock} ({zone})"
    return value


def filter_words(f: Filter, label: str) -> str:
    op = _WORDS.get(f.operator, f.operator)
    if f.operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return f"{label} {op}"
    if is_time(f.value) or is_time(f.high_value):
        if f.operator in ("LT", "LTE"):
            op = "is before" if f.operator == "LT" else "is on or before"
        elif f.operator in ("GT", "GTE"):
            op = "is after" if f.operator == "GT" else "is on or after"
    if f.operator in ("BETWEEN", "NOT_BETWEEN"):
        return (f"{label} {op} “{_time_words(f.value or '')}” and "
                f"“{_time_words(f.high_value or '')}”")
    if f.values:
        return f"{label} {op} " + ", ".join(f"“{v}”" for v in f.values)
    value = (f.value or "").strip("*") if "CONTAINS" in f.operator else f.value or ""
    return f"{label} {op} “{_time_words(value)}”"


def words(stored: StoredList, labels: dict[str, str]) -> list[str]:
    if stored.filter is None:
        return []
    return [" and ".join(filter_words(f, labels.get(f.property_name, f.property_name))
                         for f in g if not _implied(f, g)) for g in stored.filter.groups]


def _implied(f: Filter, group: tuple[Filter, ...]) -> bool:
    """The ``is known`` a negative operator adds (a record with no value is left out)."""
    return f.operator == "HAS_PROPERTY" and any(
        o.property_name == f.property_name and o.operator.startswith("N") and
        o.operator != "NOT_HAS_PROPERTY" for o in group)


@router.get("/lists")
def list_index(ctx: CtxDep, done: str = "", object_type: str = "contacts") -> Response:
    return _index(ctx, done=done, object_type=object_type)


def _index(ctx: Ctx, done: str = "", error: PropsyncError | None = None,
           form: Form | None = None, object_type: str = "contacts") -> Response:
    page = svc.search_lists(ctx.engine, ctx.principal, {"count": svc.MAX_SEARCH})
    ot = (form.get("object_type") if form else "") or object_type
    if ot not in OBJECT_TYPE_IDS:
        ot = "contacts"
    return render(ctx.request, "lists.html", status=error.status if error else 200,
                  lists=page.lists, total=page.total, notice=NOTICES.get(done, ""),
                  error=error, section="lists", types=list(LIST_OBJECT_TYPES.values()),
                  form=_form_values(form, ot), rows=_rows(form) or [Row() for _ in range(ROWS)],
                  operators=OPERATORS, properties=_props(ctx, ot), object_type=ot)


def _props(ctx: Ctx, object_type: str) -> list[PropertyDefinition]:
    try:
        return svc.filterable_properties(ctx.engine, ctx.principal, object_type)
    except PropsyncError:
        return []


def _form_values(form: Form | None, object_type: str) -> dict[str, str]:
    if form is None:
        return {"name": "", "object_type": object_type, "processing_type": "DYNAMIC"}
    return {k: form.get(k) for k in ("name", "object_type", "processing_type")}


def _rows(form: Form | None) -> list[Row]:
    if form is None:
        return []
    return [Row(form.get(f"prop_{i}"), form.get(f"op_{i}"), form.get(f"value_{i}"))
            for i in range(ROWS)]


def branch_of(rows: list[Row], props: dict[str, PropertyDefinition]) -> dict[str, Any] | None:
    """The form's conditions as HubSpot's filter branch (one AND branch in an OR), or
    ``None`` when none is filled in. A property the form does not know is passed on by
    name, so the service refuses it in its own words."""
    filters = [_filter(r, props.get(r.prop)) for r in rows if r.prop]
    if not filters:
        return None
    return {"filterBranchType": "OR", "filterBranchOperator": "OR", "filters": [],
            "filterBranches": [{"filterBranchType": "AND", "filterBranchOperator": "AND",
                                "filterBranches": [], "filters": filters}]}


def _filter(row: Row, prop: PropertyDefinition | None) -> dict[str, Any]:
    kind = prop.type if prop else "string"
    op: dict[str, Any]
    if row.op in ("known", "unknown"):
        op = {"operationType": "ALL_PROPERTY",
              "operator": "IS_KNOWN" if row.op == "known" else "IS_UNKNOWN"}
    elif kind in ("date", "datetime") and row.op in ("gt", "lt", "last_days"):
        op = _date_operation(row)
    elif kind == "number":
        operator = {"eq": "IS_EQUAL_TO", "neq": "IS_NOT_EQUAL_TO", "gt": "IS_GREATER_THAN",
                    "lt": "IS_LESS_THAN"}.get(row.op, row.op.upper())
        op = {"operationType": "NUMBER", "operator": operator, "value": row.value}
    elif kind == "enumeration" and row.op in ("eq", "neq"):
        op = {"operationType": "ENUMERATION",
              "operator": "IS_ANY_OF" if row.op == "eq" else "IS_NONE_OF",
              "values": [v.strip() for v in row.value.split(",") if v.strip()]}
    elif kind == "bool":
        op = {"operationType": "BOOL",
              "operator": "IS_EQUAL_TO" if row.op == "eq" else "IS_NOT_EQUAL_TO",
              "value": row.value}
    else:
        operator = {"eq": "IS_EQUAL_TO", "neq": "IS_NOT_EQUAL_TO", "contains": "CONTAINS",
                    "starts": "STARTS_WITH", "ends": "ENDS_WITH"}.get(row.op, row.op.upper())
        op = {"operationType": "STRING", "operator": operator, "value": row.value}
    return {"filterType": "PROPERTY", "property": row.prop, "operation": op}


def _date_operation(row: Row) -> dict[str, Any]:
    if row.op == "last_days":
        days = int(row.value) if row.value.isdigit() else -1
        today = {"referenceType": "TODAY"}
        return {"operationType": "TIME_RANGED", "operator": "IS_BETWEEN",
                "lowerBoundTimePoint": {"timeType": "INDEXED", "zoneId": "UTC",
                                        "indexReference": today, "offset": {"days": -days}},
                "upperBoundTimePoint": {"timeType": "INDEXED", "zoneId": "UTC",
                                        "indexReference": {**today, "hour": 23,
                                                           "minute": 59, "second": 59}}}
    year, month, day = [*row.value.split("-"), "", "", ""][:3]
    point = {"timeType": "DATE", "zoneId": "UTC",
             **{k: int(v) if v.isdigit() else v for k, v in
                (("year", year), ("month", month), ("day", day))}}
    return {"operationType": "TIME_POINT", "operator": "IS_AFTER" if row.op == "gt"
            else "IS_BEFORE", "timePoint": point}


@router.post("/lists")
def create(ctx: CtxDep, form: FormDep) -> Response:
    ot = form.get("object_type")
    props = {p.name: p for p in _props(ctx, ot)} if ot in OBJECT_TYPE_IDS else {}
    kind = form.get("processing_type")
    body: dict[str, Any] = {"name": form.get("name"),
                            "objectTypeId": OBJECT_TYPE_IDS.get(ot, ot),
                            "processingType": kind}
    if kind != "MANUAL":
        body["filterBranch"] = branch_of(_rows(form), props)
    try:
        saved = svc.create_list(ctx.engine, ctx.principal, body)
    except PropsyncError as exc:
        return _index(ctx, error=exc, form=form)
    return RedirectResponse(f"{BASE}/{saved.list_id}?done=created", status_code=303)


def _labels(ctx: Ctx, object_type: str) -> dict[str, str]:
    return {p.name: p.label for p in _props(ctx, object_type)}


def editable_rows(stored: StoredList) -> list[Row] | None:
    """The form's rows for the list's filter, or ``None`` if the form cannot spell it."""
    if stored.filter is None:
        return None
    branch = stored.filter.branch
    subs = branch.get("filterBranches") or []
    if len(subs) != 1 or subs[0].get("filterBranches"):
        return None
    rows = []
    for f in subs[0].get("filters") or []:
        row = _row_of(f)
        if row is None:
            return None
        rows.append(row)
    return rows if len(rows) <= ROWS else None


def _row_of(raw: dict[str, Any]) -> Row | None:
    op = raw["operation"]
    kind, operator = op.get("operationType"), op.get("operator")
    if op.get("includeObjectsWithNoValueSet"):
        return None
    if kind == "ALL_PROPERTY":
        return Row(raw["property"], "known" if operator == "IS_KNOWN" else "unknown")
    simple = {"IS_EQUAL_TO": "eq", "IS_NOT_EQUAL_TO": "neq", "CONTAINS": "contains",
              "STARTS_WITH": "starts", "ENDS_WITH": "ends", "IS_GREATER_THAN": "gt",
              "IS_LESS_THAN": "lt", "IS_ANY_OF": "eq", "IS_NONE_OF": "neq"}
    if kind in ("STRING", "NUMBER", "BOOL") and operator in simple and "value" in op:
        return Row(raw["property"], simple[operator], str(op["value"]).lower()
                   if kind == "BOOL" else str(op["value"]))
    if kind == "ENUMERATION" and operator in ("IS_ANY_OF", "IS_NONE_OF"):
        return Row(raw["property"], simple[operator], ", ".join(map(str, op["values"])))
    return None


def _page(ctx: Ctx, list_id: str, done: str = "", after: str = "",
          error: PropsyncError | None = None, rows: list[Row] | None = None,
          status: int | None = None) -> Response:
    stored = svc.get_list(ctx.engine, ctx.principal, list_id)
    members = members_svc.member_page(ctx.engine, ctx.principal, list_id, after or None, None,
                              MEMBERS_SHOWN)
    labels = _labels(ctx, stored.object_type)
    editable = editable_rows(stored)
    shown = rows if rows is not None else editable
    if shown is not None:
        shown = shown + [Row() for _ in range(ROWS - len(shown))]
    return render(ctx.request, "list.html", status=status or (error.status if error else 200),
                  stored=stored, members=members, words=words(stored, labels),
                  notice=NOTICES.get(done, ""), error=error, section="lists",
                  rows=shown, operators=OPERATORS, after=after,
                  properties=_props(ctx, stored.object_type),
                  branch_json=json.dumps(stored.filter.branch, indent=2)
                  if stored.filter else "", record_base=f"/ui/records/{stored.object_type}",
                  singular=OBJECT_TYPES[stored.object_type].singular)


@router.get("/lists/{listId}")
def list_page(ctx: CtxDep, listId: str, done: str = "", after: str = "") -> Response:
    return _page(ctx, listId, done, after)


def _done(list_id: int | str, key: str) -> Response:
    return RedirectResponse(f"{BASE}/{list_id}?done={key}", status_code=303)


@router.post("/lists/{listId}/filters")
def save_filters(ctx: CtxDep, form: FormDep, listId: str) -> Response:
    stored = svc.get_list(ctx.engine, ctx.principal, listId)
    props = {p.name: p for p in _props(ctx, stored.object_type)}
    rows = _rows(form)
    try:
        svc.update_filters(ctx.engine, ctx.principal, listId, branch_of(rows, props))
    except PropsyncError as exc:
        return _page(ctx, listId, error=exc, rows=rows)
    return _done(listId, "saved")


@router.post("/lists/{listId}/rename")
def rename(ctx: CtxDep, form: FormDep, listId: str) -> Response:
    try:
        svc.rename_list(ctx.engine, ctx.principal, listId, form.get("name"))
    except PropsyncError as exc:
        return _page(ctx, listId, error=exc)
    return _done(listId, "renamed")


@router.post("/lists/{listId}/members")
def change_members(ctx: CtxDep, form: FormDep, listId: str) -> Response:
    add = [x for x in form.get("add").replace(",", " ").split() if x]
    remove = form.getlist("remove")
    try:
        changed = members_svc.change_members(ctx.engine, ctx.principal, listId, add, remove)
    except PropsyncError as exc:
        return _page(ctx, listId, error=exc)
    if changed.missing:
        return _page(ctx, listId, error=PropsyncError(
            f"No live record of this list's type has the id "
            f"{', '.join(changed.missing[:10])}; the others were added."), status=400)
    return _done(listId, "added" if add else "removed")


@router.post("/lists/{listId}/clone")
def clone(ctx: CtxDep, form: FormDep, listId: str) -> Response:
    body: dict[str, Any] = {}
    if form.get("name"):
        body["name"] = form.get("name")
    if form.get("replace_property") or form.get("replace_with"):
        body["replace"] = {"property": form.get("replace_property"),
                           "with": form.get("replace_with")}
    try:
        saved = svc.clone_list(ctx.engine, ctx.principal, listId, body)
    except PropsyncError as exc:
        return _page(ctx, listId, error=exc)
    return _done(saved.list_id, "cloned")


@router.post("/lists/{listId}/delete")
def delete(ctx: CtxDep, form: FormDep, listId: str) -> Response:
    try:
        svc.delete_list(ctx.engine, ctx.principal, listId)
    except PropsyncError as exc:
        return _page(ctx, listId, error=exc)
    return RedirectResponse(f"{BASE}?done=deleted", status_code=303)
